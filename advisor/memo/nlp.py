"""spaCy's packaged pipeline for memos, loaded once and only when needed: the parser reads a
topic's subject when no pattern can ("Should every new hire get ..."), the tagger tells an
instruction from a statement."""

from __future__ import annotations

from functools import cache, lru_cache

from advisor.core.nlp import load_spacy


@cache
def _pipeline():
    return load_spacy(exclude=("ner", "lemmatizer"))


def parse(text: str):
    """`text` tagged and parsed (a spaCy Doc)."""
    return _pipeline()(text)


@cache
def _tagger():
    return load_spacy(exclude=("ner", "lemmatizer", "parser"))


@lru_cache(maxsize=20_000)
def tags(text: str) -> list[str]:
    """The fine-grained part-of-speech tags of `text` (Penn Treebank: "VB", "NN", ...)."""
    return [t.tag_ for t in _tagger()(text)]
