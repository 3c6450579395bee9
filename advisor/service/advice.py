"""The ask path's two additions from above the answering layer, handed to the answerer as seams:

- decisions ("X or Y?", "Should we ...?", "whether to ...", "move off Z") are read and evidenced
  by the memo's own engine (`advisor.memo.topic.find_options`, `advisor.memo.evidence.gather`,
  `advisor.memo.offline.assemble`): one option parser and one evidence gatherer for the memo, the
  chat and the API alike;
- the watch-out notices: documents of the client that disagree (the assessment's
  `find_conflicts`, as given) and stale sources, said in words with both sides cited.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from advisor.answering.abstention import absent_terms, asked_part
from advisor.answering.advice import Decision, OptionCase, Point, Quote, conflict_point, stale_point
from advisor.answering.rewrite import parse
from advisor.core.citations import marker_numbers, strip_markers
from advisor.core.models import Passage
from advisor.core.principal import scopes_for
from advisor.core.settings import PLAYBOOK_SCOPE

# Design bounds, not fits (no eval metric can choose them): at most two disagreeing pairs are
# said (the closest; more would crowd out the answer), and the sentences of only the best three
# passages per memo part are embedded for a chat answer (a bound on latency: the memo itself,
# which has no such bound, reads them all).
MAX_CONFLICTS = 2
SENTENCES_PER_PART = 3
_WH = ("WDT", "WP", "WP$", "WRB")
_WH_WORD = re.compile(r"^\W*(what|when|who|whom|whose|which|why|how|where)\b", re.I)
# Closed-class words a decision is asked with; only a question holding one is parsed.
_MAY_DECIDE = re.compile(
    r"\b(should|shall|can|could|would|will|must|may|do|does|is|are|whether|vs\.?|versus)\b", re.I
)


def decision_clause(question: str) -> str | None:
    """The part of a question that asks for a decision, or None when it asks something else.

    A decision is asked with a modal or do-support before its subject ("Should we ...", "Do we
    need to ...", "..., should we rent the GPUs or buy them?"), or with "whether", "vs" or
    "versus"; a wh-question ("When is Elixir or Scala worth it?", "What does a tech lead own
    versus a manager?") asks for facts, not a choice. A leading phrase before the modal ("For our
    iOS apps, should we ...") frames the decision and is left out of it.
    """
    text = asked_part(question).strip()
    if not _MAY_DECIDE.search(text) or _WH_WORD.match(text):
        return None  # no modal, do-support, "whether" or "vs", or a wh-question: no parse needed
    doc = parse(text)
    words = [t for t in doc if not t.is_punct]
    if not words or words[0].tag_ in _WH:
        return None
    lowered = text.lower()
    if " whether " in f" {lowered} " or " vs" in lowered or " versus " in lowered:
        return text
    for t in doc:
        starts_clause = t.i == 0 or doc[t.i - 1].text in (",", ";", ":")
        if not starts_clause:
            continue
        asks = t.tag_ == "MD" or (t.lemma_.lower() in ("do", "be") and t.dep_ in ("aux", "ROOT"))
        subject = t.i + 1 < len(doc) and doc[t.i + 1].dep_ in ("nsubj", "nsubjpass", "expl")
        if asks and subject:
            if t.lemma_.lower() == "be" and doc[t.i + 1].lower_ != "it":
                return None  # "Is our setup good enough?" judges, it does not choose
            return doc[t.i :].text
    return None


_AFTER_MARKER = re.compile(r"(?<=\])[.!?]?\s+")


def _quotes(text: str, passages: Sequence[Passage]) -> list[Quote]:
    """A memo point ("One [2]. Two [3].") as quotes, each of the passage its own marker names."""
    out = []
    for piece in _AFTER_MARKER.split(text):
        q = _quote(piece, passages)
        if q is not None:
            out.append(q)
    return out


def _quote(text: str, passages: Sequence[Passage]) -> Quote | None:
    """One cited sentence ("text [n].") as a quote of the passage its marker names."""
    numbers = [n for n in marker_numbers(text) if 1 <= n <= len(passages)]
    if not numbers:
        return None
    body = " ".join(strip_markers(text, "").split()).replace(" .", ".").strip()
    if body and body[-1] not in ".!?":
        body += "."
    return Quote(body, passages[numbers[0] - 1])


def _last_decision(history: Sequence[dict[str, str]]) -> str | None:
    """The decision clause of the user's last self-contained turn, if it asked for one."""
    from advisor.answering.rewrite import looks_like_followup, previous_questions

    for turn in reversed(previous_questions(history)):
        if not looks_like_followup(turn):
            return decision_clause(turn)
    return None


def make_decide(advisor, client: str | None, history: Sequence[dict[str, str]]):
    """The `decide(query)` seam: the memo engine's evidence for a decision question."""

    def decide(question: str, query: str) -> Decision | None:
        from advisor.memo.topic import find_options

        clause = decision_clause(query)
        options = find_options(clause) if clause else []
        if len(options) < 2 and query != question:
            # A follow-up ("how long would that take?") of a decision asks about its options.
            earlier = _last_decision(history)
            if earlier is not None:
                options = find_options(earlier)
                clause = f"{question} {earlier}"
        if len(options) < 2:
            return None
        from advisor.memo.evidence import embed_sentences, gather
        from advisor.memo.offline import assemble, worth_reading
        from advisor.memo.topic import Queries, focus

        retriever, embeddings = advisor.retriever, advisor.embeddings
        index = retriever.lexical(scopes_for(client))
        known = [client] if client else []
        missing = [absent_terms(o, parse, index, known, retriever.store.get) for o in options]
        if all(missing):  # no option's subject is in any document: nothing to gather
            return Decision(
                options=[OptionCase(o, {}, m) for o, m in zip(options, missing, strict=True)]
            )
        queries = Queries(focus(clause, client), [focus(o, client) for o in options])
        evidence = gather(retriever, queries.topic, queries.options, client, [])
        if not evidence.passages:
            return None
        # Read the best few passages of each part only: a chat answer must be quick.
        best = {i for ranked in evidence.parts.values() for i in ranked[:SENTENCES_PER_PART]}
        embed_sentences(
            evidence, embeddings, only=best & worth_reading(evidence, queries, embeddings)
        )
        memo = assemble(evidence, clause, options, client, embeddings, queries, missing)
        passages = evidence.passages
        cases = []
        for row, lacking in zip(memo.options, missing, strict=True):
            cells = {c: _quote(getattr(row, c), passages) for c in ("benefits", "costs", "risks")}
            cases.append(OptionCase(row.option, cells, lacking))

        def quotes(name: str) -> list[Quote]:
            return [q for t in memo.sections.get(name, []) for q in _quotes(t, passages)]

        return Decision(
            options=cases,
            risks=quotes("Risks"),
            next_steps=quotes("Next steps"),
            recommendation=quotes("Recommendation"),
            situation=quotes("Context"),
            asked=query if decision_clause(query) else "",
            verdict=memo.verdict,
        )

    return decide


def risk_intent() -> str:
    """What "a risk" means, as text to embed: the memo's risks part, the one definition (the
    answer's watch-out ranks a client's risks by it)."""
    from advisor.memo.evidence import INTENTS

    return INTENTS["risks"]


def make_notices(advisor) -> Callable[[Sequence[Passage], Sequence[Passage], str | None], list]:
    """The `notices(cited, retrieved, client)` seam: disagreeing and stale documents, in words."""

    def notices(cited, retrieved, client) -> list[Point]:
        points: list[Point] = []
        cited_docs = {p.doc_id for p in cited if p.scope != PLAYBOOK_SCOPE}
        own = [p for p in [*cited, *retrieved] if p.scope != PLAYBOOK_SCOPE]
        own = list({p.id: p for p in own}.values())
        if cited_docs:
            from advisor.assessment.notices import conflicts_among

            for c in conflicts_among(own, advisor.embeddings):
                if {c.first.doc_id, c.second.doc_id} & cited_docs and len(points) < MAX_CONFLICTS:
                    points.append(
                        conflict_point(
                            c.first,
                            c.first_value,
                            c.first_sentence,
                            c.second,
                            c.second_value,
                            c.second_sentence,
                            client,
                        )  # fmt: skip
                    )
        now = time.time()
        seen: set[str] = set()
        quoted = [*cited, *(p for point in points for p in point.passages)]
        for p in quoted:
            if p.mtime is None or p.doc_id in seen:
                continue
            seen.add(p.doc_id)
            days = int((now - p.mtime) // 86400)
            if days > advisor.settings.stale_after_days:
                points.append(stale_point(p, days, client))
        return points

    return notices
