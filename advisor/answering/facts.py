"""Facts a text states, read from spaCy's parse, and conflicts between one client's documents.

A fact is a value (a count, an amount of money, a percentage, a duration or a calendar date)
together with what it measures, read from the dependency parse rather than from patterns:

- the value comes from spaCy's entities (CARDINAL, QUANTITY, MONEY, PERCENT, DATE, TIME) and
  spelled numbers from `text2num` (a general parser of number words, any size);
- what is measured is the noun the number modifies ("nine *developers*"), with its compounds and
  modifiers, the subject when the value is an attribute ("the *team* is nine developers"), the
  content verb and its prepositional objects ("*issued* EUR 23,500 *in service credits*"), or a
  table row's label and column ("Headcount (engineering)": 11);
- its kind: a statement of fact, or a target, plan, bound or condition. That is told by the
  parse: a modal auxiliary, an infinitive or an imperative clause, a deadline ("by" a date), a
  subordinate clause with a marker ("if", "once"), a comparative or superlative modifier ("at
  least", "more than") or a bounding preposition ("under", "within");
- its period: a rate ("a month", "per week", "monthly") or a total over a span ("in Q2"), so that
  values are compared per month, quarter or year, and a rate never against a plain total.

Two documents of the same client conflict when they state different values for the same measure
over the same period. Measures are compared by meaning: the larger of the MiniLM cosines of the
whole measure phrases and of their cores (the nouns: the counted noun, the subject of a "be" or
"have" clause, a table row's label, without the verbs done to them); two counts whose counted
nouns' vectors are far apart are never the same measure, and a conjunct's words are not its
sibling's. The threshold is chosen on the tuning client only (benchmarks/calibrate_assessment.py).

Negation is read per clause (`polar_terms`): each content word with whether a negation in its
own clause, a negative subject, or a "no"/"without" phrase governs it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from advisor.answering.extractive import split_sentences
from advisor.core import nlp
from advisor.core.models import Passage

# -- closed-class grammar and units (English function words and unit conversions, not topics) --

# Prepositions that bound a value rather than state it ("under 8 seconds", "within a week"),
# and those that give the start or end of a change ("from 6 to 11"): neither is a current value.
BOUNDING_PREPOSITIONS = frozenset({"under", "below", "over", "above", "within", "beyond", "until"})
CHANGE_PREPOSITIONS = frozenset({"from", "to"})
# Prepositions after which a date is the period a total covers ("in Q2", "during May").
SPAN_PREPOSITIONS = frozenset({"in", "during", "for", "over", "throughout", "of"})
# Lengths of periods in days: for rates ("a month", "per week", "monthly") and totals over spans.
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365 / 12, "quarter": 365 / 4, "half": 365 / 2}
PERIOD_DAYS["year"] = 365.0
_PERIOD_ADJECTIVES = {
    "daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
    "yearly": "year", "annual": "year", "annually": "year", "annualised": "year",
    "annualized": "year",
}  # fmt: skip
# Durations, in minutes.
TIME_UNITS = {"second": 1 / 60, "minute": 1.0, "hour": 60.0, "day": 1440.0, "week": 10080.0}
TIME_UNITS |= {"month": 43800.0, "year": 525600.0}
MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6}
MULTIPLIERS |= {"bn": 1e9, "b": 1e9, "billion": 1e9}
CURRENCY_SYMBOLS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_QUARTER = re.compile(r"^[QH][1-4]$", re.I)
_NUMBER = re.compile(r"^[~≈]?\d[\d,]*(?:\.\d+)?(?:[kKmMbB]|bn|mn)?$")
# A table cell that is a value: it starts with a number or a currency ("11", "€250", "8%").
# Up to three unit words may follow ("€7,300 per month", "17 minutes", "4.5 hours a week").
_VALUE_CELL = re.compile(r"^\W{0,2}(?:[A-Z]{3}\s?)?\d[\d,.]*\s*\S{0,12}(?:\s+[A-Za-z]{1,12}){0,3}$")
_VALUE_ENTITIES = ("CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME")
# Relations along which a word tells what a value is of.
_MODIFIERS = ("compound", "amod", "nmod", "poss", "appos", "npadvmod")

Kind = str  # "stated" | "target" | "bound" | "change" | "condition"


@dataclass(frozen=True)
class Fact:
    """One value a sentence states, what it measures and how it is stated."""

    value: float  # money in its currency, % as a number, durations in minutes, dates as months
    unit: str  # "EUR" | "%" | "minute" | "business day" | "date" | "quarter-date" | "" (a count)
    measure: str  # the words that say what is measured, as written ("team ... developers")
    lemmas: str  # the same, lemmatised: what measures are compared by
    kind: Kind
    label: str  # the value as written: "nine developers", "€23,500", "March 2027"
    sentence: str
    per: str | None = None  # a rate: per "day" | "week" | "month" | "quarter" | "half" | "year"
    span: str | None = None  # a total over this period ("Q2 2026", "2026-09")
    span_kind: str | None = None  # its length: "month" | "quarter" | "half" | "year"
    precision: float = 0.0  # half a unit of the last digit written ("1.9M": 50,000)
    counted: str = ""  # the lemma of the noun a count counts ("engineer" in "five engineers")
    start: int = 0  # the value's characters in `sentence`
    end: int = 0
    # What is measured without what is done to it: the measure's nouns and their modifiers
    # (the counted noun, the subject of a "be"/"have" clause, a table row's label), no verbs:
    # "goodwill refunds" in both "granted $900 in goodwill refunds" and "goodwill refunds paid".
    core: str = ""  # as written
    core_lemmas: str = ""  # lemmatised, what `measure_similarity` also compares
    # A count that states a group's size: the group ("data science group"; "*" for the
    # writer's organisation, "we have ..."; a table's "Nursing | Headcount" row: nursing).
    size_of: str = ""

    @property
    def stated(self) -> bool:
        return self.kind == "stated"

    def per_year(self) -> float | None:
        """The value as a yearly rate, when it is a rate or a total over a span."""
        period = self.per or self.span_kind
        return self.value * PERIOD_DAYS["year"] / PERIOD_DAYS[period] if period else None


@dataclass(frozen=True)
class Conflict:
    """Two documents of one client stating different values for the same measure."""

    first: Passage
    second: Passage
    first_sentence: str
    second_sentence: str
    first_value: str
    second_value: str
    similarity: float  # of the two measure phrases
    measure: str = ""

    def describe(self, first_n: int | None = None, second_n: int | None = None) -> str:
        """'engineering headcount: nine developers in team-notes.md [3] vs 11 in roster.csv [5]'"""
        a = f" [{first_n}]" if first_n else ""
        b = f" [{second_n}]" if second_n else ""
        head = f"{self.measure}: " if self.measure else ""
        return (
            f"{head}{self.first_value} in {_name(self.first)}{a} vs "
            f"{self.second_value} in {_name(self.second)}{b}"
        )


def _name(p: Passage) -> str:
    return p.source.rsplit("/", 1)[-1]


# -- parsing -----------------------------------------------------------------------------------


def _nlp(text: str):
    """`text` through the one spaCy pipeline, every component (advisor.core.nlp)."""
    return nlp.parse(text)


def parse_number(text: str) -> tuple[float, float] | None:
    """(value, precision) of a number as written: "1.9M", "650,000", "nine", "twenty-one",
    "GBP 4.1M", "17%"; None when it is not a number. Precision is half a unit of the last
    digit when the number has a decimal part or a multiplier ("1.9M": 50,000), else 0."""
    from text_to_num import text2num

    text = "".join(c for c in text if c not in CURRENCY_SYMBOLS)
    text = re.sub(r"\b[A-Z]{3}\b", " ", text)  # a currency code: "GBP 4.1M"
    words = [w for w in re.split(r"[\s]+", text.strip().lower().replace("%", " ")) if w]
    words = [w.strip("~≈()") for w in words if not re.fullmatch(r"[^\w]+", w)]
    words = [w for w in words if w and w not in ("about", "around", "roughly", "approximately")]
    if not words:
        return None
    mult = 1.0
    if len(words) > 1 and words[-1] in MULTIPLIERS:
        mult = MULTIPLIERS[words.pop()]
    if len(words) == 1:
        m = re.fullmatch(r"(\d[\d,]*)(?:\.(\d+))?(k|m|mn|bn|b)?", words[0])
        if m:
            value = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
            if m.group(3):
                mult *= MULTIPLIERS[m.group(3)]
            decimals = len(m.group(2) or "")
            precision = 0.5 * 10**-decimals * mult if (decimals or mult > 1) else 0.0
            return value * mult, precision
    try:
        return float(text2num(" ".join(words).replace("-", " "), "en")) * mult, 0.0
    except ValueError:
        return None


def _chunk(token, skip: set[int]) -> list:
    """A noun's phrase: the noun with its compounds and modifiers (recursively), no values."""
    out = [token]
    for child in token.children:
        if child.i in skip or child.like_num:
            continue
        if child.ent_type_ in _VALUE_ENTITIES and child.lower_ not in _PERIOD_ADJECTIVES:
            continue
        if child.dep_ in ("compound", "amod", "nmod", "appos", "poss") and child.pos_ != "PRON":
            out.extend(_chunk(child, skip))
    return out


def _lemma(t) -> str:
    """A word's lemma, lower-cased; an acronym is its own lemma ("AWS" is not a plural of "AW")."""
    return t.lower_ if t.is_upper and len(t.text) > 1 and t.is_alpha else t.lemma_.lower()


def _counted_head(tokens) -> tuple[str, bool]:
    """What a plain count counts when no noun carries its number: the head of its measure
    phrase when that head is plural ("Open roles": roles), else the head's modifier ("Nursing
    headcount": engineering, and then the count is that group's size), else nothing."""
    nouns = [t for t in tokens if t.pos_ in ("NOUN", "PROPN")]
    heads = [t for t in nouns if t.head.i == t.i or t.head not in nouns]
    if not heads:
        return "", False
    head = heads[-1]
    if head.tag_ in ("NNS", "NNPS"):
        return _lemma(head), False
    mods = [c for c in head.children if c.dep_ in ("compound", "amod", "nmod") and c in nouns]
    return (_lemma(mods[-1]), True) if mods else ("", False)


def _size_of(verb, owner, anchor, skip: set[int]) -> str:
    """The group whose size a count states, when it states one: the subject of "<group> is N
    <things>" or "<group> has N <things>" ("*" for a pronoun: the writer's whole organisation);
    else "". A count doing something ("three nurses cover the night shift") or placed somewhere
    ("eight nurses are on the surgical ward") is a count of some of them, not a group's size."""
    if owner.i == anchor.i or owner.head.i != verb.i:
        return ""
    if not (
        (owner.dep_ == "attr" and verb.lemma_ == "be")
        or (owner.dep_ == "dobj" and verb.lemma_ == "have")
    ):
        return ""
    for c in verb.children:
        if c.dep_ == "nsubj":
            if c.pos_ == "PRON":
                return "*"
            return " ".join(_lemma(t) for t in _content(sorted(_chunk(c, skip), key=lambda t: t.i)))
    return ""


def _content(tokens) -> list:
    return [
        t
        for t in tokens
        if t.pos_ in ("NOUN", "PROPN", "ADJ", "VERB") and not t.is_stop and not t.like_num
    ]


def _clause_verb(token):
    """The verb (or the root) that the clause of `token` hangs from, and the path to it."""
    path = [token]
    while path[-1].head.i != path[-1].i and path[-1].pos_ not in ("VERB", "AUX"):
        path.append(path[-1].head)
    return path[-1], path


def _is_date_token(t) -> bool:
    return (
        t.lower_ in _MONTHS
        or bool(_QUARTER.match(t.text))
        or (t.like_num and t.text.isdigit() and len(t.text) == 4 and 1900 <= int(t.text) <= 2100)
    )


def _has_deadline(token) -> bool:
    """True when `token` has a "by <date>" modifier (a deadline: a target, not a statement)."""
    for child in token.children:
        if (
            child.dep_ == "prep"
            and child.lower_ == "by"
            and any(_is_date_token(t) or t.ent_type_ == "DATE" for t in child.subtree)
        ):
            return True
    return False


def _kind(anchor, owner, value_tokens: set[int]) -> Kind:
    """How the value is stated, from the parse around it (see the module docstring)."""
    verb, path = _clause_verb(owner)
    for t in [anchor, owner]:
        for child in t.children:
            if child.i in value_tokens:
                continue
            if child.tag_ in ("JJR", "RBR", "JJS", "RBS") and child.dep_ in (
                "advmod", "amod", "quantmod", "prep"
            ):  # fmt: skip
                return "bound"
            if child.dep_ in ("quantmod", "advmod", "prep") and (
                child.lower_ in BOUNDING_PREPOSITIONS
            ):
                return "bound"
    for t in path[1:] if len(path) > 1 else path:
        if t.pos_ == "ADP" or t.dep_ == "prep":
            if t.lower_ in BOUNDING_PREPOSITIONS:
                return "bound"
            if t.lower_ in CHANGE_PREPOSITIONS and t.dep_ != "dative":
                return "change"
            if t.lower_ == "by":
                return "target"
            if t.lower_ == "than":
                return "bound"
    if any(_has_deadline(t) for t in path):
        return "target"
    clause = verb
    while True:
        if clause.pos_ in ("VERB", "AUX"):
            children = list(clause.children)
            if any(c.dep_ == "aux" and c.tag_ in ("MD", "TO") for c in children):
                return "target"
            if any(c.dep_ == "mark" for c in children) and clause.dep_ in ("advcl", "ccomp"):
                return "condition"
            imperative = (
                clause.tag_ == "VB"
                and not any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in children)
                and clause.dep_ in ("ROOT", "conj")
            )
            if imperative:
                return "target"
        if clause.dep_ in ("xcomp", "conj") and clause.head.i != clause.i:
            clause = clause.head  # "plans to grow", "grow ... and expand"
            if clause.dep_ == "xcomp":
                continue
            if clause.pos_ in ("VERB", "AUX") and clause.tag_ != "VB":
                break
            continue
        break
    return "stated"


def _period(tokens) -> str | None:
    """A rate's period, from the words attached to the value: "a month", "per week", "monthly"."""
    for t in tokens:
        for c in [t, *t.children]:
            lemma = c.lemma_.lower()
            if c.lower_ in _PERIOD_ADJECTIVES:
                return _PERIOD_ADJECTIVES[c.lower_]
            if lemma in PERIOD_DAYS and c.i != t.i:
                dets = {d.lower_ for d in c.children if d.dep_ in ("det", "quantmod")}
                by_per = c.dep_ == "pobj" and c.head.lower_ in ("per", "a", "an", "each")
                if (dets & {"a", "an", "each", "every", "per"}) or by_per:
                    return lemma
            if c.dep_ == "prep" and c.lower_ == "per":
                for obj in c.children:
                    if obj.lemma_.lower() in PERIOD_DAYS:
                        return obj.lemma_.lower()
    return None


def _day_of_month(t) -> bool:
    """A month written with its day ("19 August", "August 19"): a point in time, not a period."""
    near = [t.doc[k] for k in (t.i - 1, t.i + 1) if 0 <= k < len(t.doc)]
    return t.lower_ in _MONTHS and any(
        w.text.isdigit() and 1 <= int(w.text) <= 31 and len(w.text) <= 2
        for w in [*near, *t.children]
    )


def _span(doc, path_ids: set[int], skip: set[int]) -> tuple[str | None, str | None]:
    """The period a total covers: a quarter, half, month or year attached to the value's words
    as a modifier or after "in"/"during"/"for" ("1.9M deliveries routed in Q2"). A day's date
    ("the 12 March release") names when something happened, not a period."""
    best: tuple[str | None, str | None] = (None, None)
    for t in doc:
        if t.i in skip or not _is_date_token(t) or _day_of_month(t):
            continue
        head, steps, ok = t, 0, False
        while head.head.i != head.i and steps < 4:
            if (head.dep_ == "prep" or head.pos_ == "ADP") and head.lower_ not in SPAN_PREPOSITIONS:
                break
            head = head.head
            steps += 1
            if head.i in path_ids:
                ok = True
                break
        if not ok:
            continue
        year = next((w.text for w in [t, *t.children] if w.text.isdigit() and len(w.text) == 4), "")
        if _QUARTER.match(t.text):
            kind = "quarter" if t.text[0].upper() == "Q" else "half"
            cand = (f"{t.text.upper()} {year}".strip(), kind)
        elif t.lower_ in _MONTHS:
            cand = (f"{calendar.month_abbr[_MONTHS[t.lower_]]} {year}".strip(), "month")
        else:
            cand = (t.text, "year")
        order = ["month", "quarter", "half", "year"]
        if best[1] is None or order.index(cand[1]) < order.index(best[1]):
            best = cand
    return best


def _unit(ent, anchor) -> tuple[str, float]:
    """The unit of an entity's value and its factor to the common unit (minutes for time)."""
    doc = ent.doc
    ent_label = getattr(ent, "label_", "")
    words = [t.lower_ for t in ent] + [t.lower_ for t in doc[ent.end : ent.end + 2]]
    if (
        "%" in words[: len(ent) + 1]
        or "percent" in words
        or any(a == "per" and b == "cent" for a, b in zip(words, words[1:], strict=False))
    ):
        return "%", 1.0  # "17%", "17 percent", "17 per cent" (which the tagger may call MONEY)
    if ent_label == "MONEY" or any(
        t.tag_ == "$" or t.text in CURRENCY_SYMBOLS or (t.is_upper and len(t.text) == 3)
        for t in ent
    ):
        near = list(ent) + [doc[ent.start - 1]] if ent.start > 0 else list(ent)
        near += [c for t in ent for c in t.children]
        for t in near:
            if t.text in CURRENCY_SYMBOLS:
                return CURRENCY_SYMBOLS[t.text], 1.0
            if t.is_upper and len(t.text) == 3 and t.is_alpha:
                return t.text, 1.0
        return "money", 1.0
    if ent_label == "PERCENT" or any(t.text == "%" or t.lower_ == "percent" for t in ent):
        return "%", 1.0
    for t in [*ent, anchor.head]:
        lemma = t.lemma_.lower()
        if lemma in TIME_UNITS and not t.like_num:
            qualifier = [c.lower_ for c in t.children if c.dep_ == "compound"]
            if qualifier:
                return f"{qualifier[0]} {lemma}", 1.0
            return "minute", TIME_UNITS[lemma]
    return "", 1.0


def _numbers_in(ent) -> tuple[str, list]:
    """The written number of an entity (digits, words, a multiplier) and its tokens."""
    tokens = [
        t
        for t in ent
        if t.like_num
        or _NUMBER.match(t.text)
        or t.lower_ in MULTIPLIERS
        or (t.tag_ == "CD" and not _is_date_token(t))
    ]
    return " ".join(t.text for t in tokens), tokens


def _date_value(ent) -> tuple[float, str, str] | None:
    """A calendar date as (month index, unit, label): months or quarters with a year."""
    tokens = list(ent)
    year = next((int(t.text) for t in tokens if t.text.isdigit() and len(t.text) == 4), None)
    if year is None:
        return None
    for t in tokens:
        if t.lower_ in _MONTHS:
            return year * 12 + _MONTHS[t.lower_] - 1, "date", ent.text
        if _QUARTER.match(t.text) and t.text[0].upper() == "Q":
            return year * 4 + int(t.text[1]) - 1, "quarter-date", ent.text
    return None


def _measure(doc, anchor, owner, verb, skip: set[int]) -> list:
    """The words that say what a value measures (see the module docstring)."""
    words = []
    if owner.i != anchor.i:
        words += _chunk(owner, skip)  # the counted noun and its modifiers
    else:
        words += [c for c in anchor.children if c.dep_ in _MODIFIERS and c.i not in skip]
    if owner.pos_ in ("VERB", "AUX"):  # "the lease ends in June 2031": the subject is dated
        for c in owner.children:
            if c.dep_ in ("nsubj", "nsubjpass") and c.i not in skip and c.pos_ != "PRON":
                words += _chunk(c, skip)
    value_head = owner
    if value_head.dep_ in ("attr", "acomp", "dobj", "npadvmod", "appos", "oprd", "pobj", "nsubj"):
        head = value_head.head
        if head.pos_ == "ADP":  # "a stipend of $300": the noun the preposition hangs from
            head = head.head
        if head.pos_ in ("NOUN", "PROPN") and head.i not in skip:
            words += _chunk(head, skip)
        for c in head.children if head.pos_ in ("VERB", "AUX") else []:
            if c.dep_ in ("nsubj", "nsubjpass") and c.i not in skip and c.pos_ != "PRON":
                words += _chunk(c, skip)
    if verb.dep_ == "relcl" and verb.head.pos_ in ("NOUN", "PROPN"):
        words += _chunk(verb.head, skip)  # "staging, where the table holds 200,000 rows"
    if verb.pos_ == "VERB" and verb.i not in skip and verb.lemma_ not in ("be", "have"):
        words.append(verb)
        for c in verb.children:
            if (
                c.dep_ == "dobj"
                and c.i not in skip
                and c.i != owner.i
                and c.pos_ != "PRON"
                and owner not in c.conjuncts  # "three data roles and one design role": a sibling
            ):
                words += _chunk(c, skip)
    for holder in {t.i: t for t in (owner, anchor, verb)}.values():
        for c in holder.children:
            if c.dep_ == "prep" and c.lower_ not in BOUNDING_PREPOSITIONS | {"by", "per"}:
                for obj in c.children:
                    if (
                        obj.dep_ == "pobj"
                        and obj.i not in skip
                        and not _is_date_token(obj)
                        and obj.lemma_.lower() not in PERIOD_DAYS
                    ):
                        words += _chunk(obj, skip)
            if c.dep_ in ("acl", "relcl") and c.pos_ == "VERB":
                words.append(c)
    # A conjunct's words are its own: "a three-seat cockpit and one pilot on leave" says
    # nothing about a cockpit of one.
    own = {w.i for w in owner.subtree}
    siblings = (
        {w.i for c in owner.conjuncts for w in c.subtree} - own if owner.i != anchor.i else set()
    )
    seen, out = set(), []
    for t in sorted(words, key=lambda t: t.i):
        if (
            t.i not in seen
            and t.i not in skip
            and t.i not in siblings
            and not t.is_punct
            and t.pos_ != "DET"
            and (t.tag_ != "$" and t.lower_ not in MULTIPLIERS)
        ):
            seen.add(t.i)
            out.append(t)
    return out


def _of_noun(anchor, skip: set[int]):
    """The noun of an "in"/"of" phrase on a value ("£2,750 *in* repair grants"), if any: not
    a date or a period (those give the span or the rate)."""
    for prep in anchor.children:
        if prep.dep_ == "prep" and prep.lower_ in ("in", "of"):
            for obj in prep.children:
                if (
                    obj.dep_ == "pobj"
                    and obj.pos_ == "NOUN"
                    and obj.i not in skip
                    and not _is_date_token(obj)
                    and obj.lemma_.lower() not in PERIOD_DAYS
                ):
                    return obj
    return None


def _extend(ent):
    """An entity with the multiplier after it ("1.9" "M") and the currency before it ("GBP")."""
    doc, start, end = ent.doc, ent.start, ent.end
    if end < len(doc) and doc[end].lower_ in MULTIPLIERS and doc[end].i == doc[end - 1].i + 1:
        end += 1
    if (
        start > 0
        and (
            doc[start - 1].text in CURRENCY_SYMBOLS
            or (
                doc[start - 1].is_upper
                and len(doc[start - 1].text) == 3
                and doc[start - 1].is_alpha
                and doc[start - 1].ent_type_ in ("", "MONEY", "ORG")
            )
        )
        and any(t.like_num or _NUMBER.match(t.text) for t in ent)
    ):
        start -= 1
    return doc[start:end] if (start, end) != (ent.start, ent.end) else ent


def _sentence_facts(sent, keep_unmeasured: bool = False) -> list[Fact]:
    doc = sent.doc if hasattr(sent, "doc") else sent
    text = sent.text
    base = sent.start_char if hasattr(sent, "start_char") else 0
    facts: list[Fact] = []
    ents = [e for e in sent.ents if e.label_ in _VALUE_ENTITIES]
    covered = {t.i for e in ents for t in e}
    # Numbers the small model did not tag as entities are values too ("Headcount ...: 11").
    for t in sent:
        if t.i not in covered and (t.like_num or _NUMBER.match(t.text)) and not _is_date_token(t):
            ents.append(doc[t.i : t.i + 1])
            covered.add(t.i)
    ents = [_extend(e) for e in ents]
    all_values = {
        t.i for e in ents if any(w.like_num or _NUMBER.match(w.text) for w in e) for t in e
    }
    for ent in ents:
        label_ = getattr(ent, "label_", "") or "CARDINAL"
        anchor = ent.root
        date = _date_value(ent) if label_ == "DATE" else None
        numbers = [t for t in ent if t.like_num]
        if (
            date is None
            and label_ in ("DATE", "TIME")
            and (not numbers or all(_is_date_token(t) for t in numbers))
        ):
            continue  # "Q2", "2026", "a week": a period or a year, not a value
        if date is None and label_ == "DATE" and any(t.lower_ in _MONTHS for t in ent):
            continue  # "19 August": a day without its year, not a count
        skip = set(all_values) | {t.i for t in ent}
        if date is not None:
            value, unit, label = date
            precision = 0.0
            owner = anchor.head if anchor.dep_ == "pobj" else anchor
            if owner.pos_ == "ADP":
                owner = owner.head
        else:
            written, tokens = _numbers_in(ent)
            parsed = parse_number(written) if written else None
            if parsed is None:
                continue
            value, precision = parsed
            unit, factor = _unit(ent, anchor)
            value, precision = value * factor, precision * factor
            if unit == "" and not tokens:
                continue
            if unit == "" and len(written) == 4 and written.isdigit() and 1900 <= value <= 2100:
                continue  # a year
            owner = anchor
            if anchor.dep_ in ("nummod", "quantmod", "compound", "nmod", "amod") and (
                anchor.head.pos_ in ("NOUN", "PROPN")
            ):
                owner = anchor.head
                if owner.lemma_.lower() in TIME_UNITS and owner.i not in skip:
                    skip.add(owner.i)
            label = ent.text if unit else f"{ent.text} {owner.text}".strip()
            if owner.i == anchor.i:
                label = ent.text
            if unit in CURRENCY_SYMBOLS.values() and not any(
                c in ent.text for c in CURRENCY_SYMBOLS
            ):
                prev = doc[ent.start - 1].text if ent.start > 0 else ""
                label = f"{prev}{ent.text}" if prev in CURRENCY_SYMBOLS else ent.text
        verb, path = _clause_verb(owner)
        kind = _kind(anchor, owner, skip)
        via = anchor.head
        if (
            kind == "target"
            and anchor.dep_ == "pobj"
            and via.lower_ in SPAN_PREPOSITIONS
            and via.head.pos_ in ("NOUN", "PROPN")
            and not _has_deadline(via.head)
        ):
            kind = "stated"  # "before its renewal in March 2027": a fact about the renewal
        measure_tokens = _measure(doc, anchor, owner, verb, skip)
        if unit.endswith("day") and unit != "minute":
            skip.add(owner.i)
        path_ids = {t.i for t in path} | {t.i for t in measure_tokens} | {anchor.i, owner.i}
        own = {t.i for t in ent}
        span, span_kind = (None, None) if date is not None else _span(doc, path_ids, own)
        subjects = {c.i for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")} | {owner.i}
        mods = [t for t in measure_tokens if t.dep_ == "amod" and t.head.i in subjects]
        per = None if date is not None else _period([anchor, owner, verb, *mods])
        if per:  # the rate's period is how it is stated, not what it measures ("a year")
            measure_tokens = [t for t in measure_tokens if t.lemma_.lower() not in PERIOD_DAYS]
        measure = " ".join(t.text for t in measure_tokens)
        lemmas = " ".join(_lemma(t) for t in _content(measure_tokens))
        nouns = [t for t in measure_tokens if t.pos_ in ("NOUN", "PROPN", "ADJ")]
        # An amount that modifies no noun but has its own "in"/"of" phrase is of that phrase's
        # noun ("£900 in goodwill refunds"): that noun, not the verb's other objects (whom it
        # was paid to), says what is measured, and counts it like a counted noun. (A share's
        # "of" phrase is its base, not what it measures: "N% of orders" says nothing alone.)
        money = unit in CURRENCY_SYMBOLS.values() or unit == "money"
        of_noun = _of_noun(anchor, skip) if owner.i == anchor.i and money else None
        if of_noun is not None:
            nouns = _chunk(of_noun, skip)
            nouns.sort(key=lambda t: t.i)
        core = " ".join(t.text for t in nouns)
        core_lemmas = " ".join(_lemma(t) for t in _content(nouns))
        head_count, of_group = (
            _counted_head(nouns) if unit == "" and date is None and owner.i == anchor.i
            else ("", False)
        )  # fmt: skip
        size_of = _size_of(verb, owner, anchor, skip) if unit == "" and date is None else ""
        size_of = head_count if of_group and of_noun is None else size_of
        if not lemmas and not keep_unmeasured:
            continue  # a value with nothing said about what it measures cannot be compared
        start = ent.start_char - base
        facts.append(
            Fact(
                value=float(value),
                unit=unit,
                measure=measure,
                lemmas=lemmas,
                core=core,
                core_lemmas=core_lemmas,
                kind=kind,
                label=label,
                sentence=text,
                per=per,
                span=span,
                span_kind=span_kind,
                precision=precision,
                counted=(
                    of_noun.lemma_.lower()
                    if of_noun is not None
                    else owner.lemma_.lower()
                    if owner.i != anchor.i and date is None
                    else head_count
                ),
                size_of=size_of,
                start=start,
                end=start + len(ent.text),
            )
        )
    return facts


# -- tables ------------------------------------------------------------------------------------


def _table_rows(text: str) -> list[list[list[str]]]:
    """Pipe tables in a chunk (header line first, as the chunker writes them)."""
    tables, current = [], []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and "|" in line:
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            current.append(cells)
        else:
            if len(current) >= 2:
                tables.append(current)
            current = []
    if len(current) >= 2:
        tables.append(current)
    return tables


@lru_cache(maxsize=4096)
def _parsed(text: str):
    """A short text's parse (a table cell, label or header), parsed once: read, never changed."""
    return _nlp(text)


@lru_cache(maxsize=4096)
def _table_facts(text: str) -> tuple[Fact, ...]:
    """A table's numeric cells as facts: measure = the row's label and the column's header, the
    value (and any bound or target) read from the cell as a sentence."""
    out = []
    for header, *rows in _table_rows(text):
        for row in rows:
            # The row's label: its first cell that is text, not a value ("Headcount (eng.)").
            labels = [c for c in row if c and not _VALUE_CELL.match(c)]
            if not labels:
                continue
            label = labels[0]
            # Value cells, under a header that names something (not a row number "#").
            cells = [
                (j, c)
                for j, c in enumerate(row)
                if j < len(header) and _VALUE_CELL.match(c) and re.search(r"[A-Za-z]", header[j])
            ]
            for j, cell in cells:
                sentence = f"{label}: {cell}"
                doc = _parsed(cell)
                cell_facts = [
                    f for s in doc.sents for f in _sentence_facts(s, keep_unmeasured=True)
                ]
                for f in cell_facts:
                    if f.unit in ("date", "quarter-date"):
                        continue
                    # The column says which value of the row this is, when there are several.
                    measure = f"{label} {header[j]}" if len(cells) > 1 else label
                    if f.measure and f.kind != "stated":
                        measure = f"{measure} {f.measure}"
                    lemmas = (
                        " ".join(_lemma(t) for t in _content(_parsed(measure))) or measure.lower()
                    )
                    # A rate's period: in the cell, the label, the header, or a cell of the row
                    # that only says the period (a "Period" column's "per month").
                    per = (
                        f.per
                        or _period(list(_parsed(label)))
                        or _period(list(_parsed(header[j])))
                        or next(
                            (
                                p
                                for k, c in enumerate(row)
                                if k != j and c and not _VALUE_CELL.match(c)
                                for p in [_period(list(_parsed(c)))]
                                if p and len(_content(_parsed(c))) <= 1
                            ),
                            None,
                        )
                    )
                    offset = len(label) + 2
                    counted, size_of = _table_count(label, header[j]) if f.unit == "" else ("", "")
                    out.append(
                        replace(
                            f, measure=measure, lemmas=lemmas, sentence=sentence, per=per,
                            core=measure, core_lemmas=lemmas,
                            counted=f.counted or counted, size_of=f.size_of or size_of,
                            start=f.start + offset, end=f.end + offset,
                        )
                    )  # fmt: skip
    return tuple(out)


def _table_count(label: str, header: str) -> tuple[str, str]:
    """(what a table's count counts, the group whose size it is): the column's plural noun
    ("Open roles": roles, no group); else the row's plural noun ("Active members": members);
    else the row names a group and the count is its size ("Nursing" under "Headcount")."""
    for text in (header, label):
        nouns = [t for t in _parsed(text) if t.pos_ in ("NOUN", "PROPN")]
        heads = [t for t in nouns if t.head.i == t.i or t.head not in nouns]
        if heads and heads[-1].tag_ in ("NNS", "NNPS"):
            return _lemma(heads[-1]), ""
    words = _content(_parsed(label))
    return (_lemma(words[-1]) if words else ""), " ".join(_lemma(t) for t in words)


# -- public -----------------------------------------------------------------------------------


@lru_cache(maxsize=20000)
def sentence_facts(sentence: str, keep_unmeasured: bool = False) -> tuple[Fact, ...]:
    """The facts one sentence states (every kind; `Fact.stated` tells statements apart). A value
    with no words saying what it measures is left out unless `keep_unmeasured`."""
    doc = _nlp(sentence)
    return tuple(f for s in doc.sents for f in _sentence_facts(s, keep_unmeasured))


@lru_cache(maxsize=20000)
def statement_kind(sentence: str) -> Kind:
    """How a sentence's main clause is stated: "stated" (a statement of fact), "target" (a
    plan, an instruction, a modal or future clause, a deadline) or "condition"."""
    doc = _nlp(sentence)
    for sent in doc.sents:
        root = sent.root
        kind = _kind(root, root, set())
        return "stated" if kind in ("bound", "change") else kind
    return "stated"


def facts(text: str) -> list[Fact]:
    """The facts a passage states: its sentences parsed, and its pipe-table rows read by column."""
    tables = _table_rows(text)
    table_lines = {" | ".join(r) for t in tables for r in t}
    prose = "\n".join(
        line
        for line in text.splitlines()
        if " | ".join(c.strip() for c in line.strip().strip("|").split("|")) not in table_lines
    )
    out = [f for s in split_sentences(prose) for f in sentence_facts(s)]
    return out + (list(_table_facts(text)) if tables else [])


# English's negative determiners and pronouns (closed class), and the preposition that negates
# its object ("backups run without a key").
NEGATIVE_WORDS = frozenset({"no", "nothing", "nobody", "none", "neither", "never"})
_CLAUSE_DEPS = ("conj", "advcl", "ccomp", "parataxis", "relcl", "acl", "xcomp", "csubj")


def negated(sentence: str) -> bool:
    """True when the parse has a negation ("not", "never", "n't"), a negative determiner or
    pronoun ("no", "nothing", "nobody") or "without" on a word of the sentence."""
    doc = _nlp(sentence)
    return any(
        t.dep_ == "neg"
        or (t.lower_ in NEGATIVE_WORDS and t.dep_ != "intj")
        or (t.lower_ == "without" and t.pos_ == "ADP")
        for t in doc
    )


def _clause_head(t):
    """The head of the clause `t` belongs to: the nearest verb heading its own clause, or the
    root (a verbless line such as "No weekly review.")."""
    while t.head.i != t.i:
        if t.dep_ in _CLAUSE_DEPS and t.pos_ in ("VERB", "AUX"):
            return t
        t = t.head
    return t


@lru_cache(maxsize=20000)
def polar_terms(sentence: str) -> tuple[tuple[str, bool], ...]:
    """The sentence's content lemmas, each with whether a negation governs it, read per clause
    from the parse rather than per sentence: a negation belongs to its own clause, not to a
    clause joined to it ("the lead was the only person testing, so nobody was reviewing"
    negates reviewing, not testing); a negative subject ("nothing warns", "none of the
    checks ran") or a negative verbless line ("No weekly review.") negates its clause; "no" or
    "without" before an object negates that phrase only ("backups run without a key")."""
    doc = _nlp(sentence)
    heads = {t.i: _clause_head(t).i for t in doc}
    negated_clauses: set[int] = set()
    negated_tokens: set[int] = set()
    negative_subjects: set[int] = set()
    for t in doc:
        if t.dep_ == "neg":
            negated_clauses.add(heads[t.head.i])
        elif t.lower_ in NEGATIVE_WORDS and t.dep_ != "intj":
            phrase = t if t.pos_ in ("PRON", "NOUN") or t.head.i == t.i else t.head
            head = phrase.head
            if phrase.dep_ in ("nsubj", "nsubjpass", "expl") or phrase.head.i == phrase.i:
                negative_subjects.add(heads[phrase.i])
            elif phrase.dep_ == "pobj" and head.lower_ == "of" and head.head.dep_ == "nsubj":
                negative_subjects.add(heads[head.head.i])  # "none of the checks ran"
            else:
                negated_tokens |= {w.i for w in phrase.subtree}
        elif t.lower_ == "without" and t.pos_ == "ADP":
            negated_tokens |= {w.i for w in t.subtree if w.i != t.i}
    # A verb joined to a clause with a negative subject, without a subject of its own, shares
    # it: "nobody reviews or approves the change".
    for t in doc:
        if (
            t.dep_ == "conj"
            and t.i == heads[t.i]
            and heads[t.head.i] in negative_subjects
            and not any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children)
        ):
            negative_subjects.add(t.i)
    negated_clauses |= negative_subjects
    return tuple(
        (t.lemma_.lower(), heads[t.i] in negated_clauses or t.i in negated_tokens)
        for t in doc
        if t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ") and not t.is_stop and t.is_alpha
    )


def comparable(a: Fact, b: Fact) -> bool:
    """Whether two facts can be compared: the same unit, and the same period (a rate with a
    rate or a total over a span; totals over spans of the same length only for the same span;
    a rate is not a plain total)."""
    if a.unit != b.unit:
        return False
    if a.unit in ("date", "quarter-date"):
        return True
    pa, pb = a.per or a.span_kind, b.per or b.span_kind
    if (pa is None) != (pb is None):
        return False
    if a.span and b.span and a.span_kind == b.span_kind and not (a.per or b.per):
        return _same_span(a.span, b.span)
    return True


def _same_span(a: str, b: str) -> bool:
    wa, wb = a.split(), b.split()
    return wa[0] == wb[0] and (len(wa) < 2 or len(wb) < 2 or wa[1] == wb[1])


# Values converted between periods (a month is 28 to 31 days, a quarter's months differ) agree
# within this share; values over the same period must agree to the precision they are written in.
PERIOD_TOLERANCE = 0.1


def disagree(a: Fact, b: Fact) -> bool:
    """Different values for comparable facts, to the precision they are written in."""
    pa, pb = a.per or a.span_kind, b.per or b.span_kind
    if pa and pb and pa != pb:
        ya, yb = a.per_year(), b.per_year()
        return abs(ya - yb) > PERIOD_TOLERANCE * max(abs(ya), abs(yb))
    return abs(a.value - b.value) > a.precision + b.precision + 1e-9


# Two different words whose MiniLM vectors are at least this close name the same thing (the
# support scorer's terms and the counted nouns of two counts).
SAME_TERM = 0.6
# Chosen on the tuning clients (ledgerly, brightwell, orbitly) by
# benchmarks/calibrate_assessment.py (best conflict F1, middle of its plateau; 2026-12-02: F1
# 0.933 on 0.625-0.675, precision and recall 0.933, in-sample): the cosine of two measures'
# MiniLM vectors above which they name the same measure. It was 0.75, fitted on ledgerly alone.
SAME_MEASURE = 0.65
# A document that states the same value for a nearly-as-close measure anywhere (in a list, a
# plan, a table) agrees with the fact: "87 customers" in a deck and in the incident report.
AGREEMENT_MARGIN = 0.1


def _embed(embeddings, texts: list[str]) -> np.ndarray:
    embed = getattr(embeddings, "embed_sentences", embeddings.embed_documents)
    vectors = np.asarray(embed(texts), dtype=np.float32).reshape(len(texts), -1)
    return vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)


_MEASURE_VECTORS: dict[tuple[int, str], np.ndarray] = {}  # (embeddings, phrase) -> vector


def measure_similarity(a: Sequence[Fact], b: Sequence[Fact], embeddings) -> np.ndarray:
    """How surely two facts measure the same thing, |a| x |b|: the larger of the cosines of
    their measure phrases' vectors and of their cores' (the nouns without the verbs: "goodwill
    refunds granted" and "goodwill refunds paid" are one measure). Phrases are embedded once."""
    if not a or not b:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    phrases = _phrase_similarity([f.lemmas for f in a], [f.lemmas for f in b], embeddings)
    cores = _phrase_similarity(
        [f.core_lemmas or f.lemmas for f in a], [f.core_lemmas or f.lemmas for f in b], embeddings
    )
    return np.maximum(phrases, cores)


def _phrase_similarity(a: list[str], b: list[str], embeddings) -> np.ndarray:
    """Cosine of the phrases' MiniLM vectors, |a| x |b|."""
    if not a or not b:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    texts = list(dict.fromkeys(a + b))
    missing = [t for t in texts if (id(embeddings), t) not in _MEASURE_VECTORS]
    if missing:
        if len(_MEASURE_VECTORS) > 50_000:
            _MEASURE_VECTORS.clear()
        for t, v in zip(missing, _embed(embeddings, missing), strict=True):
            _MEASURE_VECTORS[(id(embeddings), t)] = v
    vectors = {t: _MEASURE_VECTORS[(id(embeddings), t)] for t in texts}
    va = np.stack([vectors[t] for t in a])
    vb = np.stack([vectors[t] for t in b])
    return va @ vb.T


def _size_similarity(facts_: list[Fact], counted: np.ndarray, embeddings) -> np.ndarray:
    """How surely two counts state the size of one group, |f| x |f|, when both state a group's
    size: for two named groups, how well each name's words are found in the other's (the mean of
    every word's best cosine: "the data science group" and a table's "Data science" row are one
    group, "the surgical team" and "Nursing" are not), or, when they are one group, its
    members' nouns' cosine ("nurses" in "the paediatric nursing team" and "Nursing"
    rather than "Paediatrics"), whichever is larger; against the writer's whole
    organisation ("we have 31 nurses"), the counted nouns' cosine ("nurses" and a
    "Nursing" headcount); 0 for counts that state no group's size."""
    sized = [k for k, f in enumerate(facts_) if f.size_of]
    out = np.zeros((len(facts_), len(facts_)), dtype=np.float32)
    if len(sized) < 2:
        return out
    words = sorted({w for k in sized for w in facts_[k].size_of.split() if w != "*"})
    close = _phrase_similarity(words, words, embeddings) if words else np.zeros((0, 0))
    at = {w: i for i, w in enumerate(words)}
    for a in sized:
        for b in sized:
            ga, gb = facts_[a].size_of.split(), facts_[b].size_of.split()
            if a == b:
                continue
            if "*" in ga + gb:
                out[a, b] = counted[a, b]
                continue
            aligned = float(
                np.mean(
                    [max(close[at[x], at[y]] for y in gb) for x in ga]
                    + [max(close[at[y], at[x]] for x in ga) for y in gb]
                )
            )
            if aligned >= SAME_TERM:  # one group: then its members' nouns may also say so
                out[a, b] = max(aligned, counted[a, b])
    return out


def find_conflicts(
    passages: Sequence[Passage], embeddings, min_similarity: float | None = None
) -> list[Conflict]:
    """Facts stated by two different documents of the same client scope about the same measure
    (measure phrases' cosine >= `min_similarity`, default SAME_MEASURE) over the same period,
    with different values. Targets, plans, bounds, conditions and changes are not compared. Each
    fact is matched with its closest measure in the other document; one flag per pair of facts."""
    threshold = SAME_MEASURE if min_similarity is None else min_similarity
    stated: list[tuple[Passage, Fact]] = []
    seen: set[tuple[str, str]] = set()
    for p in passages:
        for f in facts(p.text):
            key = (p.doc_id, f.sentence + f.label)
            thin = f.unit in ("date", "quarter-date") and len(f.lemmas.split()) < 2
            if key not in seen and not thin:
                seen.add(key)
                stated.append((p, f))
    agree_at = threshold - AGREEMENT_MARGIN
    if len({p.doc_id for p, f in stated if f.stated}) < 2:
        return []
    all_facts = [f for _, f in stated]
    sims = measure_similarity(all_facts, all_facts, embeddings)
    # Two counts of different things are different measures, however alike their phrases
    # ("three data roles and two analysts"): their counted nouns' vectors must be close.
    counted = _phrase_similarity(
        [f.counted or f.lemmas for f in all_facts], [f.counted or f.lemmas for f in all_facts],
        embeddings,
    )  # fmt: skip
    sims = np.where(
        np.array([[bool(a.counted and b.counted) for b in all_facts] for a in all_facts])
        & (counted < SAME_TERM),
        0.0,
        sims,
    )
    sims = np.maximum(sims, _size_similarity(all_facts, counted, embeddings))
    candidates = []
    n = len(stated)

    def agrees(i: int, doc_id: str) -> bool:
        """Whether document `doc_id` states fact i's value for a close measure."""
        fi = stated[i][1]
        return any(
            stated[k][0].doc_id == doc_id
            and sims[i, k] >= agree_at
            and stated[k][1].unit == fi.unit
            and (
                abs(stated[k][1].value - fi.value) <= fi.precision + stated[k][1].precision
                or comparable(fi, stated[k][1])
                and not disagree(fi, stated[k][1])
            )
            for k in range(n)
        )

    for i in range(n):
        pi, fi = stated[i]
        if not fi.stated:
            continue
        best: dict[str, tuple[float, int]] = {}
        for j in range(n):
            pj, fj = stated[j]
            if (
                not fj.stated
                or pj.doc_id == pi.doc_id
                or pj.scope != pi.scope
                or not comparable(fi, fj)
            ):
                continue
            if sims[i, j] >= threshold and sims[i, j] > best.get(pj.doc_id, (-1.0, -1))[0]:
                best[pj.doc_id] = (float(sims[i, j]), j)
        for doc_id, (sim, j) in best.items():
            # Neither side's value is stated by the other document too (for a nearly-as-close
            # measure): "300,000 orders on the test system" stated in both is not the live figure.
            if not agrees(i, doc_id) and not agrees(j, pi.doc_id) and disagree(fi, stated[j][1]):
                candidates.append((sim, min(i, j), max(i, j)))
    found, used = [], set()
    for sim, i, j in sorted(set(candidates), reverse=True):
        (pa, fa), (pb, fb) = stated[i], stated[j]
        if i in used or j in used:
            continue
        used |= {i, j}
        # Said in words: the shorter of the two cores (what is measured, not what is done).
        measure = min(
            (f.core or f.measure for f in (fa, fb) if f.core or f.measure), key=len, default=""
        )
        found.append(
            Conflict(
                first=pa,
                second=pb,
                first_sentence=fa.sentence,
                second_sentence=fb.sentence,
                first_value=fa.label,
                second_value=fb.label,
                similarity=sim,
                measure=measure,
            )
        )
    return found
