"""The offline answer shaped as advice: the client's own situation first, then what the playbooks
advise (with the advice whose stated scope excludes the client said not to apply), the options
side by side for a decision, and what to watch out for. Every point is quoted and cited; the only
words of our own are the section labels and the sentences that connect two cited facts ("... is
written for the first five hires [2]; Haulwise's documents say ... [3]").

Points are grouped by what they say, not by the document they come from: each is one sentence, a
few adjacent sentences of one passage, or one table row read with its header.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from advisor.answering.scope import Fact, Scope
from advisor.core.models import Passage
from advisor.core.settings import PLAYBOOK_SCOPE

OFFLINE_LEAD = "*Offline mode: quoted from your documents; nothing is added.*"
OPTION_COLUMNS = (("benefits", "For it"), ("costs", "What it takes"), ("risks", "Risks"))
# An option cell no source speaks to: a dash, explained once in the table's heading (a cell
# saying "not covered" in words would read as a claim of its own, cited by nothing). The heading
# comes before any row, so a streamed table never has to change what it already showed.
NOT_COVERED = "—"
OPTIONS_HEADING = "**The options side by side** (— : nothing in the sources speaks to it)"
CONFLICTS_HEADING = "**Documents that disagree: check which is current**"


@dataclass
class Quote:
    """A sentence (or table row) quoted from a passage."""

    text: str
    passage: Passage


@dataclass
class Point:
    """One point of the answer: a template whose `{0}`, `{1}` ... are replaced by the markers of
    `passages` (in order), or plain quoted text followed by its single marker."""

    text: str
    passages: list[Passage]
    template: bool = False
    kind: str = ""  # "conflict" or "stale" for the notices the JSON contract lists

    def shown(self, numbering: Numbering) -> str:
        """The point as rendered, once its passages are numbered."""
        markers = [f"[{numbering.order[p.id]}]" for p in self.passages]
        return self.text.format(*markers) if self.template else cite(self.text, markers[0])


@dataclass
class OptionCase:
    """One option of a decision, with the evidence found for each column (or None)."""

    option: str
    cells: dict[str, Quote | None] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # specific terms no document mentions


@dataclass
class Decision:
    """What the memo engine found for a decision question, handed down by the service."""

    options: list[OptionCase]
    risks: list[Quote] = field(default_factory=list)
    next_steps: list[Quote] = field(default_factory=list)
    recommendation: list[Quote] = field(default_factory=list)
    situation: list[Quote] = field(default_factory=list)
    asked: str = ""  # the query the decision was asked in (a follow-up's differs)
    verdict: str = ""  # what the options table shows about the choice (advisor.memo.offline)


@dataclass
class Advice:
    lead: list[Point] = field(default_factory=list)
    guidance: list[Point] = field(default_factory=list)
    options: list[OptionCase] = field(default_factory=list)
    verdict: str = ""  # the table, said in words: which options the documents can weigh
    watch: list[Point] = field(default_factory=list)
    next_steps: list[Point] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said before everything (language, gaps)

    def is_empty(self) -> bool:
        return not (self.lead or self.guidance or self.options or self.watch)


def cite(sentence: str, marker: str) -> str:
    """The sentence with its marker before the final punctuation: 'Do X [2].'"""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} {marker}{sentence[-1]}"
    return f"{sentence} {marker}"


def as_sentence(text: str) -> str:
    """List items and slide bullets get a full stop, so that quoted points don't run together."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":", ";", "...")) else f"{text}."


def quote_point(q: Quote) -> Point:
    return Point(as_sentence(q.text), [q.passage])


def owner(p: Passage, client: str | None) -> str:
    """How a passage's document is named in a connecting sentence."""
    title = p.title or p.source
    if p.scope == PLAYBOOK_SCOPE:
        return f"the playbook “{title}”"
    return f"{client.title() if client else p.scope}'s “{title}”"


def scope_point(advice_q: Quote, scope: Scope, fact: Fact, fact_p: Passage, client: str) -> Point:
    """'“Hiring plan” is written for “the first five hires” [2]. Not for Acme as written: Acme's
    documents say “90 engineers …” [3].' Each clause carries the citation of what it states."""
    name = client.title()
    words = " ".join(fact.text.split())
    if len(words) > 160:
        words = words[:160].rsplit(" ", 1)[0] + " ..."
    title = advice_q.passage.title or advice_q.passage.source
    return Point(
        f"“{title}” is written for “{scope.text}” {{0}}. Not for {name} as written: {name}'s "
        f"documents say “{words.rstrip('.')}” {{1}}.",
        [advice_q.passage, fact_p],
        template=True,
    )


class Numbering:
    """Numbers passages by first use; one number per passage."""

    def __init__(self, first: int = 1) -> None:
        self.first = first
        self.order: dict[str, int] = {}
        self.passages: list[Passage] = []
        self.quoted: dict[str, list[str]] = {}

    def n(self, p: Passage, quoted: str | None = None) -> int:
        if p.id not in self.order:
            self.order[p.id] = self.first + len(self.passages)
            self.passages.append(p)
        if quoted and quoted not in self.quoted.setdefault(p.id, []):
            self.quoted[p.id].append(quoted)
        return self.order[p.id]


def render(
    advice: Advice,
    client: str | None,
    numbering: Numbering,
    lead: str = OFFLINE_LEAD,
) -> str:
    """The advice as Markdown, numbering its sources through `numbering`."""

    def point(p: Point) -> str:
        if p.template:
            markers = [f"[{numbering.n(x)}]" for x in p.passages]
            return p.text.format(*markers)
        return cite(p.text, f"[{numbering.n(p.passages[0], p.text)}]")

    def cell(q: Quote | None, missing: list[str]) -> str:
        if q is not None:
            return _cell_text(cite(q.text, f"[{numbering.n(q.passage, q.text)}]"))
        if missing:
            return "No document mentions " + " or ".join(f"“{m}”" for m in missing) + "."
        return NOT_COVERED

    parts = [lead] if lead else []
    parts += advice.notes
    name = client.title() if client else None
    if advice.lead and name:
        parts.append(f"**{name} today**\n" + "\n".join(f"- {point(p)}" for p in advice.lead))
    if advice.options:
        rows = ["| Option | " + " | ".join(label for _, label in OPTION_COLUMNS) + " |"]
        rows.append("|" + " --- |" * (len(OPTION_COLUMNS) + 1))
        for o in advice.options:
            # An option no document mentions says so once, in its first cell.
            cells = [
                cell(o.cells.get(key), o.missing if k == 0 else [])
                for k, (key, _) in enumerate(OPTION_COLUMNS)
            ]
            rows.append(f"| {_cell_text(o.option)} | " + " | ".join(cells) + " |")
        parts.append(OPTIONS_HEADING + "\n" + "\n".join(rows))
        if advice.verdict:
            parts.append(f"*{advice.verdict}*")
    if advice.guidance:
        label = "What the playbooks advise" if client else "What the playbooks say"
        parts.append(f"**{label}**\n" + "\n".join(f"- {point(p)}" for p in advice.guidance))
    watch = [p for p in advice.watch if p.kind != "conflict"]
    conflicts = [p for p in advice.watch if p.kind == "conflict"]
    if watch:
        parts.append("**Watch out**\n" + "\n".join(f"- {point(p)}" for p in watch))
    if conflicts:
        parts.append(CONFLICTS_HEADING + "\n" + "\n".join(f"- {point(p)}" for p in conflicts))
    if advice.next_steps:
        parts.append("**Next step**\n" + "\n".join(f"- {point(p)}" for p in advice.next_steps))
    return "\n\n".join(parts)


def _cell_text(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipes or line breaks)."""
    return " ".join(text.replace("|", "/").split())


# -- connecting sentences for the watch-out part --------------------------------------------


def conflict_point(
    first: Passage,
    first_value: str,
    first_sentence: str,
    second: Passage,
    second_value: str,
    second_sentence: str,
    client: str | None,
) -> Point:
    """Two documents that disagree, said in words: what each states, in its own words around
    the value ('Acme's “Roadmap”: “all checkout traffic on the new service by June” [5]; Acme's
    “Board deck”: “a quarter of checkout traffic moved so far” [6]'), under a heading that says
    they disagree (`CONFLICTS_HEADING`)."""
    a = _around(first_sentence, first_value)
    b = _around(second_sentence, second_value)
    return Point(
        f"{_cap(owner(first, client))}: “{a}” {{0}}; {owner(second, client)}: “{b}” {{1}}.",
        [first, second],
        template=True,
        kind="conflict",
    )


def stale_point(p: Passage, days: int, client: str | None) -> Point:
    return Point(
        f"{_cap(owner(p, client))} was last changed {days} days ago {{0}}: check it still holds.",
        [p],
        template=True,
        kind="stale",
    )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


AROUND_WORDS = 7  # words kept on each side of a value when saying what it is about


def _around(sentence: str, value: str) -> str:
    """The words around `value` in `sentence`: what the value is about."""
    words = " ".join(sentence.replace(" | ", "; ").split()).rstrip(".").split()
    target = value.split()[0] if value.split() else value
    at = next((i for i, w in enumerate(words) if target in w), None)
    if at is None:
        return " ".join(words[: 2 * AROUND_WORDS])
    start, end = max(0, at - AROUND_WORDS), min(len(words), at + AROUND_WORDS + 1)
    text = " ".join(words[start:end])
    return ("... " if start else "") + text + (" ..." if end < len(words) else "")


Notices = Callable[[Sequence[Passage], Sequence[Passage], str | None], list[Point]]


# -- composing the offline advice ---------------------------------------------------------------

_ABOUT_US = re.compile(r"\b(we|we're|we've|our|ours|us|ourselves|i|my|me)\b", re.I)
LEAD_POINTS = 3
LEAD_WORDS = 90
WATCH_POINTS = 2
# What the client's size and stage are, as a search of its own documents (scope checks).
PROFILE_QUERY = "how many people work in engineering, team size and headcount, funding stage"
PROFILE_PASSAGES = 4


def about_client(question: str, client: str | None) -> bool:
    """True when the question is about the asking client: it says we/our/us, or names it."""
    if not client:
        return False
    named = re.search(rf"\b{re.escape(client)}\b", question, re.I)
    return bool(_ABOUT_US.search(question) or named)


def points_of(quotes: list[tuple[Quote, int]]) -> list[Point]:
    """Adjacent sentences of one passage become one point (they read as one stretch); the rest
    stay points of their own. `quotes` carry their position within the passage."""
    out: list[Point] = []
    last: tuple[str, int] | None = None
    for q, position in quotes:
        if out and last == (q.passage.id, position - 1) and not out[-1].template:
            out[-1].text = f"{out[-1].text} {as_sentence(q.text)}"
        else:
            out.append(quote_point(q))
        last = (q.passage.id, position)
    return out


def heading(p: Passage) -> str:
    """The last part of a passage's heading path (where a playbook often states its scope)."""
    return (p.section or "").rsplit(">", 1)[-1].strip()


def headings_above(q: Quote, parse) -> list[str]:
    """The quote itself, its section heading, and the heading lines (verbless units) of its
    passage above it: a playbook states a scope once, over the list or section that follows."""
    from advisor.answering.extractive import units

    out = [q.text]
    if heading(q.passage):
        out.append(heading(q.passage))
    current = None  # a heading holds until the next one
    for text, row in units(q.passage.text):
        if text == q.text:
            break
        if not row and len(text.split()) <= 12:
            doc = parse(text)  # cached: a passage's headings are read once
            if not any(t.pos_ in ("VERB", "AUX") for t in doc):
                current = text
    return [*out, current] if current else out


def scoped_out(
    quotes: list[Quote],
    client: str,
    profile: Callable[[], list[Quote]],
    parse,
) -> tuple[list[Quote], list[Point]]:
    """The quotes whose stated scope admits the client, and one point per playbook scope that
    does not ("... is written for the first five hires [2]; Haulwise has ... [3]")."""
    from advisor.answering.scope import excluded, facts, scopes

    kept: list[Quote] = []
    notes: list[Point] = []
    said: set[tuple[str, str]] = set()
    known: dict[str, Fact] | None = None
    by_text: dict[str, Quote] = {}
    for q in quotes:
        if q.passage.scope != PLAYBOOK_SCOPE:
            kept.append(q)
            continue
        stated = [s for h in headings_above(q, parse) for s in scopes(h, parse)]
        if not stated:
            kept.append(q)
            continue
        if known is None:
            own = profile()
            by_text = {x.text: x for x in own}
            known = facts([x.text for x in own], parse)
        hit = excluded(stated, known)
        if hit is None:
            kept.append(q)
            continue
        scope, fact = hit
        key = (q.passage.doc_id, scope.text.lower())
        if key not in said and fact.text in by_text:
            said.add(key)
            notes.append(scope_point(q, scope, fact, by_text[fact.text].passage, client))
    return kept, notes
