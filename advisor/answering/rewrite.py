"""Follow-up questions become standalone queries: with the LLM when configured, else offline.

Offline, the conversation's topic is carried as its noun phrases and names: a follow-up ("Who
should own that?") is asked together with the phrases of the turns it continues, back to the last
self-contained question, so a three-turn chain keeps its topic and a switch of topic starts a new
one. A question that carries its own topic is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from advisor.core import nlp
from advisor.core.errors import LLMError
from advisor.core.prompts import fence, inert, load_prompt, new_boundary

# Pronouns and demonstratives that can point back into the conversation.
_ANAPHORS = frozenset(
    {"it", "its", "this", "that", "these", "those", "they", "them", "their", "one", "ones", "same"}
)
_SINGULAR = frozenset({"it", "its"})  # need a singular (or mass) noun as their antecedent
# A turn that opens like this continues the conversation ("And ...", "What about ...").
_CONNECTIVE = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|what if|same for|ok(ay)?,? (and|so))\b",
    re.IGNORECASE,
)
MAX_TOPIC_PHRASES = 8


@lru_cache(maxsize=4096)
def parse(text: str):
    """`text` tagged, parsed and with its entities (spaCy's packaged pipeline, without its
    lemmatizer). Hyphenated words ("on-call", "follow-the-sun") stay one token: split, the small
    model parses "the on-call rotation" as a preposition and loses the phrase. Cached: the same
    headings, profile sentences and questions are read again and again."""
    return nlp.parse(text, disable=("lemmatizer",), whole_hyphens=True)


_parse = parse


def previous_questions(history: Sequence[dict[str, str]]) -> list[str]:
    """The user's earlier questions, oldest first."""
    return [m["content"] for m in history if m.get("role") == "user" and m.get("content")]


def _anaphoric(chunk) -> bool:
    return any(t.lower_ in _ANAPHORS for t in chunk)


def _specific(chunk) -> bool:
    """A noun phrase that names its own topic: a name, an entity or a compound noun."""
    nouns = [t for t in chunk if t.pos_ in ("NOUN", "PROPN")]
    return bool(
        any(t.pos_ == "PROPN" for t in chunk) or chunk.ents or len(nouns) >= 2
    ) and not _anaphoric(chunk)


def _actions(doc) -> list[str]:
    """The verb phrases of a turn that name an action with its object ("hire an SRE", "invest
    in on-call"): a decision's options, which its follow-ups ("how long would that take?") ask
    about. Adverbs after the object ("first", "now") are timing, not topic."""
    out = []
    for t in doc:
        if t.pos_ != "VERB" or t.dep_ not in ("ROOT", "conj", "xcomp", "ccomp"):
            continue
        objects = [c for c in t.children if c.dep_ in ("dobj", "prep", "attr", "prt")]
        if not objects:
            continue
        end = max(w.i for c in objects for w in c.subtree)
        span = doc[t.i : end + 1]
        if any(w.lower_ in _ANAPHORS for w in span) or len(span) > 6:
            continue
        out.append(span.text)
    return out


def _phrases(doc) -> list[str]:
    """The noun phrases of a turn, without leading determiners and pronoun-only chunks."""
    out = []
    for chunk in doc.noun_chunks:
        if chunk.root.pos_ == "PRON" or _anaphoric(chunk):
            continue
        words = [t for t in chunk if t.pos_ not in ("DET", "PRON") and not t.is_punct]
        if words:
            out.append(doc[words[0].i : words[-1].i + 1].text)
    return out


def _resolved_in_question(token, doc) -> bool:
    """True when a noun phrase earlier in the same question can be what `token` refers to (and
    is not the phrase that contains it, as in "the owner of it")."""
    for chunk in doc.noun_chunks:
        if chunk.end > token.i:
            break
        if chunk.root.pos_ == "PRON" or _anaphoric(chunk):
            continue
        if chunk.root in token.ancestors:
            continue
        if token.lower_ in _SINGULAR and chunk.root.tag_ in ("NNS", "NNPS"):
            continue
        return True
    return False


def _points_back(token) -> bool:
    """A pronoun or demonstrative that may refer outside the question: not a relative "that"
    ("a vendor that holds ...") and not a numeral "one" ("one week")."""
    if token.lower_ not in _ANAPHORS or token.tag_ in ("WDT", "WP"):
        return False
    if token.lower_ == "one" and token.dep_ == "nummod":
        return False
    return token.pos_ in ("PRON", "DET", "NUM", "ADJ", "NOUN")


def looks_like_followup(question: str) -> bool:
    """True when the question leans on the conversation for its topic."""
    doc = _parse(question)
    chunks = list(doc.noun_chunks)
    specific = [c for c in chunks if _specific(c)]
    if len(specific) >= 2:
        return False  # it names its own topic, whatever pronouns it also uses
    if _CONNECTIVE.search(question):
        return True
    anaphors = [t for t in doc if _points_back(t)]
    unresolved = [t for t in anaphors if not (specific and _resolved_in_question(t, doc))]
    if unresolved:
        return True
    nouns = [t for t in doc if t.pos_ in ("NOUN", "PROPN")]
    return not specific and len(nouns) <= 1


def topic_phrases(history: Sequence[dict[str, str]]) -> list[str]:
    """The noun phrases of the user's turns back to the last self-contained one, newest first."""
    phrases: list[str] = []
    for turn in reversed(previous_questions(history)):
        doc = _parse(turn)
        phrases += _actions(doc) + _phrases(doc)
        if not looks_like_followup(turn):
            break
    unique = list(dict.fromkeys(p for p in phrases if p.lower() not in {"we", "us"}))
    # A noun phrase inside an action already carried says nothing more ("SRE" in "hire an SRE").
    unique = [p for p in unique if not any(p != q and p in q for q in unique)]
    return unique[:MAX_TOPIC_PHRASES]


def standalone_offline(question: str, history: Sequence[dict[str, str]]) -> str:
    """A follow-up asked with the conversation's topic; any other question unchanged."""
    if not previous_questions(history) or not looks_like_followup(question):
        return question
    topic = topic_phrases(history)
    if not topic:
        return question
    return f"{question} ({', '.join(topic)})"


def conversation_text(history: Sequence[dict[str, str]], turns: int = 3, limit: int = 600) -> str:
    """The last few turns as plain text, each message shortened, for prompts."""
    recent = list(history)[-2 * turns :]
    lines = []
    for m in recent:
        content = " ".join(m.get("content", "").split())
        if len(content) > limit:
            content = content[:limit] + " ..."
        lines.append(f"{m.get('role', 'user')}: {content}")
    return "\n".join(lines) if lines else "(none)"


def standalone_question(question: str, history: Sequence[dict[str, str]], chat=None) -> str:
    """The query to retrieve with: rewritten by the model when there is one and a history."""
    if not previous_questions(history):
        return question
    if chat is None:
        return standalone_offline(question, history)
    boundary = new_boundary()  # earlier answers quote documents: fence them like sources
    prompt = load_prompt("rewrite").render(
        conversation=fence("CONVERSATION", conversation_text(history), boundary),
        question=inert(question, one_line=True),
        boundary=boundary,
    )
    try:
        rewritten = chat.complete([("user", prompt)]).strip().strip('"').strip()
    except LLMError:
        return standalone_offline(question, history)
    first_line = rewritten.splitlines()[0].strip() if rewritten else ""
    return first_line if 3 <= len(first_line) <= 500 else standalone_offline(question, history)
