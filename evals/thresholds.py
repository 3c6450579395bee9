"""Quality gates: `--fail-under METRIC=VALUE` and the per-dataset sections of thresholds.toml.

A dataset's section may hold hard floors and ceilings (`[<name>.min]`, `[<name>.max]`), the metrics
that may be missing from a run (`optional = [...]`) and a checked-in baseline report
(`baseline = "baselines/<name>.json"`, relative to the file) that a run must not fall below beyond
noise. A gated metric that a run does not report fails unless it is declared optional.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from advisor.core.errors import AdvisorError

# Package data, so an installed (non-editable) cto-advisor still has its gates.
DEFAULT_PATH = Path(str(resources.files("evals") / "thresholds.toml"))


class ThresholdError(AdvisorError):
    """A threshold is malformed or names a metric the run does not report."""


@dataclass(frozen=True)
class Threshold:
    """`metric` must stay at or above (`min`) or at or below (`max`) `value`."""

    metric: str
    bound: Literal["min", "max"]
    value: float
    origin: str

    def fails(self, actual: float) -> bool:
        """True when the measured value breaks this bound."""
        return actual < self.value if self.bound == "min" else actual > self.value

    def describe(self, actual: float | None) -> str:
        """One line for the console: what was required and what was measured."""
        op = ">=" if self.bound == "min" else "<="
        got = "n/a" if actual is None else f"{actual:.4g}"
        return f"{self.metric} = {got}, required {op} {self.value:g} ({self.origin})"


def parse_fail_under(specs: Iterable[str]) -> list[Threshold]:
    """Thresholds from `--fail-under METRIC=VALUE` options (all minimums)."""
    out = []
    for spec in specs:
        name, sep, raw = spec.partition("=")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or math.isnan(value):
            raise ThresholdError(
                f"--fail-under {spec!r} is not METRIC=VALUE (for example --fail-under hit@5=0.8)"
            )
        out.append(Threshold(name.strip(), "min", value, "--fail-under"))
    return out


@dataclass(frozen=True)
class Gates:
    """A dataset's section of a thresholds file."""

    thresholds: list[Threshold]
    optional: frozenset[str] = frozenset()
    baseline: Path | None = None  # a checked-in report.json to test for significant drops
    found: bool = True  # False when the file has no section for this dataset


_SECTION_KEYS = {"min", "max", "optional", "baseline"}


def load_gates(path: Path, dataset_name: str) -> Gates:
    """The bounds, optional metrics and baseline of `[<dataset_name>]` in a thresholds file.

    A missing or unreadable file is an error (it would otherwise mean "no gates").
    """
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdError(f"cannot read the thresholds file {path}: {exc}") from exc
    if dataset_name not in data:
        return Gates([], found=False)
    section = data[dataset_name]
    if not isinstance(section, dict) or set(section) - _SECTION_KEYS:
        raise ThresholdError(
            f'{path}: [{dataset_name}] may only hold baseline = "report.json", optional = '
            f"[metric, ...] and [{dataset_name}.min] / [{dataset_name}.max] tables of "
            "metric = number"
        )
    optional = section.get("optional", [])
    if not isinstance(optional, list) or not all(isinstance(o, str) for o in optional):
        raise ThresholdError(f"{path}: {dataset_name}.optional must be a list of metric names")
    baseline = section.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ThresholdError(f"{path}: {dataset_name}.baseline must be a path string")
    return Gates(
        load_thresholds(path, dataset_name, section),
        frozenset(optional),
        Path(path).parent / baseline if baseline else None,
    )


def load_thresholds(path: Path, dataset_name: str, section: dict | None = None) -> list[Threshold]:
    """The `[<dataset_name>.min]` and `[<dataset_name>.max]` bounds of a thresholds file."""
    if section is None:
        gates = load_gates(path, dataset_name)
        return gates.thresholds
    out = []
    for bound in ("min", "max"):
        entries = section.get(bound, {})
        if not isinstance(entries, dict):
            raise ThresholdError(
                f"{path}: [{dataset_name}.{bound}] must be a table of metric = number"
            )
        for metric, value in entries.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ThresholdError(f"{path}: {dataset_name}.{bound}.{metric} must be a number")
            out.append(
                Threshold(metric, bound, float(value), f"{path.name} [{dataset_name}.{bound}]")
            )
    return out


def unknown_metrics(thresholds: Iterable[Threshold], known: Iterable[str]) -> list[str]:
    """Names in `thresholds` that are not among the run's metrics."""
    known_set = set(known)
    return sorted({t.metric for t in thresholds} - known_set)


def check(
    metrics: Mapping[str, float | None],
    thresholds: Iterable[Threshold],
    optional: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """(failures, skipped) as printable lines.

    A gated metric that is missing or null fails (a gate that cannot fail is no gate), unless it
    is declared optional, when it is skipped with a note.
    """
    failures, skipped = [], []
    optional_set = set(optional)
    for threshold in thresholds:
        actual = metrics.get(threshold.metric)
        if actual is None or (isinstance(actual, float) and math.isnan(actual)):
            line = f"{threshold.metric}: not measured in this run ({threshold.origin})"
            if threshold.metric in optional_set:
                skipped.append(line + ", declared optional")
            else:
                failures.append(line + "; declare it optional if that is expected")
        elif threshold.fails(actual):
            failures.append(threshold.describe(actual))
    return failures, skipped
