"""Calibrate the offline assessment thresholds on the labelled set and report how they generalise.

Usage: python benchmarks/calibrate_assessment.py [--corpus data] [--dataset evals/datasets/assessment.yaml]

Prints macro-F1 and accuracy of the thresholds in advisor/assessment/assess.py, the best
thresholds on the whole set (in-sample), and leave-one-client-out figures: thresholds fitted on
one client, scored on the other. Only the sample corpus is labelled; never tune on held-out data.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from advisor.assessment import assess as A
from advisor.assessment.checklist import load_checklist
from advisor.core.settings import Settings
from evals.assessment_eval import load_assessment_set, macro_f1
from evals.systems import OurSystem

GRID = [round(0.30 + 0.025 * i, 3) for i in range(19)]  # 0.30 .. 0.75


def verdicts(rows, t):
    return [A.judge(p, s, sims, *t).verdict for _, p, s, sims, _ in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path("data"))
    parser.add_argument("--dataset", type=Path, default=Path("evals/datasets/assessment.yaml"))
    args = parser.parse_args()
    labels = load_assessment_set(args.dataset)
    checklist = load_checklist(args.corpus / labels.checklist)
    system = OurSystem(Settings(), args.corpus)
    system.prepare()
    assessor = A.Assessor(system.advisor.store, system.advisor.embeddings, system.settings)
    data = {}
    for client, gold in labels.clients.items():
        rows, _ = assessor.evidence(checklist, client)
        data[client] = (rows, [gold.verdicts[p.id] for _, p, *_ in rows])

    def pairs(clients, t):
        return [
            (g, v)
            for c in clients
            for g, v in zip(data[c][1], verdicts(data[c][0], t), strict=True)
        ]

    def acc(ps):
        return sum(g == v for g, v in ps) / len(ps)

    grid = [t for t in itertools.product(GRID, GRID, GRID) if t[0] < t[1] and t[0] <= t[2]]
    clients = list(data)
    current = (A.T_PARTIAL, A.T_EVIDENCED, A.T_CONTRADICTED)
    ps = pairs(clients, current)
    print(f"current thresholds {current}: macro-F1 {macro_f1(ps):.3f}, accuracy {acc(ps):.3f}")
    best = max(grid, key=lambda t: (macro_f1(pairs(clients, t)), acc(pairs(clients, t))))
    ps = pairs(clients, best)
    print(f"in-sample best {best}: macro-F1 {macro_f1(ps):.3f}, accuracy {acc(ps):.3f}")
    for held in clients:
        train = [c for c in clients if c != held]
        fit = max(grid, key=lambda t: (macro_f1(pairs(train, t)), acc(pairs(train, t))))
        ps = pairs([held], fit)
        print(
            f"leave-one-client-out: fit on {train} {fit}, {held}: macro-F1 "
            f"{macro_f1(ps):.3f}, accuracy {acc(ps):.3f}"
        )


if __name__ == "__main__":
    main()
