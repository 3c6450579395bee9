"""Whom a piece of advice is written for, and whether the asking client is one of them.

A playbook often states its own scope: "the first five hires", "until the team has ten
developers", "before the team passes 20 engineers", "a seed-stage company", "before Series A".
A client's own documents say how big it is and how far it has come ("90 engineers in total",
"the Series B raised in 2025"). Both are read from spaCy's parse: a number and the noun it counts
(its `nummod` head), and the preposition, adverb or ordinal that bounds it ("first", "until",
"before", "at least"); funding stages are ordered as the venture ladder orders them. Advice whose
stated scope excludes the client is said not to apply, with both sides cited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from advisor.answering.facts import parse_number
from advisor.retrieval.lexical import tokenize

# The nouns that count the people of a team (stems): the dimension "team size" is about them.
_HEADCOUNT = frozenset(
    tokenize("engineers developers people persons employees hires staff headcount members")
)
# Closed-class words before a number that make it an upper or a lower bound.
_UPTO = frozenset({"first", "under", "below", "until", "till", "before", "upto", "within"})
_UPTO_PAIRS = {("fewer", "than"), ("less", "than"), ("up", "to"), ("at", "most"), ("no", "more")}
_FROM = frozenset({"over", "above", "beyond", "after", "past", "exceeds", "exceed"})
_FROM_PAIRS = {("more", "than"), ("at", "least"), ("once", "you"), ("more", "then")}
# The venture ladder, in order; "seed-stage", "pre-seed", "Series A" ... "Series F".
_STAGES = ["pre-seed", "seed", *(f"series {c}" for c in "abcdef")]
_STAGE = re.compile(r"\b(pre-?seed|seed(?=[-\s](?:stage|round|funding|company|startup))|seed\b"
                    r"|series\s+[a-f]\b)", re.I)  # fmt: skip
_STAGE_BEFORE = re.compile(
    r"\b(before|until|pre|prior to|up to)\s*(?:-\s*)?(?:the\s+|a\s+|your\s+)?$", re.I
)
_STAGE_AFTER = re.compile(r"\b(after|post|beyond|from|once you(?:'ve| have)? raised)\s*(?:-\s*)?(?:the\s+|a\s+|your\s+)?$", re.I)  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """A range on one dimension ("team" in people, or "stage" on the venture ladder)."""

    dimension: str
    low: float | None
    high: float | None
    text: str  # the words that state it, as written

    def admits(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Fact:
    """What a client's document says about one dimension: a value and the words that say it."""

    dimension: str
    value: float
    text: str


def _number(token) -> float | None:
    """The value of a number token ("40", "1,200", "seven"), read by the one fact extractor's
    number parser."""
    parsed = parse_number(token.text)
    return parsed[0] if parsed is not None else None


def _before(doc, i: int, n: int = 3) -> list[str]:
    return [t.lower_ for t in doc[max(0, i - n) : i]]


def _direction(doc, number) -> str | None:
    """'upto', 'from' or None for a number, from the words just before it (and an ordinal
    "first" modifying the noun it counts)."""
    words = _before(doc, number.i)
    pairs = set(zip(words, words[1:], strict=False))
    head = number.head
    if any(c.lower_ == "first" for c in head.children) or "first" in words[-1:]:
        return "upto"
    clause = [t.lower_ for t in doc[max(0, number.i - 8) : number.i]]
    if pairs & _UPTO_PAIRS or set(words[-2:]) & _UPTO or set(clause) & {"until", "before"}:
        return "upto"
    if pairs & _FROM_PAIRS or set(words[-2:]) & _FROM:
        return "from"
    return None


def _headcounts(doc):
    """(number token, value, its range partner or None) for numbers that count people."""
    for t in doc:
        if t.dep_ not in ("nummod", "pobj", "quantmod") or not t.like_num:
            continue
        head = t.head
        while head.dep_ in ("nummod", "quantmod") and head.head is not head:
            head = head.head
        nouns = [head] if head.pos_ in ("NOUN", "PROPN") else []
        if t.dep_ == "pobj":  # "from 30 to 36 developers": the noun follows the range
            nouns = [n for n in doc[t.i + 1 : t.i + 4] if n.pos_ == "NOUN"][:1]
        if not nouns or not set(tokenize(nouns[0].text)) & _HEADCOUNT:
            continue
        value = _number(t)
        if value is not None:
            yield t, value, nouns[0]


_SCOPE_MARKS = frozenset({"until", "till", "before", "once", "after", "when", "unless", "while"})


def _framing(doc, number, noun) -> bool:
    """True when a counted noun frames the advice rather than being what it asks for: an
    ordinal ("the first five hires"), a clause that sets a condition ("until the team has ten
    developers", "before the team passes 20 engineers"), a phrase put before the main verb ("At
    ten to twenty developers, ..."), or a heading (no verb at all). "Keep at least two
    reviewers per change" and "Staff each squad with four developers" state what to do instead."""
    if (
        any(c.lower_ == "first" for c in noun.children)
        or doc[max(0, number.i - 1)].lower_ == "first"
    ):
        return True
    if not any(t.pos_ in ("VERB", "AUX") for t in doc):
        return True
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    for a in [noun, *noun.ancestors]:
        if a.dep_ in ("advcl", "ccomp") and any(
            c.dep_ == "mark" and c.lower_ in _SCOPE_MARKS for c in a.children
        ):
            return True
        if a.dep_ == "prep" and root is not None and a.i < root.i and a.head == root:
            return True
    return False


_MAY_STAGE = re.compile(r"\d|\b(?:first|seed|series|pre-?seed)\b", re.I)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*", re.I)


def _may_count(text: str) -> bool:
    """A cheap look before parsing: a digit, a stage, an ordinal "first" or a number word."""
    return bool(_MAY_STAGE.search(text)) or any(
        parse_number(w) is not None for w in _WORD.findall(text)
    )


def scopes(text: str, parse) -> list[Scope]:
    """The scopes a piece of advice (a sentence or a heading) states for itself."""
    if not _may_count(text):
        return []  # no number and no stage: nothing to parse
    out: list[Scope] = []
    doc = parse(text)
    seen: set[int] = set()
    for t, value, noun in _headcounts(doc):
        if t.i in seen or not _framing(doc, t, noun):
            continue
        seen.add(t.i)
        # "six to ten developers", "6-10 developers": a range.
        partner = [o for o in doc[max(0, t.i - 3) : t.i] if o.like_num and _number(o) is not None]
        words = _before(doc, t.i, 1)
        if partner and words and words[-1] in ("to", "-", "–", "and"):
            low = _number(partner[-1])
            span = doc[partner[-1].i : noun.i + 1].text
            out.append(Scope("team", low, value, span))
            continue
        direction = _direction(doc, t)
        span = doc[max(0, t.i - 2) : noun.i + 1].text
        if direction == "upto":
            out.append(Scope("team", None, value, span))
        elif direction == "from":
            out.append(Scope("team", value, None, span))
    for m in _STAGE.finditer(text):
        stage = _stage_index(m.group(1))
        before = text[: m.start()]
        if _STAGE_BEFORE.search(before):
            out.append(Scope("stage", None, stage - 1, text[m.start() - 8 : m.end()].strip()))
        elif _STAGE_AFTER.search(before):
            out.append(Scope("stage", stage, None, m.group(0)))
        elif text[m.end() : m.end() + 6].lower().startswith(("-stage", " stage")):
            out.append(Scope("stage", stage, stage, text[m.start() : m.end() + 6]))
    return out


def _stage_index(text: str) -> int:
    name = " ".join(text.lower().replace("preseed", "pre-seed").split())
    return _STAGES.index(name) if name in _STAGES else 0


def facts(sentences: Iterable[str], parse) -> dict[str, Fact]:
    """What a client's sentences say about its size and stage: the largest plain headcount
    (a subset - two experts, three open roles - is smaller than the whole) and the latest stage
    raised. Bounded numbers ("at least five", "up to 48") are goals or rules, not facts."""
    best: dict[str, Fact] = {}
    for sentence in sentences:
        if not _may_count(sentence):
            continue
        doc = parse(sentence)
        for t, value, _noun in _headcounts(doc):
            words = _before(doc, t.i, 2)
            if _direction(doc, t) or (words and words[-1] in ("to", "-", "–")):
                continue
            if value > best.get("team", Fact("team", -1, "")).value:
                best["team"] = Fact("team", value, sentence)
        for m in _STAGE.finditer(sentence):
            if _STAGE_BEFORE.search(sentence[: m.start()]):
                continue
            stage = _stage_index(m.group(1))
            if stage > best.get("stage", Fact("stage", -1, "")).value:
                best["stage"] = Fact("stage", stage, sentence)
    return best


def excluded(scope_list: Iterable[Scope], known: dict[str, Fact]) -> tuple[Scope, Fact] | None:
    """The first stated scope that the client's known facts fall outside, with that fact."""
    for scope in scope_list:
        fact = known.get(scope.dimension)
        if fact is not None and not scope.admits(fact.value):
            return scope, fact
    return None
