"""Retrieval + offline answer latency on a corpus, once the model is loaded.

    python benchmarks/answer_bench.py [--corpus DIR] [--dataset FILE] [--rounds N] [--short]

Target (issue 3): p95 under 300 ms on the dev corpus. The index is the eval's cached one
(ADVISOR_DATA_DIR/evals/...), built on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from evals.systems import OurSystem

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"
LOCAL = Principal.local()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "dev")
    parser.add_argument("--dataset", type=Path, default=SHARED / "dev-questions.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--short", action="store_true", help="one round (for CI)")
    args = parser.parse_args()
    rounds = 1 if args.short else args.rounds

    items = [json.loads(line) for line in args.dataset.read_text().splitlines() if line.strip()]
    questions = [(i.get("question") or i["turns"][-1], i.get("client")) for i in items]

    start = time.perf_counter()
    system = OurSystem(Settings(mode="offline"), args.corpus)
    system.prepare()
    ready = time.perf_counter() - start
    advisor = system.advisor

    retrieval_ms, answer_ms, answer_cpu_ms = [], [], []
    for _ in range(rounds):
        for question, client in questions:
            t0 = time.perf_counter()
            advisor.retrieve(LOCAL, question, client=client, k=10)
            t1, c1 = time.perf_counter(), time.process_time()
            advisor.ask(LOCAL, question, client=client)
            t2, c2 = time.perf_counter(), time.process_time()
            retrieval_ms.append((t1 - t0) * 1000)
            answer_ms.append((t2 - t1) * 1000)
            # CPU of the whole process (the embedding runtime's threads included): a shared
            # machine's load inflates it less than the wall time.
            answer_cpu_ms.append((c2 - c1) * 1000)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"corpus {args.corpus} ({advisor.store.count()} chunks), {len(questions)} questions x {rounds}"
    )
    print(f"index ready (model load + incremental ingest check) in {ready:.1f} s")
    print(f"{'':28s} {'p50':>8s} {'p95':>8s} {'max':>8s} {'mean':>8s}")
    rows = (
        ("retrieval (ms)", retrieval_ms),
        ("retrieval + answer (ms)", answer_ms),
        ("retrieval + answer CPU (ms)", answer_cpu_ms),
    )
    for name, values in rows:
        print(
            f"{name:28s} {percentile(values, 0.5):8.1f} {percentile(values, 0.95):8.1f} "
            f"{max(values):8.1f} {statistics.mean(values):8.1f}"
        )
    print(f"peak memory {peak_mb:.0f} MB (max RSS); load average {os.getloadavg()[0]:.2f}")
    verdict = "meets" if percentile(answer_ms, 0.95) < 300 else "MISSES"
    print(f"target p95 < 300 ms for retrieval + offline answer: {verdict}")


if __name__ == "__main__":
    main()
