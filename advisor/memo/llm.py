"""The LLM memo: structured output (JSON checked against a pydantic schema), invented markers
removed by the caller, and an error the caller turns into the offline fallback."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

from advisor.answering.answer import sources_block
from advisor.core.citations import marker_numbers, rewrite_markers, strip_markers
from advisor.core.llm import Message
from advisor.core.models import Passage
from advisor.memo.evidence import Evidence
from advisor.memo.model import OPEN_QUESTIONS, OPTIONS, Memo, OptionRow

MAX_SOURCES = 16  # passages offered to the model; the evidence is ranked per part


class MemoOutputError(ValueError):
    """The model's memo could not be used (not JSON, wrong shape, or nothing cited)."""


class LLMOption(BaseModel):
    option: str = Field(min_length=1)
    benefits: str = ""
    costs: str = ""
    risks: str = ""


class LLMMemoOutput(BaseModel):
    """The JSON the memo prompt asks for."""

    context: list[str] = Field(default_factory=list)
    recommendation: list[str] = Field(min_length=1)
    options: list[LLMOption] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)


def offered_passages(evidence: Evidence) -> list[Passage]:
    """The sources the model sees: each part's best passages first, then the rest by rank."""
    order: list[int] = []
    rank = 0
    while len(order) < min(MAX_SOURCES, len(evidence.passages)):
        added = False
        for ranked in evidence.parts.values():
            if rank < len(ranked):
                added = True
                if ranked[rank] not in order and len(order) < MAX_SOURCES:
                    order.append(ranked[rank])
        if not added:
            break
        rank += 1
    return [evidence.passages[i] for i in order]


def conversation_text(history: Sequence[dict[str, str]]) -> str:
    lines = []
    for m in list(history)[-6:]:
        who = "Founder" if m.get("role") == "user" else "Advisor"
        # An answer's [n] refers to that answer's sources, not the memo's: drop them.
        text = strip_markers(m.get("content", ""), "").strip()
        lines.append(f"{who}: {text[:800]}")
    return "\n".join(lines) or "(none)"


def build_memo_prompt(
    topic: str,
    options: list[str],
    client: str | None,
    history: Sequence[dict[str, str]],
    passages: Sequence[Passage],
) -> list[Message]:
    """The messages sent for a memo (system + user); document text only inside the sources."""
    from advisor.core.prompts import fence, inert, load_prompt, new_boundary

    boundary = new_boundary()  # per request: no document can know it in advance
    user = load_prompt("memo").render(
        topic=inert(topic, one_line=True),
        client=client or "none (playbooks only)",
        options="\n".join(f"- {inert(o, one_line=True)}" for o in options)
        or "(none named: infer two or three)",
        conversation=fence("CONVERSATION", conversation_text(history), boundary),
        sources=sources_block(passages, boundary),
        boundary=boundary,
    )
    return [("system", load_prompt("system").render()), ("user", user)]


def parse_output(text: str) -> LLMMemoOutput:
    """The model's JSON (a code fence or prose around it is tolerated), checked by the schema."""
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise MemoOutputError("the LLM did not return the memo as JSON")
    try:
        return LLMMemoOutput.model_validate(json.loads(text[start : end + 1]))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise MemoOutputError(f"the LLM's memo did not match the memo schema ({first})") from exc


def _resolves(text: str) -> bool:
    """At least one marker names an offered source (0 stands for an invented one)."""
    return any(n > 0 for n in marker_numbers(text))


def _cited(points: list[str]) -> tuple[list[str], int]:
    """Points that cite a source; uncited claims are dropped and counted."""
    kept = [" ".join(p.split()) for p in points if p.strip() and _resolves(p)]
    return kept, sum(1 for p in points if p.strip()) - len(kept)


def llm_memo(model, topic, options, client, history, evidence: Evidence) -> Memo:
    """The model writes the memo from the offered sources; markers index `evidence.passages`."""
    passages = offered_passages(evidence)
    raw = parse_output(model.complete(build_memo_prompt(topic, options, client, history, passages)))
    # The model numbers sources as offered; map them to their index in the whole evidence.
    position = {p.id: i + 1 for i, p in enumerate(evidence.passages)}
    remap = {n: position[p.id] for n, p in enumerate(passages, start=1)}

    def local(text: str) -> str:
        # 0 is never a source: finish() drops and counts it like any invented marker.
        return rewrite_markers(text, lambda n: f"[{remap.get(n, 0)}]")

    dropped = 0
    sections: dict[str, list[str]] = {}
    for name, points in (
        ("Context", raw.context),
        ("Recommendation", raw.recommendation),
        ("Risks", raw.risks),
        ("Next steps", raw.next_steps),
    ):
        kept, lost = _cited([local(p) for p in points])
        sections[name] = kept
        dropped += lost
    if not sections["Recommendation"]:
        raise MemoOutputError("the LLM's recommendation cites no source")
    sections[OPTIONS] = []
    sections[OPEN_QUESTIONS] = [
        strip_markers(q, "").strip() for q in raw.open_questions if q.strip()
    ]
    rows = []
    for o in raw.options:
        cells = {c: local(getattr(o, c)) for c in ("benefits", "costs", "risks")}
        # A cell that cites nothing is shown as not covered rather than as an unsourced claim.
        cells = {c: v if _resolves(v) else "" for c, v in cells.items()}
        rows.append(OptionRow(option=strip_markers(o.option, "").strip(), **cells))
    memo = Memo(topic=topic, client=client, mode="llm", sections=sections, options=rows)
    memo.note = "Drafted by the configured LLM from the numbered sources; review before sending."
    if dropped:
        memo.warning = f"Removed {dropped} uncited point(s) from the LLM's draft"
    return memo
