"""The eval report: report.json (the contract), report.md (for people) and the console table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from advisor.core.errors import AdvisorError
from evals.scoring import LOWER_IS_BETTER, retrieval_names

COUNT_METRICS = frozenset({"must_not_include_violations", "scope_leaks"})
WORST_N = 10


class ReportError(AdvisorError):
    """A baseline report cannot be read."""


def build_report(
    metrics: dict[str, Any],
    by_category: dict[str, Any],
    items: Sequence[dict[str, Any]],
    config: dict[str, Any],
    support: dict[str, int] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The report.json document."""
    return {
        "metrics": metrics,
        "by_category": by_category,
        "items": list(items),
        "config": config,
        "support": support or {},
        "notes": list(notes),
    }


def load_baseline(path: Path) -> dict[str, Any]:
    """A previous report.json, checked to have a metrics section."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(
            f"cannot read the baseline report {path}: {exc} (write one with --save-baseline {path})"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise ReportError(f"{path} is not an eval report: it has no 'metrics' object")
    return data


def fmt(name: str, value: Any) -> str:
    """A metric value for display: rates to 3 decimals, latency in whole ms, counts as ints."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    if name in COUNT_METRICS:
        return str(int(value))
    if name.endswith("_ms"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def delta(name: str, value: Any, base: Any) -> tuple[str, str]:
    """(signed change, "better"/"worse"/"") between a value and its baseline."""
    numbers = (int, float)
    if not isinstance(value, numbers) or not isinstance(base, numbers):
        return "", ""
    change = value - base
    if name.endswith("_ms"):
        text = f"{change:+.0f}"
    elif name in COUNT_METRICS:
        text = f"{change:+d}" if isinstance(change, int) else f"{change:+.0f}"
    else:
        text = f"{change:+.3f}"
    if abs(change) < 1e-9:
        return text, ""
    improved = change < 0 if name in LOWER_IS_BETTER else change > 0
    return text, "better" if improved else "worse"


BASELINE_ITEM_KEYS = (
    "id",
    "unit",
    "category",
    "client",
    "answerable",
    "abstained",
    "scores",
    "must_not_include",
    "must_not_include_found",
    "scope_leaks",
    "latency_ms",
)
CONFIG_KEYS = (
    "task",
    "dataset_name",
    "system",
    "mode",
    "k",
    "embedding_model",
    "chunk_tokens",
    "created_at",
)


def slim_report(report: dict[str, Any], item_keys: Sequence[str] = BASELINE_ITEM_KEYS) -> dict:
    """What a checked-in baseline needs: metrics by part, intervals and per-item values (no
    answers)."""
    return {
        "metrics": report["metrics"],
        "ci": report.get("ci", {}),
        "parts": report.get("parts", {}),
        "support": report.get("support", {}),
        "config": {key: report["config"].get(key) for key in CONFIG_KEYS},
        "items": [{key: e[key] for key in item_keys if key in e} for e in report["items"]],
    }


def fmt_ci(name: str, interval: Any) -> str:
    """A 95% interval for display, "" when there is none."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return ""
    return f"[{fmt(name, interval[0])}, {fmt(name, interval[1])}]"


def _verdict(row: dict[str, Any] | None) -> str:
    """A paired comparison row as text: "same (p 0.400)", "worse: beyond the margin (p 0.250)"."""
    if not row or row.get("p_value") is None:
        return (row or {}).get("verdict", "")
    reason = f": {row['reason']}" if row.get("reason") else ""
    return f"{row['verdict']}{reason} (p {row['p_value']:.3f})"


PART_LABELS = {"tuning": "tuning", "test": "test (frozen)"}


def metric_rows(report: dict[str, Any], baseline: dict[str, Any] | None) -> list[list[str]]:
    """[metric, all, tuning value, its CI, test value, its CI, baseline, delta, direction,
    tuning verdict, test verdict] for each metric."""
    base = (baseline or {}).get("metrics", {})
    parts = report.get("parts", {})
    comparison = report.get("comparison", {})
    rows = []
    for name, value in report["metrics"].items():
        change, direction = delta(name, value, base.get(name))
        row = [name, fmt(name, value)]
        for part in PART_LABELS:
            data = parts.get(part, {})
            row += [
                fmt(name, data.get("metrics", {}).get(name)),
                fmt_ci(name, data.get("ci", {}).get(name)),
            ]
        row += [fmt(name, base.get(name)), change, direction]
        row += [_verdict(comparison.get(part, {}).get(name)) for part in PART_LABELS]
        rows.append(row)
    return rows


def part_header(report: dict[str, Any]) -> list[str]:
    parts = report.get("parts", {})
    head = ["metric", "all"]
    for part, label in PART_LABELS.items():
        head += [f"{label} (n={parts.get(part, {}).get('items', 0)})", "95% CI"]
    return head


def metrics_markdown(report: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """The metrics table of any task: the whole run, each part with its interval, and (with a
    baseline) the change and each part's verdict."""
    rows = metric_rows(report, baseline)
    header = part_header(report)
    if baseline is None:
        return _md_table(header, [r[:6] for r in rows])
    header += ["baseline", "delta", "", "tuning verdict", "test verdict"]
    return _md_table(header, rows)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric_from: int = 1) -> str:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def worst_items(report: dict[str, Any], n: int = WORST_N) -> list[dict[str, Any]]:
    """The n items with the lowest quality (leaks, wrong abstentions, poor retrieval first)."""
    return sorted(report["items"], key=lambda e: (e["quality"], e["id"]))[:n]


def _sources(paths: Sequence[str], gold: Sequence[str] = ()) -> str:
    gold_set = set(gold)
    return "<br>".join(f"**{p}**" if p in gold_set else p for p in paths) or "(none)"


def render_markdown(report: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """report.md: metrics (with deltas vs a baseline), per category, worst items, notes."""
    config = report["config"]
    k = int(config.get("k", 5))
    parts = [
        f"# Eval report: {config.get('dataset_name', 'dataset')} ({config.get('system', '?')})",
        "",
        f"Corpus `{config.get('corpus')}`, dataset `{config.get('dataset')}`: "
        f"{config.get('items', len(report['items']))} items "
        f"({config.get('answerable', '?')} answerable), k={k}, mode {config.get('mode', '?')}, "
        f"run {config.get('created_at', '')}.",
        "",
        "## Metrics",
        "",
    ]
    parts.append(
        "95% CI: percentile bootstrap over questions (2000 resamples); a count's interval is that "
        "of the count over resampled question sets. The test part is frozen (evals/splits.toml): "
        "nothing was tuned on it."
    )
    if baseline is not None:
        base_config = baseline.get("config", {})
        parts += [
            "",
            f"Baseline: `{base_config.get('out') or base_config.get('created_at', 'report')}` "
            f"({base_config.get('system', '?')}, {base_config.get('mode', '?')}). Each part is "
            "compared on the question ids both runs share: p from a paired permutation test; a "
            "metric is worse when p < 0.05 or when it drops by more than its margin "
            "(evals/thresholds.toml).",
        ]
    parts += ["", metrics_markdown(report, baseline)]

    columns = [
        *retrieval_names(k),
        "fact_recall",
        "citation_precision",
        "false_abstain_rate",
        "abstain_rate_unanswerable",
    ]
    category_rows = [
        [category, values.get("n", ""), *(fmt(c, values.get(c)) for c in columns)]
        for category, values in report["by_category"].items()
    ]
    parts += ["", "## By category", "", _md_table(["category", "n", *columns], category_rows)]

    worst = worst_items(report)
    worst_rows = [
        [
            e["id"],
            e["category"],
            e.get("client") or "",
            f"{e['quality']:.2f}",
            "yes" if e["abstained"] else "no",
            _sources(e["retrieved"][:k], e["gold_sources"]),
            _sources(e["gold_sources"]) if e["answerable"] else "(unanswerable)",
            "; ".join(
                e["must_include_missing"] + [f"FORBIDDEN: {p}" for p in e["must_not_include_found"]]
            ),
        ]
        for e in worst
    ]
    parts += [
        "",
        f"## Worst {len(worst)} items",
        "",
        f"Retrieved shows the top {k} documents, gold ones in bold.",
        "",
        _md_table(
            ["id", "category", "client", "quality", "abstained", "retrieved", "gold", "missing"],
            worst_rows,
            numeric_from=99,
        ),
    ]
    if report.get("notes"):
        parts += ["", "## Notes", "", *(f"- {note}" for note in report["notes"])]
    return "\n".join(parts) + "\n"


def write_report(
    report: dict[str, Any], out_dir: Path, baseline: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write report.json and report.md into out_dir; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    # allow_nan=False: undefined values must already be None (null), never NaN.
    json_path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", "utf-8")
    md_path.write_text(render_markdown(report, baseline), "utf-8")
    return json_path, md_path


def metrics_table(report: dict[str, Any], baseline: dict[str, Any] | None = None) -> Table:
    """The metrics of any task as a rich table for the console, by part."""
    config = report.get("config", {})
    table = Table(title=f"{config.get('dataset_name', 'eval')} ({config.get('system', 'ours')})")
    for i, column in enumerate(part_header(report)):
        table.add_column(column, justify="left" if i == 0 else "right")
    if baseline is not None:
        table.add_column("delta", justify="right")
        table.add_column("verdict (tuning / test)")
    for row in metric_rows(report, baseline):
        cells = row[:6]
        if baseline is not None:
            style = {"better": "green", "worse": "red"}.get(row[8], "")
            cells.append(f"[{style}]{row[7]}[/]" if style else row[7])
            cells.append(" / ".join(v for v in row[9:] if v) or "")
        table.add_row(*cells)
    return table
