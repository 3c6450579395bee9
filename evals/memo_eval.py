"""The memo task of `cto-advisor eval --task memo`: recommendation memos scored against gold
sources per section and key facts.

A dataset line: {"id", "topic", "client", "gold": {section: [corpus-relative paths]},
"related": [paths], "key_facts": [phrases]}. Metrics, over topics:

- key_fact_recall: share of key facts the memo's points state (whole words, like the answers'
  facts: "Go" is not found in "Google");
- source_recall[.section]: share of a section's gold sources that section cites;
- off_topic_share: share of points that cite no gold or related source;
- cited_share: share of points whose cited passage supports them (`evals.support`: the point's
  numbers, names and most content words are in the passage it cites); a marker alone is not
  enough;
- scope_leaks: memos citing a document that neither the playbooks nor the memo's client own,
  judged by the corpus layout on disk;
- seconds_per_memo: wall time of one memo once the index and model are loaded (reported only:
  speed is a benchmark, not a gate).

Shares are pooled over points. Intervals, parts and gates are the same as every task's
(`evals.parts`). The issue's targets (`TARGETS`) are always reported; they gate only where the
thresholds file makes them bounds.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from advisor.core.citations import marker_numbers, strip_markers
from advisor.core.errors import AdvisorError
from advisor.memo.model import OPTION_COLUMNS
from evals import stats
from evals.corpus import relative_source
from evals.metrics import phrases_found
from evals.scoring import items_with, outside_scope
from evals.splits import Split
from evals.support import PassageTexts, claim_support

SECTION_KEYS = {
    "Context": "context",
    "Recommendation": "recommendation",
    "Options considered": "options",
    "Risks": "risks",
    "Next steps": "next_steps",
}
# The targets, reported on every run (speed is reported, never gated here).
TARGETS = {
    "key_fact_recall": (">=", 0.6),
    "off_topic_share": ("<=", 0.10),
    "cited_share": (">=", 1.0),
}
# A prose section is cited points in a row: a point ends at its marker and full stop ("... [2].").
# This cuts at citations, not at sentences: a point of two sentences shares its one marker.
_POINT_END = re.compile(r"(?<=\][.!?])\s+")
_NOT_COVERED = re.compile(r"do not cover this|not covered by the sources", re.I)


class MemoItem(BaseModel):
    """One memo topic with what a good memo on it cites and states."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    client: str | None = None
    gold: dict[str, list[str]]
    related: list[str] = Field(default_factory=list)
    key_facts: list[str] = Field(min_length=1)

    @field_validator("gold")
    @classmethod
    def _known_sections(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - set(SECTION_KEYS.values())
        if unknown:
            raise ValueError(f"unknown gold section(s) {sorted(unknown)}")
        return value

    def on_topic(self) -> set[str]:
        return {s for sources in self.gold.values() for s in sources} | set(self.related)


def load_memo_dataset(path: Path, corpus: Path) -> list[MemoItem]:
    """Every line validated, and every gold or related source present in the corpus."""
    if not path.is_file():
        raise AdvisorError(f"memo dataset {path} does not exist: give --dataset FILE.jsonl")
    items, problems = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = MemoItem.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
            continue
        except ValidationError as exc:
            why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            problems.append(f"line {n}: {why}")
            continue
        missing = sorted(s for s in item.on_topic() if not (corpus / s).is_file())
        if missing:
            problems.append(f"line {n} ({item.id}): not in {corpus}: {', '.join(missing)}")
        items.append(item)
    if problems:
        raise AdvisorError(f"{path} is not a valid memo dataset:\n" + "\n".join(problems))
    if not items:
        raise AdvisorError(f"{path} has no memo topics")
    return items


def memo_points(memo) -> dict[str, list[str]]:
    """Each section's claims (a prose section split into its cited sentences; options table
    cells count under options); 'not covered' statements and open questions are not claims."""
    out: dict[str, list[str]] = {}
    for heading, key in SECTION_KEYS.items():
        points: list[str] = []
        for text in (memo.sections or {}).get(heading, []):
            points += [p for p in _POINT_END.split(text) if p.strip()]
        if key == "options":
            for row in getattr(memo, "options", []) or []:
                points += [getattr(row, c) for c in OPTION_COLUMNS]
        out[key] = [p for p in points if p.strip() and not _NOT_COVERED.search(p)]
    return out


def score_memo(
    memo, item: MemoItem, corpus: Path, seconds: float, passages: PassageTexts | None = None
) -> dict[str, Any]:
    """One memo's numbers against its item (cited_share needs the indexed `passages`; without
    them a point counts as cited when it carries a marker)."""
    sources = {c.n: relative_source(c.root, c.source, corpus) for c in memo.citations}
    points = memo_points(memo)
    on_topic = item.on_topic()
    text = " ".join(strip_markers(p, " ") for ps in points.values() for p in ps)
    found = phrases_found(text.replace("\\", ""), item.key_facts)
    section_recall: dict[str, float] = {}
    for key, gold in item.gold.items():
        if gold:
            cited = {sources.get(n) for p in points.get(key, []) for n in marker_numbers(p)}
            section_recall[key] = len(set(gold) & cited) / len(set(gold))
    every = [p for ps in points.values() for p in ps]
    by_n = {c.n: c for c in memo.citations}
    claims = [(p, marker_numbers(p)) for p in every]
    if passages is not None:
        backed = claim_support(claims, by_n, passages)
    else:
        backed = [any(n in by_n for n in numbers) for _, numbers in claims]

    def cites_one_of(point: str, allowed: set[str]) -> bool:
        return bool({sources.get(n) for n in marker_numbers(point)} & allowed)

    off_topic = [p for p in every if not cites_one_of(p, on_topic)]
    # An option cell is about its option when it cites a source the item names for the options:
    # stricter than on-topic, since a roadmap that sets the context rarely weighs the choice.
    cells = [
        c for c in (getattr(row, k) for row in memo.options or [] for k in OPTION_COLUMNS)
        if c.strip() and not _NOT_COVERED.search(c)
    ]  # fmt: skip
    for_options = set(item.gold.get("options", []))
    stray = [c for c in cells if not cites_one_of(c, for_options)]
    return {
        "id": item.id,
        "topic": item.topic,
        "client": item.client,
        "mode": memo.mode,
        "seconds": round(seconds, 3),
        "points": len(every),
        "key_facts_found": found,
        "key_facts_missed": [f for f in item.key_facts if f not in found],
        "key_fact_recall": len(found) / len(item.key_facts),
        "source_recall": section_recall,
        "off_topic_points": [strip_markers(p, "").strip() for p in off_topic],
        "off_topic_share": len(off_topic) / len(every) if every else 0.0,
        "option_cells": len(cells),
        "stray_option_cells": [strip_markers(c, "").strip() for c in stray],
        "option_cell_precision": 1 - len(stray) / len(cells) if cells else None,
        "unsupported_points": [p for p, ok in zip(every, backed, strict=True) if not ok],
        "cited_share": sum(backed) / len(every) if every else 1.0,
        "scope_leaks": outside_scope([sources[n] for n in sorted(sources)], item.client),
        "open_questions": len((memo.sections or {}).get("Open questions", [])),
    }


def _section_recall(key: str):
    return lambda e: (e.get("source_recall") or {}).get(key)


def _pooled_share(name: str):
    """A share pooled over points: (share, points) of a memo with points, else undefined."""
    return lambda e: (e[name], e["points"]) if e.get("points") and name in e else None


def _cell_precision(e: dict[str, Any]):
    """(precision, cells) of a memo with option cells, else undefined."""
    value = e.get("option_cell_precision")
    return (value, e["option_cells"]) if value is not None and e.get("option_cells") else None


def _mean_recall(e: dict[str, Any]):
    recalls = list((e.get("source_recall") or {}).values())
    return (statistics.fmean(recalls), len(recalls)) if recalls else None


def memo_metrics() -> list[stats.Metric]:
    """How each memo metric is read from the per-topic entries."""
    return [
        stats.Metric("key_fact_recall", lambda e: e.get("key_fact_recall")),
        stats.Metric("off_topic_share", _pooled_share("off_topic_share"), stats.pooled, False),
        stats.Metric("cited_share", _pooled_share("cited_share"), stats.pooled),
        stats.Metric("option_cell_precision", _cell_precision, stats.pooled),
        stats.Metric("source_recall", _mean_recall, stats.pooled),
        *(
            stats.Metric(f"source_recall.{key}", _section_recall(key))
            for key in SECTION_KEYS.values()
        ),
        items_with("scope_leaks", "scope_leaks"),
        stats.Metric("seconds_per_memo", lambda e: e.get("seconds"), tested=False),
        stats.Metric(
            "seconds_max",
            lambda e: e.get("seconds"),
            lambda a: a[..., 0].max(axis=-1),
            tested=False,
        ),
    ]


def aggregate(entries: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The memo metrics over these topics (a metric defined on none of them is left out)."""
    out: dict[str, float] = {}
    for metric in memo_metrics():
        value = metric.value(entries)
        if value is not None:
            out[metric.name] = int(value) if metric.statistic is stats.total else round(value, 4)
    return out


# What a checked-in memo baseline keeps of each topic.
ITEM_KEYS = ("id", "client", "points", "key_fact_recall", "off_topic_share", "cited_share",
             "option_cells", "option_cell_precision", "source_recall", "scope_leaks", "seconds")  # fmt: skip


def missed_targets(metrics: dict[str, float]) -> list[str]:
    out = []
    for name, (op, bound) in TARGETS.items():
        value = metrics.get(name)
        if value is not None and ((op == ">=" and value < bound) or (op == "<=" and value > bound)):
            out.append(f"{name} = {value:.3f}, target {op} {bound}")
    return out


def run_memos(
    draft: Callable[[str, str | None], Any],
    items: Sequence[MemoItem],
    corpus: Path,
    on_done: Callable[[MemoItem], None] | None = None,
    passages: PassageTexts | None = None,
) -> list[dict[str, Any]]:
    """Draft and score every topic with `draft(topic, client) -> memo`."""
    entries = []
    for item in items:
        started = time.perf_counter()
        memo = draft(item.topic, item.client)
        seconds = time.perf_counter() - started
        entries.append(score_memo(memo, item, corpus, seconds, passages))
        if on_done:
            on_done(item)
    return entries


def write_memo_report(
    report: dict[str, Any], out: Path, baseline: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """report.json and a short report.md."""
    from evals.report import metrics_markdown

    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    lines = [
        f"# Memo eval: {report['config'].get('dataset_name', '')}",
        "",
        "95% CI: percentile bootstrap over topics; shares pooled over points. The test part is "
        "frozen (evals/splits.toml).",
        "",
        metrics_markdown(report, baseline),
        "",
        "| topic | part | facts | off-topic | cited | s |",
        "|---|---|---|---|---|---|",
    ]
    test = set(report.get("split", {}).get("test_units", []))
    for e in report["items"]:
        lines.append(
            f"| {e['id']} | {'test' if e['id'] in test else 'tuning'} | "
            f"{e['key_fact_recall']:.2f} | {e['off_topic_share']:.2f} "
            f"| {e['cited_share']:.2f} | {e['seconds']:.2f} |"
        )
    md_path.write_text("\n".join(lines) + "\n", "utf-8")
    return json_path, md_path


def evaluate_memos(
    settings,
    corpus: Path,
    dataset: Path,
    split: Split | None = None,
    on_done: Callable[[MemoItem], None] | None = None,
    system=None,
    intervals: bool = True,
) -> dict[str, Any]:
    """Index `corpus` (cached, or use `system`'s), draft a memo per topic through the product's
    facade, and score: the report (metrics, intervals and metrics by part, items, config,
    missed targets)."""
    from evals.evaluate import passage_texts
    from evals.parts import summarize
    from evals.systems import EVALUATOR, OurSystem

    corpus = corpus.resolve()  # the index stores resolved roots (a symlinked corpus too)
    items = load_memo_dataset(dataset, corpus)
    if system is None:
        system = OurSystem(settings, corpus)
        system.prepare()
    advisor = system.advisor
    # Load the lazy parts before timing (a subject that is not a name loads the topic parser).
    advisor.memo(EVALUATOR, "Should every warm-up memo load the lazy parts?", client=None)
    started = time.time()
    entries = run_memos(
        lambda topic, client: advisor.memo(EVALUATOR, topic, client=client),
        items,
        corpus,
        on_done,
        passage_texts(system),
    )
    metrics = aggregate(entries)
    config = {
        "task": "memo",
        "corpus": str(corpus.resolve()),
        "dataset": str(dataset.resolve()),
        "dataset_name": dataset.stem,
        "system": "ours",
        "mode": "llm" if settings.use_llm else "offline",
        "embedding_model": settings.embedding_model,
        "items": len(entries),
        "run_seconds": round(time.time() - started, 1),
    }
    return {
        "task": "memo",
        "config": config,
        "metrics": metrics,
        **summarize(entries, memo_metrics(), split, intervals),
        "missed_targets": missed_targets(metrics),
        "items": entries,
    }
