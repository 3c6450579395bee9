"""From a question to a cited answer: rewrite, retrieve, decide whether the evidence suffices,
then answer with the LLM (streamed) or offline (extractive)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from functools import partial

import numpy as np

from advisor.answering.abstention import absent_subject, content_terms, evidence_is_weak
from advisor.answering.advice import (
    LEAD_POINTS,
    LEAD_WORDS,
    PROFILE_PASSAGES,
    PROFILE_QUERY,
    WATCH_POINTS,
    Advice,
    Decision,
    Notices,
    Numbering,
    Point,
    Quote,
    about_client,
    points_of,
    quote_point,
    render,
    scoped_out,
)
from advisor.answering.extractive import (
    MAX_CANDIDATES,
    group_by_passage,
    select,
    units,
)
from advisor.answering.language import FOREIGN_NOTE, not_english
from advisor.answering.rewrite import conversation_text, parse, standalone_question
from advisor.core.citations import MarkerFilter, marker_numbers
from advisor.core.errors import LLMError
from advisor.core.models import Answer, Citation, Passage
from advisor.core.principal import scopes_for, visible
from advisor.core.prompts import fence, inert, load_prompt, new_boundary
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.retrieval.hybrid import HybridRetriever, Retrieval
from advisor.retrieval.lexical import tokenize

RETRIEVE_K = 10  # ranked passages kept on the answer (the evals score @5 and @10)
SNIPPET_CHARS = 400
NEIGHBOUR_WINDOWS = 2  # the best passages whose adjacent chunks also supply sentences
# A client sentence leads (or a decision's own sentence stands beside the memo's guidance) only
# when it is this close to the question (cosine plus term overlap, as `extractive.select`
# scores); a client risk is said when it is this close; a shorter risk line is a heading.
# benchmarks/calibrate_answers.py searched them on the tuning parts only (sample and near-topic,
# 53 items): key-fact recall, claim support and false abstention are flat over LEAD_MIN 0.3-0.5,
# WATCH_MIN 0.2-0.4 and MIN_POINT_WORDS 4-8, so the data cannot choose them and the rule keeps
# the priors. They shape how long the answer is, not whether it is right.
LEAD_MIN = 0.4
WATCH_MIN = 0.3
MIN_POINT_WORDS = 6
# A reading budget, not a fit: at most this many guidance points beside the options table (the
# table already holds three cells per option).
DECISION_GUIDANCE = 5


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
    """Answers questions; `stream` yields text deltas and finally the `Answer`.

    Seams let the service add what lives above this layer: `decide(query)` returns the memo
    engine's evidence for a decision question (options side by side), `notices(cited, retrieved,
    client)` returns the watch-out points for disagreeing or stale documents, and `risk_intent`
    is what "a risk" means as text to embed (the memo's own definition), which ranks the client's
    risks for a question about the client (none are looked for without it).
    """

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
        self,
        question: str,
        client: str | None = None,
        history: Sequence[dict] = (),
        decide: Callable[[str, str], Decision | None] | None = None,
        notices: Notices | None = None,
        unsaid: Sequence[str] = (),
        risk_intent: str | None = None,
    ) -> Iterator[str | Answer]:
        """`unsaid`: names never to echo back (other clients': an answer never names them)."""
        question = question.strip()
        chat = self.chat
        query = standalone_question(question, history, chat)
        retrieval = self.retriever.search(query, client=client, k=RETRIEVE_K)
        # The final scope gate, before anything is shown, quoted or sent to a model.
        scopes = scopes_for(client)
        retrieval.passages = visible(retrieval.passages, scopes, "answer passages")
        context = retrieval.passages[: self.settings.top_k]
        mode = "llm" if chat else "offline"

        notes: list[str] = []
        foreign = not_english(question)
        if foreign:
            notes.append(FOREIGN_NOTE)
        decision = decide(question, query) if decide is not None and not foreign else None
        # The specific subject is looked for in the user's own words (a follow-up's carried topic
        # was found in the documents already).
        absent = (
            []
            if foreign
            else absent_subject(
                question, retrieval, parse, [client or ""], fetch=self.retriever.store.get
            )
        )
        if decision is not None:
            # A term the question names inside an option is that option's (the option alone,
            # a phrase such as "jenkins", is parsed without the sentence that shows it a name).
            for case in decision.options:
                own = [t for t in absent if t.lower() in case.option.lower()]
                case.missing = list(dict.fromkeys([*case.missing, *own]))
        if decision is not None and not all(o.missing for o in decision.options):
            # A term only some options name ("adopt a message queue" or "keep the cron jobs") is
            # said in the table; a term every option needs, or one in each option, is the subject.
            absent = [
                t for t in absent if all(t.lower() in o.option.lower() for o in decision.options)
            ]
            for case in decision.options:
                case.missing = [t for t in case.missing if t not in absent]
        if not retrieval.passages:
            answer = self._abstain(retrieval, mode, client)
        elif absent:
            hidden = {t for name in unsaid for t in tokenize(name)}
            named = [t for t in absent if not set(tokenize(t)) & hidden]
            answer = self._abstain(retrieval, mode, client, absent=named)
        elif weak_evidence(retrieval, decision, foreign):
            answer = self._abstain(retrieval, mode, client)
        elif chat is None:
            answer = self._offline(
                query, retrieval, scopes, client=client, decision=decision, notices=notices,
                notes=notes, risk_intent=risk_intent,
            )  # fmt: skip
        else:
            if decision is not None:  # the memo engine's evidence on each option is shown too
                context = _with_decision(context, decision)

            offline = partial(
                self._offline, query, retrieval, scopes, client=client, decision=decision,
                notices=notices, notes=notes, risk_intent=risk_intent,
            )  # fmt: skip
            # The model's answer streams; it yields every piece of what it returns.
            answer = yield from self._llm(
                question, query, history, retrieval, context, scopes, client, offline
            )
            answer.standalone_question = query
            yield answer
            return
        answer.standalone_question = query
        yield answer.answer  # an offline answer or an abstention is ready at once: one piece
        yield answer

    # -- the three ways to answer -------------------------------------------------------------

    def _abstain(
        self, retrieval: Retrieval, mode: str, client: str | None = None, absent=()
    ) -> Answer:
        closest = retrieval.passages[:3]
        where = f"{client.title()}'s documents or the playbooks" if client else "the playbooks"
        if absent:
            names = " or ".join(f"“{t}”" for t in absent)
            first = (
                f"Nothing in {where} mentions {names}, so I won't answer from passages about "
                "something else. The closest passages I found:"
            )
        else:
            first = (
                "The indexed documents don't answer this question, so I won't guess. "
                "The closest passages I found:"
            )
        lines = [first]
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
        client: str | None = None,
        decision: Decision | None = None,
        notices: Notices | None = None,
        notes: Sequence[str] = (),
        risk_intent: str | None = None,
    ) -> Answer:
        advice = self.advise(query, retrieval, scopes, client, decision, risk_intent)
        advice.notes = list(notes)
        numbering = Numbering(first)
        if advice.is_empty():
            return self._abstain(retrieval, "offline", client)
        if notices is not None:
            cited = _cited_passages(advice)
            advice.watch += notices(cited, retrieval.passages, client)
        text = render(advice, client, numbering)
        citations = [
            citation_for(
                numbering.order[p.id], p, snippet=" ".join(numbering.quoted.get(p.id, [])) or None
            )
            for p in numbering.passages
        ]
        conflicts = [p.shown(numbering) for p in advice.watch if p.kind == "conflict"]
        stale = [p.shown(numbering) for p in advice.watch if p.kind == "stale"]
        notes_said = []
        if conflicts:
            notes_said.append("The client's documents disagree: see “Documents that disagree”.")
        if stale:
            days = self.settings.stale_after_days
            notes_said.append(f"Some sources are older than {days} days: see “Watch out”.")
        if notes_said:
            warning = " ".join([warning, *notes_said] if warning else notes_said)
        return Answer(
            answer=text,
            mode="offline",
            citations=citations,
            passages=retrieval.passages,
            warning=warning,
            conflicts=conflicts,
            stale=stale,
        )

    def advise(
        self,
        query: str,
        retrieval: Retrieval,
        scopes: list[str],
        client: str | None,
        decision: Decision | None = None,
        risk_intent: str | None = None,
    ) -> Advice:
        """The offline advice for one question: its points, not yet numbered or rendered."""
        context, ranks = self.retriever.with_neighbours(
            retrieval.passages[: self.settings.top_k], around=NEIGHBOUR_WINDOWS
        )
        # Neighbours are fetched by id: the gate applies to everything quoted offline.
        allowed = {id(p) for p in visible(context, scopes, "offline answer")}
        ranked = [(p, r) for p, r in zip(context, ranks, strict=True) if id(p) in allowed]
        context, ranks = [p for p, _ in ranked], [r for _, r in ranked]
        sentences = select(query, context, self.retriever.embeddings, ranks)
        picked = [
            (Quote(s.text, context[s.passage]), s.position)
            for _, g in group_by_passage(sentences)
            for s in g
            # For a decision, the memo engine brings the guidance on each option: a sentence of
            # the question's own retrieval must be close to the question to add to it.
            if decision is None or (s.score >= LEAD_MIN and not _heading_like(s.text))
        ]
        own = [(q, i) for q, i in picked if client and q.passage.scope == client]
        general = [(q, i) for q, i in picked if not (client and q.passage.scope == client)]
        advice = Advice()
        if client and about_client(query, client):
            own = self._client_lead(query, client, own, scopes)
        advice.lead = points_of(own)
        guidance = [q for q, _ in general]
        if client:
            guidance, scope_notes = scoped_out(
                guidance, client, lambda: self._profile(client, scopes), parse
            )
            advice.guidance = scope_notes
        position = {id(q): i for q, i in general}
        advice.guidance += points_of([(q, position[id(q)]) for q in guidance])
        if decision is not None:
            advice.options = decision.options
            advice.verdict = decision.verdict
            if client and not advice.lead:
                advice.lead = [quote_point(q) for q in decision.situation[:2]]
            said = {q.text for q in guidance}
            memo = [quote_point(q) for q in decision.recommendation[:2] if q.text not in said]
            # A follow-up ("how long would that take?") is answered by its own search first;
            # the decision's recommendation comes first for the decision itself.
            follow_up = query != decision.asked
            both = [*advice.guidance, *memo] if follow_up else [*memo, *advice.guidance]
            advice.guidance = both[:DECISION_GUIDANCE]
            advice.watch += [quote_point(q) for q in decision.risks[:WATCH_POINTS]]
            advice.next_steps = [quote_point(q) for q in decision.next_steps[:1]]
        elif client and risk_intent and about_client(query, client):
            used = {q.text for q, _ in picked} | {p.text for p in advice.lead}
            advice.watch += self._risks(query, client, scopes, used, risk_intent)
        return advice

    def _client_lead(self, query, client, own, scopes):
        """The client's own sentences that best answer the question, searched in its documents
        alone (a client's roadmap rarely ranks above a playbook written about the topic)."""
        found = visible(
            self.retriever.search_within(query, [client], client, k=3), scopes, "client lead"
        )
        have = {q.text for q, _ in own}
        extra = select(query, [*found, *(q.passage for q, _ in own)], self.retriever.embeddings)
        extra = sorted(extra, key=lambda s: -s.score)
        found = [*found, *(q.passage for q, _ in own)]
        words = sum(len(q.text.split()) for q, _ in own)
        out = list(own)
        for s in extra:
            if s.score < LEAD_MIN:
                continue
            if len(out) >= LEAD_POINTS or words + len(s.text.split()) > LEAD_WORDS:
                break
            if s.text in have:
                continue
            out.append((Quote(s.text, found[s.passage]), s.position))
            words += len(s.text.split())
        # The best-fitting of the client's own sentences leads.
        return out

    def _profile(self, client: str, scopes) -> list[Quote]:
        """Sentences of the client's documents that can say its size and stage."""
        found = visible(
            self.retriever.search_within(PROFILE_QUERY, [client], client, k=PROFILE_PASSAGES),
            scopes,
            "client profile",
        )
        return [
            Quote(text, p)
            for p in found
            for text, _ in units(p.text)
            if any(c.isdigit() for c in text) or "eries" in text or "eed" in text
        ]

    def _risks(self, query, client, scopes, used: set[str], risk_intent: str) -> list[Point]:
        """What could go wrong, from the client's incidents and risk registers."""
        found = visible(
            self.retriever.search_within(f"{query} {risk_intent}", [client], client, k=3),
            scopes,
            "client risks",
        )
        candidates = [
            Quote(t, p) for p in found for t, row in units(p.text) if not row and t not in used
        ]
        if not candidates:
            return []
        embeddings = self.retriever.embeddings
        embed = getattr(embeddings, "embed_sentences", embeddings.embed_documents)
        vectors = np.asarray(embed([q.text for q in candidates[:MAX_CANDIDATES]]))
        asked = vectors @ np.asarray(embeddings.embed_query(query))
        risky = vectors @ np.asarray(embeddings.embed_query(risk_intent))
        order = np.argsort(-(asked + risky))
        out = []
        for i in order:
            short = len(candidates[i].text.split()) < MIN_POINT_WORDS  # a heading, not a point
            if asked[i] < WATCH_MIN or short or len(out) >= WATCH_POINTS:
                continue
            out.append(quote_point(candidates[i]))
        return out

    def _llm(
        self,
        question,
        query,
        history,
        retrieval: Retrieval,
        context,
        scopes,
        client=None,
        offline: Callable[..., Answer] | None = None,
    ) -> Generator[str, None, Answer]:
        """The model writes the answer as structured output (a direct answer, situation,
        options, recommendation, risks, next step), each sentence cited, streamed: what can no
        longer change is shown as it arrives (`AnswerDraft`), and the whole is validated at the
        end. Yields every piece of the answer it returns.

        Output that is not of that shape, or cites nothing it was shown, is replaced by the
        offline answer; if part of it was shown already, that part is kept, the answer says the
        model stopped, and the offline answer completes it (its sources numbered after the
        model's, so every [n] points at one source). A reply cut mid-stream is treated alike."""
        from advisor.answering.llm_answer import AnswerDraft, LLMAnswer  # LLM mode only

        if offline is None:
            offline = partial(self._offline, query, retrieval, scopes, client=client)
        system = load_prompt("system").render()
        context = visible(context, scopes, "llm prompt")
        boundary = new_boundary()  # per request: no document can know it in advance
        user = load_prompt("answer").render(
            question=question if query == question else f"{question}\n(Standalone: {query})",
            client=client or "none (the playbooks only)",
            sources=sources_block(context, boundary),
            conversation=fence("CONVERSATION", conversation_text(history), boundary),
            boundary=boundary,
        )
        draft = AnswerDraft(len(context), client)
        try:
            try:
                for delta in self.chat.stream([("system", system), ("user", user)], LLMAnswer):
                    if piece := draft.feed(delta):
                        yield piece
            except LLMError:
                if kept := draft.cut():  # the reply stopped part-way: its last whole sentence
                    yield kept
                raise
            reply, text, markers, dropped = draft.finish()
        except LLMError as exc:
            if not draft.shown:
                answer = offline(warning=f"{exc}; answered offline instead")
                yield answer.answer
                return answer
            # Part of the model's answer was shown: keep it, say so, complete it offline.
            markers = MarkerFilter(range(1, len(context) + 1))
            markers.clean(draft.raw)  # counts the markers it invented in what it sent
            rest = offline(first=len(context) + 1)
            tail = f"\n\n*(The model stopped early: {exc}.)*"
            if not rest.abstained:
                tail += f"\n\n{rest.answer}"
            yield tail
            answer = self._llm_answer(draft.shown + tail, retrieval, context, markers)
            answer.citations += rest.citations
            answer.warning = f"{exc}; the answer was completed offline"
            return answer
        if text[len(draft.shown) :]:
            yield text[len(draft.shown) :]
        answer = self._llm_answer(text, retrieval, context, markers)
        answer.abstained = not reply.covered
        if dropped:
            answer.warning = f"Removed {dropped} uncited sentence(s) from the model's answer"
        return answer

    @staticmethod
    def _llm_answer(text: str, retrieval: Retrieval, context, markers: MarkerFilter) -> Answer:
        # The filter only lets shown numbers through; the range check keeps any other text from
        # ever indexing past the sources.
        cited = sorted(n for n in set(marker_numbers(text)) if 1 <= n <= len(context))
        return Answer(
            answer=text.strip(),
            mode="llm",
            citations=[citation_for(n, context[n - 1]) for n in cited],
            passages=retrieval.passages,
            invented_markers=markers.invented,
        )


MAX_LLM_SOURCES = 12


def _with_decision(context: list[Passage], decision: Decision) -> list[Passage]:
    """The sources for the model: the question's own, then the memo engine's for each option."""
    out = {p.id: p for p in context}
    quotes = [q for o in decision.options for q in o.cells.values() if q is not None]
    for q in [*quotes, *decision.risks, *decision.next_steps]:
        if len(out) < MAX_LLM_SOURCES:
            out.setdefault(q.passage.id, q.passage)
    return list(out.values())


def _heading_like(text: str) -> bool:
    """A short line without a full stop is a heading or a label, not a point to quote."""
    return len(text.split()) <= 8 and not text.rstrip().endswith((".", "!", "?", ":", ";"))


def weak_evidence(retrieval: Retrieval, decision: Decision | None, foreign: bool) -> bool:
    """Too little to answer from. A decision needs evidence on one of its options, and its
    retrieval must not be weak once the terms only one option names (and the table says no
    document mentions) are set aside; a question in another language gets the best attempt."""
    if decision is not None:
        lexicon = retrieval.lexicon
        terms = [set(content_terms(o.option)) for o in decision.options]
        shared = set.intersection(*terms) if terms else set()
        # A word no document holds that only some options use ("hire an SRE", "invest in ...")
        # says that option is not covered; the table says so, and the others still stand.
        unknown = [t for ts in terms for t in ts - shared if t not in lexicon]
        return not decision_has_evidence(decision) or evidence_is_weak(retrieval, ignore=unknown)
    return not foreign and evidence_is_weak(retrieval)


def decision_has_evidence(decision: Decision) -> bool:
    """A decision is answered when the sources speak to at least one of its options."""
    return any(any(q is not None for q in o.cells.values()) for o in decision.options)


def _cited_passages(advice: Advice) -> list[Passage]:
    out: list[Passage] = []
    for p in [*advice.lead, *advice.guidance, *advice.watch, *advice.next_steps]:
        out += p.passages
    for o in advice.options:
        out += [q.passage for q in o.cells.values() if q is not None]
    return out
