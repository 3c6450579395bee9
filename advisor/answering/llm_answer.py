"""The answer the model writes: a pydantic schema for LangChain's structured output, and its
rendering in the offline answer's shape, every [n] through the one marker filter."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from advisor.answering.advice import OPTION_COLUMNS, as_sentence
from advisor.core.citations import MarkerFilter, marker_numbers
from advisor.core.errors import LLMError

MAX_ITEMS = 6  # sentences per field that are shown
MAX_CHARS = 600  # characters per sentence that are shown (a runaway reply is cut)


class LLMOption(BaseModel):
    option: str = Field(max_length=200)
    for_it: list[str] = Field(default_factory=list)
    against_it: list[str] = Field(default_factory=list)


class LLMAnswer(BaseModel):
    """What the answer prompt asks the model for."""

    covered: bool = True
    not_covered: str = ""
    situation: list[str] = Field(default_factory=list)
    recommendation: list[str] = Field(default_factory=list)
    options: list[LLMOption] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    next_step: list[str] = Field(default_factory=list)


# A claim ends at . ! or ? (after its markers) before the next capitalised claim. The document
# splitter (extractive.split_sentences) drops marker-heavy text as code, so it is not used here.
_CLAIM_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


class UncitedAnswer(LLMError):
    """The model's answer cites none of the sources it was shown."""


def _clean(items: list[str], markers: MarkerFilter) -> tuple[list[str], int]:
    """Sentences with only shown markers; a sentence left citing nothing is dropped."""
    kept, dropped = [], 0
    for raw in items[:MAX_ITEMS]:
        cited = []
        text = " ".join(markers.clean(str(raw)).split())
        for sentence in _CLAIM_END.split(text) if text else []:
            if marker_numbers(sentence):
                cited.append(sentence)
            else:
                dropped += 1  # a claim that cites nothing is not shown
        text = " ".join(" ".join(cited).split())[:MAX_CHARS]
        if text:
            kept.append(as_sentence(text))
    return kept, dropped


def render_llm(reply: LLMAnswer, n_sources: int, client: str | None):
    """(Markdown, the marker filter used, sentences dropped for citing nothing)."""
    markers = MarkerFilter(range(1, n_sources + 1))
    if not reply.covered:
        closest = " ".join(markers.clean(reply.not_covered).split())[:MAX_CHARS]
        return f"The documents don't cover this. {closest}".strip(), markers, 0
    dropped = 0
    parts = []
    name = client.title() if client else None
    sections = [
        (f"{name} today" if name else "", reply.situation),
        ("Recommendation", reply.recommendation),
    ]
    for label, items in sections:
        kept, lost = _clean(items, markers)
        dropped += lost
        if kept and label:
            parts.append(f"**{label}**\n" + "\n".join(f"- {k}" for k in kept))
    rows = []
    for o in reply.options[:4]:
        good, lost_good = _clean(o.for_it, markers)
        bad, lost_bad = _clean(o.against_it, markers)
        dropped += lost_good + lost_bad
        name_cell = " ".join(markers.clean(o.option).split()).replace("|", "/")
        cells = [
            " ".join(x).replace("|", "/") or "Not covered by the sources." for x in (good, bad)
        ]
        rows.append(f"| {name_cell} | {cells[0]} | {cells[1]} |")
    if rows:
        labels = (OPTION_COLUMNS[0][1], "Against it")
        head = f"| Option | {labels[0]} | {labels[1]} |\n| --- | --- | --- |"
        parts.insert(
            1 if reply.situation else 0,
            "**The options side by side**\n" + head + "\n" + "\n".join(rows),
        )
    for label, items in (("Watch out", reply.risks), ("Next step", reply.next_step)):
        kept, lost = _clean(items, markers)
        dropped += lost
        if kept:
            parts.append(f"**{label}**\n" + "\n".join(f"- {k}" for k in kept))
    text = "\n\n".join(parts)
    if not marker_numbers(text):
        raise UncitedAnswer("the LLM's answer cites none of the sources it was shown")
    return text, markers, dropped
