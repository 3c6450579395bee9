"""Exact dense search over the scopes a question may see, from vectors held in memory.

Chroma's filtered HNSW query is the slow step of a search at scale (83 ms p95 at 100k chunks
when a client's scope admits 1 chunk in 40, on 2 cores): it walks the graph of every scope to
find the few it may return. Scanning the visible scopes' vectors exactly is a matrix-vector
product, about 2 ms per 20k chunks, and returns the true nearest neighbours rather than an
approximation. Chroma stays the store of record: each scope's matrix is read from it once per
store version (one paged read, like the BM25 index) and dropped when the store changes.
"""

from __future__ import annotations

import threading

import numpy as np

from advisor.core.store import Store


class ScopeVectors:
    """One scope's chunk ids and their L2-normalised embeddings (float32)."""

    def __init__(self, ids: list[str], matrix: np.ndarray) -> None:
        self.ids = ids
        self.matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes)

    def top(self, query: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` chunks most similar to `query` (unit vector), best first."""
        if not self.ids or n <= 0:
            return []
        sims = self.matrix @ query
        best = np.argpartition(-sims, n - 1)[:n] if len(sims) > n else np.arange(len(sims))
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.ids[i], float(sims[i])) for i in best]


class DenseIndex:
    """Per-scope vector matrices of one store, each loaded on first use and kept while the
    store's version (collection id, generation) is unchanged. A scope's matrix is shared by
    every scope set that includes it: the playbooks are held once, not once per client."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._scopes: dict[str, ScopeVectors] = {}
        self._version: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def vectors(self, scope: str, version: tuple[str, int] | None = None) -> ScopeVectors:
        """`scope`'s vectors as of `version` (read from the store when not given; read it
        before loading, so a change made meanwhile means a reload next time)."""
        version = version or self.store.version
        with self._lock:
            if version != self._version:
                self._scopes.clear()
                self._version = version
            cached = self._scopes.get(scope)
            if cached is None:
                cached = ScopeVectors(*self.store.vectors_in(scope))
                self._scopes[scope] = cached
            return cached

    def search(
        self, embedding, scopes: list[str], n: int, version: tuple[str, int] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest chunks of these scopes, best first,
        as of the store's `version` (read now when not given)."""
        query = np.asarray(embedding, dtype=np.float32)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        version = version or self.store.version
        hits: list[tuple[str, float]] = []
        for scope in dict.fromkeys(scopes):
            hits.extend(self.vectors(scope, version).top(query, n))
        hits.sort(key=lambda hit: hit[1], reverse=True)
        return hits[:n]

    @property
    def nbytes(self) -> int:
        """Memory held by the loaded matrices."""
        return sum(v.nbytes for v in self._scopes.values())
