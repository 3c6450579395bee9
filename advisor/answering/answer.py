"""From a question to a cited answer: rewrite, retrieve, decide whether the evidence suffices,
then answer with the LLM (streamed) or offline (extractive)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from advisor.answering.abstention import evidence_is_weak
from advisor.answering.extractive import group_by_passage, select
from advisor.answering.rewrite import conversation_text, standalone_question
from advisor.core.citations import MarkerFilter, marker_numbers
from advisor.core.errors import LLMError
from advisor.core.models import Answer, Citation, Passage
from advisor.core.principal import scopes_for, visible
from advisor.core.prompts import fence, inert, load_prompt, new_boundary
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.retrieval.hybrid import HybridRetriever, Retrieval

RETRIEVE_K = 10  # ranked passages kept on the answer (the evals score @5 and @10)
NOT_COVERED = "NOT COVERED:"
OFFLINE_LEAD = "*Offline mode: key points quoted from your documents.*"
SNIPPET_CHARS = 400
NEIGHBOUR_WINDOWS = 2  # the best passages whose adjacent chunks also supply sentences


def scope_label(scope: str) -> str:
    return "Playbook" if scope == PLAYBOOK_SCOPE else f"Client: {scope}"


def _where(p: Passage) -> str:
    parts = [p.title or p.source]
    if p.section and p.section != p.title:
        parts.append(p.section)
    if p.page:
        parts.append(f"page {p.page}")
    if p.slide:
        parts.append(f"slide {p.slide}")
    return " — ".join(parts)


def citation_for(n: int, p: Passage, snippet: str | None = None) -> Citation:
    text = snippet if snippet is not None else " ".join(p.text.split())
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " ..."
    return Citation(
        n=n,
        source=p.source,
        title=p.title,
        section=p.section,
        page=p.page,
        slide=p.slide,
        snippet=text,
        scope=p.scope,
        score=round(p.score, 4),
        modified=p.mtime,
        commit=p.commit,
        root=p.root,
    )


def sources_block(passages: Sequence[Passage], boundary: str) -> str:
    """Numbered sources for a prompt, fenced by `boundary`; every document-derived field (title,
    section, file name, body) is made inert, and the header fields are kept to one line."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        header = " | ".join(
            inert(field, one_line=True) for field in (scope_label(p.scope), _where(p), p.source)
        )
        blocks.append(f"[{n}] {header}\n{inert(p.text)}")
    return fence("SOURCES", "\n\n".join(blocks), boundary)


class Answerer:
    """Answers questions; `stream` yields text deltas and finally the `Answer`."""

    def __init__(self, retriever: HybridRetriever, settings: Settings, chat=None) -> None:
        self.retriever = retriever
        self.settings = settings
        self._chat = chat

    @property
    def chat(self):
        if self._chat is None and self.settings.use_llm:
            from advisor.core.llm import ChatModel

            self._chat = ChatModel(self.settings)
        return self._chat

    def stream(
        self, question: str, client: str | None = None, history: Sequence[dict] = ()
    ) -> Iterator[str | Answer]:
        question = question.strip()
        chat = self.chat
        query = standalone_question(question, history, chat)
        retrieval = self.retriever.search(query, client=client, k=RETRIEVE_K)
        # The final scope gate, before anything is shown, quoted or sent to a model.
        scopes = scopes_for(client)
        retrieval.passages = visible(retrieval.passages, scopes, "answer passages")
        context = retrieval.passages[: self.settings.top_k]

        if evidence_is_weak(retrieval):
            answer = self._abstain(retrieval, "llm" if chat else "offline")
        elif chat is None:
            answer = self._offline(query, retrieval, scopes)
        else:
            answer = yield from self._llm(question, query, history, retrieval, context, scopes)
        answer.standalone_question = query
        if chat is None or answer.mode == "offline":
            yield answer.answer  # offline answers are ready at once: one piece
        yield answer

    # -- the three ways to answer -------------------------------------------------------------

    def _abstain(self, retrieval: Retrieval, mode: str) -> Answer:
        closest = retrieval.passages[:3]
        lines = [
            "The indexed documents don't answer this question, so I won't guess. "
            "The closest passages I found:"
        ]
        lines += [f"- {_where(p)} ({scope_label(p.scope)}) [{n}]" for n, p in enumerate(closest, 1)]
        if not closest:
            lines = ["Nothing is indexed for this scope yet: ingest documents first."]
        lines.append(
            "\nAdd a document that covers it (for the client or as a playbook) and ask again."
        )
        return Answer(
            answer="\n".join(lines),
            abstained=True,
            mode=mode,
            citations=[citation_for(n, p) for n, p in enumerate(closest, 1)],
            passages=retrieval.passages,
        )

    def _offline(
        self,
        query: str,
        retrieval: Retrieval,
        scopes: list[str],
        warning: str | None = None,
        first: int = 1,
    ) -> Answer:
        context, ranks = self.retriever.with_neighbours(
            retrieval.passages[: self.settings.top_k], around=NEIGHBOUR_WINDOWS
        )
        # Neighbours are fetched by id: the gate applies to everything quoted offline.
        allowed = {id(p) for p in visible(context, scopes, "offline answer")}
        ranked = [(p, r) for p, r in zip(context, ranks, strict=True) if id(p) in allowed]
        context, ranks = [p for p, _ in ranked], [r for _, r in ranked]
        sentences = select(query, context, self.retriever.embeddings, ranks)
        if not sentences:
            return self._abstain(retrieval, "offline")
        # One paragraph per retrieval rank (a passage and its neighbours read as one stretch of
        # the document); each chunk keeps its own numbered citation.
        paragraphs: dict[int, list[str]] = {}
        headings: dict[int, str] = {}
        citations = []
        for n, (idx, group) in enumerate(group_by_passage(sentences), start=first):
            p = context[idx]
            body = " ".join(_as_sentence(s.text) for s in group)
            headings.setdefault(ranks[idx], f"**{_where(p)}** ({scope_label(p.scope)})")
            paragraphs.setdefault(ranks[idx], []).append(f"{body} [{n}]")
            citations.append(citation_for(n, p, snippet=body))
        parts = [OFFLINE_LEAD] + [
            f"{headings[rank]}  \n{' '.join(paragraphs[rank])}" for rank in sorted(paragraphs)
        ]
        return Answer(
            answer="\n\n".join(parts),
            mode="offline",
            citations=citations,
            passages=retrieval.passages,
            warning=warning,
        )

    def _llm(
        self, question, query, history, retrieval: Retrieval, context, scopes
    ) -> Iterator[str]:
        system = load_prompt("system").render()
        context = visible(context, scopes, "llm prompt")
        boundary = new_boundary()  # per request: no document can know it in advance
        user = load_prompt("answer").render(
            question=question if query == question else f"{question}\n(Standalone: {query})",
            sources=sources_block(context, boundary),
            conversation=fence("CONVERSATION", conversation_text(history), boundary),
            boundary=boundary,
        )
        markers = MarkerFilter(range(1, len(context) + 1))
        text = ""
        shown = 0  # characters of `present(text)` already yielded
        decided = False  # the start is held back until we know if it is "NOT COVERED:"
        try:
            for piece in markers.stream(self.chat.stream([("system", system), ("user", user)])):
                text += piece
                decided = decided or len(text.lstrip()) >= len(NOT_COVERED)
                if decided:
                    out = _present(text)
                    yield out[shown:]
                    shown = len(out)
        except LLMError as exc:
            if not text:
                return self._offline(
                    query, retrieval, scopes, warning=f"{exc}; answered offline instead"
                )
            cut: LLMError | None = exc
        else:
            cut = None
        out = _present(text)
        # The filter only lets shown numbers through; the range check keeps any other text from
        # ever indexing past the sources.
        cited = sorted(n for n in set(marker_numbers(out)) if 1 <= n <= len(context))
        citations = [citation_for(n, context[n - 1]) for n in cited]
        warning = None
        if cut is not None:
            # The reply stopped part-way: keep what came, say so, and complete it offline (its
            # sources numbered after the model's, so every [n] still points at one source).
            fallback = self._offline(query, retrieval, scopes, first=len(context) + 1)
            out += f"\n\n*(The model stopped early: {cut}.)*"
            warning = f"{cut}; the answer was completed offline"
            if not fallback.abstained:
                out += f"\n\n{fallback.answer}"
                citations += fallback.citations
        if out[shown:]:
            yield out[shown:]
        return Answer(
            answer=out.strip(),
            abstained=text.lstrip().startswith(NOT_COVERED),
            mode="llm",
            citations=citations,
            passages=retrieval.passages,
            invented_markers=markers.invented,
            warning=warning,
        )


def _as_sentence(text: str) -> str:
    """List items and slide bullets get a full stop, so that quoted points don't run together."""
    return text if text.endswith((".", "!", "?", ":", ";", "...")) else f"{text}."


def _present(text: str) -> str:
    """The model's reply as shown: its NOT COVERED: sentinel becomes a plain sentence."""
    stripped = text.lstrip()
    if stripped.startswith(NOT_COVERED):
        return "The documents don't cover this. " + stripped[len(NOT_COVERED) :].lstrip()
    return stripped
