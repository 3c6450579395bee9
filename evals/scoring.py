"""Per-item scores of the answer task, the metrics built from them, and run-level aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advisor.core.models import Answer
from advisor.core.settings import PLAYBOOK_SCOPE
from evals import metrics as m
from evals import stats
from evals.corpus import owner_of, relative_source
from evals.runner import Observation
from evals.support import PassageTexts, support_share

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
JUDGED = "faithfulness_llm"  # the LLM judge's faithfulness (`--judge llm`, a real model only)


def retrieval_names(k: int) -> list[str]:
    """The retrieval metric names for this `--k`."""
    return [f"hit@{k}", f"recall@{k}", f"mrr@{RANK_DEPTH}", f"ndcg@{RANK_DEPTH}"]


def averaged_names(k: int, judged: bool = False) -> list[str]:
    """Metrics that are means of per-item scores over the answerable items."""
    answer = ["fact_recall", "citation_validity", "citation_precision", "faithfulness"]
    return [*retrieval_names(k), *answer, *([JUDGED] if judged else [])]


def metric_names(k: int, judged: bool = False) -> list[str]:
    """Every metric a run reports, in display order (the LLM judge's only when judged)."""
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


def _score(name: str):
    def values(e: dict[str, Any]) -> float | None:
        return e["scores"].get(name) if e["answerable"] else None

    return values


def items_with(name: str, key: str) -> stats.Metric:
    """How many items carry a non-empty `key` (a count: any one is a failure)."""
    return stats.Metric(
        name, lambda e: float(bool(e.get(key))), stats.total, higher_is_better=False
    )


def answer_metrics(k: int, judged: bool = False) -> list[stats.Metric]:
    """How each metric of the answer task is read from the report's items."""
    out = [stats.Metric(name, _score(name)) for name in averaged_names(k, judged)]
    out += [
        stats.Metric(
            "abstain_rate_unanswerable",
            lambda e: float(e["abstained"]) if not e["answerable"] else None,
        ),
        stats.Metric(
            "false_abstain_rate",
            lambda e: float(e["abstained"]) if e["answerable"] else None,
            higher_is_better=False,
        ),
        items_with("must_not_include_violations", "must_not_include_found"),
        stats.Metric(
            "must_not_include_violation_rate",
            lambda e: (
                float(bool(e.get("must_not_include_found"))) if e.get("must_not_include") else None
            ),
            higher_is_better=False,
        ),
        items_with("scope_leaks", "scope_leaks"),
    ]
    for pct in (50, 95):
        out.append(
            stats.Metric(
                f"latency_p{pct}_ms",
                lambda e: e.get("latency_ms"),
                stats.percentile(pct),
                higher_is_better=False,
                tested=False,
            )
        )
    return out


def cited_numbers(answer: Answer) -> list[int]:
    """Distinct citation numbers that the answer's markers actually use, in order."""
    known = {c.n for c in answer.citations}
    return [n for n in dict.fromkeys(m.citation_markers(answer.answer)) if n in known]


def cited_passages(answer: Answer, passages: PassageTexts) -> list[tuple[int, str]]:
    """(n, the indexed text it points at) for each source the answer's markers cite."""
    by_n = {c.n: c for c in answer.citations}
    return [
        (n, "\n".join(passages.texts(by_n[n])) or by_n[n].snippet) for n in cited_numbers(answer)
    ]


def _quality(scores: dict[str, float | None], answerable: bool, abstained: bool, leaked: bool):
    """One number to rank items from worst to best in the report."""
    if leaked:
        return 0.0
    if not answerable:
        return 1.0 if abstained else 0.0
    return m.mean(scores.values()) or 0.0


def leaked_documents(answer: Answer, client: str | None, corpus: Path) -> list[str]:
    """Documents retrieved or cited for this question that its client may not see, judged by
    the corpus layout on disk (which folder holds each file), not by the product's scopes."""
    return outside_scope(
        [relative_source(p.root, p.source, corpus) for p in answer.passages]
        + [relative_source(c.root, c.source, corpus) for c in answer.citations],
        client,
    )


def outside_scope(paths: Sequence[str], client: str | None) -> list[str]:
    """The corpus-relative paths (deduplicated, in order) that neither the playbooks nor
    `client` own on disk."""
    allowed = {PLAYBOOK_SCOPE, *([client] if client else [])}
    return m.dedupe(p for p in paths if owner_of(p) not in allowed)


def score_observation(
    obs: Observation,
    corpus: Path,
    k: int,
    cites: bool = True,
    passages: PassageTexts | None = None,
    judged: float | None = None,
    was_judged: bool = False,
) -> dict[str, Any]:
    """The report's entry for one item: what came back, against what was expected, and scores.

    `passages` (the indexed text of the corpus) enables claim-level faithfulness; `judged` is the
    LLM judge's score for this item when the run has a judge (`was_judged`).
    """
    item, answer = obs.item, obs.answer
    ranked = m.dedupe(relative_source(p.root, p.source, corpus) for p in answer.passages)
    by_n = {c.n: c for c in answer.citations}
    cited = m.dedupe(
        relative_source(by_n[n].root, by_n[n].source, corpus) for n in cited_numbers(answer)
    )
    leaks = leaked_documents(answer, item.client, corpus)
    violations = m.phrases_found(answer.answer, item.must_not_include)
    found = set(m.phrases_found(answer.answer, item.must_include))
    markers = m.citation_markers(answer.answer)
    malformed = m.malformed_markers(answer.answer) if cites else []
    notes = []

    scores: dict[str, float | None] = dict.fromkeys(averaged_names(k, was_judged))
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
            if passages is not None and not answer.abstained:
                scores["faithfulness"] = support_share(answer.answer, answer.citations, passages)
        if was_judged:
            scores[JUDGED] = judged
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


def aggregate(
    entries: Sequence[dict[str, Any]], k: int, cites: bool = True, judged: bool = False
) -> tuple[dict[str, float | None], dict[str, int], list[str]]:
    """(metrics, how many items each metric is computed over, notes on undefined values)."""
    answerable = [e for e in entries if e["answerable"]]
    metrics: dict[str, float | None] = {}
    support: dict[str, int] = {}
    notes: list[str] = []
    averaged = set(averaged_names(k, judged))
    for metric in answer_metrics(k, judged):
        name = metric.name
        ids, _ = metric.table(entries)
        value = metric.value(entries)
        if name.endswith("_ms") and value is not None:
            value = round(value, 1)
        elif metric.statistic is stats.total and value is not None:
            value = int(value)
        metrics[name], support[name] = value, len(ids)
        if name not in averaged:
            continue
        skipped = len(answerable) - len(ids)
        if (name.startswith("citation_") or name == "faithfulness") and not cites:
            notes.append(f"{name}: not defined, this system does not cite")
        elif value is None:
            notes.append(f"{name}: not defined for any answerable item (null)")
        elif skipped and not name.startswith(("hit@", "mrr@")):
            notes.append(f"{name}: undefined for {skipped} answerable item(s), not in the mean")
    if not any(not e["answerable"] for e in entries):
        notes.append("abstain_rate_unanswerable: no unanswerable items (null)")
    if not any(e["must_not_include"] for e in entries):
        notes.append("must_not_include_violation_rate: no item has must_not_include phrases")
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
