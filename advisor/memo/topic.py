"""Reading a memo topic: the plain question, and the options it asks to choose between.

"Should Acme hire a data engineer or buy a pipeline?" -> ["Hire a data engineer", "Buy a pipeline"]
"Build vs buy our KYC checks" -> ["Build our KYC checks", "Buy our KYC checks"]
"Whether to adopt Nomad" -> ["Adopt Nomad", "Do not adopt Nomad yet"]
"Move off Netlify" -> ["Move off Netlify", "Stay on Netlify"]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

_ASK_PREFIX = re.compile(
    r"^(please\s+)?(draft|write|prepare|create|give me)\s+(me\s+)?(an?\s+|the\s+)?"
    r"(recommendation\s+memo|recommendation|memo)\s+(on|about|for|regarding)\s+",
    re.I,
)
# "Should we", "Should Acme", "Do we need to", "Is it worth it to" ... up to the first verb.
_LEAD_IN = re.compile(
    r"^(?:(?i:should|shall|do|does|can|could|would|will|must|may)\s+"
    r"(?:(?i:we|i|they|you|the (?:team|company|client|startup))\b|[A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*)?)"
    r"\s+(?i:(?:really|still|now|also)\s+)?(?i:(?:need|want|plan|try) to\s+|be\s+)?"
    r"|(?i:is it (?:worth|time|better|wise)(?: it)?(?: to| for \w+ to)?)\s+)"
)
_WHETHER = re.compile(r"\bwhether (?:or not )?(?:to |we should |it is worth )?(.+)$", re.I)
_VERSUS = re.compile(r"\s+(?:vs\.?|versus)\s+", re.I)
_OR = re.compile(r",?\s+\bor\b\s+", re.I)
_LEAVE = re.compile(
    r"^(?:(?:move|migrate|switch|get) (?:off|away from|out of)|leave|replace|retire|"
    r"get rid of|drop|sunset)\s+(.+)$",
    re.I,
)
_DETERMINER = re.compile(r"^(?:a|an|the|more|another|our|their|its|some|one|two|three)\b", re.I)
_TAIL = re.compile(r"\s+(?:for|given|during)\s+\S+\s+\S.*$", re.I)
# "store logs in files or in a managed service": an option that starts with a preposition
# borrows the first option's verb.
_PREPOSITION = r"(?:in|on|at|with|from|to|into|onto|by|via|over|through|off|inside|outside)"
_VERBLESS = re.compile(rf"^{_PREPOSITION}\b", re.I)
_MODAL = re.compile(r"^(?:should|shall|do|does|can|could|would|will|must|may)\s", re.I)
_MAX_OPTIONS = 4


class Queries(NamedTuple):
    """The topic and its options as search text (`focus`), parallel to what the memo shows."""

    topic: str
    options: list[str]


def clean_topic(topic: str, user_turns: Sequence[str] = ()) -> str:
    """The topic without "draft a memo on", or the last question asked when it is empty."""
    topic = _ASK_PREFIX.sub("", " ".join(topic.split())) or (user_turns[-1] if user_turns else "")
    return topic[:1].upper() + topic[1:]


def _core(topic: str, keep_subject: bool = False) -> str:
    """The decision itself: no question mark, no lead-in like "Should Acme" (with
    `keep_subject`, a subject that is not a name stays: "every new hire get ...")."""
    text = topic.strip().rstrip("?.! ").strip()
    stripped = _LEAD_IN.sub("", text, count=1)
    if stripped != text:
        return stripped
    if keep_subject:
        return _MODAL.sub("", text, count=1)
    return _subject_lead_in(text)


def _cap(text: str) -> str:
    text = " ".join(text.split()).strip(" ,;:")
    return text[:1].upper() + text[1:]


def _share_verb(first: str, other: str) -> str:
    """'hire an SRE or a platform engineer': the second option borrows the first one's verb;
    'deployed to Fly, Render or Railway': a name borrows the frame before the first one's name."""
    words = first.split()
    verb_first = len(words) >= 2 and first[:1].islower()
    if not verb_first:
        return other
    if _VERBLESS.match(other):
        return f"{words[0]} {other}"
    if _DETERMINER.match(other) or other[:1].isupper():
        n = len(other.split())
        if len(words) > n + 1 and re.fullmatch(_PREPOSITION, words[-n - 1], re.I):
            return f"{' '.join(words[:-n])} {other}"
        return f"{words[0]} {other}"
    return other


def _subject_lead_in(text: str) -> str:
    """'Should every new hire get a buddy' -> 'get a buddy': a question whose subject is not a
    name or a pronoun loses its modal and subject (found by spaCy's parser)."""
    if not _MODAL.match(text):
        return text
    from advisor.memo.nlp import parse

    doc = parse(text)
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    subjects = [t for t in root.children if t.dep_ in ("nsubj", "nsubjpass")] if root else []
    if not subjects or doc[0].head != root:
        return text
    end = max(t.i for t in subjects[0].subtree) + 1
    if end >= len(doc) - 1:
        return text
    return doc[end:].text


def find_options(topic: str) -> list[str]:
    """The options a topic asks to choose between ([] when it names none)."""
    core = _core(topic)
    whether = _WHETHER.search(core)
    if whether:
        core = whether.group(1)
    if _VERSUS.search(core):
        left, right = _VERSUS.split(core, maxsplit=1)
        left = _core(left) if left.split() else left
        left_words, right_words = left.split(), right.split()
        # "build vs buy our billing": the object after the second verb belongs to both.
        if len(left_words) == 1 and len(right_words) > 1:
            left = f"{left} {' '.join(right_words[1:])}"
        return [_cap(left), _cap(right)] if left.strip() and right.strip() else []
    parts = [p for p in _OR.split(core) if p.strip()]
    if len(parts) >= 2:
        first_parts = [p.strip() for p in re.split(r",\s+", parts[0]) if p.strip()]
        items = [*first_parts, *parts[1:]][:_MAX_OPTIONS]
        out = [items[0]] + [_share_verb(items[0], p) for p in items[1:]]
        # "Dramatiq or Huey for a team of three": the tail frames both options.
        tail = _TAIL.search(out[-1])
        if tail and len(out[0].split()) <= 3 and not _TAIL.search(out[0]):
            out[-1] = out[-1][: tail.start()]
        if all(len(o.split()) >= 1 and not o.strip().isdigit() for o in out):
            return [_cap(o) for o in out]
        return []
    leave = _LEAVE.match(core)
    if leave:
        target = leave.group(1)
        return [_cap(core), _cap(f"stay on {target}")]
    if whether or core != topic.strip().rstrip("?.! ").strip():
        # A yes/no decision ("Should we adopt X?"): doing it, or not doing it yet.
        return [_cap(core), f"Do not {core[:1].lower() + core[1:]} yet"]
    return []


# Common CTO shorthand the small embedding model does not know; spelled out for search only.
_EXPANSIONS = {
    "sre": "SRE site reliability engineer",
    "sres": "SREs site reliability engineers",
    "k8s": "Kubernetes",
    "paas": "PaaS platform as a service",
    "iac": "infrastructure as code",
    "em": "engineering manager",
    "vpe": "VP Engineering",
    "mttr": "MTTR mean time to recovery",
    "pr": "pull request",
    "prs": "pull requests",
}
# "... first", "... now": timing, not subject matter.
_WHEN_WORDS = re.compile(r"\s+(?:first|now|next|later|yet|soon|today)$", re.I)


def focus(text: str, client: str | None = None) -> str:
    """`text` as a search query: no lead-in, no client name (every client document shares it,
    so it would make everything look relevant), no trailing "first", shorthand spelled out."""
    text = _core(text, keep_subject=True)
    if client:
        text = re.sub(rf"\b{re.escape(client)}(?:'s)?\b", " ", text, flags=re.I)
    text = _WHEN_WORDS.sub("", " ".join(text.split()))
    words = [_EXPANSIONS.get(w.lower(), w) for w in text.split()]
    return " ".join(words) or text
