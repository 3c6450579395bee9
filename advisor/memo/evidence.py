"""Evidence for each part of a memo, each gathered by its own retrieval.

- situation: the client's own documents only (what is true of this company today);
- guidance: the playbooks only (what the CTO's playbooks recommend);
- risks: incidents, postmortems, risk registers and board risks (client first, then playbooks);
- next steps: actions, owners and dates;
- one retrieval per option, for the evidence for and against it.

Every retrieval stays inside what the client may see (`HybridRetriever.search_within`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from advisor.answering.extractive import split_sentences
from advisor.core.models import Passage
from advisor.core.principal import scopes_for, visible
from advisor.core.settings import PLAYBOOK_SCOPE

PER_QUERY = 5  # passages per retrieval (benchmarks/calibrate_memo.py chose it for guidance too)
PER_PART: dict[str, int] = {}  # parts that read another number of passages per query
WITH_NEIGHBOURS = ("risks", "actions")  # parts that also read the chunks around their best two
NEIGHBOUR_WINDOWS = 2
NEIGHBOUR_DISCOUNT = 0.05
LEXICAL_ONLY = 0.2  # relevance of a passage only the keyword index found
_CACHE_MAX = 20_000  # sentence vectors kept per embedding model (a memo embeds ~150)
_VECTORS: dict[int, dict[str, np.ndarray]] = {}
_ROW_MIN_WORDS = 4  # a table row whose longest cell is shorter is a header, not a fact

# What each part is about, as text to embed: a sentence's fit to its part is its cosine to these.
INTENTS = {
    "risks": "risk: what could go wrong, an outage or incident, a single point of failure, "
    "people burning out or leaving, an unsupported system, a costly mistake",
    "actions": "next step: an action with an owner and a due date, to do by a deadline",
    "benefits": "benefit: this helps, improves, reduces, speeds up or prevents a problem",
    "costs": "cost: money, budget, salary, headcount, time, effort or weeks of work it takes",
}


@dataclass
class Sentence:
    text: str
    passage: int  # index into Evidence.passages
    vector: np.ndarray
    row: bool = False  # a table row read as a sentence (an action item, a roster line ...)


@dataclass
class Evidence:
    """Passages gathered for a memo (deduplicated) and which part each was retrieved for."""

    passages: list[Passage] = field(default_factory=list)
    parts: dict[str, list[int]] = field(default_factory=dict)  # part -> passage indices, ranked
    # (part, passage index) -> cosine of the passage to the query that found it for that part
    relevance: dict[tuple[str, int], float] = field(default_factory=dict)
    sentences: list[Sentence] = field(default_factory=list)
    vectors: np.ndarray | None = None  # stored embedding of each passage, row per passage

    def add(self, part: str, found: list[Passage], scores: list[float]) -> None:
        index = {p.id: i for i, p in enumerate(self.passages)}
        ranked = self.parts.setdefault(part, [])
        for p, score in zip(found, scores, strict=True):
            if p.id not in index:
                index[p.id] = len(self.passages)
                self.passages.append(p)
            i = index[p.id]
            if i not in ranked:
                ranked.append(i)
            self.relevance[(part, i)] = max(score, self.relevance.get((part, i), -1.0))

    def passage_relevance(self, i: int, parts: tuple[str, ...]) -> float:
        return max((self.relevance.get((part, i), -1.0) for part in parts), default=-1.0)

    def in_part(self, *parts: str) -> list[Sentence]:
        wanted = {i for part in parts for i in self.parts.get(part, [])}
        return [s for s in self.sentences if s.passage in wanted]


def risk_query(topic: str) -> str:
    return f"{topic} risks, incidents, outages, postmortem findings"


# A client's own risk record, whatever the topic: sentence relevance then keeps what bears on it.
RISK_RECORD = (
    "incident postmortem root cause and contributing factors; key risks; single point of "
    "failure; what went badly"
)


def action_query(topic: str) -> str:
    return f"{topic} next steps and action items with owners and dates"


def gather(
    retriever, topic: str, options: list[str], client: str | None, turns: list[str]
) -> Evidence:
    """Run each part's retrieval inside its own scope; `topic` and `options` are search text
    (see `topic.focus`)."""
    own = [client] if client else []
    every = [PLAYBOOK_SCOPE, *own]
    playbooks = [PLAYBOOK_SCOPE]
    asked = [topic, *turns[-2:]]
    jobs: list[tuple[str, str, list[str]]] = []
    if own:
        jobs += [("situation", q, own) for q in [*asked, *options]]
        jobs.append(("risks", risk_query(topic), own))
        jobs.append(("risks", RISK_RECORD, own))
    jobs += [("guidance", q, playbooks) for q in [*asked, *options]]
    jobs.append(("risks", risk_query(topic), playbooks))
    jobs.append(("actions", action_query(topic), every))
    jobs += [(f"option:{i}", option, every) for i, option in enumerate(options)]
    evidence = Evidence()
    for part, query, scopes in jobs:
        # The final scope gate: nothing of another client is quoted, sent to a model or cited.
        found = visible(
            retriever.search_within(query, scopes, client, k=PER_PART.get(part, PER_QUERY)),
            scopes_for(client),
            "memo",
        )
        scores = [p.dense_score if p.dense_score is not None else LEXICAL_ONLY for p in found]
        if part in WITH_NEIGHBOURS:
            # A postmortem's contributing factors sit next to its root cause: read around the
            # best matches, each neighbour a little less relevant than its anchor.
            widened, anchors = retriever.with_neighbours(found, NEIGHBOUR_WINDOWS)
            scores = [
                scores[a] if p.id == found[a].id else scores[a] - NEIGHBOUR_DISCOUNT
                for p, a in zip(widened, anchors, strict=True)
            ]
            found = widened
        evidence.add(part, found, scores)
    stored = retriever.vectors(evidence.passages)
    if evidence.passages and len(stored) == len(evidence.passages):
        evidence.vectors = np.asarray([stored[p.id] for p in evidence.passages], dtype=np.float32)
    return evidence


# A timeline entry ("06:04: on-call acknowledges", "21 July, 23:10: ...") is narrative, not advice.
_DANGLING = re.compile(
    r"\b(when|if|to|the|a|an|are|is|include|includes|of|for|by|as|these|following)\s*:$", re.I
)
_FILE_NAME = re.compile(r"\b[\w-]+\.(?:md|pdf|docx?|pptx?|html?|csv|txt|py|json|ya?ml)\b")
_TIMESTAMP = re.compile(r"^\W*(?:\d{1,2} \w+,? )?\d{1,2}[:.]\d{2}\b")
# A sentence that only sends the reader elsewhere ("The onboarding page has further information
# on ...", "Help us make this section better ...") states nothing a memo can cite.
_REFERENCES = re.compile(
    r"^\s*(?:further reading|references|see also|resources|useful links|reading list)\s*$", re.I
)
_POINTER = re.compile(
    r"^(?:for (?:more|further) (?:information|details)|see\b|refer to\b"
    r"|(?:you can )?(?:find|read) (?:more|further)\b|more (?:information|details) (?:is|are|can be)"
    r"|help us\b)"
    r"|\b(?:has|have|contains?|gives?) (?:further|more) (?:information|details)\b",
    re.I,
)


def candidate_sentences(text: str) -> list[tuple[str, bool]]:
    """The quotable sentences of a passage: prose sentences, and table rows read as one line
    ("Rotate the signing keys (Sam Lee, 2030-01-15)."); lead-ins, timeline entries and
    fragments dropped. Each comes with whether it is a table row."""
    out: list[tuple[str, bool]] = []
    prose: list[str] = []
    for line in text.replace("**", "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            out.extend((s, False) for s in _sentences("\n".join(prose)))
            prose.clear()
            row = _row_sentence(cells)
            if row:
                out.append((row, True))
        elif not _TIMESTAMP.match(line):
            prose.append(line)
    out.extend((s, False) for s in _sentences("\n".join(prose)))
    return out


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for s in split_sentences(text):
        # A long lead-in that ends in a colon ("Prefer a managed queue when the team is small:")
        # can stand as a sentence; a short or dangling one ("The steps are:") cannot.
        if s.endswith(":") and len(s.split()) >= 8 and not _DANGLING.search(s):
            s = s[:-1] + "."
        if s.endswith((":", "...")) or len(s.split()) < 6 or s.count(":") >= 3:
            continue
        if len(_FILE_NAME.findall(s)) >= 3 or _POINTER.search(s):
            continue  # a list of files, or a pointer elsewhere: not a point
        if s[:1].islower():  # the tail of a bulleted list ("collect the logs first ...")
            continue
        out.append(s if s[-1] in ".!?" else s + ".")
    return out


def _row_sentence(cells: list[str]) -> str | None:
    """A table row as a sentence: the longest cell leads, the short ones follow in brackets."""
    cells = [c for c in cells if c and not re.fullmatch(r"#|\d{1,3}\.?", c)]
    if not cells:
        return None
    main = max(cells, key=lambda c: len(c.split()))
    if len(main.split()) < _ROW_MIN_WORDS:
        return None
    rest = [c for c in cells if c is not main]
    text = main.rstrip(".")
    return f"{text} ({', '.join(rest)})." if rest else f"{text}."


def embed_sentences(evidence: Evidence, embeddings, only: set[int] | None = None) -> None:
    """Split the passages (all, or those in `only`) into sentences and embed them in one batch."""
    owner: dict[str, int] = {}
    rows: set[str] = set()
    for i, p in enumerate(evidence.passages):
        if only is not None and i not in only:
            continue
        if _REFERENCES.search(p.section.rsplit(">", 1)[-1]):
            continue  # a reading list names sources; it makes no claim a memo can cite
        for s, row in candidate_sentences(p.text):
            owner.setdefault(s, i)  # a sentence quoted twice belongs to the first passage
            if row:
                rows.add(s)
    pool = list(owner)
    cache = _VECTORS.setdefault(id(embeddings), {})
    todo = [s for s in pool if s not in cache]
    if todo:
        embed = getattr(embeddings, "embed_sentences", embeddings.embed_documents)
        if len(cache) + len(todo) > _CACHE_MAX:
            cache.clear()
        cache.update(zip(todo, np.asarray(embed(todo), dtype=np.float32), strict=True))
    evidence.sentences = [Sentence(s, owner[s], cache[s], row=s in rows) for s in pool]
