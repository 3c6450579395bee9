"""Notices attached to an answer: cited client documents that disagree, and stale sources."""

from __future__ import annotations

import time

from advisor.answering.answer import citation_for
from advisor.answering.facts import find_conflicts
from advisor.assessment.repo_checks import claims, stack_conflicts
from advisor.core.models import Answer
from advisor.core.settings import PLAYBOOK_SCOPE


def conflicts_among(passages, embeddings) -> list:
    """Conflicts between a client's documents among these passages: figures that disagree, and
    stack claims the client's repositories contradict (one place for answers of every mode)."""
    own = [p for p in passages if p.scope != PLAYBOOK_SCOPE]
    if len({p.doc_id for p in own}) < 2:
        return []
    return find_conflicts(claims(own), embeddings) + stack_conflicts(own)


def annotate(answer: Answer, embeddings, stale_after_days: int, now: float | None = None) -> Answer:
    """Add conflict and staleness notices (and a warning line) to `answer` in place."""
    now = now or time.time()
    by_source = {}
    for c in answer.citations:
        by_source.setdefault((c.scope, c.source), c.n)
    # A cited client document is checked against every retrieved document of the same client:
    # a disagreeing one that the answer did not quote is added as a source, so the warning can
    # cite both sides.
    client_passages = [p for p in answer.passages if p.scope != PLAYBOOK_SCOPE]
    conflicts = []
    cited_docs = {p.doc_id for p in client_passages if (p.scope, p.source) in by_source}
    if cited_docs:
        for c in conflicts_among(client_passages, embeddings):
            if not {c.first.doc_id, c.second.doc_id} & cited_docs:
                continue  # about documents the answer does not rest on
            numbers = []
            for p in (c.first, c.second):
                if (p.scope, p.source) not in by_source:
                    n = len(answer.citations) + 1
                    answer.citations.append(citation_for(n, p))
                    by_source[(p.scope, p.source)] = n
                numbers.append(by_source[(p.scope, p.source)])
            conflicts.append(c.describe(*numbers))
    stale = []
    for c in answer.citations:
        age = c.age_days(now)
        if age is not None and age > stale_after_days:
            stale.append(f"[{c.n}] {c.title or c.source} was last modified {age} days ago")
    answer.conflicts, answer.stale = conflicts, stale
    notes = []
    if conflicts:
        notes.append("The client's documents disagree: " + "; ".join(conflicts) + ".")
    if stale:
        notes.append(
            f"Some sources are older than {stale_after_days} days: " + "; ".join(stale) + "."
        )
    if notes:
        answer.warning = " ".join([answer.warning, *notes] if answer.warning else notes)
    return answer
