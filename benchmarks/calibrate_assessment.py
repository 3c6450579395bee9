"""Choose the assessment's thresholds on the tuning clients and report every part.

Usage: python benchmarks/calibrate_assessment.py [--corpus data] [--dataset evals/datasets/assessment.yaml]

The assessment is split by client (evals/splits.toml, leave-one-client-out; the frozen test
clients' digests are checked): thresholds are chosen on the tuning clients only, by macro-F1 then accuracy for the verdicts (support scores of
advisor/answering/support.py) and by F1 for the conflicts (measure similarity of
advisor/answering/facts.py), taking the middle of the best plateau. Then the thresholds in the
code and the fitted ones are both scored on each part, tuning and test, with bootstrap 95%
intervals (evals/stats.py). The test clients are never used to choose anything; only the sample
corpus is labelled, never tune on held-out data. A conflict is counted right only when its two
documents and the values read from them are a labelled conflict's (evals.assessment_eval).
Tuning clients since issue 23: ledgerly, brightwell and orbitly (the last two written with their
labels for the conflict finder); the verdict thresholds in the code were chosen before them.
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
from evals.assessment_eval import CODE, load_assessment_set, score_conflicts
from evals.corpus import relative_source
from evals.splits import PARTS, TUNING, verified_split
from evals.stats import bootstrap_ci
from evals.stats import macro_f1 as macro_f1_of
from evals.stats import mean as mean_of
from evals.systems import OurSystem

GRID = [round(0.30 + 0.025 * i, 3) for i in range(17)]  # 0.30 .. 0.70
MEASURE_GRID = [round(0.40 + 0.025 * i, 3) for i in range(21)]  # 0.40 .. 0.90


def verdicts(rows, t: A.Thresholds):
    return [A.judge(p, s, sup, t).verdict for _, p, s, sup, _ in rows]


def _middle(best: list):
    return best[len(best) // 2]


_MACRO_F1 = macro_f1_of(len(CODE))


def macro_f1(pairs) -> float:
    """The one macro-F1 (evals.stats) of (gold, predicted) verdict pairs."""
    return float(_MACRO_F1(np.array([[CODE[g], CODE[v]] for g, v in pairs], dtype=float)))


def interval(values) -> list[float] | None:
    """The one bootstrap (evals.stats) of a mean of 0/1 values."""
    return bootstrap_ci(np.asarray(values, dtype=float).reshape(-1, 1), mean_of)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path("data"))
    parser.add_argument("--dataset", type=Path, default=Path("evals/datasets/assessment.yaml"))
    parser.add_argument(
        "--tuning-only", action="store_true", help="report the tuning part only (while developing)"
    )
    parser.add_argument(
        "--also",
        nargs=2,
        action="append",
        metavar=("CORPUS", "DATASET"),
        help="another labelled corpus to tune and report on (default: the conflict-finder's "
        "tuning corpus, evals/corpora/conflicts with evals/datasets/assessment-conflicts.yaml)",
    )
    args = parser.parse_args()
    sets = [(args.corpus, args.dataset)] + [(Path(c), Path(d)) for c, d in args.also or []]
    extra = (Path("evals/corpora/conflicts"), Path("evals/datasets/assessment-conflicts.yaml"))
    if args.also is None and extra[1].is_file():
        sets.append(extra)
    gold_of, part_of, corpus_of = {}, {}, {}
    data, chunks, embeddings = {}, {}, None
    for corpus_dir, dataset in sets:
        labels = load_assessment_set(dataset)
        split = verified_split(dataset)
        checklist = load_checklist(corpus_dir / labels.checklist)
        system = OurSystem(Settings(), corpus_dir, embeddings)
        system.prepare()
        store, embeddings = system.advisor.store, system.advisor.embeddings
        assessor = A.Assessor(store, embeddings, system.settings)
        for client, gold in labels.clients.items():
            gold_of[client] = gold
            part_of[client] = split.part_of(client) if split else TUNING
            corpus_of[client] = corpus_dir.resolve()
            if args.tuning_only and part_of[client] != TUNING:
                continue
            rows, client_chunks = assessor.evidence(checklist, client)
            data[client] = (rows, [gold.verdicts.get(p.id) for _, p, *_ in rows])
            chunks[client] = client_chunks
    parts = {part: [c for c in gold_of if part_of[c] == part and c in data] for part in PARTS}
    if not parts[TUNING]:
        raise SystemExit("no tuning client: every client is in the frozen test part")

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
            right, hits = score_conflicts(
                gold_of[c].conflicts,
                [
                    (
                        tuple(
                            relative_source(p.root, p.source, corpus_of[c])
                            for p in (k.first, k.second)
                        ),
                        (k.first_value, k.second_value),
                    )
                    for k in F.find_conflicts(chunks[c], embeddings, threshold)
                ],
            )
            detected += right
            found += hits
        return detected, found

    def f1(detected, found):
        p = sum(detected) / len(detected) if detected else 0.0
        r = sum(found) / len(found) if found else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    tuning = parts[TUNING]
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
            if args.tuning_only and part != TUNING:
                continue
            for group in [clients, *([[c] for c in clients] if len(clients) > 1 else [])]:
                ps = pairs(group, t)
                hits = [float(g == v) for g, v in ps]
                detected, found = conflicts(group, m)
                label = f"{part}:{'+'.join(group)}" + (" (in-sample)" if part == TUNING else "")
                print(
                    f"[{name}] {label:34} verdict accuracy {np.mean(hits):.3f} "
                    f"{interval(hits)}  macro-F1 {macro_f1(ps):.3f}  "
                    f"conflict precision {np.mean(detected) if detected else float('nan'):.3f} "
                    f"{interval(detected)} ({len(detected)} flagged)  "
                    f"recall {np.mean(found) if found else float('nan'):.3f} "
                    f"{interval(found)} ({len(found)} labelled)"
                )


if __name__ == "__main__":
    main()
