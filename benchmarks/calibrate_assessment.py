"""Choose the assessment's thresholds on the tuning client and report every part.

Usage: python benchmarks/calibrate_assessment.py [--corpus data] [--dataset evals/datasets/assessment.yaml]

The assessment is split by client (`split:` in the labels): thresholds are chosen on the
`tuning` clients only, by macro-F1 then accuracy for the verdicts (support scores of
advisor/answering/support.py) and by F1 for the conflicts (measure similarity of
advisor/answering/facts.py), taking the middle of the best plateau. Then the thresholds in the
code and the fitted ones are both scored on each part, tuning and test, with bootstrap 95%
intervals (evals/stats.py). The test clients are never used to choose anything; only the sample
corpus is labelled, never tune on held-out data.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from advisor.answering import facts as F
from advisor.assessment import assess as A
from advisor.assessment.checklist import load_checklist
from advisor.core.settings import Settings
from evals.assessment_eval import load_assessment_set, macro_f1
from evals.corpus import relative_source
from evals.stats import bootstrap_ci
from evals.systems import OurSystem

GRID = [round(0.30 + 0.025 * i, 3) for i in range(17)]  # 0.30 .. 0.70
MEASURE_GRID = [round(0.40 + 0.025 * i, 3) for i in range(21)]  # 0.40 .. 0.90


def verdicts(rows, t: A.Thresholds):
    return [A.judge(p, s, sup, t).verdict for _, p, s, sup, _ in rows]


def _middle(best: list):
    return best[len(best) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path("data"))
    parser.add_argument("--dataset", type=Path, default=Path("evals/datasets/assessment.yaml"))
    parser.add_argument(
        "--tuning-only", action="store_true", help="report the tuning part only (while developing)"
    )
    args = parser.parse_args()
    labels = load_assessment_set(args.dataset)
    checklist = load_checklist(args.corpus / labels.checklist)
    system = OurSystem(Settings(), args.corpus)
    system.prepare()
    store, embeddings = system.advisor.store, system.advisor.embeddings
    assessor = A.Assessor(store, embeddings, system.settings)
    corpus = args.corpus.resolve()
    data, chunks = {}, {}
    for client, gold in labels.clients.items():
        if args.tuning_only and gold.split != "tuning":
            continue
        rows, client_chunks = assessor.evidence(checklist, client)
        data[client] = (rows, [gold.verdicts.get(p.id) for _, p, *_ in rows])
        chunks[client] = client_chunks
    parts = {
        part: [c for c, g in labels.clients.items() if g.split == part and c in data]
        for part in ("tuning", "test")
    }
    if not parts["tuning"]:
        raise SystemExit("no client has `split: tuning` in the labels")

    def pairs(clients, t):
        out = []
        for c in clients:
            rows, gold = data[c]
            out += [(g, v) for g, v in zip(gold, verdicts(rows, t), strict=True) if g]
        return out

    def acc(ps):
        return sum(g == v for g, v in ps) / len(ps)

    def conflicts(clients, threshold):
        """(per detection: right?, per labelled pair: found?) over `clients`."""
        detected, found = [], []
        for c in clients:
            gold = {frozenset(p) for p in labels.clients[c].conflicts}
            hits = set()
            for k in F.find_conflicts(chunks[c], embeddings, threshold):
                docs = frozenset(
                    relative_source(p.root, p.source, corpus) for p in (k.first, k.second)
                )
                detected.append(docs in gold)
                hits.add(docs) if docs in gold else None
            found += [p in hits for p in gold]
        return detected, found

    def f1(detected, found):
        p = sum(detected) / len(detected) if detected else 0.0
        r = sum(found) / len(found) if found else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    tuning = parts["tuning"]
    grid = [
        A.Thresholds(*t)
        for t in itertools.product(GRID, GRID, GRID)
        if t[0] < t[1] and t[0] <= t[2]
    ]
    scored = [(macro_f1(pairs(tuning, t)), acc(pairs(tuning, t)), t) for t in grid]
    top = max(s[:2] for s in scored)
    fit = _middle([t for *s, t in scored if tuple(s) == top])
    by_measure = {m: f1(*conflicts(tuning, m)) for m in MEASURE_GRID}
    best_f1 = max(by_measure.values())
    measure_fit = _middle([m for m, v in by_measure.items() if v == best_f1])
    current = A.Thresholds()
    print(f"tuning clients {tuning}; test clients {parts['test']}")
    print(f"verdict thresholds in the code: {current}")
    print(f"fitted on the tuning clients:   {fit} (macro-F1 {top[0]:.3f}, accuracy {top[1]:.3f})")
    print(
        f"conflict measure similarity in the code: {F.SAME_MEASURE}; fitted: {measure_fit} "
        f"(tuning F1 {best_f1:.3f}; plateau {[m for m, v in by_measure.items() if v == best_f1]})"
    )
    for name, t, m in (("code", current, F.SAME_MEASURE), ("fitted", fit, measure_fit)):
        for part, clients in parts.items():
            if args.tuning_only and part != "tuning":
                continue
            for group in [clients, *([[c] for c in clients] if len(clients) > 1 else [])]:
                ps = pairs(group, t)
                hits = [float(g == v) for g, v in ps]
                detected, found = conflicts(group, m)
                label = f"{part}:{'+'.join(group)}" + (" (in-sample)" if part == "tuning" else "")
                print(
                    f"[{name}] {label:34} verdict accuracy {np.mean(hits):.3f} "
                    f"{bootstrap_ci(hits, np.mean)}  macro-F1 {macro_f1(ps):.3f}  "
                    f"conflict precision {np.mean(detected) if detected else float('nan'):.3f} "
                    f"{bootstrap_ci([float(x) for x in detected], np.mean)} ({len(detected)} flagged)  "
                    f"recall {np.mean(found) if found else float('nan'):.3f} "
                    f"{bootstrap_ci([float(x) for x in found], np.mean)} ({len(found)} labelled)"
                )


if __name__ == "__main__":
    main()
