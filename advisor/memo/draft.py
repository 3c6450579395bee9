"""Recommendation memos: evidence per section, options side by side, every claim cited.

The memo domain sits below the service layer: it takes the retriever, the embeddings and an
optional chat model, never the facade. Offline the memo is assembled from the evidence each
section retrieved for itself (`offline.assemble`); with an LLM it is structured output checked
against a schema (`llm.llm_memo`), with a fallback to the offline draft when the output is
unusable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.answering.abstention import absent_terms
from advisor.answering.answer import citation_for, scope_label
from advisor.answering.rewrite import parse
from advisor.core.citations import rewrite_markers
from advisor.core.errors import AdvisorError, ConfigError, LLMError
from advisor.core.models import Passage
from advisor.core.principal import scopes_for
from advisor.memo.evidence import Evidence, embed_sentences, gather
from advisor.memo.model import (
    CELL_NOT_COVERED,
    NOT_COVERED,
    OPEN_QUESTIONS,
    OPTIONS,
    PROSE_SECTIONS,
    SECTIONS,
    Memo,
    OptionRow,
    escape_md,
    location,
    neutralize_md,
    source_line,
)
from advisor.memo.offline import assemble, worth_reading
from advisor.memo.topic import Queries, clean_topic, find_options, focus

__all__ = [
    "CELL_NOT_COVERED",
    "NOT_COVERED",
    "OPEN_QUESTIONS",
    "OPTIONS",
    "PROSE_SECTIONS",
    "SECTIONS",
    "Memo",
    "OptionRow",
    "draft_memo",
    "escape_md",
    "finish",
    "location",
    "neutralize_md",
    "scope_label",
    "source_line",
]

_TIGHTEN = re.compile(r"\s+(?=[.,;:](?:\s|$))")  # the space a removed marker leaves


def draft_memo(
    retriever,
    embeddings,
    topic: str,
    client: str | None = None,
    history: Sequence[dict[str, str]] = (),
    model=None,
) -> Memo:
    """A memo on `topic` (or on the conversation so far) from `client`'s documents and the
    playbooks; written by `model` when one is given, else assembled offline."""
    user_turns = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    topic = clean_topic(topic, user_turns)
    if not topic:
        raise ConfigError("a memo needs a topic: type one, or ask a question in the chat first")
    options = find_options(topic)
    turns = [focus(t, client) for t in user_turns if t.strip() != topic.strip()]
    queries = Queries(focus(topic, client), [focus(o, client) for o in options])
    evidence = gather(retriever, queries.topic, queries.options, client, turns)
    if not evidence.passages:
        raise AdvisorError(
            "nothing indexed for this scope yet: upload documents in the sidebar or run "
            "`cto-advisor ingest PATH` first"
        )
    if model is not None:
        from advisor.memo.llm import MemoOutputError, llm_memo

        try:
            return finish(llm_memo(model, topic, options, client, history, evidence), evidence)
        except (LLMError, MemoOutputError) as exc:
            memo = _offline(evidence, topic, options, client, embeddings, queries, retriever)
            memo.warning = f"{exc}. This is an offline draft instead."
            return memo
    return _offline(evidence, topic, options, client, embeddings, queries, retriever)


def _offline(evidence: Evidence, topic, options, client, embeddings, queries, retriever) -> Memo:
    embed_sentences(evidence, embeddings, only=worth_reading(evidence, queries, embeddings))
    index = retriever.lexical(scopes_for(client))
    known = [client] if client else []
    absent = [absent_terms(o, parse, index, known, retriever.store.get) for o in options]
    memo = assemble(evidence, topic, options, client, embeddings, queries, absent)
    scope = f"{client}'s documents and the playbooks" if client else "the playbooks"
    memo.note = (
        f"Offline draft from {scope}: each section quotes the sources retrieved for it; gaps "
        "are listed as open questions. Review, edit and add your judgement before sending "
        "(set OPENAI_BASE_URL for an LLM-written memo)."
    )
    return finish(memo, evidence)


def finish(memo: Memo, evidence: Evidence) -> Memo:
    """Number sources by first use, drop markers that point nowhere, and count them."""
    passages: Sequence[Passage] = evidence.passages
    order: dict[int, int] = {}
    invented = 0

    def swap(old: int) -> str:
        nonlocal invented
        if not 1 <= old <= len(passages):
            invented += 1
            return ""  # removed, with any opener left before it (rewrite_markers)
        order.setdefault(old, len(order) + 1)
        return f"[{order[old]}]"

    def fix(text: str) -> str:
        # Whitespace first: "[\n1]" must not become a marker after the markers are resolved.
        text = rewrite_markers(" ".join(text.split()), swap)
        return _TIGHTEN.sub("", " ".join(text.split()))

    sections = {}
    for name in SECTIONS:
        if name == OPTIONS:
            for row in memo.options:
                for column in ("benefits", "costs", "risks"):
                    setattr(row, column, fix(getattr(row, column)))
        points = [fix(p) for p in memo.sections.get(name, [])]
        sections[name] = [p for p in points if p]
    memo.sections = sections
    memo.citations = [citation_for(new, passages[old - 1]) for old, new in order.items()]
    if invented:
        extra = f"removed {invented} citation(s) to sources that do not exist"
        memo.warning = f"{memo.warning}; {extra}" if memo.warning else extra.capitalize()
    return memo
