"""`streamlit run app.py` on a free loopback port, for the browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.chroma_server import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


@contextlib.contextmanager
def streamlit_app(
    data_dir: Path, cwd: Path, log_name: str, port: int | None = None, **env_vars: str
) -> Iterator[str]:
    """The app over `data_dir`, started from `cwd` (holding only our Streamlit config, so no
    developer .env leaks in); yields its URL; its log is kept as artifacts/`log_name`.
    `port` reuses an address (a restart: the browser's cookies for it still apply); `env_vars`
    are extra environment variables (e.g. OPENAI_BASE_URL)."""
    port = port or free_port()
    shutil.copytree(ROOT / ".streamlit", cwd / ".streamlit", dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ADVISOR_"))}
    env["ADVISOR_DATA_DIR"] = str(data_dir)
    env.update(env_vars)
    log = open(cwd / "streamlit.log", "a")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=60)
        yield url
    finally:
        stop_process(proc)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(cwd / "streamlit.log", ARTIFACTS / log_name)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see the log artifact")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy within {timeout}s")
