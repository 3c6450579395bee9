"""Pure metric functions. `None` means "not defined for this item" and is left out of means."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

from advisor.core.citations import marker_numbers, strip_markers

# --- retrieval (document level) ------------------------------------------------------------


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Documents in rank order, each kept at its first occurrence (chunks of one doc count once)."""
    return list(dict.fromkeys(ranked))


def hit_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """1.0 when any gold document is among the top k documents, else 0.0."""
    gold_set = set(gold)
    return 1.0 if any(doc in gold_set for doc in dedupe(ranked)[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float | None:
    """Share of the gold documents found among the top k documents."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return len(gold_set.intersection(dedupe(ranked)[:k])) / len(gold_set)


def mrr_at_k(ranked: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    """1 / rank of the first gold document within the top k documents (0.0 when none)."""
    gold_set = set(gold)
    for rank, doc in enumerate(dedupe(ranked)[:k], start=1):
        if doc in gold_set:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Iterable[str], k: int = 10) -> float | None:
    """Binary-relevance nDCG over the top k documents; the ideal ranks every gold doc first."""
    gold_set = set(gold)
    if not gold_set:
        return None
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, doc in enumerate(dedupe(ranked)[:k], start=1)
        if doc in gold_set
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold_set), k) + 1))
    return dcg / ideal


# --- answer text ---------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        # Markdown emphasis and code ticks are formatting, not wording.
        "*": None,
        "`": None,
    }
)


def normalize(text: str) -> str:
    """Lower-cased text with unified quotes/dashes, no markdown emphasis, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


# A word is a run of letters/digits; currency, percent and the symbols of names like C++ and C#
# are words of their own. Other punctuation (.,;:!?'"()/- ...) only separates words.
_WORD = re.compile(r"[^\W_]+|[%$€£¥+#&@]")


def words(text: str) -> list[str]:
    """The normalised words of `text` (see `normalize`), punctuation and spacing dropped."""
    return _WORD.findall(normalize(text))


def contains_phrase(haystack_words: Sequence[str], phrase: str) -> bool:
    """True when the phrase's words occur consecutively, whole words only.

    "Java" is not found in "JavaScript", "15,000" is found in "$15,000", "follow-the-sun" in
    "follow the sun".
    """
    needle = words(phrase)
    if not needle:
        return False
    joined = f" {' '.join(haystack_words)} "
    return f" {' '.join(needle)} " in joined


def phrases_found(answer: str, phrases: Iterable[str]) -> list[str]:
    """The phrases that occur in the answer as whole words, compared after `normalize`."""
    haystack = words(strip_markers(answer))
    return [p for p in phrases if contains_phrase(haystack, p)]


def fact_recall(answer: str, must_include: Sequence[str]) -> float | None:
    """Share of the `must_include` phrases found in the answer (None when there are none)."""
    if not must_include:
        return None
    return len(phrases_found(answer, must_include)) / len(must_include)


def citation_markers(answer: str) -> list[int]:
    """Every `[n]` marker number in order of appearance; `[1, 2]` counts as two markers."""
    return marker_numbers(answer)


# Anything that looks like an attempt at a marker: a short bracketed group with a digit in it
# ("[1,]", "[^2]", "[ 3 ]", "[source 4]", "[1-3]"). Those the citation grammar does not accept
# are malformed: a reader cannot follow them, so they count against validity.
_MARKER_LIKE = re.compile(r"\[[^\[\]\n]{0,14}\d[^\[\]\n]{0,14}\]")


_YEAR = re.compile(r"\[\d{4}\]")


def malformed_markers(answer: str) -> list[str]:
    """Marker-like bracketed groups that the `[n]` grammar does not parse, in order."""
    found = [m.group(0) for m in _MARKER_LIKE.finditer(answer)]
    # A bracketed year ("[2026]") is text, not a marker attempt.
    return [g for g in found if not marker_numbers(g) and not _YEAR.fullmatch(g)]


def citation_validity(markers: Sequence[int], valid: Iterable[int]) -> float | None:
    """Share of markers that resolve to a citation/passage (None when there are no markers)."""
    if not markers:
        return None
    valid_set = set(valid)
    return sum(1 for m in markers if m in valid_set) / len(markers)


def citation_precision(cited: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of distinct cited documents that are gold documents (None when nothing is cited)."""
    cited_docs = dedupe(cited)
    if not cited_docs:
        return None
    gold_set = set(gold)
    return sum(1 for doc in cited_docs if doc in gold_set) / len(cited_docs)


# --- aggregation ---------------------------------------------------------------------------


def is_defined(value: float | None) -> bool:
    """False for None and NaN (degenerate cases that stay out of means)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values, or None when there are none."""
    kept = [v for v in values if is_defined(v)]
    return sum(kept) / len(kept) if kept else None


def rate(flags: Iterable[bool]) -> float | None:
    """Share of True, or None for an empty input."""
    kept = list(flags)
    return sum(kept) / len(kept) if kept else None


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The pct-th percentile with linear interpolation (numpy's default), None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * pct / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
