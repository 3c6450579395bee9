"""Claim-level support: is each claim backed by the passage it cites?

A claim is a sentence of an answer (split by the product's one sentence splitter) or a point of a
memo. It is cited by the markers it carries; a sentence without markers is covered by the next
marker in its paragraph (an offline answer cites a run of quoted sentences once, at its end). A
claim with no marker at all cites nothing, so nothing supports it.

A claim is supported when the cited passages (their heading context and text, as indexed) contain
every number and every name it states, and at least `CONTENT_SHARE` of its other content words
(stemmed, stop words left out). All matching is by whole words (`evals.metrics.words`): "Java" is
not found in "JavaScript". The check is independent of the product: it reads the indexed text of
every cited document from the store and never the answerer's own idea of what it quoted.

This is the offline faithfulness measure. It cannot tell a paraphrase that changes the meaning
from one that keeps it; an LLM judge (`--judge llm`, with a real model) can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from advisor.core.citations import MARKER, marker_numbers, strip_markers
from advisor.core.models import Citation
from advisor.core.sentences import sentences
from evals.metrics import words

CONTENT_SHARE = 2 / 3  # of a claim's content words (names and numbers: all) found in the passage
# A line that is only formatting: a bold or italic heading, possibly with a "(Playbook)" label,
# or a Markdown heading. It introduces claims; it is not one.
_FORMAT_ONLY = re.compile(r"^\s*(?:\*{1,2}[^*\n]+\*{1,2}\s*(?:\([^()\n]*\))?|#{1,6}\s.*)\s*$")
_RAW_TOKEN = re.compile(r"[^\W_]+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^[\s|:-]+$")


def _table_cells(answer: str) -> str:
    """A Markdown table read as claims: each body cell is a paragraph of its own (its markers
    cite it, not its neighbours); the header row and the first column name what the cells are
    about, like a heading, and state nothing."""
    lines = answer.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if not _TABLE_ROW.match(line):
            out.append(line)
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _TABLE_RULE.match(line) or (
            _TABLE_ROW.match(following) and _TABLE_RULE.match(following)
        ):
            continue  # the rule under the header, or the header itself
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out += [part for cell in cells[1:] for part in ("", cell, "")]
    return "\n".join(out)


@cache
def _stop_words() -> frozenset[str]:
    from advisor.core.nlp import import_spacy

    import_spacy()
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@dataclass(frozen=True)
class Units:
    """What a claim states: its numbers, its names and its other content words."""

    numbers: frozenset[str]
    names: frozenset[str]
    content: frozenset[str]

    @property
    def empty(self) -> bool:
        return not (self.numbers or self.names or self.content)


def units(claim: str) -> Units:
    """The numbers, names (capitalised or mixed-case words past the first) and stemmed content
    words of a claim, markers left out."""
    text = strip_markers(claim, " ")
    stop = _stop_words()
    raw = _RAW_TOKEN.findall(text)
    names = {
        w.casefold()
        for i, w in enumerate(raw)
        if not any(c.isdigit() for c in w)
        and (any(c.isupper() for c in w[1:]) or (i > 0 and w[:1].isupper()))
    }
    numbers, content = set(), set()
    for w in words(text):
        if any(c.isdigit() for c in w):
            numbers.add(w)
        elif w in names or w in stop or len(w) < 2 or not w.isalnum():
            continue
        else:
            content.add(_stem(w))
    return Units(frozenset(numbers), frozenset(_stem(n) for n in names), frozenset(content))


@dataclass
class Evidence:
    """A passage text's whole words, as exact forms and stems."""

    exact: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, texts: Iterable[str]) -> Evidence:
        exact = {w for t in texts for w in words(t)}
        return cls(exact, {_stem(w) for w in exact})


def supported(claim: str, evidence: Evidence) -> bool:
    """True when the evidence states the claim's numbers, names and most of its content words."""
    u = units(claim)
    if not u.numbers <= evidence.exact or not u.names <= evidence.stems:
        return False
    if not u.content:
        return True
    return len(u.content & evidence.stems) >= CONTENT_SHARE * len(u.content)


def answer_claims(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence, the marker numbers that cite it) for every claim of an answer.

    The text is cut at its markers first: a marker cites the sentences written since the last
    one (an offline answer writes "First. Second. [1]", a model "First [1]. Second [2]."), and
    markers in a row ("[1][2]") cite the same sentences together. A Markdown table's cells are
    claims one by one (`_table_cells`).
    """
    out: list[tuple[str, list[int]]] = []
    for paragraph in re.split(r"\n\s*\n", _table_cells(answer)):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        body = " ".join(line for line in lines if not _FORMAT_ONLY.match(line))
        position = 0
        last: list[tuple[str, list[int]]] = []  # the claims the previous marker cited
        for marker in MARKER.finditer(body):
            numbers = marker_numbers(marker.group(0))
            written = [s for s in sentences(body[position : marker.start()]) if not units(s).empty]
            if written:
                last = [(s, list(numbers)) for s in written]
                out += last
            else:
                for _, cited in last:
                    cited += numbers
            position = marker.end()
        out += [(s, []) for s in sentences(body[position:]) if not units(s).empty]
    return out


class PassageTexts:
    """The indexed text of every chunk, by document, to look up what a citation points at."""

    def __init__(self, chunks: Iterable) -> None:
        self._by_doc: dict[tuple[str, str], list] = {}
        for c in chunks:
            self._by_doc.setdefault((c.root, c.source), []).append(c)

    @classmethod
    def from_store(cls, store) -> PassageTexts:
        scopes = sorted({s["scope"] for s in store.source_stats()})
        return cls(store.chunks_in(scopes))

    def texts(self, citation: Citation) -> list[str]:
        """The chunks a citation points at: its document's chunks under its section (and on its
        page or slide, when it names one)."""
        chunks = self._by_doc.get((citation.root, citation.source), [])
        return [
            c.context_text()
            for c in chunks
            if (not citation.section or c.section == citation.section)
            and (citation.page is None or c.page == citation.page)
            and (citation.slide is None or c.slide == citation.slide)
        ]


def claim_support(
    claims: Sequence[tuple[str, Sequence[int]]],
    citations: Mapping[int, Citation],
    passages: PassageTexts,
) -> list[bool]:
    """For each (claim, cited numbers): whether the passages it cites support it. A number that
    names no citation supports nothing."""
    out = []
    for claim, numbers in claims:
        texts = [
            t
            for n in dict.fromkeys(numbers)
            if n in citations
            for t in passages.texts(citations[n])
        ]
        out.append(bool(texts) and supported(claim, Evidence.of(texts)))
    return out


def support_share(
    answer: str, citations: Sequence[Citation], passages: PassageTexts
) -> float | None:
    """Share of an answer's claims that their cited passages support (None: no claims)."""
    claims = answer_claims(answer)
    if not claims:
        return None
    verdicts = claim_support(claims, {c.n: c for c in citations}, passages)
    return sum(verdicts) / len(verdicts)
