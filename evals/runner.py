"""Run every dataset item through a system, timing the scored turn."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from advisor.core.models import Answer
from evals.dataset import EvalItem
from evals.systems import System


@dataclass(frozen=True)
class Observation:
    """What a system produced for one item: its final answer and how long that turn took."""

    item: EvalItem
    answer: Answer
    latency_ms: float


def run_item(system: System, item: EvalItem) -> Observation:
    """Ask earlier turns first (building the history), then time and keep the last turn."""
    history: list[dict[str, str]] = []
    for turn in item.all_turns[:-1]:
        earlier = system.ask(turn, item.client, list(history))
        history += [
            {"role": "user", "content": turn},
            {"role": "assistant", "content": earlier.answer},
        ]
    start = time.perf_counter()
    answer = system.ask(item.final_question, item.client, history)
    latency_ms = (time.perf_counter() - start) * 1000.0
    return Observation(item=item, answer=answer, latency_ms=latency_ms)


def run_items(
    system: System,
    items: Sequence[EvalItem],
    on_done: Callable[[Observation], None] | None = None,
) -> list[Observation]:
    """Every item in dataset order; `on_done` is called after each (progress bars)."""
    observations = []
    for item in items:
        observation = run_item(system, item)
        observations.append(observation)
        if on_done is not None:
            on_done(observation)
    return observations
