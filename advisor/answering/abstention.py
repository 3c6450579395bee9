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

from advisor.core.models import Passage
from advisor.core.nlp import english_stop_words
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


def _stop_words() -> frozenset[str]:
    """spaCy's English stop words: function words say nothing about coverage, and a small corpus
    that happens not to contain "how" or "many" must not count them as unknown terms."""
    return english_stop_words()


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


def evidence(retrieval: Retrieval, ignore: Sequence[str] = ()) -> Evidence:
    """The signals for one retrieval; `ignore` names terms left out of `missing` (a decision's
    option that no document mentions is said so in the answer, not held against the others)."""
    n, lexicon = retrieval.corpus_size, retrieval.lexicon
    asked = term_weights(asked_part(retrieval.query), lexicon, n)
    dropped = {t for text in ignore for t in tokenize(text)} | set(ignore)
    asked = {t: w for t, w in asked.items() if t not in dropped}
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


# -- the question's specific subject ------------------------------------------------------------

# Entity kinds that name one particular thing: a product, company, person, place, event, law or
# language. Counts, ordinals, money and percentages are compared as facts, not looked up as names.
_NAMING = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "FAC", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_VERSION = re.compile(r"^v?\d+(?:\.\d+)+$|^v\d+$", re.I)
# Verbs through which a message says who asks rather than what it asks about ("Zentrix wants to
# know whether ...", "Acme asks how ...").
_ASKING_FRAME = frozenset({"want", "ask", "wonder", "need", "like", "plan", "hope", "try"})


_MAY_NAME = re.compile(r"\d|(?<=\S)\s+[\"'“(]?[A-Z]")


@dataclass(frozen=True)
class Specific:
    """A specific term of a question (an entity, a year, a version, a rare name) and whether
    some visible chunk contains it (all its words in one chunk)."""

    text: str
    kind: str
    found: bool


def _asker(span) -> bool:
    """A name that says who is asking: described by an apposition ("Zentrix, a proptech
    company, ..."), or the subject of a verb of asking or wanting that takes the question as its
    complement ("Zentrix wants to know whether ...")."""
    root = span.root
    if any(c.dep_ == "appos" for c in root.children):
        return True
    # "As a logistics startup called Quillfin, how do we ...": a phrase before the main verb
    # that says what the asker is.
    # "At Quillfin, a logistics company, we are asking ...": the same, with the asker as subject.
    main = next((t for t in span.doc if t.dep_ == "ROOT"), None)
    fronted = [a for a in root.ancestors if a.dep_ == "prep" and main is not None and a.i < main.i]
    if any(a.lower_ == "as" for a in fronted):
        return True
    asker_is_subject = main is not None and any(
        c.dep_ == "nsubj" and c.lower_ in ("we", "i") for c in main.children
    )
    if fronted and asker_is_subject and span.doc[span.end : span.end + 1].text == ",":
        return True
    head = root.head
    if root.dep_ == "nsubj" and head.lemma_.lower() in _ASKING_FRAME | {"wants", "asks"}:
        return True
    return (
        root.dep_ == "nsubj"
        and any(c.dep_ in ("xcomp", "ccomp") for c in head.children)
        and (head.text.lower().rstrip("s") in _ASKING_FRAME)
    )


# Parts of speech a name is never read as; the small tagger reads some unknown names as
# anything else (a noun, "X", even punctuation: "ScyllaDB").
_NOT_NOMINAL = frozenset(
    {"ADJ", "ADV", "VERB", "AUX", "PRON", "DET", "ADP", "CCONJ", "SCONJ", "INTJ", "PART"}
)


def _name_like(t) -> bool:
    """A word written as a name that spaCy's tagger or entities may have missed: a proper noun
    inside the sentence, a capitalised word inside the sentence the tagger does not read as a
    verb, adjective or function word ("Jenkins"), or a word anywhere with a capital after its
    first letter and a lower-case one ("ScyllaDB", "GraphQL", "iOS")."""
    if not t.is_alpha or t.is_stop:
        return False
    if any(c.isupper() for c in t.text[1:]) and any(c.islower() for c in t.text):
        return True  # written as a name whatever the tagger reads it as ("CircleCI": adverb)
    if t.pos_ in _NOT_NOMINAL or t.is_sent_start or len(t.text) <= 2:
        return False
    return t.pos_ == "PROPN" or t.text[:1].isupper()


def _name_span(doc, i: int, taken: set[int]):
    """The name that token i starts: it and the proper nouns, capitalised words and single
    letters or numbers right after it ("Series C", "Marta Silva", "Pathfinder 2")."""
    end = i + 1
    while end < len(doc) and end not in taken:
        nxt = doc[end]
        capital = nxt.text[:1].isupper() and nxt.pos_ not in _NOT_NOMINAL
        if not (capital or (nxt.like_num and nxt.pos_ == "NUM" and nxt.text.isalnum())):
            break
        end += 1
    return doc[i:end]


def specific_terms(question: str, parse, known: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(text, kind) of the asked part's specific terms: named entities, dates with a year,
    versions, and proper nouns spaCy did not tag; the asker's own name and `known` names (the
    client's) are left out."""
    asked = asked_part(question)
    if not _MAY_NAME.search(asked):
        return []  # no capital after the first word, no digit: no name, year or version to parse
    doc = parse(asked)
    known_terms = {t for k in known for t in tokenize(k)}
    out: list[tuple[int, str, str]] = []  # (position, text, kind)
    taken: set[int] = set()
    for ent in doc.ents:
        kind = ent.label_
        if kind in ("DATE", "TIME", "EVENT") and _YEAR.search(ent.text):
            kind = "YEAR" if kind != "EVENT" else kind
        elif kind not in _NAMING:
            continue
        if _asker(ent) or not set(tokenize(ent.text)) - known_terms:
            continue
        text = ent.text
        if kind == "YEAR":  # "March 2025", "the 2024 budget": the month and year are the subject
            text = " ".join(t.text for t in ent if t.like_num or t.pos_ == "PROPN") or ent.text
        out.append((ent.start, text, kind))
        taken |= set(range(ent.start, ent.end))
    for t in doc:
        if t.i in taken:
            continue
        if _VERSION.match(t.text):
            name = doc[t.i - 1] if t.i and doc[t.i - 1].pos_ in ("PROPN", "NOUN") else None
            out.append((t.i, f"{name.text} {t.text}" if name is not None else t.text, "VERSION"))
        elif t.tag_ == "CD" and _YEAR.fullmatch(t.text):
            out.append((t.i, t.text, "YEAR"))
        elif (
            t.tag_ == "CD"
            and t.text.isdigit()
            and t.i
            and (doc[t.i - 1].pos_ == "PROPN" or doc[t.i - 1].text[:1].isupper())
            and doc[t.i - 1].is_alpha
            and not doc[t.i - 1].is_sent_start
        ):
            # "PostgreSQL 12", "Java 21": a bare number right after a name is its version.
            out.append((t.i, f"{doc[t.i - 1].text} {t.text}", "VERSION"))
        elif _name_like(t) and not set(tokenize(t.text)) <= known_terms:
            name = _name_span(doc, t.i, taken)
            taken |= set(range(name.start, name.end))
            if not _asker(name) and set(tokenize(name.text)) - known_terms:
                out.append((t.i, name.text, "PROPN"))
    return list(dict.fromkeys((text, kind) for _, text, kind in sorted(out)))


# A specific term of several words ("Postgres 16", "March 2025", "Series C", "Marta Silva") is
# found only where its words stand together: one word in between at most ("March of 2025"), not
# merely somewhere in the same chunk ("Postgres 15 ... 16 engineers"). At most this many of the
# chunks holding all its words are read to check; beyond that, the words are common enough
# together to count as found.
PHRASE_CHUNKS = 200


def phrase_pattern(text: str) -> re.Pattern[str]:
    """The words of `text` in order, whole, case-insensitive, with at most one word between
    two of them (punctuation and spacing free)."""
    words = [re.escape(w) for w in re.findall(r"[^\W_]+(?:[.+#][^\W_]+)*", text)]
    gap = r"[\W_]+(?:[^\W_]+[\W_]+)?"
    return re.compile(r"(?<![^\W_])" + gap.join(words) + r"(?![^\W_])", re.I)


def _name_words(text: str) -> list[str]:
    """The words of a term that are written as a name's: capitalised or holding a digit
    ("the September incident" -> September; "Marta Silva", "Postgres 16", "Series C" whole).
    Only these must stand together; the others may be said in other words."""
    words = re.findall(r"[^\W_]+(?:[.+#][^\W_]+)*", text)
    return [w for w in words if w[:1].isupper() or any(c.isdigit() for c in w)]


def absent_terms(option: str, parse, index, known: Sequence[str] = (), fetch=None) -> list[str]:
    """The specific terms of a decision's option that no chunk of `index` (a LexicalIndex of the
    visible scopes) mentions: what the documents cannot speak to (`fetch`: as `specifics`). An
    option is a phrase, not a sentence: its first capital is not a name's ("Adopt the queue
    first")."""
    option = option[:1].lower() + option[1:]
    return [
        text
        for text, _ in specific_terms(option, parse, known)
        if tokenize(text) and not _in_chunks(text, index, {}, fetch)
    ]


def _mentioned(text: str, retrieval: Retrieval, fetch) -> bool:
    """Whether some chunk the question may see mentions `text` (all of its words, together
    when it has several)."""
    if retrieval.index is None:
        return all(t in retrieval.lexicon for t in tokenize(text))
    return _in_chunks(text, retrieval.index, {p.id: p for p in retrieval.passages}, fetch)


def _in_chunks(text: str, index, read: dict, fetch) -> bool:
    """Whether a chunk of `index` mentions `text`: all its stemmed words in one chunk, and, for
    a name of several words or one the stemmer changed ("Ledgerly" is stemmed to "ledger", which a
    ledger's chunk holds), the name as written in the chunk's text. `read`: chunks already at
    hand by id; `fetch` reads the others (without it, the words in one chunk must do)."""
    rows = index.chunks_with(tokenize(text))
    if not rows:
        return False
    core = _name_words(text)
    changed = len(core) == 1 and tokenize(core[0]) != [core[0].casefold()]
    if not (len(core) >= 2 or changed) or len(rows) > PHRASE_CHUNKS:
        return True
    ids = [index.ids[i] for i in sorted(rows)]
    chunks = [read[i] for i in ids if i in read]
    unread = [i for i in ids if i not in read]
    if unread:
        if fetch is None:
            return True
        chunks += fetch(unread)
    pattern = phrase_pattern(" ".join(core))
    return any(pattern.search(p.context_text()) for p in chunks)


def specifics(
    question: str, retrieval: Retrieval, parse, known: Sequence[str] = (), fetch=None
) -> list[Specific]:
    """The question's specific terms, each looked up in every chunk the question may see;
    `fetch` reads chunks by id (the store's `get`), to check that a term's words stand
    together."""
    out = []
    for text, kind in specific_terms(question, parse, known):
        if tokenize(text):
            out.append(Specific(text, kind, _mentioned(text, retrieval, fetch)))
    return out


def absent_subject(
    question: str, retrieval: Retrieval, parse, known: Sequence[str] = (), fetch=None
) -> list[str]:
    """The specific terms of the question that no visible document mentions (an answer about
    the nearest on-topic passage would be about something else)."""
    return [s.text for s in specifics(question, retrieval, parse, known, fetch) if not s.found]


def evidence_is_weak(retrieval: Retrieval, ignore: Sequence[str] = ()) -> bool:
    """True when nothing retrieved is close enough to ground an answer."""
    if not retrieval.passages:
        return True
    return covered_probability(evidence(retrieval, ignore)) < THRESHOLD
