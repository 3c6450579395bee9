"""Follow-up questions become standalone queries: with the LLM when configured, else a heuristic."""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.core.errors import LLMError
from advisor.core.prompts import fence, inert, load_prompt, new_boundary

# Words that point back into the conversation ("how long should *that* take?").
_ANAPHORA = re.compile(
    r"\b(that|this|it|its|they|them|their|those|these|there|he|she|him|her|one|ones|same|such)\b",
    re.IGNORECASE,
)
_CONNECTIVE = re.compile(
    r"^\s*(and|but|so|also|then|ok|okay|what about|how about|what if|why|how come|any)\b",
    re.IGNORECASE,
)


def previous_questions(history: Sequence[dict[str, str]]) -> list[str]:
    """The user's earlier questions, oldest first."""
    return [m["content"] for m in history if m.get("role") == "user" and m.get("content")]


def looks_like_followup(question: str) -> bool:
    """Short questions that lean on the conversation (pronouns, 'and ...', 'what about ...')."""
    words = question.split()
    if len(words) <= 4:
        return True
    return len(words) <= 14 and bool(_ANAPHORA.search(question) or _CONNECTIVE.search(question))


def standalone_offline(question: str, history: Sequence[dict[str, str]]) -> str:
    """Prefix a follow-up with the question it follows, so retrieval sees the topic."""
    earlier = previous_questions(history)
    if not earlier or not looks_like_followup(question):
        return question
    return f"{earlier[-1]} {question}"


def conversation_text(history: Sequence[dict[str, str]], turns: int = 3, limit: int = 600) -> str:
    """The last few turns as plain text, each message shortened, for prompts."""
    recent = list(history)[-2 * turns :]
    lines = []
    for m in recent:
        content = " ".join(m.get("content", "").split())
        if len(content) > limit:
            content = content[:limit] + " ..."
        lines.append(f"{m.get('role', 'user')}: {content}")
    return "\n".join(lines) if lines else "(none)"


def standalone_question(question: str, history: Sequence[dict[str, str]], chat=None) -> str:
    """The query to retrieve with: rewritten by the model when there is one and a history."""
    if not previous_questions(history):
        return question
    if chat is None:
        return standalone_offline(question, history)
    boundary = new_boundary()  # earlier answers quote documents: fence them like sources
    prompt = load_prompt("rewrite").render(
        conversation=fence("CONVERSATION", conversation_text(history), boundary),
        question=inert(question, one_line=True),
        boundary=boundary,
    )
    try:
        rewritten = chat.complete([("user", prompt)]).strip().strip('"').strip()
    except LLMError:
        return standalone_offline(question, history)
    first_line = rewritten.splitlines()[0].strip() if rewritten else ""
    return first_line if 3 <= len(first_line) <= 500 else standalone_offline(question, history)
