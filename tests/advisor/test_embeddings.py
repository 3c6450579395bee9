"""The packaged MiniLM: loaded offline, and the same vectors sentence-transformers computes."""

from __future__ import annotations

import numpy as np

TEXTS = [
    "Keep pull requests under 400 lines.",
    "An on-call rotation needs at least five engineers so nobody is paged every other week.",
    "x",
    "Postgres " * 400,  # longer than the 256-token window: truncated the same way
]


def test_vectors_match_sentence_transformers(embeddings):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(embeddings.path), device="cpu", local_files_only=True)
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    ours = np.asarray(embeddings.embed_documents(TEXTS))
    assert ours.shape == (len(TEXTS), embeddings.dimension)
    assert np.allclose(ours, expected, atol=2e-5)


def test_query_vector_is_normalised_and_cached(embeddings):
    first = embeddings.embed_query("How big should a pull request be?")
    assert abs(np.linalg.norm(first) - 1.0) < 1e-5
    assert embeddings.embed_query("How big should a pull request be?") is first
    assert embeddings.count_tokens("pull requests") == 2
    assert embeddings.count_tokens("Postgres " * 400) > embeddings.max_tokens
