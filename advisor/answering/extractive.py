"""The offline answer: the most relevant sentences of the best passages, grouped by source.

The best-ranked passage is usually the answer (document-level MRR is about 0.9), so word budgets
fall with rank: the top passage gets the most room, the next ones add supporting points.
Within a passage, sentences are chosen by similarity to the question and overlap with its terms,
then put back in document order so that each group reads like the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from advisor.core.models import Passage
from advisor.core.sentences import sentences
from advisor.retrieval.lexical import tokenize

_BULLET = re.compile(r"^\s*(?:[-*+•▪◦]|\d{1,2}[.)]|[a-z][.)])\s+")
_CODE_CHARS = set('{}[]<>"=;|\\`')
_MIN_CHARS = 12
_MAX_CHARS = 400
BUDGETS = (130, 55, 30)  # words per passage, by rank; about 250 in all
MAX_CANDIDATES = 32
MAX_WORDS = 215  # plus headings, about 250 words in all
MIN_SIMILARITY = 0.15  # a sentence less similar than this to the question is never quoted


@dataclass
class Sentence:
    text: str
    passage: int  # index into the passages given to `select`
    position: int  # order within its passage
    score: float = 0.0
    row: bool = False  # a table row read as "Header: value; Header: value."


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_row(line: str) -> bool:
    return line.count("|") >= 2 and len([c for c in _cells(line) if c]) >= 2


def _looks_like_header(cells: list[str]) -> bool:
    """A header row names its columns: short cells, none of them a number or a date."""
    return all(len(c.split()) <= 4 and not any(ch.isdigit() for ch in c) for c in cells)


def row_sentence(header: list[str] | None, cells: list[str]) -> str | None:
    """A table row as a sentence: "Role: Backend engineer; Team: Dispatch." (a column headed
    "#" or holding only a row number is left out; without a header, the cells in order)."""
    parts = []
    for i, cell in enumerate(cells):
        name = header[i] if header and i < len(header) else ""
        if not cell or name in ("#", "No.", "no") or re.fullmatch(r"\d{1,3}\.?", cell):
            continue
        name = name.replace("_", " ").strip()
        parts.append(f"{name[:1].upper()}{name[1:]}: {cell}" if name else cell)
    text = "; ".join(parts)
    if len(parts) < 2 or sum(c.isalpha() for c in text) < 8:
        return None
    text = text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS].rsplit(" ", 1)[0] + " ..."
    return text if text.endswith((".", "!", "?")) else f"{text}."


def units(text: str) -> list[tuple[str, bool]]:
    """The quotable units of a passage in document order: its prose sentences (see
    `split_sentences`) and its table rows, each read with the table's header row; each unit
    comes with whether it is a row. Read once per passage text (an answer reads the same
    passages for its sentences, its headings, the client's profile and its risks)."""
    return list(_units(text))


@lru_cache(maxsize=8192)
def _units(text: str) -> tuple[tuple[str, bool], ...]:
    out: list[tuple[str, bool]] = []
    prose: list[str] = []
    header: list[str] | None = None
    in_table = False
    for line in text.splitlines():
        if _is_row(line):
            if prose:
                out += [(s, False) for s in split_sentences("\n".join(prose))]
                prose.clear()
            cells = _cells(line)
            if not in_table:
                in_table = True
                header = cells if _looks_like_header(cells) else None
                if header is not None:
                    continue
            sentence = row_sentence(header, cells)
            if sentence:
                out.append((sentence, True))
        elif not re.fullmatch(r"\s*\|?[\s:|-]*", line) or not line.strip():
            in_table, header = False, None
            prose.append(line)
    if prose:
        out += [(s, False) for s in split_sentences("\n".join(prose))]
    return tuple(out)


def _is_prose(sentence: str) -> bool:
    """Leave out code, JSON and markup lines: they read badly in a brief."""
    letters = sum(c.isalpha() for c in sentence)
    code = sum(c in _CODE_CHARS for c in sentence)
    return letters >= 8 and code <= max(2, len(sentence) // 25)


def _lines(text: str) -> list[str]:
    """Lines without bullets; a run of short list items is joined into one line, after the
    line that introduces it ("We use: Java, Python, Ruby"), so short facts survive."""
    out: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if len(run) == 1 and not (out and out[-1].endswith(":")):
            run.clear()  # a lone short line between paragraphs is a label or heading, not a point
        if run:
            items = ", ".join(run)
            if out and out[-1].endswith(":"):
                out[-1] = f"{out[-1]} {items}"
            else:
                out.append(items)
            run.clear()

    for raw in text.splitlines():
        line = _BULLET.sub("", raw.strip()).strip()
        if not line:
            continue
        if len(line.split()) <= 5 and not line.endswith((".", "!", "?", ":")):
            run.append(line)
            continue
        close_run()
        out.append(line)
    close_run()
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, without bullets, fragments and code: lines first
    (bullets, table rows and headings end at a line break), then the one sentence splitter.
    Split once per text: answers, memos and the conflict check read the same passages."""
    return list(_split_sentences(text))


@lru_cache(maxsize=8192)
def _split_sentences(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for line in _lines(text):
        for sentence in sentences(line):
            sentence = " ".join(sentence.split())
            if len(sentence) < _MIN_CHARS or not _is_prose(sentence):
                continue
            if len(sentence) > _MAX_CHARS:
                sentence = sentence[:_MAX_CHARS].rsplit(" ", 1)[0] + " ..."
            out.append(sentence)
    return tuple(out)


def _score(question: str, candidates: list[Sentence], embeddings) -> np.ndarray:
    embed = getattr(embeddings, "embed_sentences", embeddings.embed_documents)
    vectors = np.asarray(embed([c.text for c in candidates]))
    semantic = vectors @ np.asarray(embeddings.embed_query(question))
    terms = set(tokenize(question))
    for c, sem in zip(candidates, semantic, strict=True):
        overlap = len(terms & set(tokenize(c.text))) / len(terms) if terms else 0.0
        c.score = float(sem) + 0.3 * overlap if sem >= MIN_SIMILARITY else -1.0
    return vectors


def select(
    question: str, passages: list[Passage], embeddings, ranks: list[int] | None = None
) -> list[Sentence]:
    """Pick the sentences that best answer `question`, within each rank's word budget,
    skipping near-duplicates of sentences already chosen. `ranks[i]` is the retrieval rank
    passage i counts under (a neighbouring chunk shares its anchor's budget)."""
    ranks = ranks if ranks is not None else list(range(len(passages)))
    candidates = [
        Sentence(text=s, passage=i, position=j, row=row)
        for i, p in enumerate(passages)
        if ranks[i] < len(BUDGETS)
        for j, (s, row) in enumerate(units(p.text))
    ]
    # Embedding costs about 6 ms a sentence on two cores, so at most MAX_CANDIDATES are embedded:
    # those of retrieved passages and of the best passage's neighbours first, then neighbours'
    # sentences by how many question terms they share.
    terms = set(tokenize(question))

    def priority(c: Sentence) -> float:
        retrieved = passages[c.passage].score > 0 or ranks[c.passage] == 0
        return (1.0 if retrieved else 0.0) + len(terms & set(tokenize(c.text))) / (len(terms) or 1)

    candidates = sorted(candidates, key=priority, reverse=True)[:MAX_CANDIDATES]
    if not candidates:
        return []
    vectors = _score(question, candidates, embeddings)
    chosen: list[int] = []
    total = 0
    spare = 0  # words a passage left unused carry over to the next one
    for rank, budget in enumerate(BUDGETS):
        budget += spare
        mine = sorted(
            (i for i, c in enumerate(candidates) if ranks[c.passage] == rank and c.score > 0),
            key=lambda i: -candidates[i].score,
        )
        used = 0
        for i in mine:
            words = len(candidates[i].text.split())
            if (used + words > budget and used) or total + words > MAX_WORDS:
                continue
            if any(float(vectors[i] @ vectors[j]) > 0.9 for j in chosen):
                continue  # says the same as a sentence already chosen
            chosen.append(i)
            used += words
            total += words
        spare = max(0, budget - used) // 2
    return [candidates[i] for i in chosen]


def group_by_passage(sentences: list[Sentence]) -> list[tuple[int, list[Sentence]]]:
    """One group per passage, in rank order; sentences in document order within a group."""
    groups: dict[int, list[Sentence]] = {}
    for s in sentences:
        groups.setdefault(s.passage, []).append(s)
    return [(i, sorted(groups[i], key=lambda s: s.position)) for i in sorted(groups)]
