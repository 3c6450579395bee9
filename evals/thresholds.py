"""Quality gates: `--fail-under METRIC=VALUE` and the per-dataset sections of thresholds.toml."""

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


def load_thresholds(path: Path, dataset_name: str) -> list[Threshold]:
    """The `[<dataset_name>.min]` and `[<dataset_name>.max]` bounds of a thresholds file."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdError(f"cannot read the thresholds file {path}: {exc}") from exc
    section = data.get(dataset_name, {})
    if not isinstance(section, dict):
        raise ThresholdError(f"{path}: [{dataset_name}] must be a table with min/max tables")
    out = []
    for bound in ("min", "max"):
        entries = section.get(bound, {})
        unknown = set(section) - {"min", "max"}
        if unknown or not isinstance(entries, dict):
            raise ThresholdError(
                f"{path}: [{dataset_name}] may only hold [{dataset_name}.min] and "
                f"[{dataset_name}.max] tables of metric = number"
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
    metrics: Mapping[str, float | None], thresholds: Iterable[Threshold]
) -> tuple[list[str], list[str]]:
    """(failures, skipped) as printable lines; a missing or null metric is skipped, not failed."""
    failures, skipped = [], []
    for threshold in thresholds:
        actual = metrics.get(threshold.metric)
        if actual is None or (isinstance(actual, float) and math.isnan(actual)):
            skipped.append(f"{threshold.metric}: not measured in this run ({threshold.origin})")
        elif threshold.fails(actual):
            failures.append(threshold.describe(actual))
    return failures, skipped
