"""SIGKILL at random points of each operation, then the next start: is anything left behind?

    python benchmarks/kill_bench.py [--kills 10] [--operations ingest,upload-api,upload-app,forget,answer]
                                    [--short]

Each operation is timed once unkilled, then killed at uniformly random moments of that
duration until `--kills` kills have landed before it finished. After each kill the next real
process starts (`cto-advisor serve`, `streamlit run` with Chromium, or the CLI) and the data
dir is inspected: no pending or half-written document, chunks exactly as the manifest lists
them, no file under uploads/ that is not indexed, no temporary file, a forgotten client all
there or all gone (tests/server/kills.py). `--short`: 2 kills of the CLI operations (for CI).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.server import kills  # noqa: E402

OPERATIONS = {
    "ingest": kills.ingest_kills,
    "upload-api": kills.api_upload_kills,
    "upload-app": kills.app_upload_kills,
    "forget": kills.forget_kills,
    "answer": kills.ask_kills,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument("--short", action="store_true", help="2 kills of the CLI operations")
    args = parser.parse_args()
    if args.short:
        args.kills, args.operations = 2, "ingest,forget,answer"
    failed = False
    for name in args.operations.split(","):
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"kills-{name}-") as tmp:
            result = OPERATIONS[name](Path(tmp), args.kills)
        print(f"{result.line()}  [{time.monotonic() - started:.0f} s]", flush=True)
        for problem in result.problems[:10]:
            print(f"    {problem}")
        failed |= bool(result.problems) or result.landed < args.kills
    print(
        f"target: {args.kills} kills each, nothing left behind: {'MISSES' if failed else 'meets'}"
    )
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
