"""When is the evidence too weak to answer?

Signals that do not depend on any particular question or corpus, combined by a logistic model
whose weights are fitted on the eval sets' tuning parts by benchmarks/calibrate_abstention.py
(which prints the in-sample and the out-of-fold rates). Four carry weight; `coverage` is computed
and reported but weighs 0 (see WEIGHTS):

- `top_dense`: how close the best passage is (cosine similarity of the embeddings);
- `margin`: how far the best passage stands out from the other dense candidates;
- `coverage`: how much of the question's informative vocabulary the best passages contain, each
  term weighed by its IDF in the documents the question may see (generic words count little);
- `missing`: the IDF-weighted share of the question's terms that occur in no visible document;
- `agreement`: how many of the top dense documents the lexical (BM25) list also ranks high.

`missing` looks only at the part of the message that asks: when a message has sentences with a
question mark, the statements around them ("We're Initech, a small insurer.") often name the
asker, whose name no document needs to contain; `coverage` weighs the whole message, statements
included ("Our nightly batch keeps overrunning. Can it finish sooner?").
A term found in no document is weighed like the rarest term of the corpus, whatever it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from advisor.core.models import Passage
from advisor.core.nlp import import_spacy
from advisor.core.sentences import sentences
from advisor.retrieval.hybrid import Retrieval
from advisor.retrieval.lexical import tokenize

COVERAGE_PASSAGES = 3  # coverage is the best over this many top passages

# Fitted by benchmarks/calibrate_abstention.py on the tuning parts of the sample, dev and
# dev-extra sets only (evals/splits.toml; 70 items): the frozen test parts never saw the fit.
# `coverage` is left out (weight 0): 5-fold cross-validation within the tuning parts abstains on
# 50% of unanswerable questions without it and 44% with it, at the same false abstention (7%).
WEIGHTS = {"top_dense": 3.89, "margin": 2.02, "coverage": 0.0, "missing": -2.67, "agreement": 1.63}
BIAS = -2.02
THRESHOLD = (
    0.5  # answer when the modelled probability that the question is covered is at least this
)


@dataclass(frozen=True)
class Evidence:
    """The signals abstention weighs, each in [0, 1] (margin in practice well under 1)."""

    top_dense: float
    margin: float
    coverage: float
    missing: float
    agreement: float

    def as_dict(self) -> dict[str, float]:
        return {
            "top_dense": self.top_dense,
            "margin": self.margin,
            "coverage": self.coverage,
            "missing": self.missing,
            "agreement": self.agreement,
        }


_WORD = re.compile(r"[a-z0-9]+(?:[.+#][a-z0-9]+)*")  # the lexical index's word pattern


def asked_part(message: str) -> str:
    """The sentences of a message that ask (hold a "?"), or the whole message when none does.
    Split by the one sentence splitter; a sentence that is all parenthesis belongs to the one
    before it (the offline rewrite appends the conversation's topic that way)."""
    parts: list[str] = []
    for s in sentences(message):
        if parts and s.startswith("(") and s.endswith(")"):
            parts[-1] = f"{parts[-1]} {s}"
        else:
            parts.append(s)
    asking = [s for s in parts if "?" in s]
    return " ".join(asking) if asking else message


def idf(df: int, n: int) -> float:
    """BM25's IDF: rare terms weigh more; a term in no document weighs most."""
    return math.log((n - df + 0.5) / (df + 0.5) + 1.0)


@cache
def _stop_words() -> frozenset[str]:
    """spaCy's English stop words: function words say nothing about coverage, and a small corpus
    that happens not to contain "how" or "many" must not count them as unknown terms."""
    import_spacy()  # spaCy without torch (see advisor.core.nlp)
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def content_terms(text: str) -> list[str]:
    """The question's content terms, stemmed like the lexical index's (stop words dropped)."""
    stop = _stop_words()
    return tokenize(" ".join(w for w in _WORD.findall(text.lower()) if w not in stop))


def term_weights(question: str, lexicon: Mapping[str, int], n: int) -> dict[str, float]:
    """Each distinct content term of the question with its IDF weight."""
    return {t: idf(lexicon.get(t, 0), max(n, 1)) for t in dict.fromkeys(content_terms(question))}


# A word missing from a handful of documents says little (a small client's folder lacks most of
# the language); missing from hundreds, it says the topic is absent. Absent terms are weighed by
# n / (n + VOCABULARY_DOCS).
VOCABULARY_DOCS = 20


def missing_share(
    weights: Mapping[str, float], lexicon: Mapping[str, int], n: int = VOCABULARY_DOCS
) -> float:
    """IDF-weighted share of the question's terms that no visible document contains."""
    damp = n / (n + VOCABULARY_DOCS)
    absent = sum(w for t, w in weights.items() if t not in lexicon) * damp
    present = sum(w for t, w in weights.items() if t in lexicon)
    return absent / (absent + present) if absent + present else 0.0


def coverage(
    weights: Mapping[str, float], lexicon: Mapping[str, int], passages: Sequence[Passage]
) -> float:
    """IDF-weighted share of the question's known terms found in one of the best passages."""
    known = {t: w for t, w in weights.items() if t in lexicon}
    total = sum(known.values())
    if not total:
        return 0.0
    best = 0.0
    for p in passages[:COVERAGE_PASSAGES]:
        terms = set(tokenize(p.context_text()))
        best = max(best, sum(w for t, w in known.items() if t in terms) / total)
    return best


def evidence(retrieval: Retrieval) -> Evidence:
    """The signals for one retrieval."""
    n, lexicon = retrieval.corpus_size, retrieval.lexicon
    asked = term_weights(asked_part(retrieval.query), lexicon, n)
    return Evidence(
        top_dense=retrieval.top_dense,
        margin=retrieval.dense_margin,
        coverage=coverage(term_weights(retrieval.query, lexicon, n), lexicon, retrieval.passages),
        missing=missing_share(asked, lexicon, n),
        agreement=retrieval.agreement,
    )


def covered_probability(
    signals: Evidence, weights: Mapping[str, float] = WEIGHTS, bias: float = BIAS
) -> float:
    """The logistic model's probability that the documents cover the question."""
    z = bias + sum(weights[name] * value for name, value in signals.as_dict().items())
    return 1.0 / (1.0 + math.exp(-z))


def evidence_is_weak(retrieval: Retrieval) -> bool:
    """True when nothing retrieved is close enough to ground an answer."""
    if not retrieval.passages:
        return True
    return covered_probability(evidence(retrieval)) < THRESHOLD
