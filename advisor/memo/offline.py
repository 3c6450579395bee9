"""The offline memo: each section quoted from its own evidence, the options side by side, and
the gaps listed as open questions instead of filled with off-topic sentences."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from advisor.answering.support import SupportScorer
from advisor.core.settings import PLAYBOOK_SCOPE
from advisor.memo.evidence import INTENTS, Evidence, Sentence
from advisor.memo.model import OPEN_QUESTIONS, OPTION_COLUMNS, OPTIONS, Memo, OptionRow
from advisor.memo.topic import Queries
from advisor.retrieval.lexical import tokenize

MIN_PASSAGE = 0.25  # cosine of a passage to the topic or an option: below, it is off-topic...
MIN_OWN_PASSAGE = 0.2  # (the client's own documents are its situation: a lower floor for them)
PASSAGE_WINDOW = 0.15  # ...and so is one this far below the best passage...
# A playbook document this far below the best-matching playbook is about another subject, however
# well one sentence shares the topic's words. The best playbooks for a decision are one or two
# documents; their fit to the topic is measured on the stored passage vectors, so a sentence
# cannot talk its way past this bar. (A client's own documents are exempt: they are its
# situation, and rarely match a question as closely.) Chosen by benchmarks/calibrate_memo.py on
# the tuning topics only (the highest key-fact recall with off-topic points at or under 10%).
DOCUMENT_WINDOW = 0.05
READ_MARGIN = 0.1  # passages further below the bar are not even split into sentences
MIN_RELEVANCE = 0.45  # ...unless the sentence itself is this close to the topic or an option
SENTENCE_WEIGHT = 0.5
RIVAL_MARGIN = 0.03
# An option cell quotes a sentence only when it supports that option: the passage-level support
# score (advisor/answering/support.py: the mean of the sentence's cosine to the option and the
# IDF-weighted share of the option's key terms it states) reaches this. Sharing the decision's
# topic is not enough: a hiring plan's line about a new leadership role scores under 0.1 for
# growing the on-call rotation. Chosen by benchmarks/calibrate_memo.py --option-support on the
# tuning topics only.
OPTION_SUPPORT = 0.1
DUPLICATE = 0.85  # cosine above which two sentences say the same thing
CAPACITY = {"Context": 3, "Recommendation": 3, "Risks": 4, "Next steps": 4}

# Wording that marks a sentence's kind; a mild bonus on top of meaning, never the only signal.
_CUES = {
    "guidance": r"\b(recommend\w*|should|must|need\w*|prefer\w*|default|rule of thumb|aim for|"
    r"best|always|never|don't|do not|avoid|target|at least|at most|only when|when)\b",
    "risks": r"\b(risks?|risky|fail\w*|outages?|incidents?|sev ?\d|danger\w*|pitfalls?|mistakes?|"
    r"debt|single points? of failure|bus factor|burn\w*|breach\w*|attrition|quit|lock-in|"
    r"downtime|expensive|costly|bottlenecks?|never|should not|shouldn't)\b",
    # An action item is an imperative (see `_imperative`) or a dated line.
    "actions": r"\((?:[^()]*,\s*)?\d{4}-\d{2}-\d{2}\)\.$|\b(by|in|before) (the end of )?(q[1-4]|"
    r"january|february|march|april|may|june|july|august|september|october|november|"
    r"december)\b|\bwithin \w+ (hours|days|weeks|months)\b|\bnext (quarter|month|week)\b",
    "benefits": r"\b(helps?|improv\w*|reduc\w*|faster|cheaper|prevent\w*|so that|gives?|"
    r"enables?|protects?|saves?|lets?|simpler|safer|fewer|lower|when|"
    r"recommend\w*|prefer\w*|default|best)\b",
    "costs": r"(£|\$|€|\b\d+k\b|\b(costs?|budget|salar\w*|spend|pay|paid|price\w*|"
    r"fees?|hire|hiring|headcount|weeks?|months?|hours?|effort|time)\b)",
}
_HEADINGS = {
    "risks": re.compile(
        r"risk|contributing|root cause|went badly|weakness|single point|lessons|concern", re.I
    ),
    "actions": re.compile(r"action|next step|plan|milestone|priorit|follow.?up", re.I),
}
HEADING_BONUS = 0.1
_DATED = re.compile(r"\b(\d{4}-\d{2}-\d{2}|q[1-4] \d{4}|\d{1,2} \w+ \d{4})\b", re.I)
_CUE_RES = {name: re.compile(rx, re.I) for name, rx in _CUES.items()}
CUE_BONUS = 0.08
TERM_BONUS = 0.05  # per topic word a sentence shares, at most two
INTENT_WEIGHT = 0.3


def _imperative(sentence: str) -> bool:
    """An instruction ("Rotate the keys by March.", "Add a CI check."): its first word is a verb
    in its base form, by spaCy's tagger (cached per sentence)."""
    from advisor.memo.nlp import tags

    first = tags(sentence)[:1]
    return first == ["VB"]


def cite(sentence: str, n: int) -> str:
    """The sentence with its marker before the final punctuation: 'Do X [2].'"""
    if sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


class _Picker:
    """Chooses sentences for sections, never the same fact twice across the memo's prose."""

    def __init__(self) -> None:
        self.taken: list[np.ndarray] = []

    def fresh(self, s: Sentence) -> bool:
        return all(float(s.vector @ other) <= DUPLICATE for other in self.taken)

    def pick(
        self, ranked: list[tuple[float, Sentence]], room: int, per_passage: int = 2
    ) -> list[Sentence]:
        out: list[Sentence] = []
        for _, s in ranked:
            if len(out) >= room:
                break
            if sum(1 for o in out if o.passage == s.passage) >= per_passage:
                continue  # spread a section over its sources
            if self.fresh(s):
                out.append(s)
                self.taken.append(s.vector)
        return out


def _query(embeddings, text: str) -> np.ndarray:
    return np.asarray(embeddings.embed_query(text), dtype=np.float32)


def _fits(evidence: Evidence, queries: Queries, embeddings):
    """How much each passage (heading context and text, as stored) is about the topic or an
    option, whatever the wording of the query that found it; the bar a passage must reach; and
    each document's best passage."""
    q_topic = _query(embeddings, queries.topic)
    q_options = [_query(embeddings, o) for o in queries.options]
    if evidence.vectors is not None:
        about = evidence.vectors @ np.stack([q_topic, *q_options]).T
    else:  # a store without vectors: fall back to the scores the retrieval gave
        about = np.asarray(
            [
                [evidence.passage_relevance(i, tuple(evidence.parts))] * (1 + len(q_options))
                for i in range(len(evidence.passages))
            ]
        )
    topic_fit = about.max(axis=1)
    doc_fit: dict[str, float] = {}
    for i, p in enumerate(evidence.passages):
        doc_fit[p.doc_id] = max(doc_fit.get(p.doc_id, -1.0), float(topic_fit[i]))
    return q_topic, q_options, about, topic_fit, doc_fit


def focused_documents(evidence: Evidence, doc_fit: dict[str, float]) -> set[str]:
    """The documents a memo may quote: every client document, and the playbooks within
    `DOCUMENT_WINDOW` of the best-matching playbook."""
    playbook = {p.doc_id: doc_fit[p.doc_id] for p in evidence.passages if p.scope == PLAYBOOK_SCOPE}
    best = max(playbook.values(), default=0.0)
    return {p.doc_id for p in evidence.passages} - {
        doc for doc, fit in playbook.items() if fit < best - DOCUMENT_WINDOW
    }


def _bar(topic_fit: np.ndarray, members: set[int], floor: float = MIN_PASSAGE) -> float:
    """What a passage of these must reach: relative to the best of them, since the small
    embedding model's cosines shift from topic to topic (and a client's own documents rarely
    match a question as closely as a playbook written about it)."""
    best = max((float(topic_fit[i]) for i in members), default=0.0)
    return max(floor, best - PASSAGE_WINDOW)


def worth_reading(evidence: Evidence, queries: Queries, embeddings) -> set[int]:
    """The passages whose sentences can reach the memo: near the bar, or in a document that
    reaches it. Only these are split and embedded, which bounds a memo's cost."""
    _, _, _, topic_fit, doc_fit = _fits(evidence, queries, embeddings)
    focused = focused_documents(evidence, doc_fit)
    out: set[int] = set()
    for part, members in evidence.parts.items():
        floor = MIN_OWN_PASSAGE if part == "situation" else MIN_PASSAGE
        bar = _bar(topic_fit, set(members), floor)
        out |= {
            i
            for i in members
            if evidence.passages[i].doc_id in focused
            and (topic_fit[i] >= bar - READ_MARGIN or doc_fit[evidence.passages[i].doc_id] >= bar)
        }
    return out


def assemble(
    evidence: Evidence,
    topic: str,
    options: list[str],
    client: str | None,
    embeddings,
    queries: Queries,
    absent: Sequence[Sequence[str]] = (),
) -> Memo:
    """Sections from the evidence gathered for them; empty where nothing relevant was found.
    `absent[i]`: option i's specific terms that no visible document contains
    (`advisor.answering.abstention.absent_terms`); such an option's cells stay empty, since no
    passage can be about it."""
    absent = list(absent) or [[] for _ in options]
    q_topic, q_options, about, topic_fit, doc_fit = _fits(evidence, queries, embeddings)
    focused = focused_documents(evidence, doc_fit)
    intent = {name: _query(embeddings, text) for name, text in INTENTS.items()}
    terms = [set(tokenize(t)) for t in [queries.topic, *queries.options]]
    words = [set(tokenize(s.text)) for s in evidence.sentences]

    def sentence_relevance(j: int, targets: list[np.ndarray], wanted: list[set[str]]) -> float:
        s = evidence.sentences[j]
        cosine = max(float(s.vector @ q) for q in targets)
        # The topic's own words count too (the retriever is hybrid for the same reason).
        overlap = max(len(t & words[j]) for t in wanted)
        return cosine + min(TERM_BONUS * overlap, 2 * TERM_BONUS)

    def ranked(parts: tuple[str, ...], kind: str | None, need_cue: bool = False, by_document=False):
        """(score, sentence) for the sentences of the passages these parts retrieved. A passage
        must be about the topic, or (`by_document`: risks, action items) sit in a document that
        is: a postmortem's contributing factors rarely repeat the words of the decision."""
        out = []
        members = {i for part in parts for i in evidence.parts.get(part, [])}
        bar = _bar(topic_fit, members, MIN_OWN_PASSAGE if parts == ("situation",) else MIN_PASSAGE)
        for j, s in enumerate(evidence.sentences):
            if s.passage not in members or evidence.passages[s.passage].doc_id not in focused:
                continue
            # A table row reads as a fact only when it is an action item with a date.
            if s.row and not (kind == "actions" and _DATED.search(s.text)):
                continue
            cue = bool(kind and _CUE_RES[kind].search(s.text))
            if kind == "actions" and not cue:
                cue = _imperative(s.text)
            if need_cue and not cue:
                continue
            found = float(topic_fit[s.passage])
            document = doc_fit[evidence.passages[s.passage].doc_id]
            gate = document if by_document else found
            rel = sentence_relevance(j, [q_topic, *q_options], terms)
            if gate < bar and rel < MIN_RELEVANCE:
                continue  # neither the passage nor the sentence bears on the topic
            score = found + SENTENCE_WEIGHT * rel + CUE_BONUS * cue
            heading = _HEADINGS.get(kind or "")
            if heading and heading.search(evidence.passages[s.passage].section):
                score += HEADING_BONUS  # a risk register, contributing factors, action items
            if kind in intent:
                score += INTENT_WEIGHT * float(s.vector @ intent[kind])
            out.append((score, s))
        return sorted(out, key=lambda t: -t[0])

    picker = _Picker()
    chosen: dict[str, list[Sentence]] = {}
    situation = ("situation",) if client else ("guidance",)
    chosen["Context"] = picker.pick(ranked(situation, None), CAPACITY["Context"])
    risks = ranked(("risks", "situation"), "risks", need_cue=True, by_document=True)
    if client:
        # The client's own risks first (its incidents, risk register, board risks), then what
        # the playbooks warn about in general.
        own = [(x, s) for x, s in risks if evidence.passages[s.passage].scope == client]
        chosen["Risks"] = picker.pick(own, CAPACITY["Risks"] - 1)
        rest = [(x, s) for x, s in risks if evidence.passages[s.passage].scope != client]
        chosen["Risks"] += picker.pick(rest, CAPACITY["Risks"] - len(chosen["Risks"]))
    else:
        chosen["Risks"] = picker.pick(risks, CAPACITY["Risks"])
    chosen["Recommendation"] = picker.pick(
        ranked(("guidance",), "guidance", need_cue=True), CAPACITY["Recommendation"], 1
    )
    chosen["Next steps"] = picker.pick(
        ranked(("actions", "risks", "guidance"), "actions", need_cue=True, by_document=True),
        CAPACITY["Next steps"],
    )

    rows = []
    in_rows: set[str] = set()  # a sentence that fits two options says nothing about either one
    scorer = SupportScorer(embeddings)
    for i, option in enumerate(options):
        row = OptionRow(option=option)
        rows.append(row)
        if absent[i]:
            continue  # what the retriever found for it is about something else
        used: list[np.ndarray] = []
        mine = f"option:{i}"
        supported = option_support(evidence, mine, queries.options[i], scorer)
        for column in ("risks", "costs", "benefits"):
            best: tuple[float, Sentence] | None = None
            for score, s in ranked((mine,), column, need_cue=True):
                if supported.get(s.text, 0.0) < OPTION_SUPPORT:
                    continue  # shares the topic, not this option
                # A cell belongs to its option: about it, and not more about another option.
                fit = about[s.passage, 1:]
                if len(fit) > 1 and max(np.delete(fit, i)) > fit[i] + RIVAL_MARGIN:
                    continue
                if s.text in in_rows or any(float(s.vector @ u) > DUPLICATE for u in used):
                    continue
                j = evidence.sentences.index(s)
                score += SENTENCE_WEIGHT * sentence_relevance(j, [q_options[i]], [terms[i + 1]])
                if best is None or score > best[0]:
                    best = (score, s)
            if best is not None:
                used.append(best[1].vector)
                in_rows.add(best[1].text)
                setattr(row, column, cite(best[1].text, best[1].passage + 1))

    sections: dict[str, list[str]] = {}
    for name, picks in chosen.items():
        points = [cite(s.text, s.passage + 1) for s in picks]
        sections[name] = (
            [" ".join(points)] if name in ("Context", "Recommendation") and points else points
        )
    sections[OPTIONS] = []
    sections[OPEN_QUESTIONS] = open_questions(sections, rows, client, absent)
    return Memo(
        topic=topic, client=client, mode="offline", sections=sections, options=rows,
        verdict=verdict(rows, absent),
    )  # fmt: skip


def option_support(
    evidence: Evidence, part: str, option: str, scorer: SupportScorer
) -> dict[str, float]:
    """{sentence: its support score for `option`} over the sentences of the passages retrieved
    for that option (they are the pool that weighs the option's terms by rarity)."""
    members = set(evidence.parts.get(part, []))
    pool = [s for s in evidence.sentences if s.passage in members]
    if not pool:
        return {}
    found = scorer.scores(option, [s.text for s in pool], np.stack([s.vector for s in pool]))
    return {s.text: float(x) for s, x in zip(pool, found, strict=True)}


def verdict(rows: list[OptionRow], absent: Sequence[Sequence[str]]) -> str:
    """What the options table shows about the choice, said in words: which options the sources
    document (and which of their benefits, costs and risks), which they cannot weigh because
    nothing mentions them, and so whether the documents decide. Offline, the memo does not judge
    a benefit against a risk: it says plainly when the documents alone do not settle it."""
    if len(rows) < 2:
        return ""
    parts, documented, absent_before = [], [], False
    for row, lacking in zip(rows, absent, strict=True):
        have = [c for c in OPTION_COLUMNS if getattr(row, c)]
        # "they" only right after a clause whose subject is the documents
        docs = "they" if parts and not absent_before else "the documents"
        absent_before = bool(lacking)
        if lacking:
            docs = "them" if docs == "they" else docs
            parts.append(
                f'nothing in {docs} mentions {_quoted(lacking)}, so "{row.option}" cannot be weighed'
            )
        elif have:
            documented.append(row.option)
            parts.append(f'{docs} state the {_listed(have)} of "{row.option}"')
        else:
            parts.append(f'{docs} say nothing of the benefits, costs or risks of "{row.option}"')
    said = "; ".join(parts)
    said = said[:1].upper() + said[1:] + "."
    if len(documented) == 1:
        return (
            f'{said} So they can say what "{documented[0]}" involves, not whether it beats the '
            "alternative."
        )
    if documented:
        return (
            f"{said} The documents alone do not settle the choice: weigh the table's cells "
            "against each other."
        )
    return f"{said} The documents do not decide this choice."


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _quoted(terms: Sequence[str]) -> str:
    return " or ".join(f"'{t}'" for t in terms)


def open_questions(
    sections: dict[str, list[str]],
    rows: list[OptionRow],
    client: str | None,
    absent: Sequence[Sequence[str]],
) -> list[str]:
    """What the documents do not settle, said plainly (`absent`: as `assemble` takes it)."""
    out: list[str] = []
    if not rows:
        out.append(
            "Which options are on the table? The topic names none; phrase it as a choice "
            '("X or Y", "whether to X", "build vs buy") to compare them side by side.'
        )
    for row, lacking in zip(rows, absent, strict=True):
        missing = [c for c in OPTION_COLUMNS if not getattr(row, c)]
        if lacking:
            out.append(
                f'What would "{row.option}" bring, cost and risk here? No document mentions '
                f"{_quoted(lacking)}, so the sources cannot weigh it; add what you know of it."
            )
        elif missing:
            what = " and ".join(missing) if len(missing) <= 2 else "benefits, costs and risks"
            out.append(f'What are the {what} of "{row.option}"? No retrieved source covers them.')
    if client and not sections.get("Context"):
        out.append(f"What is {client}'s current situation here? None of its documents covers it.")
    if not client:
        out.append(
            "Which client is this for? Only the playbooks were used; pick a client to add its documents."
        )
    gaps = {
        "Recommendation": "What do the playbooks recommend here? None of them addresses it directly.",
        "Risks": "What could go wrong? No incident, postmortem or risk in the sources covers it.",
        "Next steps": "Who does what, by when? The sources name no owners or dates for this.",
    }
    out += [question for name, question in gaps.items() if not sections.get(name)]
    return out
