"""How well a passage's sentence supports a specific claim (a checklist practice, a memo option):
entailment-like matching without a cross-encoder.

A sentence supports a claim when it states the claim's key terms (the same lemma, or a close
MiniLM vector: "rehearsed" for "tested", "allowance" for "stipend"), weighted by how rare each
term is among the candidate sentences (IDF: a term every sentence has decides little), and when
its numbers meet the claim's numbers and conditions. Sharing the topic is not enough: the score
is the mean of the sentence cosine and that weighted term coverage.

A sentence contradicts the claim when, close to it, it
- states a value on the wrong side of the claim's requirement ("a single sign-off" against "two
  approvals", "eight business days" against "within five business days");
- says the opposite: the claim's terms it states are negated in it and not in the claim, or the
  reverse, read clause by clause from the parse (a "no" in another clause of the sentence does
  not negate the claim's clause); or
- states the alternative the claim excludes ("rather than found by hand" against "the auditor
  spotted the gap in a spreadsheet").

Used by the assessment's verdicts and by the memo's evidence. The thresholds that turn scores
into verdicts are chosen on the tuning part only (benchmarks/calibrate_assessment.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from advisor.answering.facts import (
    SAME_TERM,
    Fact,
    _nlp,
    polar_terms,
    sentence_facts,
    statement_kind,
)

# Two different words whose MiniLM vectors are at least this close count as the same term.
TERM_SIMILARITY = SAME_TERM
# A sentence says the opposite of a claim when at least this share of the claim's terms it
# states are under the other polarity (negated there and not in the claim, or the
# reverse), clause by clause (facts.polar_terms).
OPPOSITE_SHARE = 0.5
# Closed-class words that set a requirement's direction ("under 8 seconds" is at most 8).
AT_MOST = frozenset({"under", "below", "within", "less", "fewer", "most", "maximum", "until"})
AT_LEAST = frozenset({"over", "above", "least", "more", "minimum", "beyond"})
# Phrases that introduce the alternative a claim excludes ("X rather than Y", "X instead of Y").
_EXCLUDING = re.compile(r"\b(?:rather than|instead of)\b", re.I)


@dataclass(frozen=True)
class Requirement:
    """A number a claim requires: at least / at most `value` of `unit` (counting `counted`)."""

    value: float
    unit: str
    counted: str
    at_most: bool
    text: str

    def met_by(self, value: float) -> bool:
        return value <= self.value if self.at_most else value >= self.value

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class Support:
    """One sentence's support of a claim."""

    sentence: str
    score: float  # (similarity + coverage) / 2, in [0, 1] for related text
    similarity: float  # cosine of the sentence and claim vectors
    coverage: float  # IDF-weighted share of the claim's key terms the sentence states
    opposite: (
        bool  # the claim's terms it states are negated where the claim's are not, or the reverse
    )
    excluded: float  # the score of the claim's excluded alternative, 0 when it has none
    numbers: str  # "agree" | "disagree" | "none"
    stated: str = ""  # the value that decided `numbers`, as written ("eight business days")
    plan: bool = False  # the sentence is a plan, instruction or condition, not a statement


def requirements(claim: str) -> list[Requirement]:
    """The numbers a claim requires, from the fact extractor: values in its main clause (not in
    a condition), at most or at least by the closed-class word before them; a bare count is a
    minimum ("needs two approvals")."""
    out = []
    for f in sentence_facts(claim, keep_unmeasured=True):
        if f.kind in ("condition", "change") or f.unit in ("date", "quarter-date"):
            continue
        before = re.findall(r"[a-z]+", claim[: f.start].lower())[-2:]
        before += re.findall(r"[a-z]+", f.label.lower())  # "under 8 seconds" as one entity
        at_most = bool(set(before) & AT_MOST)
        out.append(Requirement(f.value, f.unit, f.counted, at_most, f"{_side(at_most)} {f.label}"))
    return out


def _side(at_most: bool) -> str:
    return "at most" if at_most else "at least"


def split_claim(claim: str) -> tuple[str, str]:
    """(what the claim asserts, the alternative it excludes or ""). The alternative is given
    the subject of the clause it is contrasted with, from the parse: "incidents are detected by
    monitoring rather than reported by customers" excludes "incidents reported by customers"."""
    m = _EXCLUDING.search(claim)
    if not m:
        return claim, ""
    asserted, alternative = claim[: m.start()].rstrip(" ,;"), claim[m.end() :].strip(" .")
    doc = _nlp(asserted)
    subject = ""
    for verb in reversed([t for t in doc if t.pos_ in ("VERB", "AUX")]):
        subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        if subjects:  # the last clause with a subject: the one the alternative is set against
            subject = " ".join(w.text for w in subjects[0].subtree)
            break
    return asserted, f"{subject} {alternative}".strip()


def _hyphenated(doc) -> dict[int, tuple[int, str]]:
    """{first token: (last token, word)} of the hyphenated words the tokenizer splits ("on-call"
    into on, -, call; "follow-the-sun"): one term each, since their parts alone say something else
    (spaCy counts "call" as a stop word)."""
    out: dict[int, tuple[int, str]] = {}
    i = 0
    while i < len(doc):
        j = i
        while (
            j + 2 < len(doc)
            and doc[j + 1].text == "-"
            and not doc[j].whitespace_
            and not doc[j + 1].whitespace_
            and doc[j + 2].is_alpha
        ):
            j += 2
        if j > i and doc[i].is_alpha:
            out[i] = (j, doc[i : j + 1].text.lower())
        i = j + 1
    return out


def _terms(doc, main_clause_only: bool = False) -> list[str]:
    """Content lemmas, a hyphenated word as one; with `main_clause_only`, none from a subordinate
    clause with a marker ("until independent teams need separate services" states when, not
    what)."""
    skip: set[int] = set()
    if main_clause_only:
        for t in doc:
            if t.dep_ == "advcl" and any(c.dep_ == "mark" for c in t.children):
                skip |= {w.i for w in t.subtree}
    compounds = _hyphenated(doc)
    out, inside = [], -1
    for t in doc:
        if t.i <= inside:
            continue
        if t.i in compounds:
            inside, word = compounds[t.i]
            if t.i not in skip:
                out.append(word)
        elif (
            t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ")
            and not t.is_stop
            and t.is_alpha
            and t.i not in skip
        ):
            out.append(t.lemma_.lower())
    return out


class SupportScorer:
    """Scores sentences against claims; word vectors are embedded once per scorer."""

    def __init__(self, embeddings, term_similarity: float = TERM_SIMILARITY) -> None:
        self.embeddings = embeddings
        self.term_similarity = term_similarity
        self._vectors: dict[str, np.ndarray] = {}
        self._terms: dict[str, list[str]] = {}

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        embed = getattr(self.embeddings, "embed_sentences", self.embeddings.embed_documents)
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            vectors = np.asarray(embed(missing), dtype=np.float32).reshape(len(missing), -1)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
            self._vectors.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def terms(self, text: str, main_clause_only: bool = False) -> list[str]:
        key = f"{main_clause_only}\x00{text}"
        if key not in self._terms:
            self._terms[key] = list(dict.fromkeys(_terms(_nlp(text), main_clause_only)))
        return self._terms[key]

    def _coverage(
        self, claim_terms: list[str], idf: dict[str, float], sentences, contexts=None
    ) -> np.ndarray:
        """IDF-weighted share of the claim's terms each sentence states (by lemma or vector); a
        term only its neighbouring sentences (`contexts`) state counts half."""
        if not claim_terms or not sentences:
            return np.zeros(len(sentences), dtype=np.float32)
        contexts = contexts or [[] for _ in sentences]
        pool = {w for s in sentences for w in self.terms(s)}
        pool |= {w for ctx in contexts for s in ctx for w in self.terms(s)}
        words = sorted(pool | set(claim_terms))
        index = {w: i for i, w in enumerate(words)}
        vectors = self._embed(words)
        claim_vectors = vectors[[index[t] for t in claim_terms]]
        close = claim_vectors @ vectors.T >= self.term_similarity  # claim term x any word
        weights = np.array([idf.get(t, 1.0) for t in claim_terms], dtype=np.float32)
        # A hyphenated term is also stated with spaces ("on-call" as "on call").
        spaced = [
            re.compile(r"(?<!\w)" + r"[\s-]+".join(map(re.escape, t.split("-"))) + r"(?!\w)", re.I)
            if "-" in t
            else None
            for t in claim_terms
        ]
        out = np.zeros(len(sentences), dtype=np.float32)
        for k, s in enumerate(sentences):
            ids = [index[w] for w in self.terms(s)]
            near = [index[w] for c in contexts[k] for w in self.terms(c)]
            found = close[:, ids].any(axis=1) if ids else np.zeros(len(claim_terms), bool)
            found = found | np.array([bool(rx and rx.search(s)) for rx in spaced], dtype=bool)
            if near:
                found = np.maximum(found * 1.0, 0.5 * close[:, near].any(axis=1))
            out[k] = float(weights @ found) / float(weights.sum())
        return out

    def _idf(self, sentences: Sequence[str]) -> dict[str, float]:
        n = len(sentences)
        df: dict[str, int] = {}
        for s in sentences:
            for w in self.terms(s):
                df[w] = df.get(w, 0) + 1
        return {w: math.log((n + 1) / (c + 1)) + 1 for w, c in df.items()}

    def _fit(self, asserted: str, sentences, sentence_vectors, idf, contexts=None):
        """(cosine to the claim, IDF-weighted key-term coverage, the claim's key terms)."""
        (claim_vec,) = self._embed([asserted])
        positive = self.terms(asserted, main_clause_only=True) or self.terms(asserted)
        coverage = self._coverage(positive, idf, sentences, contexts)
        return sentence_vectors @ claim_vec, coverage, positive

    def scores(
        self, claim: str, sentences: Sequence[str], sentence_vectors: np.ndarray | None = None
    ) -> np.ndarray:
        """Only each sentence's support score (`Support.score`), without the opposition,
        exclusion and number checks that a verdict needs and a ranking does not."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        asserted, _ = split_claim(claim)
        if sentence_vectors is None:
            sentence_vectors = self._embed(list(sentences))
        similarity, coverage, _ = self._fit(
            asserted, sentences, sentence_vectors, self._idf(sentences)
        )
        return (similarity + coverage) / 2

    def score(
        self,
        claim: str,
        sentences: Sequence[str],
        sentence_vectors: np.ndarray | None = None,
        required: Sequence[Requirement] | None = None,
        contexts: Sequence[Sequence[str]] | None = None,
    ) -> list[Support]:
        """The support of each of `sentences` for `claim` (the candidate sentences also set the
        IDF weights, so pass the whole pool: a client's sentences, a memo's evidence).
        `contexts[k]` are the sentences around sentence k in its passage (they may state part
        of the claim: "Published five business days after resolution. Blameless.")."""
        if not sentences:
            return []
        asserted, excluded = split_claim(claim)
        if sentence_vectors is None:
            sentence_vectors = self._embed(list(sentences))
        idf = self._idf(sentences)
        similarity, coverage, positive = self._fit(
            asserted, sentences, sentence_vectors, idf, contexts
        )
        scores = (similarity + coverage) / 2
        if excluded:
            (excl_vec,) = self._embed([excluded])
            excl_scores = (
                sentence_vectors @ excl_vec + self._coverage(self.terms(excluded), idf, sentences)
            ) / 2
        else:
            excl_scores = np.zeros(len(sentences), dtype=np.float32)
        required = requirements(asserted) if required is None else list(required)
        opposite = self._opposition(asserted, positive, sentences)
        out = []
        for k, s in enumerate(sentences):
            numbers, stated = self._numbers(required, s)
            out.append(
                Support(
                    sentence=s,
                    score=float(scores[k]),
                    similarity=float(similarity[k]),
                    coverage=float(coverage[k]),
                    opposite=bool(opposite[k]),
                    excluded=float(excl_scores[k]),
                    numbers=numbers,
                    stated=stated,
                    plan=statement_kind(s) != "stated",
                )
            )
        return out

    def _opposition(self, claim: str, claim_terms: list[str], sentences) -> np.ndarray:
        """Per sentence: whether OPPOSITE_SHARE of the claim's terms it states are under the
        other polarity, clause by clause from the parse. Counted, not IDF-weighted: the
        polarity is the clause's, and a verb its sentences share decides it as much as a
        rarer object does."""
        polarity: dict[str, bool] = {}
        for lemma, neg in polar_terms(claim):
            polarity.setdefault(lemma, neg)
        terms = [t for t in claim_terms if t in polarity]
        out = np.zeros(len(sentences), dtype=bool)
        if not terms:
            return out
        polar = [polar_terms(s) for s in sentences]
        words = sorted({w for p in polar for w, _ in p} | set(terms))
        index = {w: i for i, w in enumerate(words)}
        vectors = self._embed(words)
        close = vectors[[index[t] for t in terms]] @ vectors.T >= self.term_similarity
        for k, p in enumerate(polar):
            matched = flipped = 0.0
            for c, term in enumerate(terms):
                same = [neg for w, neg in p if w == term]
                # a word that is itself one of the claim's terms stands for that term only
                near = same or [neg for w, neg in p if close[c, index[w]] and w not in polarity]
                if not near:
                    continue
                matched += 1
                if all(neg != polarity[term] for neg in near):
                    flipped += 1
            out[k] = flipped > 0 and flipped >= OPPOSITE_SHARE * matched
        return out

    def _numbers(self, required: Sequence[Requirement], sentence: str) -> tuple[str, str]:
        """Whether the sentence's stated values meet the claim's requirements."""
        if not required:
            return "none", ""
        for r in required:
            for f in sentence_facts(sentence):
                if f.kind not in ("stated",) or f.unit != r.unit or not self._same_count(r, f):
                    continue
                return ("agree" if r.met_by(f.value) else "disagree"), f.label
        return "none", ""

    def _same_count(self, r: Requirement, f: Fact) -> bool:
        if r.unit or not r.counted:
            return True
        if not f.counted:
            return False
        if r.counted == f.counted:
            return True
        a, b = self._embed([r.counted, f.counted])
        return float(a @ b) >= self.term_similarity
