"""Every task's report by part (tuning, frozen test), and the gates applied to it.

One gate rule for every task and metric:

- a hard bound (`[<dataset>.min]` / `[<dataset>.max]`) fails when the whole run breaks it; they
  are kept where a fixed number means something on its own (no leak, no forbidden phrase, every
  memo point backed by its source, interactive latency);
- against the checked-in baseline, each part (tuning and test, separately) fails a metric that
  drops beyond noise (paired permutation test, p < 0.05) OR by more than the metric's practical
  margin (`[margins]`, absolute), whichever comes first: a small part cannot hide a large drop
  behind a p-value, and a large part cannot hide a drift behind a stated tolerance;
- a gated metric the run leaves unmeasured fails, unless the dataset declares it optional.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evals import stats
from evals.splits import PARTS, Split, part_of
from evals.thresholds import Gates, check


def unit_of(entry: Mapping[str, Any]) -> str:
    """What a report item is split by: its own id, or (assessment) its client."""
    return str(entry.get("unit") or entry["id"])


def in_part(
    entries: Sequence[Mapping[str, Any]], split: Split | None, part: str
) -> list[Mapping[str, Any]]:
    return [e for e in entries if part_of(split, unit_of(e)) == part]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarize(
    entries: Sequence[Mapping[str, Any]],
    metrics: Sequence[stats.Metric],
    split: Split | None,
    intervals: bool = True,
) -> dict[str, Any]:
    """Intervals over the whole run, and each part's metrics with their intervals (`intervals`
    False: none, for runs that only need the gates' verdict)."""

    def ci(members):
        return stats.intervals(members, metrics) if intervals else {}

    parts = {}
    for part in PARTS:
        members = in_part(entries, split, part)
        parts[part] = {
            "items": len(members),
            "metrics": {m.name: _rounded(m.value(members)) for m in metrics},
            "ci": ci(members),
        }
    return {
        "ci": ci(entries),
        "parts": parts,
        "split": {
            "declared": split is not None,
            "unit": split.unit if split else "item",
            "test_units": sorted(split.test) if split else [],
        },
    }


def compare_parts(
    entries: Sequence[Mapping[str, Any]],
    base_entries: Sequence[Mapping[str, Any]],
    metrics: Sequence[stats.Metric],
    margins: Mapping[str, float],
    split: Split | None,
    interval: bool = True,
) -> dict[str, dict[str, Any]]:
    """{part: {metric: comparison row}}: each part of a run against the same part of a baseline
    (membership by the current split); `interval` False skips the change's bootstrap interval."""
    out = {}
    for part in PARTS:
        ours, theirs = in_part(entries, split, part), in_part(base_entries, split, part)
        out[part] = {
            m.name: stats.compare_metric(m, ours, theirs, margins.get(m.name), interval)
            for m in metrics
        }
    return out


@dataclass(frozen=True)
class Failure:
    """One gate that failed: which metric, in which part (None: the whole run), and why."""

    metric: str
    part: str | None
    line: str


def gated_metrics(metrics: Sequence[stats.Metric], gates: Gates) -> list[stats.Metric]:
    """The metrics tested against the baseline: those with a margin that are not machine-bound."""
    return [m for m in metrics if m.name in gates.margins and m.tested]


def gate(
    report: Mapping[str, Any],
    metrics: Sequence[stats.Metric],
    gates: Gates,
    split: Split | None,
    base_entries: Sequence[Mapping[str, Any]] | None,
) -> tuple[list[Failure], list[str]]:
    """(failures, skipped notes) of a run against its hard bounds and its baseline."""
    failures: list[Failure] = []
    skipped: list[str] = []
    for bound in gates.thresholds:
        lines, notes = check(report["metrics"], [bound], gates.optional)
        failures += [Failure(bound.metric, None, line) for line in lines]
        skipped += notes
    if base_entries is None:
        return failures, skipped
    entries = report["items"]
    tested = gated_metrics(metrics, gates)
    for metric in tested:
        if metric.value(base_entries) is not None and metric.value(entries) is None:
            line = f"{metric.name}: not measured in this run, measured in the baseline"
            if metric.name in gates.optional:
                skipped.append(line + ", declared optional")
            else:
                failures.append(Failure(metric.name, None, line))
    comparison = compare_parts(entries, base_entries, tested, gates.margins, split, interval=False)
    for part, rows in comparison.items():
        for name, row in rows.items():
            if row["verdict"] == "worse":
                failures.append(Failure(name, part, stats.describe_drop(name, row, part)))
    return failures, skipped
