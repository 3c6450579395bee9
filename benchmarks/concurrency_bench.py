"""Askers against a long-running server while another process ingests (issue 25, attack 1).

    python benchmarks/concurrency_bench.py [--askers 20] [--targets api,app]
                                           [--stores embedded,server] [--short]

Real processes: the CLI indexes two clients and some playbooks; a real `cto-advisor serve` (or
`streamlit run app.py`, one headless Chromium page per asker) answers askers that ask without
pause; after a few seconds acme's folder changes (12 documents edited, 4 deleted, 6 added) and a
separate `cto-advisor ingest` indexes it. Prints, per target and store: requests, failures
(5xx, transport errors, the app's error box), latency p95 before, during and after the
ingest, how soon after the ingest ended the new documents were cited, and answers that cited
a document half old and half new or showed another client's text (targets: all zero). The
scenario is tests/server/scenario.py; tests/server/test_other_writers.py runs it smaller.
`--short`: the API on the embedded store only, shorter phases (for CI).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.server.scenario import print_report, run_api, run_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--askers", type=int, default=20)
    parser.add_argument("--targets", default="api,app")
    parser.add_argument("--stores", default="embedded,server")
    parser.add_argument("--before", type=float, default=10.0, help="seconds before the ingest")
    parser.add_argument("--after", type=float, default=30.0, help="seconds after it ends")
    parser.add_argument("--short", action="store_true", help="API, embedded, shorter phases")
    args = parser.parse_args()
    if args.short:
        args.targets, args.stores, args.before, args.after = "api", "embedded", 4.0, 10.0
    failed = False
    for target in args.targets.split(","):
        for store in args.stores.split(","):
            with tempfile.TemporaryDirectory(prefix="concurrency-") as tmp:
                runner = run_api if target == "api" else run_app
                report = runner(Path(tmp), store, args.askers, args.before, args.after)
            title = f"{target} on the {store} store, {args.askers} askers (load {os.getloadavg()[0]:.1f})"
            print_report(title, report)
            failed |= bool(
                report["failed"]
                or report["problems"]
                or report["uncited"]
                or not report["new_after"]
                or not all(cited for *_, cited in report["new_after"])
                or report.get("asker_errors")
            )
    print(
        "\ntarget 0 failures, 0 mixed or foreign answers, 0 uncited, every question about the "
        f"new documents after the ingest citing them: {'MISSES' if failed else 'meets'}"
    )
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
