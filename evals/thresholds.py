"""Quality gates: `--fail-under METRIC=VALUE` and the per-dataset sections of thresholds.toml.

The file's `[margins]` table holds each metric's practical (non-inferiority) margin: how far it may
fall below its baseline, in absolute terms, before the run fails. A dataset's section may hold
hard floors and ceilings (`[<name>.min]`, `[<name>.max]`), margins of its own
(`[<name>.margins]`, overriding the shared ones), the metrics that may be missing from a run
(`optional = [...]`) and a checked-in baseline report (`baseline = "baselines/<name>.json"`,
relative to the file). The rule that applies them is in `evals.parts`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
    # metric -> largest drop from the baseline tolerated (absolute); only these are tested
    margins: Mapping[str, float] = field(default_factory=dict)


_SECTION_KEYS = {"min", "max", "optional", "baseline", "margins"}
MARGINS = "margins"


def _margins(path: Path, name: str, table: object) -> dict[str, float]:
    if not isinstance(table, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in table.values()
    ):
        raise ThresholdError(f"{path}: [{name}] must be a table of metric = margin (>= 0)")
    return {str(k): float(v) for k, v in table.items()}


def load_gates(path: Path, dataset_name: str) -> Gates:
    """The bounds, optional metrics and baseline of `[<dataset_name>]` in a thresholds file.

    A missing or unreadable file is an error (it would otherwise mean "no gates").
    """
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdError(f"cannot read the thresholds file {path}: {exc}") from exc
    shared = _margins(path, MARGINS, data.get(MARGINS, {}))
    if dataset_name not in data or dataset_name == MARGINS:
        return Gates([], found=False)
    section = data[dataset_name]
    if not isinstance(section, dict) or set(section) - _SECTION_KEYS:
        raise ThresholdError(
            f'{path}: [{dataset_name}] may only hold baseline = "report.json", optional = '
            f"[metric, ...], [{dataset_name}.margins] and [{dataset_name}.min] / "
            f"[{dataset_name}.max] tables of metric = number"
        )
    optional = section.get("optional", [])
    if not isinstance(optional, list) or not all(isinstance(o, str) for o in optional):
        raise ThresholdError(f"{path}: {dataset_name}.optional must be a list of metric names")
    baseline = section.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ThresholdError(f"{path}: {dataset_name}.baseline must be a path string")
    own = _margins(path, f"{dataset_name}.margins", section.get(MARGINS, {}))
    return Gates(
        load_thresholds(path, dataset_name, section),
        frozenset(optional),
        Path(path).parent / baseline if baseline else None,
        margins={**shared, **own} if baseline else {},
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
