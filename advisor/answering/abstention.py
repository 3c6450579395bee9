"""When is the evidence too weak to answer?

Two signals, calibrated on the dev and sample eval sets with benchmarks/calibrate_abstention.py
(not guessed): how close the best passage is (cosine similarity), and how many of the question's
key nouns occur nowhere in the documents the question may see. A question about "Snowflake or
BigQuery" or "HIPAA" whose key nouns are absent from every document is not covered, however
similar the closest passage about data stores or compliance sounds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import cache

from advisor.core.nlp import load_spacy
from advisor.retrieval.hybrid import Retrieval
from advisor.retrieval.lexical import tokenize

MIN_DENSE = 0.25  # below this the best passage is unrelated to the question
MISSING_TERM_PENALTY = 0.24  # per key noun of the question found in no visible document
MIN_EVIDENCE = 0.22  # midway between the closest answerable and unanswerable items

_LOCK = threading.Lock()


@cache
def _tagger():
    """spaCy's small English pipeline, tagger only."""
    return load_spacy(["parser", "ner", "lemmatizer", "senter"])


# Closed-class words (question words, pronouns, modals, quantifiers) a tagger never calls a noun.
_NEVER_NOUNS = frozenset(
    [
        "how",
        "many",
        "much",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "when",
        "where",
        "should",
        "would",
        "could",
        "do",
        "does",
        "did",
        "were",
        "shall",
        "might",
        "we",
        "our",
        "us",
        "my",
        "me",
        "you",
        "your",
        "here",
        "there",
        "some",
        "any",
        "every",
        "each",
        "few",
        "more",
        "most",
        "less",
    ]
)


_NEVER_NOUN_STEMS = frozenset(t for w in _NEVER_NOUNS for t in tokenize(w))


def _every_word_known(question: str, lexicon: Mapping[str, int]) -> bool:
    """Whether every term of the question, and every alphanumeric piece of it, is in some
    visible document (or can never be a noun): then no noun can be missing, and spaCy (about
    0.6 s to load, the largest part of a one-shot `ask`) need not run. spaCy's tokens are pieces
    of the question, so their stems come from these sets, short of a split inside a run of
    letters ("10am")."""
    pieces = [w for w in re.findall(r"[a-z0-9]+", question.lower()) if w not in _NEVER_NOUNS]
    terms = [t for p in pieces for t in tokenize(p)]
    terms += [t for t in tokenize(question) if t not in _NEVER_NOUN_STEMS]
    return all(t in lexicon for t in terms)


def missing_key_terms(question: str, lexicon: Mapping[str, int]) -> list[str]:
    """Nouns and names of the question whose stems occur in no visible document."""
    if _every_word_known(question, lexicon):
        return []
    with _LOCK:
        doc = _tagger()(question)
    missing = []
    for token in doc:
        if token.pos_ not in ("NOUN", "PROPN") or token.is_stop:
            continue
        stems = tokenize(token.text)
        if stems and all(s not in lexicon for s in stems):
            missing.append(token.text)
    return list(dict.fromkeys(missing))


def evidence_score(retrieval: Retrieval) -> float:
    """Best similarity, lowered for each key term the documents never mention."""
    missing = missing_key_terms(retrieval.query, retrieval.lexicon)
    return retrieval.top_dense - MISSING_TERM_PENALTY * len(missing)


def evidence_is_weak(retrieval: Retrieval) -> bool:
    """True when nothing retrieved is close enough to ground an answer."""
    if not retrieval.passages:
        return True
    return retrieval.top_dense < MIN_DENSE or evidence_score(retrieval) < MIN_EVIDENCE
