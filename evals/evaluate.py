"""One answer-task run end to end: pick the system, run the items, score, build the report."""

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
from evals.scoring import aggregate, answer_metrics, by_category, cited_passages, score_observation
from evals.splits import Split
from evals.support import PassageTexts
from evals.systems import System

SYSTEMS = ("ours", "naive")
JUDGES = ("none", "llm")


def make_system(name: str, settings: Settings, corpus: Path, k: int, embeddings=None) -> System:
    """The system called `name` over `corpus`."""
    if name == "naive":
        from evals.naive import NaiveSystem

        # The same number of ranked slots as ours, so both fill the same document depth.
        return NaiveSystem(settings, corpus, embeddings=embeddings, depth=max(k, RETRIEVE_K))
    from evals.systems import OurSystem

    return OurSystem(settings, corpus, embeddings=embeddings)


def make_judge(settings: Settings, system: System, judge: str = "none") -> FaithfulnessJudge | None:
    """The LLM faithfulness judge when asked for (`--judge llm`), an LLM is configured and the
    system cites; else None. Only a real model's verdicts measure anything: recorded replies
    would not read the answer."""
    if judge != "llm" or not settings.use_llm or not system.cites:
        return None
    from advisor.core.llm import ChatModel

    cache = settings.data_dir / "evals" / "judge-cache"
    return FaithfulnessJudge(ChatModel(settings), settings.llm_model, cache)


def passage_texts(system: System) -> PassageTexts | None:
    """The indexed text of the system's corpus, for claim-level faithfulness (citing systems);
    read once per store version and kept on the system (runs on the same index share it)."""
    store = getattr(getattr(system, "advisor", None), "store", None)
    if not system.cites or store is None:
        return None
    version = store.version
    kept = getattr(system, "_passage_texts", None)
    if kept is None or kept[0] != version:
        kept = (version, PassageTexts.from_store(store))
        system._passage_texts = kept  # type: ignore[attr-defined]
    return kept[1]


def _judge(
    judge: FaithfulnessJudge | None, obs: Observation, passages: PassageTexts | None
) -> float | None:
    if judge is None or passages is None or not obs.item.answerable or obs.answer.abstained:
        return None
    return judge.score(obs.answer.answer, cited_passages(obs.answer, passages))


def evaluate(
    system: System,
    items: Sequence[EvalItem],
    corpus: Path,
    k: int,
    config: dict[str, Any],
    judge: FaithfulnessJudge | None = None,
    on_done: Callable[[Observation], None] | None = None,
    split: Split | None = None,
    intervals: bool = True,
) -> dict[str, Any]:
    """Run every item through `system` and return the report document (both parts; bootstrap
    intervals unless `intervals` is False)."""
    from evals.parts import summarize
    from evals.report import build_report

    started = time.time()
    observations = run_items(system, items, on_done=on_done)
    passages = passage_texts(system)
    judged = judge is not None
    entries = [
        score_observation(
            obs,
            corpus.resolve(),
            k,
            system.cites,
            passages=passages,
            judged=_judge(judge, obs, passages),
            was_judged=judged,
        )
        for obs in observations
    ]
    metrics, support, notes = aggregate(entries, k, system.cites, judged)
    notes += system.report_notes
    if not judged:
        notes.append(
            "faithfulness_llm: not measured (an LLM judge runs only with --judge llm and a real "
            "model); faithfulness is the claim-level support check"
        )
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
    report.update(summarize(entries, answer_metrics(k, judged), split, intervals))
    return report
