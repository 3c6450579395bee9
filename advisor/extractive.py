"""The offline answer: the most relevant sentences of the retrieved passages, grouped by source."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from advisor.lexical import tokenize
from advisor.models import Passage

_BULLET = re.compile(r"^\s*(?:[-*+•▪◦]|\d{1,2}[.)]|[a-z][.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
_MIN_CHARS = 25
_MAX_CHARS = 400


@dataclass
class Sentence:
    text: str
    passage: int  # index into the passages given to `select`
    position: int  # order within its passage
    score: float = 0.0


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, without bullets and fragments."""
    out: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line.strip())
        if not line:
            continue
        for sentence in _SENTENCE_END.split(line):
            sentence = " ".join(sentence.split())
            if len(sentence) < _MIN_CHARS or sum(c.isalpha() for c in sentence) < 15:
                continue
            if len(sentence) > _MAX_CHARS:
                sentence = sentence[:_MAX_CHARS].rsplit(" ", 1)[0] + " ..."
            out.append(sentence)
    return out


def select(
    question: str,
    passages: list[Passage],
    embeddings,
    max_words: int = 210,
    per_passage: int = 3,
) -> list[Sentence]:
    """Pick the sentences that best answer `question`: relevance, query-term overlap, the
    passage's rank, and no near-duplicates; stop at about `max_words`."""
    candidates = [
        Sentence(text=s, passage=i, position=j)
        for i, p in enumerate(passages)
        for j, s in enumerate(split_sentences(p.text))
    ]
    if not candidates:
        return []
    vectors = np.asarray(embeddings.embed_documents([c.text for c in candidates]))
    query = np.asarray(embeddings.embed_query(question))
    semantic = vectors @ query
    terms = set(tokenize(question))
    for c, sem in zip(candidates, semantic, strict=True):
        overlap = len(terms & set(tokenize(c.text))) / len(terms) if terms else 0.0
        c.score = float(sem) + 0.25 * overlap + 0.12 / (1 + c.passage)

    order = np.argsort([-c.score for c in candidates])
    best = candidates[order[0]].score
    chosen: list[int] = []
    words = 0
    per: dict[int, int] = {}
    for idx in order:
        c = candidates[idx]
        if c.score < best - 0.25 or per.get(c.passage, 0) >= per_passage:
            continue
        if any(float(vectors[idx] @ vectors[j]) > 0.85 for j in chosen):
            continue  # says the same as a sentence already chosen
        length = len(c.text.split())
        if chosen and words + length > max_words:
            continue
        chosen.append(idx)
        per[c.passage] = per.get(c.passage, 0) + 1
        words += length
        if words >= max_words:
            break
    return [candidates[i] for i in chosen]


def group_by_passage(sentences: list[Sentence]) -> list[tuple[int, list[Sentence]]]:
    """Groups in order of their best sentence; sentences in document order within a group."""
    groups: dict[int, list[Sentence]] = {}
    for s in sentences:  # already best-first
        groups.setdefault(s.passage, []).append(s)
    return [(i, sorted(group, key=lambda s: s.position)) for i, group in groups.items()]
