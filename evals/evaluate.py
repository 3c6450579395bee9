"""One eval run end to end: pick the system, run the items, judge, score, build the report."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from advisor.answering.answer import RETRIEVE_K
from advisor.core.settings import Settings
from evals.dataset import EvalItem
from evals.judge import FaithfulnessJudge
from evals.runner import Observation, run_items
from evals.scoring import aggregate, by_category, cited_passages, score_observation
from evals.stats import compare, confidence_intervals
from evals.systems import OurSystem, System

SYSTEMS = ("ours", "naive")


def make_system(name: str, settings: Settings, corpus: Path, k: int, embeddings=None) -> System:
    """The system called `name` over `corpus`."""
    if name == "naive":
        from evals.naive import NaiveSystem

        # The same number of ranked slots as ours, so both fill the same document depth.
        return NaiveSystem(settings, corpus, embeddings=embeddings, depth=max(k, RETRIEVE_K))
    return OurSystem(settings, corpus, embeddings=embeddings)


def make_judge(settings: Settings, system: System) -> FaithfulnessJudge | None:
    """The faithfulness judge when an LLM is configured and the system cites, else None."""
    if not settings.use_llm or not system.cites:
        return None
    from advisor.core.llm import ChatModel

    cache = settings.data_dir / "evals" / "judge-cache"
    return FaithfulnessJudge(ChatModel(settings), settings.llm_model, cache)


def _judge(judge: FaithfulnessJudge | None, obs: Observation) -> float | None:
    if judge is None or not obs.item.answerable or obs.answer.abstained:
        return None
    return judge.score(obs.answer.answer, cited_passages(obs.answer))


def evaluate(
    system: System,
    items: Sequence[EvalItem],
    corpus: Path,
    k: int,
    config: dict[str, Any],
    judge: FaithfulnessJudge | None = None,
    on_done: Callable[[Observation], None] | None = None,
) -> dict[str, Any]:
    """Run every item through `system` and return the report document."""
    from evals.report import build_report

    started = time.time()
    observations = run_items(system, items, on_done=on_done)
    judged = judge is not None
    entries = [
        score_observation(
            obs, corpus.resolve(), k, system.cites, faithfulness=_judge(judge, obs), judged=judged
        )
        for obs in observations
    ]
    metrics, support, notes = aggregate(entries, k, system.cites, judged)
    notes += system.report_notes
    if not judged:
        notes.append("faithfulness: not measured (needs an LLM judge; offline or naive run)")
    config = {
        **config,
        "items": len(entries),
        "answerable": sum(1 for e in entries if e["answerable"]),
        "run_seconds": round(time.time() - started, 1),
        "judge_calls": judge.calls if judge else 0,
        # Document depth actually filled: compare systems only when these match closely.
        "mean_documents_ranked": round(
            sum(len(e["retrieved"]) for e in entries) / max(1, len(entries)), 2
        ),
    }
    report = build_report(
        metrics, by_category(entries, k, system.cites, judged), entries, config, support, notes
    )
    report["ci"] = confidence_intervals(entries, list(metrics))
    return report


def compare_with(report: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Paired differences of `report` against a baseline report, stored on `report`."""
    comparison = compare(report["items"], baseline.get("items", []), list(report["metrics"]))
    report["comparison"] = comparison
    return comparison
