"""Memory of the processes that serve a large index: the service itself, the API server and the
Streamlit app, each asked offline questions as more and more clients.

    python benchmarks/memory_bench.py --data-dir DIR --collection NAME
                                      [--process service,api,app] [--clients N]

`service` opens the index in this process (one Advisor, as the app and the API hold); `api`
starts `cto-advisor serve` and asks through `POST /v1/ask` with a CTO's token; `app` starts
`streamlit run app.py`, signs in as that CTO in Chromium (Playwright, /usr/bin/chromium), picks
each client in the sidebar and asks in the chat. Resident memory (RSS, with any child
processes) is printed after 1, 5 and N clients: every client's scope set gets its own BM25
index and each scope's vectors are held once for exact dense search, so memory grows with the
clients asked about. Build an index first, e.g. `python benchmarks/retrieval_bench.py --sizes
100000 --modes embedded --keep DIR` (its clients are client-00 ... client-39), then pass
`--data-dir DIR/embedded-100000 --collection bench100000`. The API and app steps add a CTO
account (cto@bench.example) to that data dir.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.rss import peak_rss, tree_rss_mb  # noqa: E402  (after the path)
from tests.chroma_server import free_port, stop_process  # noqa: E402
from tests.processes import CLI  # noqa: E402

QUESTION = "How should we staff on-call for a small team?"
EMAIL, PASSWORD = "cto@bench.example", "bench-password-1234"
CHROMIUM = Path("/usr/bin/chromium")


def _steps(clients: list[str], limit: int, ask: Callable[[str], None], pid: int | None = None):
    """Ask as 1, 5 and `limit` clients, printing RSS after each step and its peak so far
    (sampled every 0.1 s while questions run)."""
    asked = 0
    with peak_rss(pid) as peak:
        peak.now()
        for upto in sorted({min(n, limit, len(clients)) for n in (1, 5, limit)}):
            t0 = time.perf_counter()
            while asked < upto:
                ask(clients[asked])
                asked += 1
            now = peak.now()
            step = f"asked as {upto} client(s)"
            print(
                f"{step:<44}{now:>8.0f}{time.perf_counter() - t0:>9.1f}{peak.mb:>9.0f}", flush=True
            )


def _env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ADVISOR_"))}
    return env | {
        "ADVISOR_DATA_DIR": str(settings.data_dir),
        "ADVISOR_COLLECTION": settings.collection,
        "ADVISOR_MODE": "offline",
        "PYTHONPATH": str(ROOT),
    }


def _account(settings) -> str:
    """A CTO account and an API token in the index's data dir."""
    from advisor.service.accounts import AccountStore

    accounts = AccountStore(settings)
    if EMAIL not in {u.email for u in accounts.list_users()}:
        accounts.add_user(EMAIL, "cto", None, PASSWORD)
    return accounts.create_token(EMAIL, f"memory-bench-{os.getpid()}")


@contextmanager
def _server(cmd: list[str], env: dict, ready: Callable[[], bool], cwd: Path) -> Iterator[int]:
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=None)
    try:
        deadline = time.monotonic() + 180
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{cmd[:4]} did not start (exit {proc.returncode})")
            time.sleep(0.3)
        yield proc.pid
    finally:
        stop_process(proc)


def _get_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def run_service(settings, clients: list[str], limit: int) -> None:
    from advisor.core.principal import Principal
    from advisor.service.facade import Advisor

    me = Principal.local()
    t0 = time.perf_counter()
    advisor = Advisor(settings)
    count = advisor.store.count()
    print(
        f"{f'open the index ({count} chunks)':<44}{tree_rss_mb():>8.0f}{time.perf_counter() - t0:>9.1f}"
    )
    _steps(clients, limit, lambda c: advisor.ask(me, QUESTION, client=c))


def run_api(settings, clients: list[str], limit: int) -> None:
    import httpx

    token = _account(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [*CLI, "serve", "--port", str(port)]  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as cwd,
        _server(cmd, _env(settings), lambda: _get_ok(url + "/healthz"), Path(cwd)) as pid,
    ):
        print(f"{'server started (model loaded)':<44}{tree_rss_mb(pid):>8.0f}{0.0:>9.1f}")
        headers = {"Authorization": f"Bearer {token}"}

        def ask(client: str) -> None:
            body = {"question": QUESTION, "client": client}
            r = httpx.post(url + "/v1/ask", json=body, headers=headers, timeout=300)
            r.raise_for_status()

        _steps(clients, limit, ask, pid)


def run_app(settings, clients: list[str], limit: int) -> None:
    import shutil

    from playwright.sync_api import expect, sync_playwright

    _account(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
           str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    with tempfile.TemporaryDirectory() as cwd:
        shutil.copytree(ROOT / ".streamlit", Path(cwd) / ".streamlit")
        with (
            _server(
                cmd, _env(settings), lambda: _get_ok(url + "/_stcore/health"), Path(cwd)
            ) as pid,
            sync_playwright() as pw,
        ):
            print(f"{'app started':<44}{tree_rss_mb(pid):>8.0f}{0.0:>9.1f}")
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(url)
            page.get_by_role("textbox", name="Email").fill(EMAIL)
            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            box = page.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_editable(timeout=120_000)
            print(f"{'signed in (index opened)':<44}{tree_rss_mb(pid):>8.0f}{0.0:>9.1f}")

            def ask(client: str | None) -> None:
                if client:
                    pick(client)
                before = page.get_by_test_id("stFeedback").count()
                page.get_by_test_id("stChatInputTextArea").fill(QUESTION)
                page.get_by_test_id("stChatInputTextArea").press("Enter")
                expect(page.get_by_test_id("stFeedback")).to_have_count(before + 1, timeout=300_000)

            def pick(client: str) -> None:
                sidebar = page.get_by_test_id("stSidebar")
                sidebar.get_by_test_id("stSelectbox").first.click()
                page.keyboard.type(client)  # the option list is virtualised: filter it
                page.get_by_role("option", name=client, exact=True).click()
                expect(page.get_by_text(f"Scope: {client} documents + playbooks")).to_be_visible(
                    timeout=120_000
                )

            _steps(clients, limit, ask, pid)
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--collection", required=True)
    parser.add_argument("--process", default="service,api,app")
    parser.add_argument("--clients", type=int, default=12)
    args = parser.parse_args()

    from advisor.core.runtime import configure_offline

    configure_offline()
    from advisor.core.principal import Principal
    from advisor.core.settings import Settings
    from advisor.service.facade import Advisor

    settings = Settings(data_dir=args.data_dir, collection=args.collection, mode="offline")
    clients = Advisor(settings).clients(Principal.local()) or [None]  # None: playbooks only
    runs = {"service": run_service, "api": run_api, "app": run_app}
    for name in args.process.split(","):
        print(f"\n{name}: load average {os.getloadavg()[0]:.1f}; RSS after each step (MB)")
        print(f"{'step':<44}{'RSS MB':>8}{'seconds':>9}{'peak MB':>9}")
        runs[name](settings, clients, args.clients)


if __name__ == "__main__":
    main()
