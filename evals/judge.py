"""LLM-judged faithfulness (claims supported by the cited passages), cached on disk by prompt."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from advisor.core.prompts import load_prompt

PROMPT_NAME = "judge_faithfulness"  # prompts/judge_faithfulness.md
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class Chat(Protocol):
    """The one method the judge needs from `advisor.core.llm.ChatModel`."""

    def complete(self, messages: Sequence[tuple[str, str]]) -> str: ...


def render_prompt(answer: str, sources: Sequence[tuple[int, str]]) -> str:
    """The judge prompt for one answer and its numbered cited passages."""
    listed = "\n\n".join(f"[{n}] {text.strip()}" for n, text in sources)
    return load_prompt(PROMPT_NAME).render(sources=listed, answer=answer.strip())


def parse_verdict(response: str) -> float | None:
    """Share of claims judged supported; None when the reply is unusable or lists no claims."""
    match = _JSON_OBJECT.search(response)
    if not match:
        return None
    try:
        claims = json.loads(match.group(0)).get("claims")
    except (json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(claims, list) or not claims:
        return None
    verdicts = [c.get("supported") is True for c in claims if isinstance(c, dict)]
    return sum(verdicts) / len(verdicts) if verdicts else None


class FaithfulnessJudge:
    """Asks a chat model to check an answer's claims; replies are cached so re-runs are free."""

    def __init__(self, chat: Chat, model_name: str, cache_dir: Path) -> None:
        self.chat = chat
        self.model_name = model_name
        self.cache_dir = cache_dir
        self.calls = 0  # replies that were not in the cache

    def _reply(self, prompt: str) -> str:
        key = hashlib.sha256(f"{self.model_name}\x1f{prompt}".encode()).hexdigest()
        path = self.cache_dir / f"{key}.json"
        if path.exists():
            return json.loads(path.read_text("utf-8"))["response"]
        response = self.chat.complete([("user", prompt)])
        self.calls += 1
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"model": self.model_name, "response": response}), "utf-8")
        tmp.replace(path)  # atomic: an interrupted run never leaves a truncated entry
        return response

    def score(self, answer: str, sources: Sequence[tuple[int, str]]) -> float | None:
        """Faithfulness in [0, 1] of `answer` to `sources`; None without sources or claims."""
        if not sources or not answer.strip():
            return None
        return parse_verdict(self._reply(render_prompt(answer, sources)))
