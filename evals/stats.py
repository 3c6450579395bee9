"""Uncertainty and comparisons for every eval task: one bootstrap, one permutation test.

Every metric of every task (answers, memos, assessment) is a statistic of per-item values: a mean
for scores and rates, a pooled share for memo points, a count for leaks, a percentile for latency,
a macro-F1 for verdicts. A `Metric` says how to read an item's values (one or more columns) and
how to compute the statistic from a sample of items, vectorised over resamples. One resampling
scheme then covers them all:

- `bootstrap_ci`: draw the items with replacement, recompute the statistic (percentile interval);
- `permutation_p`: a run against a baseline, on the items both share (paired by id), with the two
  runs' values swapped at random within each pair (for a mean this is the sign-flip test of the
  paired differences); for items that do not pair across runs (detections), an unpaired test.

`compare` turns these into the gate rule: a metric is worse when it drops beyond noise (p < ALPHA)
or by more than its practical (non-inferiority) margin, whichever comes first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05  # a change with p below this is reported (and gated) as beyond noise
RESAMPLES = 2000  # bootstrap resamples
PERMUTATIONS = 9999  # permutation resamples (exact when there are fewer distinct permutations)
SEED = 20261130  # fixed: the same run always reports the same intervals and p-values
DIGITS = 10  # statistics are compared to this many decimals (far below any margin)

# A statistic takes an array of item values shaped (..., items, columns) and returns (...).
Statistic = Callable[[np.ndarray], np.ndarray]


def mean(values: np.ndarray) -> np.ndarray:
    """The mean of the first column."""
    return values[..., 0].mean(axis=-1)


def total(values: np.ndarray) -> np.ndarray:
    """The sum of the first column (a count of flagged items)."""
    return values[..., 0].sum(axis=-1)


def pooled(values: np.ndarray) -> np.ndarray:
    """A share pooled over weighted items: columns (share, weight), e.g. a memo's points."""
    weight = values[..., 1].sum(axis=-1)
    return (values[..., 0] * values[..., 1]).sum(axis=-1) / np.where(weight > 0, weight, 1.0)


def percentile(pct: float) -> Statistic:
    """The pct-th percentile of the first column (linear interpolation)."""

    def statistic(values: np.ndarray) -> np.ndarray:
        return np.percentile(values[..., 0], pct, axis=-1)

    return statistic


def macro_f1(classes: int) -> Statistic:
    """Mean F1 over the classes that occur among the labels or the predictions of the sample;
    columns (label code, predicted code), codes 0 .. classes-1."""

    def statistic(values: np.ndarray) -> np.ndarray:
        gold, got = values[..., 0], values[..., 1]
        scores, present = [], []
        for c in range(classes):
            g, p = gold == c, got == c
            tp = (g & p).sum(axis=-1)
            wrong = (g ^ p).sum(axis=-1)  # false positives plus false negatives
            scores.append(np.where(tp > 0, 2 * tp / np.maximum(2 * tp + wrong, 1), 0.0))
            present.append(g.any(axis=-1) | p.any(axis=-1))
        s, n = np.stack(scores), np.stack(present)
        return (s * n).sum(axis=0) / np.maximum(n.sum(axis=0), 1)

    return statistic


@dataclass(frozen=True)
class Metric:
    """How one metric is read from a task's items and computed over a sample of them."""

    name: str
    values: Callable[[Mapping[str, Any]], Sequence[float] | float | None]  # None: not defined
    statistic: Statistic = mean
    higher_is_better: bool = True
    paired: bool = True  # False: the items do not keep their id from one run to the next
    tested: bool = True  # False: machine-dependent (latency), never tested against a baseline

    def table(self, items: Sequence[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
        """(item ids, values shaped (items, columns)) of the items this metric is defined on."""
        ids, rows = [], []
        for item in items:
            value = self.values(item)
            if value is None:
                continue
            row = [value] if isinstance(value, int | float) else list(value)
            if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in row):
                continue
            ids.append(str(item["id"]))
            rows.append([float(v) for v in row])
        width = len(rows[0]) if rows else 1
        return ids, np.asarray(rows, dtype=float).reshape(len(rows), width)

    def value(self, items: Sequence[Mapping[str, Any]]) -> float | None:
        """The metric over these items (None when it is defined on none of them)."""
        _, data = self.table(items)
        return float(self.statistic(data)) if len(data) else None


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def bootstrap_ci(data: np.ndarray, statistic: Statistic) -> list[float] | None:
    """Percentile bootstrap interval of `statistic` over the items (rows of `data`); None below
    two items."""
    n = len(data)
    if n < 2:
        return None
    from scipy.stats import bootstrap

    def over_indices(index, axis=-1):
        return statistic(data[np.asarray(index, dtype=int)])

    result = bootstrap(
        (np.arange(n),),
        over_indices,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        rng=_rng(),
    )
    low, high = result.confidence_interval
    if math.isnan(low) or math.isnan(high):  # every resample gave the same value
        value = float(statistic(data))
        return [round(value, 4), round(value, 4)]
    return [round(float(low), 4), round(float(high), 4)]


def permutation_p(ours: np.ndarray, base: np.ndarray, statistic: Statistic, paired: bool) -> float:
    """Two-sided p-value that `statistic` is the same for both runs. Paired: row i of each run is
    the same item, and the test swaps the two runs' values within pairs at random."""
    if len(ours) < 2 or len(base) < 2:
        return 1.0  # one item cannot be told from noise; the margin still applies
    if paired and np.array_equal(ours, base):
        return 1.0
    from scipy.stats import permutation_test

    pool = np.concatenate([ours, base])
    first = np.arange(len(ours))
    second = len(ours) + np.arange(len(base))

    def difference(x, y, axis=-1):
        d = statistic(pool[np.asarray(x, dtype=int)]) - statistic(pool[np.asarray(y, dtype=int)])
        # Rounded: numpy sums a batch of resamples in another order than one sample, and the
        # last bits of that would make an observed change look more extreme than its own mirror.
        return np.round(d, DIGITS)

    result = permutation_test(
        (first, second),
        difference,
        permutation_type="samples" if paired else "independent",
        n_resamples=PERMUTATIONS,
        vectorized=True,
        rng=_rng(),
    )
    return float(result.pvalue)


def intervals(
    items: Sequence[Mapping[str, Any]], metrics: Sequence[Metric]
) -> dict[str, list[float] | None]:
    """{metric: [low, high]} bootstrap 95% intervals over the items."""
    return {m.name: bootstrap_ci(m.table(items)[1], m.statistic) for m in metrics}


def compare_metric(
    metric: Metric,
    items: Sequence[Mapping[str, Any]],
    base_items: Sequence[Mapping[str, Any]],
    margin: float | None = None,
    with_interval: bool = True,
) -> dict[str, Any]:
    """One metric of a run against a baseline: the change with its interval and p-value, and a
    verdict.

    The verdict is "worse" when the metric drops beyond noise (p < ALPHA) or by more than
    `margin` (absolute), "better" when it improves beyond noise, "same" otherwise, "untested"
    for machine-dependent metrics or when the runs share no item.
    """
    ids, ours = metric.table(items)
    base_ids, theirs = metric.table(base_items)
    if metric.paired:
        where = {i: k for k, i in enumerate(base_ids)}
        shared = [k for k, i in enumerate(ids) if i in where]
        ours, theirs = ours[shared], theirs[[where[ids[k]] for k in shared]]
    row: dict[str, Any] = {"paired_items": len(ours) if metric.paired else None}
    if not metric.tested or not len(ours) or not len(theirs):
        row.update(difference=None, ci=None, p_value=None, margin=margin, verdict="untested")
        return row
    diff = float(metric.statistic(ours) - metric.statistic(theirs))
    interval = None
    if with_interval and metric.paired and len(ours) >= 2:
        # The change's own interval: resample the pairs, recompute both statistics.
        stacked = np.concatenate([ours, theirs], axis=1)
        width = ours.shape[1]

        def change(values: np.ndarray) -> np.ndarray:
            return metric.statistic(values[..., :width]) - metric.statistic(values[..., width:])

        interval = bootstrap_ci(stacked, change)
    p = permutation_p(ours, theirs, metric.statistic, metric.paired)
    loss = -diff if metric.higher_is_better else diff  # > 0: got worse
    verdict = "same"
    reason = ""
    if loss > 1e-9 and p < ALPHA:
        verdict, reason = "worse", "beyond noise"
    elif margin is not None and loss > margin + 1e-9:
        verdict, reason = "worse", "beyond the margin"
    elif loss < -1e-9 and p < ALPHA:
        verdict = "better"
    row.update(
        difference=round(diff, 4),
        ci=interval,
        p_value=round(p, 4),
        margin=margin,
        verdict=verdict,
        reason=reason,
    )
    return row


def describe_drop(name: str, row: Mapping[str, Any], part: str | None = None) -> str:
    """One printable line for a metric that got worse."""
    where = f" ({part} part)" if part else ""
    over = f" over {row['paired_items']} paired items" if row.get("paired_items") else ""
    margin = f", margin {row['margin']:g}" if row.get("margin") is not None else ""
    return (
        f"{name}{where} worse than the baseline {row['reason']}: change "
        f"{row['difference']:+.4g}{over}, p = {row['p_value']:.3g}{margin}"
    )
