"""The parser for memo topics: spaCy's packaged pipeline, loaded once and only when a topic's
subject cannot be read by pattern ("Should every major incident get ...")."""

from __future__ import annotations

from functools import cache

from advisor.core.nlp import load_spacy


@cache
def _pipeline():
    return load_spacy(exclude=("ner", "lemmatizer"))


def parse(text: str):
    """`text` tagged and parsed (a spaCy Doc)."""
    return _pipeline()(text)
