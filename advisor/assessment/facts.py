"""Facts a sentence states (quantities, dates), whether it is negated, and conflicts between
documents of one client that state different values for the same fact.

Offline and explainable: two sentences from different documents of the same client that say
nearly the same thing (cosine similarity of their MiniLM vectors) but carry a different number
for the same unit, or a different month for the same kind of event, are a conflict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from advisor.answering.extractive import split_sentences
from advisor.core.models import Passage
from advisor.retrieval.lexical import tokenize

# Closed-class English negators: function words, not topic words.
_NEGATORS = frozenset({"no", "not", "never", "nothing", "nobody", "none", "without", "n't"})
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_QUANTITY = re.compile(
    r"(?P<cur>[$£€]|\b(?:GBP|USD|EUR)\s?)?"
    r"(?P<num>\b\d+(?:[.,]\d+)*|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b)"
    r"(?P<mult>\s?(?:k|m|bn|million|billion|thousand)\b)?"
    r"(?P<pct>\s?%|\s?percent\b)?"
    r"(?P<unit>(?:[-\s]+[A-Za-z][\w-]*){0,3})",
    re.I,
)
_DATE = re.compile(r"\b(?P<month>" + "|".join(_MONTHS) + r")\s+(?P<year>(?:19|20)\d\d)\b", re.I)
_MULT = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


# Words that make the number after them a bound or a goal ("under 10 minutes", "target 50%",
# "at least five"), not a statement of how things are: such numbers are not compared.
_BOUND_WORDS = frozenset(
    [
        "under",
        "below",
        "above",
        "over",
        "least",
        "most",
        "target",
        "targets",
        "goal",
        "from",
        "within",
        "than",
        "up",
        "reduce",
        "cut",
    ]
)
WINDOW = 4  # words either side of a value that say what it is about


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # the stem of the unit word, "%" or a currency sign
    text: str
    start: int = 0
    end: int = 0
    bound: bool = False
    label: str = ""  # as written: "$400", "31%", "three engineers"


@dataclass(frozen=True)
class Conflict:
    """Two documents of one client stating different values for the same fact."""

    first: Passage
    second: Passage
    first_sentence: str
    second_sentence: str
    first_value: str
    second_value: str
    similarity: float

    def describe(self, first_n: int | None = None, second_n: int | None = None) -> str:
        a = f"[{first_n}]" if first_n else f"({self.first.source})"
        b = f"[{second_n}]" if second_n else f"({self.second.source})"
        return f"{self.first_value} {a} vs {self.second_value} {b}"


def _number(raw: str) -> float | None:
    raw = raw.lower()
    if raw in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[raw])
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


def quantities(sentence: str, units: Sequence[str] = ()) -> list[Quantity]:
    """Numbers with their unit; with `units`, the unit is the first of the next three words
    whose stem is one of them (so "two trained engineers" counts engineers)."""
    wanted = {s for u in units for s in tokenize(u)}
    out = []
    for m in _QUANTITY.finditer(sentence):
        value = _number(m.group("num"))
        if value is None:
            continue
        plain = not (m.group("cur") or m.group("pct") or m.group("mult"))
        if plain and len(m.group("num")) == 4 and 1900 <= value <= 2100:
            continue  # a year, not a quantity (dates are compared by `dates`)
        if m.group("mult"):
            value *= _MULT[m.group("mult").strip().lower()]
        words = [w for w in re.split(r"[-\s]+", m.group("unit") or "") if w]
        stems = [s for w in words for s in tokenize(w)]
        if m.group("cur"):
            unit = m.group("cur").strip().upper().replace("£", "GBP").replace("$", "USD")
        elif m.group("pct"):
            unit = "%"
        elif wanted:
            unit = next((s for s in stems if s in wanted), "")
        else:
            unit = stems[0] if stems else ""
        if unit:
            before = re.findall(r"[a-z]+", sentence[: m.start()].lower())[-2:]
            bound = any(w in _BOUND_WORDS for w in before)
            value_end = max(m.end("num"), m.end("mult"), m.end("pct"))
            label = sentence[m.start() : value_end].strip()
            if not (m.group("cur") or m.group("pct")) and words:
                label = f"{label} {words[0]}"
            out.append(
                Quantity(value, unit, m.group(0).strip(), m.start(), value_end, bound, label)
            )
    return out


def context_terms(sentence: str, start: int, end: int) -> set[str]:
    """Content stems within WINDOW words of a value: what the value is about."""
    before = re.findall(r"[\w-]+", sentence[:start])[-WINDOW:]
    after = re.findall(r"[\w-]+", sentence[end:])[:WINDOW]
    return {s for w in before + after if not any(c.isdigit() for c in w) for s in tokenize(w)}


def dates(sentence: str) -> list[tuple[int, int]]:
    """(year, month) pairs the sentence names."""
    return [(year, month) for year, month, _, _ in _date_spans(sentence)]


def _date_spans(sentence: str) -> list[tuple[int, int, int, int]]:
    return [
        (int(m.group("year")), _MONTHS.index(m.group("month").lower()) + 1, m.start(), m.end())
        for m in _DATE.finditer(sentence)
    ]


def negated(sentence: str) -> bool:
    """True when the sentence contains a closed-class negator ("no", "not", "never", ...)."""
    words = re.findall(r"[a-z]+(?:'t)?", sentence.lower().replace("n't", " n't"))
    return any(w in _NEGATORS for w in words)


@dataclass
class _Stated:
    passage: Passage
    sentence: str
    values: dict[str, set[str]]  # fact key -> stated values (as text)
    about: dict[str, set[str]]  # fact key -> context stems around its values
    labels: dict[tuple[str, str], str] = field(default_factory=dict)  # values as written


def _stated(passage: Passage, sentence: str) -> _Stated | None:
    values: dict[str, set[str]] = {}
    about: dict[str, set[str]] = {}
    labels: dict[tuple[str, str], str] = {}
    for q in quantities(sentence):
        if q.bound:
            continue
        key = f"qty:{q.unit}"
        values.setdefault(key, set()).add(f"{q.value:g}")
        labels[(key, f"{q.value:g}")] = q.label
        about.setdefault(key, set()).update(context_terms(sentence, q.start, q.end))
    for year, month, start, end in _date_spans(sentence):
        key = f"date:{year}"
        values.setdefault(key, set()).add(f"{_MONTHS[month - 1].title()} {year}")
        about.setdefault(key, set()).update(context_terms(sentence, start, end))
    return _Stated(passage, sentence, values, about, labels) if values else None


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


# Calibrated on the labelled conflicts of evals/datasets/assessment.yaml: a pair conflicts when
# the sentences are close and the words around the two values overlap (the same "stipend ...
# per week"), or when the sentences are near-paraphrases.
MIN_SIMILARITY = 0.55
MIN_CONTEXT_OVERLAP = 0.25
PARAPHRASE = 0.8


def find_conflicts(
    passages: Sequence[Passage], embeddings, min_similarity: float = MIN_SIMILARITY
) -> list[Conflict]:
    """Pairs of closely matching sentences from different documents of the same client scope that
    state a different value for the same unit (or a different month in the same year); values
    stated as bounds or goals ("under 10 minutes", "target 50%") are not compared."""
    stated: list[_Stated] = []
    seen: set[str] = set()
    for p in passages:
        for sentence in split_sentences(p.text):
            if sentence in seen:
                continue
            seen.add(sentence)
            if (s := _stated(p, sentence)) is not None:
                stated.append(s)
    if len(stated) < 2:
        return []
    embed = getattr(embeddings, "embed_sentences", embeddings.embed_documents)
    vectors = np.asarray(embed([s.sentence for s in stated]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    sims = vectors @ vectors.T
    found: list[Conflict] = []
    pairs_seen: set[tuple[str, str, str]] = set()
    order = np.argsort(-sims, axis=None)
    n = len(stated)
    for flat in order:
        i, j = divmod(int(flat), n)
        if sims[i, j] < min_similarity:
            break
        if i >= j:
            continue
        a, b = stated[i], stated[j]
        if a.passage.doc_id == b.passage.doc_id or a.passage.scope != b.passage.scope:
            continue
        for key in a.values.keys() & b.values.keys():
            va, vb = a.values[key], b.values[key]
            if va & vb:
                continue  # they agree on at least one value: a range or a before/after
            if (
                sims[i, j] < PARAPHRASE
                and _overlap(a.about[key], b.about[key]) < MIN_CONTEXT_OVERLAP
            ):
                continue  # the values are about different things
            docs = tuple(sorted((a.passage.doc_id, b.passage.doc_id))) + (key,)
            if docs in pairs_seen:
                continue
            pairs_seen.add(docs)

            def shown(stated: _Stated, values: set[str], key: str = key) -> str:
                return ", ".join(stated.labels.get((key, v), v) for v in sorted(values))

            found.append(
                Conflict(
                    first=a.passage,
                    second=b.passage,
                    first_sentence=a.sentence,
                    second_sentence=b.sentence,
                    first_value=shown(a, va),
                    second_value=shown(b, vb),
                    similarity=float(sims[i, j]),
                )
            )
    return found
