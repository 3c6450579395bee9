"""Choose the offline memo's document window and guidance depth on the tuning topics only.

Usage: python benchmarks/calibrate_memo.py [--shared ../shared/corpora]

Drafts every tuning topic of evals/datasets/memos.jsonl (over data/) and memos-dev.jsonl (over the
dev corpus) for each candidate `DOCUMENT_WINDOW` (advisor/memo/offline.py: how far below the
best-matching playbook another playbook may be and still be quoted) and guidance passages per
query (`PER_PART["guidance"]` in advisor/memo/evidence.py), and prints key-fact recall and the
off-topic share of both sets together. The frozen test topics are never drafted here.

The rule, fixed before the first run: the highest key-fact recall among the settings whose
off-topic share stays at or under the issue's 10% target; ties go to the wider window and the
fewer passages (less machinery). Paste the winner into the two modules.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from advisor.core.settings import Settings
from advisor.memo import evidence, offline
from evals.evaluate import passage_texts
from evals.memo_eval import aggregate, load_memo_dataset, run_memos
from evals.splits import TUNING, select, verified_split
from evals.systems import EVALUATOR, OurSystem

WINDOWS = (0.03, 0.05, 0.1, 0.15, 0.25, 1.0)  # 1.0: no window at all
GUIDANCE = (5, 10)
OFF_TOPIC_TARGET = 0.10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared/corpora"))
    args = parser.parse_args()
    sets = [(Path("data"), Path("evals/datasets/memos.jsonl"))]
    if (args.shared / "dev").is_dir():
        sets.append((args.shared / "dev", Path("evals/datasets/memos-dev.jsonl")))
    loaded = []
    for corpus, dataset in sets:
        items = select(load_memo_dataset(dataset, corpus), verified_split(dataset), TUNING)
        system = OurSystem(Settings(mode="offline"), corpus)
        system.prepare()
        loaded.append((corpus.resolve(), items, system, passage_texts(system)))
    print(f"{sum(len(i) for _, i, _, _ in loaded)} tuning topics (test topics are not drafted)")
    results = []
    for window, guidance in itertools.product(WINDOWS, GUIDANCE):
        offline.DOCUMENT_WINDOW = window
        evidence.PER_PART["guidance"] = guidance
        entries = []
        for corpus, items, system, texts in loaded:
            advisor = system.advisor
            entries += run_memos(
                lambda topic, client, a=advisor: a.memo(EVALUATOR, topic, client=client),
                items,
                corpus,
                passages=texts,
            )
        m = aggregate(entries)
        results.append((window, guidance, m["key_fact_recall"], m["off_topic_share"]))
        print(
            f"window {window:<5} guidance {guidance:<3} key facts {m['key_fact_recall']:.3f}  "
            f"off-topic {m['off_topic_share']:.3f}"
        )
    eligible = [r for r in results if r[3] <= OFF_TOPIC_TARGET] or results
    best = max(eligible, key=lambda r: (r[2], r[0], -r[1]))
    print(f"\nchosen: DOCUMENT_WINDOW = {best[0]}, PER_PART['guidance'] = {best[1]}")


if __name__ == "__main__":
    main()
