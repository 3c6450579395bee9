"""The parser for memos: the one spaCy pipeline (advisor.core.nlp), used only when needed: the
parser reads a topic's subject when no pattern can ("Should every new hire get ..."), the tagger
tells an instruction from a statement."""

from __future__ import annotations

from functools import lru_cache

from advisor.core import nlp


def parse(text: str):
    """`text` tagged and parsed (a spaCy Doc)."""
    return nlp.parse(text, disable=("ner", "lemmatizer"))


@lru_cache(maxsize=20_000)
def tags(text: str) -> list[str]:
    """The fine-grained part-of-speech tags of `text` (Penn Treebank: "VB", "NN", ...)."""
    return [t.tag_ for t in nlp.parse(text, disable=("ner", "lemmatizer", "parser"))]
