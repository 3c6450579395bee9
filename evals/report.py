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
    "category",
    "answerable",
    "abstained",
    "scores",
    "must_not_include",
    "must_not_include_found",
    "scope_leaks",
    "latency_ms",
)


def slim_report(report: dict[str, Any]) -> dict[str, Any]:
    """What a checked-in baseline needs: metrics, intervals and per-item scores (no answers)."""
    keep = ("dataset_name", "system", "mode", "k", "embedding_model", "chunk_tokens", "created_at")
    return {
        "metrics": report["metrics"],
        "ci": report.get("ci", {}),
        "support": report.get("support", {}),
        "config": {key: report["config"].get(key) for key in keep},
        "items": [{key: e.get(key) for key in BASELINE_ITEM_KEYS} for e in report["items"]],
    }


def fmt_ci(name: str, interval: Any) -> str:
    """A 95% interval for display, "" when there is none."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return ""
    return f"[{fmt(name, interval[0])}, {fmt(name, interval[1])}]"


def _verdict(row: dict[str, Any] | None) -> tuple[str, str]:
    """(p-value text, verdict text) of one paired comparison row."""
    if not row or row.get("p_value") is None:
        return "", (row or {}).get("verdict", "")
    verdict = row["verdict"]
    label = {"same": "within noise"}.get(verdict, f"{verdict} (beyond noise)")
    return f"{row['p_value']:.3f}", label


def metric_rows(report: dict[str, Any], baseline: dict[str, Any] | None) -> list[list[str]]:
    """[metric, value, 95% CI, baseline, delta, direction, p, verdict] for each metric."""
    base = (baseline or {}).get("metrics", {})
    intervals = report.get("ci", {})
    comparison = report.get("comparison", {})
    rows = []
    for name, value in report["metrics"].items():
        change, direction = delta(name, value, base.get(name))
        p, verdict = _verdict(comparison.get(name))
        rows.append(
            [
                name,
                fmt(name, value),
                fmt_ci(name, intervals.get(name)),
                fmt(name, base.get(name)),
                change,
                direction,
                p,
                verdict,
            ]
        )
    return rows


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
    rows = metric_rows(report, baseline)
    parts.append(
        "95% CI: percentile bootstrap over questions (2000 resamples); a count's interval is that "
        "of the count over resampled question sets."
    )
    if baseline is not None:
        base_config = baseline.get("config", {})
        parts += [
            "",
            f"Baseline: `{base_config.get('out') or base_config.get('created_at', 'report')}` "
            f"({base_config.get('system', '?')}, {base_config.get('mode', '?')}). Paired over "
            "shared question ids; p from a sign-flip permutation test of the mean difference; "
            "'beyond noise' means p < 0.05.",
        ]
        header = ["metric", "value", "95% CI", "baseline", "delta", "", "p", "verdict"]
        parts += ["", _md_table(header, rows)]
    else:
        parts += ["", _md_table(["metric", "value", "95% CI"], [r[:3] for r in rows])]

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
    """The metrics as a rich table for the console."""
    table = Table(
        title=f"{report['config'].get('dataset_name', 'eval')} "
        f"({report['config'].get('system', '?')})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    if baseline is not None:
        table.add_column("baseline", justify="right")
        table.add_column("delta", justify="right")
        table.add_column("verdict")
    for name, value, interval, base, change, direction, _, verdict in metric_rows(report, baseline):
        if baseline is None:
            table.add_row(name, value, interval)
        else:
            style = {"better": "green", "worse": "red"}.get(direction, "")
            shown = f"[{style}]{change}[/]" if style else change
            table.add_row(name, value, interval, base, shown, verdict)
    return table
