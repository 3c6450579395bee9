"""Fit the abstention model (advisor/answering/abstention.py) on the tuning parts only.

    python benchmarks/calibrate_abstention.py [--folds 5] CORPUS DATASET.jsonl [CORPUS DATASET ...]

Only the tuning part of each dataset is read (evals/splits.toml): the frozen test part is never
seen by the fit, so `cto-advisor eval` reports the test part out of sample. For every tuning item
it retrieves exactly as the answerer does (a conversation's last turn rewritten with the earlier
ones) and computes the evidence signals. It then fits a logistic model (L2, class-balanced, a
wrongly refused answerable question weighed twice an answered unanswerable one) and prints:

- in-sample rates: fitted and scored on the same tuning items (optimistic);
- out-of-fold rates: stratified k-fold cross-validation within the tuning part, each item scored
  by a model that never saw it;
- the rates of the weights currently in abstention.py, and the weights to paste there.

Each CORPUS is indexed (or its cached index reused) like `cto-advisor eval` does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from advisor.answering.abstention import BIAS, THRESHOLD, WEIGHTS, evidence
from advisor.answering.answer import RETRIEVE_K
from advisor.answering.rewrite import standalone_question
from advisor.core.settings import Settings
from evals.dataset import load_dataset
from evals.splits import TUNING, select, verified_split
from evals.systems import OurSystem

FEATURES = list(WEIGHTS)
FALSE_ABSTAIN_COST = 2.0
L2 = 1e-3
SEED = 12


def collect(corpus: Path, dataset: Path) -> list[tuple[str, bool, dict[str, float]]]:
    system = OurSystem(Settings(), corpus)
    system.prepare()
    rows = []
    tuning = select(load_dataset(dataset, corpus), verified_split(dataset), TUNING)
    for item in tuning:
        history = []
        for turn in item.all_turns[:-1]:
            history += [{"role": "user", "content": turn}, {"role": "assistant", "content": ""}]
        query = standalone_question(item.final_question, history)
        retrieval = system.advisor.answerer.retriever.search(query, item.client, k=RETRIEVE_K)
        rows.append((item.id, item.answerable, evidence(retrieval).as_dict()))
    return rows


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted, L2-regularised logistic regression; y = 1 for answerable."""
    pos, neg = max(1, int(y.sum())), max(1, int((1 - y).sum()))
    total = FALSE_ABSTAIN_COST + 1.0
    sample_w = np.where(y == 1, FALSE_ABSTAIN_COST / total / pos, 1.0 / total / neg)

    def loss(theta):
        z = x @ theta[:-1] + theta[-1]
        p = 1 / (1 + np.exp(-z))
        eps = 1e-9
        ll = -(sample_w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum()
        return ll + L2 * float(theta[:-1] @ theta[:-1])

    theta = minimize(loss, np.zeros(x.shape[1] + 1), method="L-BFGS-B").x
    return theta[:-1], float(theta[-1])


def predict(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """True where the model would abstain."""
    return 1 / (1 + np.exp(-(x @ w + b))) < THRESHOLD


def rates(abstain: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(abstention on unanswerable, false abstention on answerable)."""
    return float(abstain[y == 0].mean()), float(abstain[y == 1].mean())


def folds(y: np.ndarray, k: int) -> list[np.ndarray]:
    """Stratified fold index of each item."""
    rng = np.random.default_rng(SEED)
    fold = np.empty(len(y), dtype=int)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return fold


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--signals", type=Path, help="cache of the per-item signals: read if present, else written"
    )
    parser.add_argument(
        "--drop", nargs="*", default=[], help="signals to leave out of the fit (weight 0)"
    )
    parser.add_argument("pairs", nargs="+", help="CORPUS DATASET [CORPUS DATASET ...]")
    args = parser.parse_args(argv)
    rows = []
    if args.signals and args.signals.exists():
        rows = [tuple(r) for r in json.loads(args.signals.read_text())]
    else:
        for corpus, dataset in zip(args.pairs[::2], args.pairs[1::2], strict=True):
            rows += collect(Path(corpus), Path(dataset))
        if args.signals:
            args.signals.write_text(json.dumps(rows))
    features = [f for f in FEATURES if f not in args.drop]
    x = np.array([[r[2][f] for f in features] for r in rows])
    y = np.array([1.0 if r[1] else 0.0 for r in rows])

    current = predict(x, np.array([WEIGHTS[f] for f in features]), BIAS)
    w, b = fit(x, y)
    in_sample = predict(x, w, b)
    fold = folds(y, args.folds)
    out_of_fold = np.zeros(len(y), dtype=bool)
    for f in range(args.folds):
        train = fold != f
        wf, bf = fit(x[train], y[train])
        out_of_fold[~train] = predict(x[~train], wf, bf)

    print(f"{int((y == 0).sum())} unanswerable, {int(y.sum())} answerable items")
    print("rule                       abstain(unanswerable)  false abstain(answerable)")
    figures = {}
    for name, abstain in (
        ("current weights, in-sample", current),
        ("refit, in-sample", in_sample),
        (f"refit, {args.folds}-fold out-of-fold", out_of_fold),
    ):
        a, fa = rates(abstain, y)
        figures[name] = {"abstain_rate_unanswerable": a, "false_abstain_rate": fa}
        print(f"{name:34s} {a:6.3f}                 {fa:6.3f}")
    print("\nout-of-fold mistakes:")
    for (rid, answerable, sig), wrong in zip(rows, out_of_fold != (y == 0), strict=True):
        if wrong:
            flags = " ".join(f"{k}={v:.2f}" for k, v in sig.items())
            print(
                f"  {'answerable refused' if answerable else 'unanswerable answered':22s} {rid:8s} {flags}"
            )
    fitted = dict(zip(features, w, strict=True))
    weights = {f: round(float(fitted.get(f, 0.0)), 2) for f in FEATURES}
    print(f"\nWEIGHTS = {weights}\nBIAS = {b:.2f}")
    if args.json:
        figures["weights"], figures["bias"] = weights, round(b, 2)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
