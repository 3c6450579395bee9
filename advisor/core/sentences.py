"""The one sentence splitter: spaCy's rule-based `sentencizer` over its English tokenizer.

Every caller that needs sentences (the offline answer, memo evidence, the assessment, abstention's
asked part, the eval's claim checks) splits with `sentences`. The tokenizer's exceptions keep
abbreviations ("e.g.", "U.S.", "Dr.") and decimals ("3.11") inside a sentence; the sentencizer ends
one at ".", "!" or "?" and keeps closing quotes and brackets with it. One typographic repair on
top: an opening bracket or quote written against the next word (`done. (See ...)`, `RDS. "Managed"
is ...`) opens the next sentence, where the sentencizer would leave it at the end of the last.
A line break is not a sentence end here: callers that read line structure (bullets, table rows)
split lines first.
"""

from __future__ import annotations

import threading
from functools import cache

from advisor.core.nlp import import_spacy

_LOCK = threading.Lock()  # a spaCy pipeline is not safe to call from two threads at once
_OPENING_QUOTES = frozenset("\"'\u201c\u2018")


def _opens(token) -> bool:
    """An opening bracket or quote attached to the word after it."""
    return not token.whitespace_ and (token.is_left_punct or token.text in _OPENING_QUOTES)


def _repair_openings(doc):
    for token in doc[1:]:
        if not token.is_sent_start:
            continue
        start = token.i
        while start > 1 and _opens(doc[start - 1]) and doc[start - 2].whitespace_:
            start -= 1
        if start != token.i:
            token.is_sent_start = False
            doc[start].is_sent_start = True
    return doc


@cache
def _pipeline():
    spacy = import_spacy()  # spaCy without torch (see advisor.core.nlp)
    from spacy.language import Language

    if "sentence_openings" not in Language.factories:
        Language.component("sentence_openings", func=_repair_openings)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("sentence_openings")
    return nlp


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each stripped, in order (none for blank text)."""
    if not text.strip():
        return []
    with _LOCK:
        doc = _pipeline()(text)
    return [s.text.strip() for s in doc.sents if s.text.strip()]
