"""The answer the model writes: a pydantic schema for structured output, read as it streams.

The model is asked for JSON of `LLMAnswer` (a JSON-schema response format on the streamed request,
through the one LLM seam, advisor.core.llm). `AnswerDraft` reads the JSON as it arrives: each
prefix is parsed as partial JSON (LangChain's `parse_partial_json`), and only what can no longer
change is rendered and shown, so the reader sees the answer grow section by section, claim by
claim, and stopping the stream stops the model. At the end the whole reply is validated by the
same pydantic model; text already shown is always a prefix of the final answer.

The rendering is the offline answer's shape (a direct answer, the client's situation, the options
side by side, the recommendation, what to watch out for, the next step), in the order the model
wrote the fields (the schema's order, for an endpoint that follows it), every [n] through the one
marker filter, and a claim that cites nothing is not shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.utils.json import parse_partial_json
from pydantic import BaseModel, Field, ValidationError

from advisor.answering.advice import NOT_COVERED, OPTION_COLUMNS, OPTIONS_HEADING, as_sentence
from advisor.core.citations import MarkerFilter, marker_numbers
from advisor.core.errors import LLMError
from advisor.core.llm import LLMOutputError

MAX_ITEMS = 6  # sentences per field that are shown
MAX_CHARS = 600  # characters per sentence that are shown (a runaway reply is cut)
MAX_OPTIONS = 4


class LLMOption(BaseModel):
    option: str = Field(max_length=200)
    for_it: list[str] = Field(default_factory=list)
    against_it: list[str] = Field(default_factory=list)


class LLMAnswer(BaseModel):
    """What the answer prompt asks the model for, in the order it is shown."""

    covered: bool = True
    not_covered: str = ""
    direct_answer: list[str] = Field(default_factory=list)
    situation: list[str] = Field(default_factory=list)
    options: list[LLMOption] = Field(default_factory=list)
    recommendation: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    next_step: list[str] = Field(default_factory=list)


SECTIONS = ("direct_answer", "situation", "options", "recommendation", "risks", "next_step")
LABELS = {"recommendation": "Recommendation", "risks": "Watch out", "next_step": "Next step"}

# A claim ends at . ! or ? (after its markers) before the next capitalised claim. The document
# splitter (extractive.split_sentences) drops marker-heavy text as code, so it is not used here.
# The split is local (one character either side), so a claim found complete in a prefix of the
# reply is complete, unchanged, in the whole.
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


def _options_table(options: list[LLMOption], markers: MarkerFilter) -> tuple[str, int]:
    rows, dropped = [], 0
    for o in options[:MAX_OPTIONS]:
        good, lost_good = _clean(o.for_it, markers)
        bad, lost_bad = _clean(o.against_it, markers)
        dropped += lost_good + lost_bad
        name = " ".join(markers.clean(o.option).split()).replace("|", "/")
        cells = [" ".join(x).replace("|", "/") or NOT_COVERED for x in (good, bad)]
        rows.append(f"| {name} | {cells[0]} | {cells[1]} |")
    if not rows:
        return "", dropped
    head = f"| Option | {OPTION_COLUMNS[0][1]} | Against it |\n| --- | --- | --- |"
    return OPTIONS_HEADING + "\n" + head + "\n" + "\n".join(rows), dropped


def _render(
    reply: LLMAnswer, order: Sequence[str], markers: MarkerFilter, client: str | None
) -> tuple[str, int]:
    """(Markdown, claims dropped for citing nothing)."""
    if not reply.covered:
        closest = " ".join(markers.clean(reply.not_covered).split())[:MAX_CHARS]
        return f"The documents don't cover this. {closest}".strip(), 0
    labels = LABELS | {"situation": f"{client.title()} today" if client else ""}
    parts, dropped = [], 0
    for name in order:
        if name == "options":
            block, lost = _options_table(reply.options, markers)
        else:
            kept, lost = _clean(getattr(reply, name), markers)
            if name == "direct_answer":
                block = " ".join(kept)
            else:  # the situation is the client's: without a client it is not a section
                label = labels[name]
                block = f"**{label}**\n" + "\n".join(f"- {k}" for k in kept) if kept else ""
                block = block if label else ""
        dropped += lost
        if block:
            parts.append(block)
    return "\n\n".join(parts), dropped


def _order(doc: dict) -> list[str]:
    """The sections in the order the model wrote them, then the ones it left out."""
    written = [k for k in doc if k in SECTIONS]
    return written + [k for k in SECTIONS if k not in written]


def settled(doc: dict) -> tuple[dict, str | None, str]:
    """What of a partial reply can no longer change: (that part, the list field whose last item
    may still be arriving, that item's text so far).

    JSON arrives left to right, so only the values on its right edge are still open: the last
    field, and within it the last item. An open string may grow, an open option may gain
    claims, an open number or boolean may not be whole yet; each is held back. Everything to
    their left is complete.
    """
    if not doc:
        return {}, None, ""
    *before, last = doc
    fixed = {k: doc[k] for k in before}
    value = doc[last]
    if isinstance(value, list):
        fixed[last] = value[:-1]
        if value and isinstance(value[-1], str):
            return fixed, last, value[-1]
    return fixed, None, ""


def complete_claims(text: str, ended: bool = False) -> str:
    """The claims of an item still arriving that are already whole (all but the last); once the
    reply has ended (cut short), also the last if its sentence had ended."""
    claims = _CLAIM_END.split(text)
    last = claims.pop()
    if ended and last.rstrip().endswith((".", "!", "?")):
        claims.append(last)
    return " ".join(claims)


def _partial(raw: str) -> Any:
    try:
        return parse_partial_json(raw.strip())
    except ValueError:  # not JSON (yet, or at all)
        return None


class AnswerDraft:
    """The model's reply, fed as it streams; `feed` returns Markdown that will not change."""

    def __init__(self, n_sources: int, client: str | None) -> None:
        self.n_sources = n_sources
        self.client = client
        self.raw = ""  # the JSON received so far
        self.shown = ""  # the rendered text already handed out
        self._stopped = False  # the partial reply broke the schema: show nothing more

    def _markers(self) -> MarkerFilter:
        return MarkerFilter(range(1, self.n_sources + 1))

    def feed(self, delta: str) -> str:
        self.raw += delta
        if self._stopped or not delta:
            return ""
        return self._show(ended=False)

    def cut(self) -> str:
        """The reply stopped part-way: what more of it can be kept (an item's last sentence
        that had ended), to show before saying it stopped."""
        return "" if self._stopped else self._show(ended=True)

    def _show(self, ended: bool) -> str:
        doc = _partial(self.raw)
        if not isinstance(doc, dict):
            return ""
        fixed, field, tail = settled(doc)
        if "covered" not in fixed:  # an answer that says it is not covered shows nothing else
            return ""
        try:
            reply = LLMAnswer.model_validate(fixed)
        except ValidationError:
            self._stopped = True
            return ""
        claims = complete_claims(tail, ended) if field in SECTIONS and field != "options" else ""
        if claims:
            getattr(reply, field).append(claims)
        text, _ = _render(reply, _order(doc), self._markers(), self.client)
        if not text.startswith(self.shown):
            self._stopped = True  # defensive: shown text is never taken back
            return ""
        new, self.shown = text[len(self.shown) :], text
        return new

    def finish(self) -> tuple[LLMAnswer, str, MarkerFilter, int]:
        """The whole reply validated and rendered: (reply, Markdown, the marker filter used,
        claims dropped for citing nothing). Raises LLMOutputError for a reply not of the schema
        (or one that contradicts what was shown), UncitedAnswer for one that cites nothing."""
        try:
            doc = json.loads(self.raw)
            reply = LLMAnswer.model_validate(doc)
        except ValueError as exc:  # not JSON, or JSON not of the schema (a ValidationError)
            why = str(exc).splitlines()[0] if isinstance(exc, ValidationError) else "not JSON"
            raise LLMOutputError(
                f"the LLM's reply did not match the answer's schema ({why})"
            ) from exc
        markers = self._markers()
        text, dropped = _render(reply, _order(doc), markers, self.client)
        if reply.covered and not marker_numbers(text):
            raise UncitedAnswer("the LLM's answer cites none of the sources it was shown")
        if not text.startswith(self.shown):
            raise LLMOutputError("the LLM's reply changed what it had already said")
        return reply, text, markers, dropped
