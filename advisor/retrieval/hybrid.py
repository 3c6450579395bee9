"""Hybrid retrieval: dense (exact in memory, or Chroma's HNSW) + BM25, fused by weighted
reciprocal rank, diversified, and always restricted to the scopes a question may see."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from advisor.core.errors import AccessError
from advisor.core.models import Passage
from advisor.core.principal import scopes_for, visible
from advisor.core.refresh import VersionedCache
from advisor.core.settings import Settings
from advisor.core.store import Store, StoreVersion
from advisor.retrieval.dense import DenseIndex
from advisor.retrieval.lexical import LexicalIndex

CANDIDATES = 40  # per retriever, before fusion
RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
MAX_PER_DOC = 2  # in the returned list, unless fewer documents than slots match
log = logging.getLogger("advisor.retrieval")


@dataclass
class Retrieval:
    """Ranked passages plus the evidence signals used to decide whether to abstain."""

    query: str
    passages: list[Passage]
    top_dense: float = 0.0  # best cosine similarity among the candidates
    lexicon: Mapping[str, int] = field(default_factory=dict)  # term -> document frequency
    corpus_size: int = 0  # chunks the lexicon counts over (for IDF)
    agreement: float = 0.0  # share of the top dense documents the lexical list also ranks high
    dense_margin: float = 0.0  # best similarity minus the mean of the dense candidates'
    # The BM25 index of the scopes searched (its postings tell which chunks hold a term).
    index: LexicalIndex | None = None


class HybridRetriever:
    """Dense plus lexical search over one store; the lexical index is built per scope set."""

    def __init__(self, store: Store, embeddings, settings: Settings) -> None:
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        inline = settings.refresh_inline_chunks
        self._lexical: VersionedCache[LexicalIndex] = VersionedCache(inline)
        self.dense_index = DenseIndex(store, inline)

    def lexical(self, scopes: list[str], version: StoreVersion | None = None) -> LexicalIndex:
        """The BM25 index of exactly these scopes, rebuilt when one of them changed (a big
        one keeps serving while its successor is built in the background).

        Keyed by the collection's identity as well as its scopes' generation: after `reset`
        (here or in another process) the generation restarts, and an index of the old
        collection would hand out ids that now belong to another client's documents.
        """
        key = tuple(sorted(set(scopes)))
        # Read before building: a change made meanwhile means another rebuild next time.
        current = (version or self.store.versions()).of(key)
        return self._lexical.get(key, current, lambda: self._load_or_build(key, current))

    def _load_or_build(self, key: tuple[str, ...], version: tuple[str, int]) -> LexicalIndex:
        collection_id, generation = version
        folder = self.settings.data_dir / "lexical"
        slug = hashlib.sha1("|".join(key).encode()).hexdigest()[:12]
        tag = hashlib.sha1(collection_id.encode()).hexdigest()[:12]
        path = folder / f"{slug}-{tag}-g{generation}"
        try:
            if (path / "ids.json").exists():
                return LexicalIndex.load(path)
        except Exception as exc:  # a damaged or unreadable cache is rebuilt, never trusted
            log.warning("the BM25 cache %s cannot be used (%s): rebuilding it", path, exc)
        index = LexicalIndex.build(self.store.chunks_in(list(key)))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            index.save(path)
            for old in folder.glob(f"{slug}-*"):
                if old != path and ".tmp-" not in old.name:  # another process may be saving
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:  # read-only or full: answer from memory, say why in the log
            log.warning(
                "cannot save the BM25 index under %s (%s): it is rebuilt at each start until "
                "the folder is writable",
                folder,
                exc.strerror or exc,
            )
        return index

    def refresh(self) -> None:
        """Bring every loaded index up to date now: after this process's own write, so that
        what it just indexed is answerable before the write returns."""
        version = self.store.versions()
        for key in self._lexical.stale(version.of):
            self.lexical(list(key), version)
        self.dense_index.refresh(version)

    def search(self, query: str, client: str | None = None, k: int = 10) -> Retrieval:
        """Top `k` passages for `query` from the playbooks and `client`'s own documents."""
        return self._search(query, scopes_for(client), k)

    def search_within(self, query: str, scopes: list[str], client: str | None, k: int = 10):
        """Top `k` passages from only some of what `client` may see, e.g. only its own
        documents or only the playbooks. A scope outside `scopes_for(client)` is refused."""
        allowed = scopes_for(client)
        outside = [s for s in scopes if s not in allowed]
        if outside or not scopes:
            raise AccessError(f"scopes {outside or scopes} are not visible to client {client!r}")
        return self._search(query, list(scopes), k).passages

    def vectors(self, passages: list[Passage]) -> dict[str, list[float]]:
        """The stored embedding of each passage (of its heading context plus text), by id."""
        return self.store.embeddings_of([p.id for p in passages])

    def _search(self, query: str, scopes: list[str], k: int) -> Retrieval:
        version = self.store.versions()  # one read per search (a round trip on a Chroma server)
        lexical_index = self.lexical(scopes, version)
        lexical = lexical_index.search(query, CANDIDATES)
        dense, by_id = self._dense(query, scopes, [cid for cid, _ in lexical], version)

        fused: dict[str, float] = {}
        for rank, p in enumerate(dense):
            fused[p.id] = fused.get(p.id, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
        for rank, (cid, _) in enumerate(lexical):
            if cid in by_id:
                fused[cid] = fused.get(cid, 0.0) + LEXICAL_WEIGHT / (RRF_K + rank + 1)

        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        passages = []
        for cid in _diversify(ranked, by_id, k):
            p = by_id[cid]
            p.score = fused[cid]
            passages.append(p)
        return Retrieval(
            query=query,
            passages=passages,
            top_dense=max((p.dense_score or 0.0 for p in dense), default=0.0),
            dense_margin=_margin([p.dense_score or 0.0 for p in dense]),
            index=lexical_index,
            lexicon=lexical_index.doc_freq,
            corpus_size=len(lexical_index),
            agreement=_agreement(
                [p.doc_id for p in dense], [by_id[cid].doc_id for cid, _ in lexical if cid in by_id]
            ),
        )

    def _dense(
        self, query: str, scopes: list[str], also: list[str], version: StoreVersion
    ) -> tuple[list[Passage], dict[str, Passage]]:
        """The dense candidates (best first, with their similarity), and every passage of
        those and of `also` (the lexical hits) by id, read from the store in one call."""
        embedding = self.embeddings.embed_query(query)
        if self.settings.dense_search == "hnsw":
            dense = self.store.dense_search(embedding, scopes, CANDIDATES)
            known = {p.id for p in dense}
            fetched = self.store.get([cid for cid in also if cid not in known])
        else:
            hits = dict(self.dense_index.search(embedding, scopes, CANDIDATES, version))
            found = self.store.get([*hits, *(cid for cid in also if cid not in hits)])
            dense = [p for p in found if p.id in hits]  # best first: `get` keeps the order asked
            for p in dense:
                p.score = p.dense_score = hits[p.id]
            fetched = [p for p in found if p.id not in hits]
        # Chunks fetched by id say nothing about their scope, and an in-memory index may be a
        # moment behind the store: check every one again.
        dense = visible(dense, scopes, "dense hits")
        by_id = {p.id: p for p in dense}
        for p in visible(fetched, scopes, "lexical hits"):
            by_id.setdefault(p.id, p)
        return dense, by_id

    def with_neighbours(
        self, passages: list[Passage], around: int
    ) -> tuple[list[Passage], list[int]]:
        """`passages` with the chunks just before and after each of the first `around` ones
        (same document, so same scope), each window in document order; and the rank of the
        passage each one belongs to. A fact often sits in the chunk next to the best match.
        Neighbours come only from the same version of the document (its indexed mtime)."""
        wanted = [
            f"{p.doc_id}:{p.chunk_index + step}"
            for p in passages[:around]
            if p.doc_id and p.chunk_index is not None
            for step in (-1, 1)
        ]
        found = {n.id: n for n in self.store.get(wanted)}
        out: list[Passage] = []
        ranks: list[int] = []
        seen: set[str] = set()
        for rank, p in enumerate(passages):
            window = [p]
            if rank < around and p.chunk_index is not None:
                before = found.get(f"{p.doc_id}:{p.chunk_index - 1}")
                after = found.get(f"{p.doc_id}:{p.chunk_index + 1}")
                # Read after the passage: an ingest in another process may have replaced the
                # document meanwhile. A neighbour from another version of it is left out.
                window = [n for n in (before, p, after) if n is not None and n.mtime == p.mtime]
            for n in window:
                if n.id not in seen:
                    seen.add(n.id)  # a neighbour keeps score 0: it was not retrieved on its own
                    out.append(n)
                    ranks.append(rank)
        return out, ranks

    def retrieve(self, query: str, client: str | None = None, k: int = 10) -> list[Passage]:
        """Just the ranked passages."""
        return self.search(query, client=client, k=k).passages


def _margin(scores: list[float]) -> float:
    """How far the best candidate stands out from the rest: a question the documents answer has
    a passage much closer than the others; an uncovered one meets a flat field."""
    if len(scores) < 2:
        return 0.0
    return max(scores) - sum(scores) / len(scores)


AGREEMENT_DEPTH = 5  # documents compared between the dense and the lexical list


def _agreement(dense_docs: list[str], lexical_docs: list[str]) -> float:
    """Share of the top dense documents that are also among the top lexical documents: two
    independent retrievers that agree are better evidence than either alone."""
    top_dense = list(dict.fromkeys(dense_docs))[:AGREEMENT_DEPTH]
    top_lexical = set(list(dict.fromkeys(lexical_docs))[:AGREEMENT_DEPTH])
    if not top_dense:
        return 0.0
    return sum(1 for d in top_dense if d in top_lexical) / len(top_dense)


def _diversify(ranked: list[str], by_id: dict[str, Passage], k: int) -> list[str]:
    """Keep rank order but allow at most MAX_PER_DOC chunks of one document, then fill."""
    chosen: list[str] = []
    per_doc: dict[str, int] = {}
    held_back: list[str] = []
    for cid in ranked:
        doc = by_id[cid].doc_id
        if per_doc.get(doc, 0) < MAX_PER_DOC:
            chosen.append(cid)
            per_doc[doc] = per_doc.get(doc, 0) + 1
        else:
            held_back.append(cid)
        if len(chosen) == k:
            return chosen
    return chosen + held_back[: k - len(chosen)]
