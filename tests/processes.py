"""Fresh Python processes for tests: the `cto-advisor` CLI and one-off snippets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `cto-advisor` as this interpreter runs it (the installed script may belong to another venv).
CLI = [sys.executable, "-c", "from interfaces.cli import main; main()"]


def run_python(code: str, timeout: float = 120) -> str:
    """Run `code` in a fresh interpreter that imports this checkout; its stdout, stripped.
    A failure raises with the snippet's stderr."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()
