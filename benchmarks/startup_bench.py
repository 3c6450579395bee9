"""Whole-process CLI times, hyperfine-style: `cto-advisor ask`, a one-file re-ingest and a
no-change re-ingest, each run N times as a fresh process, ONNX (default) against torch.

    python benchmarks/startup_bench.py [--runs N] [--corpus DIR] [--short]

Wall time is what a user waits; CPU time (user + sys of the child) is what the process itself
costs, and is the steadier number on a shared machine: wall time there includes waiting for a
core. The load average is printed with each row.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How big should a pull request be, and how fast should reviews happen?"


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {out.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "playbooks")
    parser.add_argument("--runtimes", default="onnx,torch")
    parser.add_argument("--short", action="store_true", help="2 runs, ONNX only")
    args = parser.parse_args()
    runtimes = ["onnx"] if args.short else args.runtimes.split(",")
    runs = 2 if args.short else args.runs
    cli = str(Path(sys.executable).with_name("cto-advisor"))
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)")
    header = (
        f"{'command':<34}{'runtime':>8}{'runs':>5}{'wall min':>9}{'wall med':>9}"
        f"{'CPU med':>8}{'load':>6}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(args.corpus, corpus)
        changed = sorted(corpus.rglob("*.md"))[0]
        for runtime in runtimes:
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "ADVISOR_DATA_DIR": str(Path(tmp) / f"data-{runtime}"),
                "ADVISOR_EMBEDDING_RUNTIME": runtime,
                "ADVISOR_MODE": "offline",
            }
            _timed([cli, "ingest", str(corpus)], env)  # the index every row works on
            cases = {
                "ask (offline answer)": lambda env=env: [cli, "ask", QUESTION],
                "ingest, 1 file changed": lambda: [cli, "ingest", str(corpus)],
                "ingest, nothing changed": lambda: [cli, "ingest", str(corpus)],
            }
            for name, make in cases.items():
                walls, cpus = [], []
                for i in range(runs):
                    if name.startswith("ingest, 1"):
                        with open(changed, "a", encoding="utf-8") as fh:
                            fh.write(f"\n\nA line added by the benchmark, run {runtime} {i}.\n")
                    wall, cpu = _timed(make(), env)
                    walls.append(wall)
                    cpus.append(cpu)
                print(
                    f"{name:<34}{runtime:>8}{runs:>5}{min(walls):>9.2f}"
                    f"{statistics.median(walls):>9.2f}{statistics.median(cpus):>8.2f}"
                    f"{os.getloadavg()[0]:>6.1f}",
                    flush=True,
                )
    print("seconds; a fresh process per run (interpreter start included).")


if __name__ == "__main__":
    main()
