"""Per-item scores and run-level aggregates, built from observations with the metric functions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advisor.core.models import Answer
from advisor.core.principal import scopes_for
from evals import metrics as m
from evals.corpus import relative_source
from evals.runner import Observation

RANK_DEPTH = 10  # mrr@10 and ndcg@10 are fixed by the contract; hit/recall follow --k
LOWER_IS_BETTER = frozenset(
    {
        "false_abstain_rate",
        "latency_p50_ms",
        "latency_p95_ms",
        "must_not_include_violations",
        "must_not_include_violation_rate",
        "scope_leaks",
    }
)


def retrieval_names(k: int) -> list[str]:
    """The retrieval metric names for this `--k`."""
    return [f"hit@{k}", f"recall@{k}", f"mrr@{RANK_DEPTH}", f"ndcg@{RANK_DEPTH}"]


def averaged_names(k: int, judged: bool = False) -> list[str]:
    """Metrics that are means of per-item scores over the answerable items."""
    answer = ["fact_recall", "citation_validity", "citation_precision"]
    return [*retrieval_names(k), *answer, *(["faithfulness"] if judged else [])]


def metric_names(k: int, judged: bool = False) -> list[str]:
    """Every metric a run reports, in display order (faithfulness only when judged)."""
    return [
        *averaged_names(k, judged),
        "abstain_rate_unanswerable",
        "false_abstain_rate",
        "must_not_include_violations",
        "must_not_include_violation_rate",
        "scope_leaks",
        "latency_p50_ms",
        "latency_p95_ms",
    ]


def cited_numbers(answer: Answer) -> list[int]:
    """Distinct citation numbers that the answer's markers actually use, in order."""
    known = {c.n for c in answer.citations}
    return [n for n in dict.fromkeys(m.citation_markers(answer.answer)) if n in known]


def cited_passages(answer: Answer) -> list[tuple[int, str]]:
    """(n, text) for each cited source: the full retrieved passage when found, else the snippet."""
    by_n = {c.n: c for c in answer.citations}
    out = []
    for n in cited_numbers(answer):
        c = by_n[n]
        same_doc = [p for p in answer.passages if p.source == c.source and p.root == c.root]
        same_section = [p for p in same_doc if c.section and p.section == c.section]
        chosen = (same_section or same_doc)[:1]
        out.append((n, chosen[0].text if chosen else c.snippet))
    return out


def _quality(scores: dict[str, float | None], answerable: bool, abstained: bool, leaked: bool):
    """One number to rank items from worst to best in the report."""
    if leaked:
        return 0.0
    if not answerable:
        return 1.0 if abstained else 0.0
    return m.mean(scores.values()) or 0.0


def score_observation(
    obs: Observation,
    corpus: Path,
    k: int,
    cites: bool = True,
    faithfulness: float | None = None,
    judged: bool = False,
) -> dict[str, Any]:
    """The report's entry for one item: what came back, against what was expected, and scores."""
    item, answer = obs.item, obs.answer
    ranked = m.dedupe(relative_source(p.root, p.source, corpus) for p in answer.passages)
    by_n = {c.n: c for c in answer.citations}
    cited = m.dedupe(
        relative_source(by_n[n].root, by_n[n].source, corpus) for n in cited_numbers(answer)
    )
    allowed = set(scopes_for(item.client))
    leaks = m.dedupe(
        relative_source(p.root, p.source, corpus) for p in answer.passages if p.scope not in allowed
    )
    violations = m.phrases_found(answer.answer, item.must_not_include)
    found = set(m.phrases_found(answer.answer, item.must_include))
    markers = m.citation_markers(answer.answer)
    malformed = m.malformed_markers(answer.answer) if cites else []
    notes = []

    scores: dict[str, float | None] = dict.fromkeys(retrieval_names(k))
    scores.update(fact_recall=None, citation_validity=None, citation_precision=None)
    if judged:
        scores["faithfulness"] = None
    if item.answerable:
        gold = item.gold_sources
        scores[f"hit@{k}"] = m.hit_at_k(ranked, gold, k)
        scores[f"recall@{k}"] = m.recall_at_k(ranked, gold, k)
        scores[f"mrr@{RANK_DEPTH}"] = m.mrr_at_k(ranked, gold, RANK_DEPTH)
        scores[f"ndcg@{RANK_DEPTH}"] = m.ndcg_at_k(ranked, gold, RANK_DEPTH)
        scores["fact_recall"] = m.fact_recall(answer.answer, item.must_include)
        if cites:
            # The answerer strips markers that cite nothing; they still count against validity,
            # and so do malformed ones ("[1-3]", "[^2]") that a reader cannot follow.
            invalid = [0] * (answer.invented_markers + len(malformed))
            scores["citation_validity"] = m.citation_validity(markers + invalid, by_n)
            scores["citation_precision"] = m.citation_precision(cited, gold)
            if not markers and not invalid:
                notes.append("no [n] markers: citation metrics undefined for this item")
        if judged:
            scores["faithfulness"] = faithfulness
        if len(ranked) < max(k, 1):
            notes.append(f"only {len(ranked)} distinct documents retrieved")

    return {
        "id": item.id,
        "category": item.category,
        "client": item.client,
        "answerable": item.answerable,
        "question": item.final_question,
        **({"turns": item.all_turns} if item.turns is not None else {}),
        "answer": answer.answer,
        "abstained": answer.abstained,
        "mode": answer.mode,
        "retrieved": ranked,
        "gold_sources": list(item.gold_sources),
        "cited": cited,
        "invented_markers": answer.invented_markers,
        "malformed_markers": malformed,
        "must_include": list(item.must_include),
        "must_include_missing": [p for p in item.must_include if p not in found],
        "must_not_include": list(item.must_not_include),
        "must_not_include_found": violations,
        "scope_leaks": leaks,
        "latency_ms": round(obs.latency_ms, 1),
        "scores": scores,
        "quality": _quality(scores, item.answerable, answer.abstained, bool(violations or leaks)),
        "notes": notes,
    }


def _defined(entries: Sequence[dict[str, Any]], name: str) -> list[float]:
    return [e["scores"][name] for e in entries if m.is_defined(e["scores"].get(name))]


def aggregate(
    entries: Sequence[dict[str, Any]], k: int, cites: bool = True, judged: bool = False
) -> tuple[dict[str, float | None], dict[str, int], list[str]]:
    """(metrics, how many items each metric averages over, notes on undefined values)."""
    answerable = [e for e in entries if e["answerable"]]
    unanswerable = [e for e in entries if not e["answerable"]]
    with_forbidden = [e for e in entries if e["must_not_include"]]
    metrics: dict[str, float | None] = {}
    support: dict[str, int] = {}
    notes: list[str] = []

    for name in averaged_names(k, judged):
        values = _defined(answerable, name)
        metrics[name] = m.mean(values)
        support[name] = len(values)
        skipped = len(answerable) - len(values)
        if name.startswith("citation_") and not cites:
            notes.append(f"{name}: not defined, this system does not cite")
        elif metrics[name] is None:
            notes.append(f"{name}: not defined for any answerable item (null)")
        elif skipped and not name.startswith(("hit@", "mrr@")):
            notes.append(f"{name}: undefined for {skipped} answerable item(s), not in the mean")

    metrics["abstain_rate_unanswerable"] = m.rate(e["abstained"] for e in unanswerable)
    support["abstain_rate_unanswerable"] = len(unanswerable)
    metrics["false_abstain_rate"] = m.rate(e["abstained"] for e in answerable)
    support["false_abstain_rate"] = len(answerable)
    if not unanswerable:
        notes.append("abstain_rate_unanswerable: no unanswerable items (null)")

    violated = [e for e in entries if e["must_not_include_found"]]
    metrics["must_not_include_violations"] = len(violated)
    metrics["must_not_include_violation_rate"] = m.rate(
        bool(e["must_not_include_found"]) for e in with_forbidden
    )
    support["must_not_include_violations"] = support["must_not_include_violation_rate"] = len(
        with_forbidden
    )
    if not with_forbidden:
        notes.append("must_not_include_violation_rate: no item has must_not_include phrases")
    metrics["scope_leaks"] = sum(1 for e in entries if e["scope_leaks"])
    support["scope_leaks"] = len(entries)

    latencies = [e["latency_ms"] for e in entries]
    for pct in (50, 95):
        value = m.percentile(latencies, pct)
        metrics[f"latency_p{pct}_ms"] = round(value, 1) if value is not None else None
        support[f"latency_p{pct}_ms"] = len(latencies)
    return metrics, support, notes


def by_category(
    entries: Sequence[dict[str, Any]], k: int, cites: bool = True, judged: bool = False
) -> dict[str, dict[str, Any]]:
    """The same metrics for each category, with its item count."""
    out = {}
    for category in sorted({e["category"] for e in entries}):
        subset = [e for e in entries if e["category"] == category]
        metrics, _, _ = aggregate(subset, k, cites, judged)
        out[category] = {"n": len(subset), **metrics}
    return out
