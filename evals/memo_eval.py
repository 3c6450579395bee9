"""The memo task of `cto-advisor eval --task memo`: recommendation memos scored against gold
sources per section and key facts.

A dataset line: {"id", "topic", "client", "gold": {section: [corpus-relative paths]},
"related": [paths], "key_facts": [phrases]}. Metrics, averaged over topics:

- key_fact_recall: share of key facts the memo's points state (case-insensitive);
- source_recall[.section]: share of a section's gold sources that section cites;
- off_topic_share: share of points that cite no gold or related source;
- cited_share: share of points with at least one [n] marker ("every point cited" is 1.0);
- seconds_per_memo: wall time of one memo once the index and model are loaded (reported only:
  speed is a benchmark, not a gate).

Each metric comes with a bootstrap 95% interval over topics. The gates are the dataset's section of
evals/thresholds.toml, like the other tasks: hard bounds (`[memos.min]`, `[memos.max]`) and a
checked-in baseline that a run must not fall below beyond noise (paired sign-flip test over the
topics both runs share). The issue's targets (`TARGETS`) are always reported; they gate only
where the thresholds file makes them bounds.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from advisor.core.citations import marker_numbers, strip_markers
from advisor.core.errors import AdvisorError
from evals.corpus import relative_source
from evals.stats import ALPHA, CONFIDENCE, RESAMPLES, SEED, paired_test

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
_NOT_COVERED = re.compile(r"do not cover this|not covered by the sources", re.I)
_POINT_END = re.compile(r"(?<=\][.!?])\s+")  # a prose paragraph is cited sentences in a row


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
                points += [getattr(row, c) for c in ("benefits", "costs", "risks")]
        out[key] = [p for p in points if p.strip() and not _NOT_COVERED.search(p)]
    return out


def score_memo(memo, item: MemoItem, corpus: Path, seconds: float) -> dict[str, Any]:
    """One memo's numbers against its item."""
    sources = {c.n: relative_source(c.root, c.source, corpus) for c in memo.citations}
    points = memo_points(memo)
    on_topic = item.on_topic()
    text = " ".join(strip_markers(p, " ") for ps in points.values() for p in ps)
    plain = " ".join(text.replace("\\", "").split()).lower()
    found = [f for f in item.key_facts if " ".join(f.lower().split()) in plain]
    section_recall: dict[str, float] = {}
    for key, gold in item.gold.items():
        if gold:
            cited = {sources.get(n) for p in points.get(key, []) for n in marker_numbers(p)}
            section_recall[key] = len(set(gold) & cited) / len(set(gold))
    every = [p for ps in points.values() for p in ps]
    cited = [p for p in every if marker_numbers(p)]
    off_topic = [p for p in every if not ({sources.get(n) for n in marker_numbers(p)} & on_topic)]
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
        "cited_share": len(cited) / len(every) if every else 1.0,
        "open_questions": len((memo.sections or {}).get("Open questions", [])),
    }


def aggregate(entries: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Means over topics; off-topic and cited shares pooled over all points."""
    points = sum(e["points"] for e in entries)
    metrics = {
        "key_fact_recall": statistics.fmean(e["key_fact_recall"] for e in entries),
        "off_topic_share": sum(e["off_topic_share"] * e["points"] for e in entries) / points
        if points
        else 0.0,
        "cited_share": sum(e["cited_share"] * e["points"] for e in entries) / points
        if points
        else 1.0,
        "seconds_per_memo": statistics.fmean(e["seconds"] for e in entries),
        "seconds_max": max(e["seconds"] for e in entries),
    }
    recalls = [v for e in entries for v in e["source_recall"].values()]
    metrics["source_recall"] = statistics.fmean(recalls) if recalls else 0.0
    for key in SECTION_KEYS.values():
        values = [e["source_recall"][key] for e in entries if key in e["source_recall"]]
        if values:
            metrics[f"source_recall.{key}"] = statistics.fmean(values)
    return {k: round(v, 4) for k, v in metrics.items()}


# Per-topic values a baseline keeps and a run is tested against (lower is better for off-topic).
TESTED = ("key_fact_recall", "off_topic_share", "cited_share")
LOWER_IS_BETTER = frozenset({"off_topic_share"})


def _pooled(name: str):
    """The statistic of a metric over resampled topics (shares are pooled over points)."""
    if name in ("off_topic_share", "cited_share"):
        return lambda es: (
            sum(e[name] * e["points"] for e in es) / max(1, sum(e["points"] for e in es))
        )
    return lambda es: statistics.fmean(e[name] for e in es)


def intervals(entries: Sequence[dict[str, Any]]) -> dict[str, list[float] | None]:
    """A percentile bootstrap 95% interval over topics for each tested metric."""
    if len(entries) < 2:
        return {name: None for name in TESTED}
    rng = np.random.default_rng(SEED)
    draws = rng.integers(0, len(entries), size=(RESAMPLES, len(entries)))
    out: dict[str, list[float] | None] = {}
    for name in TESTED:
        stat = _pooled(name)
        values = [stat([entries[i] for i in row]) for row in draws]
        tail = (1 - CONFIDENCE) / 2
        low, high = np.quantile(values, [tail, 1 - tail])
        out[name] = [round(float(low), 4), round(float(high), 4)]
    return out


def regressions(entries: Sequence[dict[str, Any]], base: Sequence[dict[str, Any]]) -> list[str]:
    """One line per tested metric that is worse than the baseline beyond noise, paired by topic."""
    ours, theirs = {e["id"]: e for e in entries}, {e["id"]: e for e in base}
    shared = [i for i in ours if i in theirs]
    out = []
    for name in TESTED:
        d = [ours[i][name] - theirs[i][name] for i in shared if name in theirs[i]]
        if not d:
            continue
        diff, p = float(np.mean(d)), paired_test(d)
        worse = diff > 0 if name in LOWER_IS_BETTER else diff < 0
        if p < ALPHA and worse:
            out.append(
                f"{name} worse than the baseline beyond noise: change {diff:+.4g} over "
                f"{len(d)} paired topics, p = {p:.3g} < {ALPHA}"
            )
    return out


def slim(metrics: dict[str, float], entries: Sequence[dict[str, Any]], config: dict) -> dict:
    """What a checked-in memo baseline keeps: metrics and each topic's tested values."""
    keep = ("task", "dataset_name", "mode", "embedding_model")
    return {
        "metrics": metrics,
        "config": {k: config.get(k) for k in keep},
        "items": [{"id": e["id"], **{name: e[name] for name in TESTED}} for e in entries],
    }


def missed_targets(metrics: dict[str, float]) -> list[str]:
    out = []
    for name, (op, bound) in TARGETS.items():
        value = metrics[name]
        if (op == ">=" and value < bound) or (op == "<=" and value > bound):
            out.append(f"{name} = {value:.3f}, target {op} {bound}")
    return out


def run_memos(
    draft: Callable[[str, str | None], Any],
    items: Sequence[MemoItem],
    corpus: Path,
    on_done: Callable[[MemoItem], None] | None = None,
) -> list[dict[str, Any]]:
    """Draft and score every topic with `draft(topic, client) -> memo`."""
    entries = []
    for item in items:
        started = time.perf_counter()
        memo = draft(item.topic, item.client)
        entries.append(score_memo(memo, item, corpus, time.perf_counter() - started))
        if on_done:
            on_done(item)
    return entries


def write_memo_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """report.json and a short report.md."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    metrics, ci, entries = report["metrics"], report["ci"], report["items"]
    lines = [
        f"# Memo eval: {report['config'].get('dataset_name', '')}",
        "",
        "| metric | value | 95% CI |",
        "|---|---|---|",
    ]
    lines += [
        f"| {k} | {v} | " + (f"{ci[k][0]}-{ci[k][1]} |" if ci.get(k) else "|")
        for k, v in metrics.items()
    ]
    lines += ["", "| topic | facts | off-topic | cited | s |", "|---|---|---|---|---|"]
    for e in entries:
        lines.append(
            f"| {e['id']} | {e['key_fact_recall']:.2f} | {e['off_topic_share']:.2f} "
            f"| {e['cited_share']:.2f} | {e['seconds']:.2f} |"
        )
    md_path.write_text("\n".join(lines) + "\n", "utf-8")
    return json_path, md_path


def evaluate_memos(
    settings,
    corpus: Path,
    dataset: Path,
    out: Path,
    on_done: Callable[[MemoItem], None] | None = None,
    on_indexing: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], tuple[Path, Path]]:
    """Index `corpus` (cached), draft a memo per topic through the product's facade, score:
    the report (metrics, intervals, items, config, missed targets) and where it was written."""
    from evals.systems import EVALUATOR, OurSystem

    items = load_memo_dataset(dataset, corpus)
    system = OurSystem(settings, corpus)
    if on_indexing:
        on_indexing()
    system.prepare()
    advisor = system.advisor
    # Load the lazy parts before timing (a subject that is not a name loads the topic parser).
    advisor.memo(EVALUATOR, "Should every warm-up memo load the lazy parts?", client=None)
    started = time.time()
    entries = run_memos(
        lambda topic, client: advisor.memo(EVALUATOR, topic, client=client), items, corpus, on_done
    )
    metrics = aggregate(entries)
    config = {
        "task": "memo",
        "corpus": str(corpus.resolve()),
        "dataset": str(dataset.resolve()),
        "dataset_name": dataset.stem,
        "mode": "llm" if settings.use_llm else "offline",
        "embedding_model": settings.embedding_model,
        "items": len(entries),
        "run_seconds": round(time.time() - started, 1),
    }
    report = {
        "task": "memo",
        "config": config,
        "metrics": metrics,
        "ci": intervals(entries),
        "missed_targets": missed_targets(metrics),
        "items": entries,
    }
    return report, write_memo_report(report, out)
