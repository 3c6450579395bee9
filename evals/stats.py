"""Uncertainty over questions: a bootstrap 95% interval for every metric, and paired tests of a
run against a baseline report that say which changes are beyond noise.

Every metric is a statistic of per-item values (a mean for scores and rates, a count for leaks and
violations, a percentile for latency), so one resampling scheme covers them all: draw the
questions with replacement, recompute the statistic. A change against a baseline is tested on the
items both runs share, paired by id, with a sign-flip permutation test of the mean difference
(exact for small sets, no normality assumed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evals import metrics as m
from evals.scoring import LOWER_IS_BETTER

CONFIDENCE = 0.95
ALPHA = 0.05  # a change with p below this is reported (and gated) as beyond noise
RESAMPLES = 2000
SEED = 20261130  # fixed: the same run always reports the same intervals
# Machine-dependent: reported with intervals, never tested against another machine's run.
NOT_TESTED = frozenset({"latency_p50_ms", "latency_p95_ms"})

Statistic = Callable[..., Any]


def _p(pct: float) -> Statistic:
    def statistic(x, axis=-1):
        return np.percentile(x, pct, axis=axis)

    return statistic


def statistic_of(name: str) -> Statistic:
    """How a metric is computed from its per-item values."""
    if name in ("must_not_include_violations", "scope_leaks"):
        return np.sum
    if name == "latency_p50_ms":
        return _p(50)
    if name == "latency_p95_ms":
        return _p(95)
    return np.mean


def item_values(entries: Sequence[dict[str, Any]], name: str) -> dict[str, float]:
    """{item id: value} for the items a metric is defined on (as `scoring.aggregate` uses them)."""
    out: dict[str, float] = {}
    for e in entries:
        value: float | None = None
        scores = e.get("scores", {})
        if name in scores:
            value = scores[name] if e["answerable"] else None
        elif (
            name == "abstain_rate_unanswerable"
            and not e["answerable"]
            or name == "false_abstain_rate"
            and e["answerable"]
        ):
            value = float(e["abstained"])
        elif (
            name == "must_not_include_violations"
            or name == "must_not_include_violation_rate"
            and e.get("must_not_include")
        ):
            value = float(bool(e.get("must_not_include_found")))
        elif name == "scope_leaks":
            value = float(bool(e.get("scope_leaks")))
        elif name.startswith("latency_") and "latency_ms" in e:
            value = float(e["latency_ms"])
        if m.is_defined(value):
            out[e["id"]] = float(value)
    return out


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def bootstrap_ci(values: Sequence[float], statistic: Statistic) -> list[float] | None:
    """Percentile bootstrap interval of `statistic` over the items (None below two items)."""
    if len(values) < 2:
        return None
    from scipy.stats import bootstrap

    data = np.asarray(values, dtype=float)
    if np.all(data == data[0]):  # no spread: every resample gives the same value
        value = float(statistic(data))
        return [value, value]
    result = bootstrap(
        (data,),
        statistic,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        rng=_rng(),
    )
    low, high = result.confidence_interval
    return [round(float(low), 4), round(float(high), 4)]


def confidence_intervals(
    entries: Sequence[dict[str, Any]], names: Sequence[str]
) -> dict[str, list[float] | None]:
    """{metric: [low, high]} bootstrap 95% intervals over questions."""
    return {
        name: bootstrap_ci(list(item_values(entries, name).values()), statistic_of(name))
        for name in names
    }


def paired_test(differences: Sequence[float]) -> float:
    """Two-sided p-value that the mean paired difference is zero (sign-flip permutation)."""
    d = np.asarray(differences, dtype=float)
    if d.size == 0 or np.all(d == 0):
        return 1.0
    from scipy.stats import permutation_test

    result = permutation_test(
        (d,),
        np.mean,
        permutation_type="samples",
        n_resamples=9999,
        vectorized=True,
        rng=_rng(),
    )
    return float(result.pvalue)


def compare(
    entries: Sequence[dict[str, Any]],
    base_entries: Sequence[dict[str, Any]],
    names: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Per metric: paired items, mean difference with its interval, p-value and a verdict.

    verdict is "better" or "worse" when the change is beyond noise (p < ALPHA), "same" otherwise,
    "untested" for machine-dependent metrics or when no item is shared.
    """
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        ours, base = item_values(entries, name), item_values(base_entries, name)
        shared = [i for i in ours if i in base]
        d = [ours[i] - base[i] for i in shared]
        row: dict[str, Any] = {"paired_items": len(shared)}
        if not shared or name in NOT_TESTED:
            row.update(mean_difference=None, ci=None, p_value=None, verdict="untested")
            out[name] = row
            continue
        if statistic_of(name) is np.sum:
            diff, interval = float(np.sum(d)), bootstrap_ci(d, np.sum)
        else:
            diff, interval = float(np.mean(d)), bootstrap_ci(d, np.mean)
        p = paired_test(d)
        verdict = "same"
        if p < ALPHA and diff != 0:
            improved = diff < 0 if name in LOWER_IS_BETTER else diff > 0
            verdict = "better" if improved else "worse"
        row.update(
            mean_difference=round(diff, 4), ci=interval, p_value=round(p, 4), verdict=verdict
        )
        out[name] = row
    return out


def significant_drops(comparison: dict[str, dict[str, Any]]) -> list[str]:
    """One printable line per metric that got worse beyond noise."""
    return [
        f"{name} worse than the baseline beyond noise: change {row['mean_difference']:+.4g} "
        f"over {row['paired_items']} paired items, p = {row['p_value']:.3g} < {ALPHA}"
        for name, row in comparison.items()
        if row["verdict"] == "worse"
    ]
