"""Exact dense search over the scopes a question may see, from vectors held in memory.

Chroma's filtered HNSW query is the slow step of a search at scale (83 ms p95 at 100k chunks
when a client's scope admits 1 chunk in 40, on 2 cores): it walks the graph of every scope to
find the few it may return. Scanning the visible scopes' vectors exactly is a matrix-vector
product, about 2 ms per 20k chunks, and returns the true nearest neighbours rather than an
approximation. Chroma stays the store of record: each scope's matrix is read from it once per
version of that scope (one paged read, like the BM25 index) and replaced when it changes.
"""

from __future__ import annotations

import numpy as np

from advisor.core.refresh import VersionedCache
from advisor.core.store import Store, StoreVersion


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
    """Per-scope vector matrices of one store, each loaded on first use and kept while that
    scope is unchanged (its generation in the store's version). A scope's matrix is shared by
    every scope set that includes it: the playbooks are held once, not once per client. After
    a change, a big matrix keeps serving until its successor is loaded in the background."""

    def __init__(self, store: Store, inline_below: int = 20_000) -> None:
        self.store = store
        self._scopes: VersionedCache[ScopeVectors] = VersionedCache(inline_below)

    def vectors(self, scope: str, version: StoreVersion | None = None) -> ScopeVectors:
        """`scope`'s vectors as of `version` (read from the store when not given; read it
        before loading, so a change made meanwhile means a reload next time)."""
        version = version or self.store.versions()
        return self._scopes.get(
            scope, version.of([scope]), lambda: ScopeVectors(*self.store.vectors_in(scope))
        )

    def search(
        self, embedding, scopes: list[str], n: int, version: StoreVersion | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest chunks of these scopes, best first,
        as of the store's `version` (read now when not given)."""
        query = np.asarray(embedding, dtype=np.float32)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        version = version or self.store.versions()
        hits: list[tuple[str, float]] = []
        for scope in dict.fromkeys(scopes):
            hits.extend(self.vectors(scope, version).top(query, n))
        hits.sort(key=lambda hit: hit[1], reverse=True)
        return hits[:n]

    def refresh(self, version: StoreVersion | None = None) -> None:
        """Bring every loaded scope up to `version` now (after this process's own write)."""
        version = version or self.store.versions()
        for scope in self._scopes.stale(lambda s: version.of([s])):
            self.vectors(str(scope), version)

    @property
    def nbytes(self) -> int:
        """Memory held by the loaded matrices."""
        return sum(v.nbytes for v in self._scopes.values())
