"""Recommendation memos: structured, every claim cited, as Markdown or DOCX.

With an LLM the memo is written by the model from `prompts/memo.md`; offline it is assembled from
the most relevant sentences of the retrieved passages, sorted under the same headings.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from advisor.answering.answer import citation_for, scope_label, sources_block
from advisor.answering.extractive import split_sentences
from advisor.core.citations import rewrite_markers, strip_markers
from advisor.core.errors import AdvisorError, ConfigError, LLMError
from advisor.core.models import Citation, Passage
from advisor.core.principal import scopes_for, visible

SECTIONS = ("Context", "Recommendation", "Options considered", "Risks", "Next steps")
PROSE_SECTIONS = ("Context", "Recommendation")  # paragraphs; the others are bullet lists
NOT_COVERED = "The retrieved sources do not cover this; add it before sending."
MEMO_PASSAGES = 10  # sources offered to a memo: enough breadth for five sections

# Offline: which sentences belong under which heading, by their wording. Checked in this order:
# an imperative or a dated action is a next step even if it mentions an outage.
_CUES = {
    "Next steps": r"^(hire|open|set up|start|expand|convert|write|schedule|run|move|pay|give|"
    r"agree|document|add|create|define|budget|promote|introduce|adopt|migrate|track|measure|"
    r"automate|assign|book|name|pick|hold|record|make|finish|fix|complete|ship|enable|require)"
    r"\b|\b(by|in|before) (the end of )?(q[1-4]|january|february|march|april|may|june|july|"
    r"august|september|october|november|december)\b|"
    r"\bwithin \w+ (hours|days|weeks|months)\b|\bnext (quarter|month|week)\b",
    "Risks": r"\b(risks?|risky|fail\w*|outages?|incidents?|danger\w*|avoid\w*|never|don't|"
    r"do not|pitfalls?|mistakes?|wrong|debt|single points? of failure|bus factor|burn\w*|"
    r"breach\w*|attrition|lock-in|downtime|too early|too late|expensive|costly|bottlenecks?)\b",
    "Options considered": r"\b(options?|alternatives?|vs\.?|versus|trade-?offs?|instead of|"
    r"rather than|whereas|compared|on the other hand|cheaper|faster|slower|build or buy)\b|"
    r"\beither\b.+\bor\b",
    "Recommendation": r"\b(recommend\w*|should|must|prefer\w*|default|rule of thumb|aim for|"
    r"best|always|advise)\b",
}
_CUE_RES = {name: re.compile(rx, re.I) for name, rx in _CUES.items()}
_CAPACITY = {
    "Context": 3,
    "Recommendation": 3,
    "Options considered": 3,
    "Risks": 3,
    "Next steps": 4,
}
# Extra retrieval per heading, so the evidence reaches beyond the topic's nearest passages.
_SECTION_QUERIES = ("{} risks and what can go wrong", "{} options and trade-offs", "{} next steps")
_MIN_RELEVANCE = 0.2  # cosine to the topic; below this a sentence is off-topic
_DUPLICATE = 0.85  # cosine above which two sentences say the same thing
_CLIENT_BONUS = 0.05  # the client's own documents describe the situation being decided
_ASK_PREFIX = re.compile(
    r"^(please\s+)?(draft|write|prepare|create|give me)\s+(me\s+)?(an?\s+|the\s+)?"
    r"(recommendation\s+memo|recommendation|memo)\s+(on|about|for|regarding)\s+",
    re.I,
)
_TIGHTEN = re.compile(r"\s+(?=[.,;:](?:\s|$))")  # the space a removed marker leaves
_LEAD = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|#+\s+|>\s*)")


class Memo(BaseModel):
    """A recommendation memo: points under fixed headings, each claim cited as [n]."""

    topic: str
    client: str | None = None
    mode: Literal["offline", "llm"] = "offline"
    sections: dict[str, list[str]]  # heading -> plain-text points with [n] markers
    citations: list[Citation] = Field(default_factory=list)
    note: str = ""
    warning: str | None = None
    created: float = Field(default_factory=time.time)

    @property
    def title(self) -> str:
        return f"Recommendation memo: {self.topic}"

    def slug(self) -> str:
        """A file-name-safe stem for downloads."""
        words = re.sub(r"[^a-z0-9]+", "-", self.topic.lower()).strip("-")[:60].strip("-")
        return f"memo-{words or 'recommendation'}"

    def byline(self) -> str:
        who = f"Client: {self.client}" if self.client else "Playbooks only"
        when = datetime.fromtimestamp(self.created).strftime("%Y-%m-%d")
        how = "offline draft from retrieved sources" if self.mode == "offline" else "LLM draft"
        return f"{who} · {when} · {how}"

    def to_markdown(self, level: int = 1) -> str:
        """The memo as Markdown (title at heading `level`); document text is escaped."""
        title, section = "#" * level, "#" * (level + 1)
        out = [f"{title} {escape_md(self.title)}", "", f"*{escape_md(self.byline())}*", ""]
        if self.note:
            out += [f"> {escape_md(self.note)}", ""]
        for heading in SECTIONS:
            out += [f"{section} {heading}", ""]
            points = self.sections.get(heading) or [NOT_COVERED]
            if heading in PROSE_SECTIONS:
                for point in points:
                    out += [escape_md(point), ""]
            else:
                out += [f"- {escape_md(point)}" for point in points] + [""]
        out += [f"{section} Sources", ""]
        out += [f"- [{c.n}] {escape_md(source_line(c))}" for c in self.citations] or ["- none"]
        return "\n".join(out).rstrip() + "\n"

    def to_docx(self) -> bytes:
        """The memo as a Word document (python-docx)."""
        from docx import Document

        doc = Document()
        doc.core_properties.title = self.title
        doc.core_properties.author = "CTO Advisor"
        doc.add_heading(self.title, level=0)
        doc.add_paragraph(self.byline()).runs[0].italic = True
        if self.note:
            doc.add_paragraph(self.note).runs[0].italic = True
        for heading in SECTIONS:
            doc.add_heading(heading, level=1)
            style = None if heading in PROSE_SECTIONS else "List Bullet"
            for point in self.sections.get(heading) or [NOT_COVERED]:
                doc.add_paragraph(point, style=style)
        doc.add_heading("Sources", level=1)
        for c in self.citations:
            doc.add_paragraph(f"[{c.n}] {source_line(c)}")
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()


# -- text helpers shared with the app ----------------------------------------------------------


def escape_md(text: str) -> str:
    """Document text as inert Markdown: no links, images, HTML, math or headings; [n] stays."""
    text = " ".join(str(text).split())
    text = re.sub(r"([\\`*_\[\]<>$~|#])", r"\\\1", text)
    # Keep citation markers readable, unless they could start a link or a link definition.
    text = re.sub(r"\\\[(\d{1,3})\\\](?![(:])", r"[\1]", text)
    return re.sub(r"^([-+=]|\d+[.)])", r"\\\1", text)


def neutralize_md(text: str) -> str:
    """Keep Markdown emphasis and lists but disable links, images, HTML, math and strikethrough.

    Works character by character, so it is safe on streamed deltas.
    """
    return re.sub(r"([\\$\[\]<~])", r"\\\1", text)


def location(c: Citation | Passage) -> str:
    """Section path plus page or slide, e.g. 'Hiring > Order · p. 3'."""
    parts = [c.section] if c.section and c.section != c.title else []
    if c.page is not None:
        parts.append(f"p. {c.page}")
    if c.slide is not None:
        parts.append(f"slide {c.slide}")
    return " · ".join(parts)


def source_line(c: Citation) -> str:
    """One line naming a source: title, where in it, whose it is, and the file."""
    where = f" — {location(c)}" if location(c) else ""
    return f"{c.title or c.source}{where} ({scope_label(c.scope)}, {c.source})"


# -- drafting ----------------------------------------------------------------------------------


def draft_memo(
    advisor,
    topic: str,
    client: str | None = None,
    history: Sequence[dict[str, str]] = (),
    model=None,
) -> Memo:
    """A memo on `topic` (or on the conversation so far) from `client`'s documents and playbooks."""
    user_turns = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    topic = _ASK_PREFIX.sub("", " ".join(topic.split())) or (user_turns[-1] if user_turns else "")
    topic = topic[:1].upper() + topic[1:]
    if not topic:
        raise ConfigError("a memo needs a topic: type one, or ask a question in the chat first")
    # The final scope gate: nothing of another client is quoted, sent to a model or cited.
    passages = visible(
        gather_passages(advisor, topic, client, user_turns), scopes_for(client), "memo"
    )
    if not passages:
        raise AdvisorError(
            "nothing indexed for this scope yet: upload documents in the sidebar or run "
            "`cto-advisor ingest PATH` first"
        )
    if model is None and advisor.settings.use_llm:
        from advisor.core.llm import load_chat_model

        model = load_chat_model(advisor.settings)
    if model is not None:
        try:
            return _llm_memo(model, topic, client, history, passages)
        except LLMError as exc:
            memo = _offline_memo(advisor, topic, client, passages)
            memo.warning = f"{exc}. This is an offline draft instead."
            return memo
    return _offline_memo(advisor, topic, client, passages)


def gather_passages(advisor, topic: str, client: str | None, turns: Sequence[str]) -> list[Passage]:
    """Retrieve for the topic, the recent questions and each heading; the topic ranks first."""
    queries = [topic, *turns[-3:], *(q.format(topic) for q in _SECTION_QUERIES)]
    rounds = [advisor.retriever.retrieve(q, client=client, k=MEMO_PASSAGES) for q in queries]
    seen: dict[str, Passage] = {}
    # Interleave so every query contributes its best passages before anyone's weaker ones.
    for rank in range(MEMO_PASSAGES):
        for found in rounds:
            if rank < len(found):
                seen.setdefault(found[rank].id, found[rank])
    return list(seen.values())[:MEMO_PASSAGES]


def _candidate_sentences(passage: Passage) -> list[str]:
    out = []
    for sentence in split_sentences(passage.text.replace("**", "")):
        # Lead-ins ("Hire a manager when:") and table rows read badly out of context.
        if sentence.endswith((":", "...")) or sentence.count("|") >= 2:
            continue
        if len(sentence.split()) >= 6:
            out.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return out


def _ranked_sentences(advisor, topic, client, passages) -> list[tuple[str, int, np.ndarray]]:
    """(sentence, passage index, vector), most relevant to the topic first, off-topic dropped."""
    owner: dict[str, int] = {}
    for i, p in enumerate(passages):
        for s in _candidate_sentences(p):
            owner.setdefault(s, i)  # a sentence quoted twice belongs to its best-ranked passage
    pool = list(owner)
    if not pool:
        return []
    vectors = np.asarray(advisor.embeddings.embed_documents(pool))
    scores = vectors @ np.asarray(advisor.embeddings.embed_query(topic))
    for j, s in enumerate(pool):
        i = owner[s]
        scores[j] += 0.05 * (1 - i / len(passages))  # ties go to better-ranked evidence
        if client and passages[i].scope == client:
            scores[j] += _CLIENT_BONUS
    order = [j for j in np.argsort(-scores) if scores[j] >= _MIN_RELEVANCE]
    return [(pool[j], owner[pool[j]], vectors[j]) for j in order]


def _cite(sentence: str, n: int) -> str:
    """The sentence with its marker before the final punctuation: 'Do X [2].'"""
    if sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


def _offline_memo(advisor, topic: str, client: str | None, passages: list[Passage]) -> Memo:
    """Sort the most relevant sentences of the evidence under the memo's headings."""
    chosen: dict[str, list[tuple[str, int]]] = {name: [] for name in SECTIONS}
    taken: list[np.ndarray] = []

    def take(name: str, sentence: str, i: int, vector: np.ndarray) -> bool:
        """Place a sentence if its section has room; a near-repeat is consumed silently."""
        if len(chosen[name]) >= _CAPACITY[name]:
            return False
        if all(float(vector @ other) <= _DUPLICATE for other in taken):
            chosen[name].append((sentence, i))
            taken.append(vector)
        return True

    rest = []
    for s, i, v in _ranked_sentences(advisor, topic, client, passages):
        # The client's own documents describe its situation: the best two lead the Context.
        if client and passages[i].scope == client and len(chosen["Context"]) < 2:
            take("Context", s, i, v)
        elif not any(cue.search(s) and take(name, s, i, v) for name, cue in _CUE_RES.items()):
            rest.append((s, i, v))
    for s, i, v in rest:
        take("Context", s, i, v)

    sections: dict[str, list[str]] = {}
    for name, picks in chosen.items():
        points = [_cite(s, i + 1) for s, i in picks]
        sections[name] = [" ".join(points)] if name in PROSE_SECTIONS and points else points
    scope = f"{client}'s documents and the playbooks" if client else "the playbooks"
    note = (
        f"Offline draft: assembled from the {len(passages)} passages of {scope} most relevant to "
        "this topic. Each point is quoted from a source, not written by a model; review, edit "
        "and add your judgement before sending (set OPENAI_BASE_URL for an LLM-written memo)."
    )
    memo = Memo(topic=topic, client=client, mode="offline", sections=sections, note=note)
    return _renumber(memo, passages)


def _conversation(history: Sequence[dict[str, str]]) -> str:
    lines = []
    for m in list(history)[-6:]:
        who = "Founder" if m.get("role") == "user" else "Advisor"
        # An answer's [n] refers to that answer's sources, not the memo's: drop them.
        text = strip_markers(m.get("content", ""), "").strip()
        lines.append(f"{who}: {text[:800]}")
    return "\n".join(lines) or "(none)"


def _llm_memo(model, topic, client, history, passages: list[Passage]) -> Memo:
    from advisor.core.prompts import fence, inert, load_prompt, new_boundary

    boundary = new_boundary()  # per request: no document can know it in advance
    user = load_prompt("memo").render(
        topic=inert(topic, one_line=True),
        client=client or "none (playbooks only)",
        conversation=fence("CONVERSATION", _conversation(history), boundary),
        sources=sources_block(passages, boundary),
        boundary=boundary,
    )
    text = model.complete([("system", load_prompt("system").render()), ("user", user)])
    memo = Memo(topic=topic, client=client, mode="llm", sections=parse_sections(text))
    memo.note = "Drafted by the configured LLM from the numbered sources; review before sending."
    return _renumber(memo, passages)


def parse_sections(text: str) -> dict[str, list[str]]:
    """The model's Markdown split under our headings; its own 'Sources' section is dropped."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    para: list[str] = []

    def flush() -> None:
        if current and para:
            sections.setdefault(current, []).append(" ".join(para))
        para.clear()

    for raw in text.splitlines():
        heading = re.match(r"^\s*(?:#{1,4}\s*|\*\*)([^*#]+?)\**:?\s*#*\s*$", raw)
        if heading and _section_named(heading.group(1)) is not None:
            flush()
            current = _section_named(heading.group(1)) or None
            continue
        line = raw.strip()
        if not line:
            flush()
            continue
        if _LEAD.match(raw):
            flush()
        para.append(_LEAD.sub("", line).replace("**", "").replace("__", ""))
    flush()
    return sections


def _section_named(title: str) -> str | None:
    """Our heading for a model heading ('' for Sources, which we ignore), or None if unknown."""
    key = title.strip().lower()
    if key.startswith("source"):
        return ""
    for name in SECTIONS:
        if key.startswith(name.lower()[:6]):
            return name
    return None


def _renumber(memo: Memo, passages: Sequence[Passage]) -> Memo:
    """Number sources by first use, drop markers that point nowhere, and count them."""
    order: dict[int, int] = {}
    invented = 0

    def swap(old: int) -> str:
        nonlocal invented
        if not 1 <= old <= len(passages):
            invented += 1
            return ""
        order.setdefault(old, len(order) + 1)
        return f"[{order[old]}]"

    sections = {}
    for name in SECTIONS:
        points = [" ".join(rewrite_markers(p, swap).split()) for p in memo.sections.get(name, [])]
        sections[name] = [_TIGHTEN.sub("", p) for p in points if p]
    memo.sections = sections
    memo.citations = [citation_for(new, passages[old - 1]) for old, new in order.items()]
    if invented:
        extra = f"removed {invented} citation(s) to sources that do not exist"
        memo.warning = f"{memo.warning}; {extra}" if memo.warning else extra.capitalize()
    return memo
