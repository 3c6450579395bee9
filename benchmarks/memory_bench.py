"""Memory of a service process (what the app and the API hold) over a large index.

    python benchmarks/memory_bench.py --data-dir DIR --collection NAME [--clients N]

Opens the index the way the app does (one Advisor per process), then asks offline questions as
1, 5 and N different clients, printing the process's resident memory after each step: every
client's scope set gets its own BM25 index, so memory grows with the clients asked about.
Build an index first, e.g. `python benchmarks/retrieval_bench.py --sizes 100000
--modes embedded --keep DIR` (its clients are named client-00 ... client-39).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--collection", required=True)
    parser.add_argument("--clients", type=int, default=40)
    args = parser.parse_args()

    from advisor.core.runtime import configure_offline

    configure_offline()
    from advisor.core.principal import Principal
    from advisor.core.settings import Settings
    from advisor.service.facade import Advisor

    settings = Settings(data_dir=args.data_dir, collection=args.collection, mode="offline")
    me = Principal.local()
    print(f"load average {os.getloadavg()[0]:.1f}; RSS after each step (MB)")
    print(f"{'step':<44}{'RSS MB':>8}{'seconds':>9}")
    t0 = time.perf_counter()
    advisor = Advisor(settings)
    chunks = advisor.store.count()
    print(
        f"{f'open the index ({chunks} chunks)':<44}{_rss_mb():>8.0f}{time.perf_counter() - t0:>9.1f}"
    )
    clients = advisor.clients(me)
    asked = 0
    for upto in (1, 5, min(args.clients, len(clients))):
        t0 = time.perf_counter()
        while asked < upto:
            question = "How should we staff on-call for a small team?"
            advisor.ask(me, question, client=clients[asked])
            asked += 1
        step = f"asked as {upto} client(s)"
        print(f"{step:<44}{_rss_mb():>8.0f}{time.perf_counter() - t0:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
