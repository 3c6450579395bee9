"""Checks that rest on a client's code repositories (ingest/repo) rather than on sentences:

- `measured`: a practice whose target names a measure the repository facts carry (``target:
  {min: 2, unit: bus factor}``) is judged on every component's value, not on the one sentence
  that happens to read closest to the practice;
- `stack_conflicts`: a document that says the client runs on a platform (``we run on
  Kubernetes``) while the repository deploys elsewhere and holds no trace of it (a Procfile, no
  Kubernetes manifests) is a conflict, returned in the same `Conflict` model as the numeric ones;
- `claims`: the passages that are statements (documents), not computed repository facts, for
  the numeric conflict finder (two components' different line counts are not a disagreement).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.answering.extractive import split_sentences
from advisor.answering.facts import Conflict, negated
from advisor.core.models import Passage
from advisor.core.settings import PLAYBOOK_SCOPE
from ingest.repo.stack import tech_aliases

# English modal auxiliaries (a closed class): "we will move to Kubernetes" is a plan, not a fact.
_MODALS = re.compile(r"\b(?:will|would|should|could|might|may|shall|must)\b|'ll\b", re.I)
# Prepositions of exclusion (a closed class), right before the name: "outside Kubernetes".
_EXCLUDING = re.compile(
    r"\b(?:outside|without|except|excluding|beyond|off|instead of|rather than)\s+(?:of\s+)?(?:the\s+)?$",
    re.I,
)
# First-person plural pronouns: in a client's own documents they are the client.
_WE = re.compile(r"\b(?:we|our|ours|us)\b", re.I)


def facts_of(passage: Passage) -> dict | None:
    """The structured facts behind a repository chunk, None for a document's chunk."""
    if not passage.facts:
        return None
    try:
        data = json.loads(passage.facts)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def claims(passages: Sequence[Passage]) -> list[Passage]:
    """Passages that state things (documents, including a repository's own docs)."""
    return [p for p in passages if facts_of(p) is None]


# -- practices measured on repository facts ----------------------------------------------------


@dataclass
class Evidence:
    passage: Passage
    text: str


@dataclass
class Measured:
    """Shaped like the assessment's judgement: verdict, reason, evidence, similarity."""

    verdict: str
    reason: str
    evidence: list[Evidence]
    similarity: float = 1.0


def _measure_key(unit: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", unit.lower()).strip("_")


def measured(practice, passages: Sequence[Passage], max_evidence: int = 3) -> Measured | None:
    """Judge `practice` on the repository facts that carry its target's measure, or None when
    it has no target or no fact carries that measure (the documents decide then)."""
    target = getattr(practice, "target", None)
    if target is None:
        return None
    key = _measure_key(target.unit)
    values: list[tuple[float, Passage, dict]] = []
    for p in passages:
        facts = facts_of(p)
        if (
            not facts
            or p.scope == PLAYBOOK_SCOPE
            or facts.get("stale")
            or facts.get("code") is False
        ):
            continue  # stale areas and document folders have no current knowledge to spread
        value = facts.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values.append((float(value), p, facts))
    if not values:
        return None
    failing = [v for v in values if target.violated_by(v[0])]
    described = target.describe()

    def label(v: tuple[float, Passage, dict]) -> str:
        return f"{v[2].get('name') or v[2].get('component') or v[1].source} ({v[0]:g})"

    if failing:
        failing.sort(key=lambda v: v[0] if target.min is not None else -v[0])
        shown = failing[:max_evidence]
        return Measured(
            "contradicted",
            f"{len(failing)} of {len(values)} components miss {described}: "
            + ", ".join(label(v) for v in shown)
            + ("" if len(failing) <= max_evidence else ", ..."),
            [Evidence(v[1], _first_sentence(v[1])) for v in shown],
        )
    shown = values[:max_evidence]
    return Measured(
        "evidenced",
        f"All {len(values)} active components meet {described} in the repository history.",
        [Evidence(v[1], _first_sentence(v[1])) for v in shown],
    )


def _first_sentence(p: Passage) -> str:
    sentences = split_sentences(p.text)
    return sentences[0] if sentences else p.text[:200]


# -- categorical stack claims ------------------------------------------------------------------


def _mentions(sentence: str, names: Sequence[str]) -> list[re.Match]:
    found = []
    for name in names:
        found += re.finditer(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", sentence, re.I)
    return found


def _asserted(sentence: str, match: re.Match) -> bool:
    """The sentence states the technology is used (not negated, excluded or planned)."""
    if negated(sentence) or _MODALS.search(sentence):
        return False
    return not _EXCLUDING.search(sentence[: match.start()])


def _subjects(repo_facts: dict, client: str) -> list[str]:
    """Names a sentence can use for what this repository holds: the client, the repository and
    the components whose names are distinctive (two or more words: "Billing Core"); a
    one-word folder ("docs", "tools", "infra") is an ordinary word in any document."""
    names = [repo_facts.get("repo", ""), client]
    for comp in repo_facts.get("components", []):
        words = re.split(r"[-_\s]+", str(comp).rstrip("/").rsplit("/", 1)[-1])
        if len(words) >= 2:
            names.append(" ".join(words))
            names.append("-".join(words))
    return [n for n in dict.fromkeys(names) if n and len(n) >= 3]


def stack_conflicts(passages: Sequence[Passage]) -> list[Conflict]:
    """A document's platform claim that the client's repository contradicts (see module doc)."""
    aliases = tech_aliases()
    stacks = [(p, f) for p in passages if (f := facts_of(p)) and f.get("kind") == "stack"]
    documents = [p for p in claims(passages) if p.scope != PLAYBOOK_SCOPE]
    found: list[Conflict] = []
    seen: set[tuple[str, str, str]] = set()
    for stack, facts in stacks:
        platforms: dict[str, dict[str, list[str]]] = facts.get("platforms") or {}
        subjects = _subjects(facts, stack.scope)
        repo_sentences = split_sentences(stack.text)
        for doc in documents:
            if doc.scope != stack.scope or doc.doc_id == stack.doc_id:
                continue
            for sentence in split_sentences(doc.text):
                about = _WE.search(sentence) or _mentions(sentence, subjects)
                if not about:
                    continue  # not about this client or anything in this repository
                for tech, (category, names) in aliases.items():
                    present = platforms.get(category) or {}
                    if not present or tech in present:
                        continue  # the code has nothing to say about this, or agrees
                    hits = [
                        m for m in _mentions(sentence, [tech, *names]) if _asserted(sentence, m)
                    ]
                    key = (doc.doc_id, stack.doc_id, tech)
                    if not hits or key in seen:
                        continue
                    seen.add(key)
                    evidence = ", ".join(
                        f"{t} ({', '.join(paths[:2])})" for t, paths in sorted(present.items())
                    )
                    repo_sentence = next(
                        (s for s in repo_sentences if any(t in s for t in present)),
                        repo_sentences[0] if repo_sentences else stack.text[:200],
                    )
                    found.append(
                        Conflict(
                            first=doc,
                            second=stack,
                            first_sentence=sentence,
                            second_sentence=repo_sentence,
                            first_value=tech
                            if hits[0].group(0).lower() == tech.lower()
                            else f"{tech} ({hits[0].group(0)})",
                            second_value=f"{evidence} in the code, no {tech}",
                            similarity=0.0,
                            measure="where it runs",
                        )
                    )
    return found
