"""The Chroma collection: embedded PersistentClient by default, HttpClient when configured."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from advisor.core.errors import EmbeddingMismatchError, StoreError
from advisor.core.models import Chunk, Passage
from advisor.core.settings import PLAYBOOK_SCOPE, Settings


def chroma_client(settings: Settings):
    """The one way to open Chroma: embedded PersistentClient, or HttpClient when configured."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_host}:"
                f"{settings.chroma_port} ({exc}): start it with `chroma run --path DIR --port "
                f"{settings.chroma_port}` or unset ADVISOR_CHROMA_HOST to use the embedded store"
            ) from exc
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def scope_filter(scopes: Sequence[str]) -> dict[str, Any]:
    """A Chroma `where` clause that admits only these scopes."""
    scopes = list(dict.fromkeys(scopes))
    return {"scope": scopes[0]} if len(scopes) == 1 else {"scope": {"$in": scopes}}


class Store:
    """All reads and writes of indexed chunks go through here."""

    PAGE = 10_000  # records per `get` when reading a whole scope or the whole index

    def __init__(self, settings: Settings, embedding_model: str, dimension: int) -> None:
        self.settings = settings
        self.embedding_model = embedding_model
        self.dimension = dimension
        self.client = chroma_client(settings)
        self.collection = self._open()
        self._check_model()

    def _open(self):
        try:
            return self.client.get_or_create_collection(
                name=self.settings.collection,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={
                    "embedding_model": self.embedding_model,
                    "dimension": self.dimension,
                    "generation": 0,
                },
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(
                f"cannot open the Chroma collection {self.settings.collection!r} ({exc}): check "
                f"ADVISOR_DATA_DIR ({self.settings.data_dir}) or the Chroma server"
            ) from exc

    def _live(self):
        """The collection as it is now. Another process (`cto-advisor reset`) may have deleted
        and recreated it since this store was opened: a long-running app must read the new one
        (or an empty one), never fail on, or answer from, the old."""
        try:
            current = self.client.get_collection(self.settings.collection)
        except Exception:  # chromadb's NotFoundError: deleted and not yet recreated
            current = self._open()
        if current.id != self.collection.id:  # writes go to the new collection too
            self.collection = current
        return current  # fresh metadata: the generation another process bumped

    def _check_model(self) -> None:
        meta = self.collection.metadata or {}
        built_with = meta.get("embedding_model")
        if built_with and (
            built_with != self.embedding_model or meta.get("dimension") != self.dimension
        ):
            raise EmbeddingMismatchError(
                f"the index was built with {built_with!r} ({meta.get('dimension')} dimensions) "
                f"but {self.embedding_model!r} ({self.dimension}) is configured: set "
                f"ADVISOR_EMBEDDING_MODEL={built_with} or re-index with "
                "`cto-advisor reset --yes` then `cto-advisor ingest ...`"
            )

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        """Insert or replace chunks (ids are deterministic, so a repeat is harmless)."""
        step = max(1, min(self.client.get_max_batch_size(), 1000))
        for start in range(0, len(chunks), step):
            part = chunks[start : start + step]
            self.collection.upsert(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
                embeddings=[list(e) for e in embeddings[start : start + step]],
            )

    def replace_docs(
        self,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]],
        existing: Iterable[str] = (),
    ) -> None:
        """Write new versions of documents, `existing` ones replaced in place.

        A reader (the app, another process) never finds a replaced document missing, as it
        would between deleting all its chunks and adding the new ones: first the old chunks past
        the new count go (a reader still sees the old version, shorter), then the new chunks
        overwrite the old ids (`doc_id:index`), one document in one write.
        """
        counts: dict[str, int] = defaultdict(int)
        for chunk in chunks:
            counts[chunk.doc_id] += 1
        for doc_id in dict.fromkeys(existing):
            tail = {"$and": [{"doc_id": doc_id}, {"chunk_index": {"$gte": counts[doc_id]}}]}
            self.collection.delete(where=tail)
        self.upsert(chunks, embeddings)

    def delete_docs(self, doc_ids: Iterable[str]) -> None:
        """Remove every chunk of these documents."""
        ids = list(doc_ids)
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
            self.collection.delete(where=where)

    def delete_scope(self, scope: str) -> None:
        """Remove every chunk of one scope (a client being forgotten)."""
        self.collection.delete(where={"scope": scope})

    def bump_generation(self) -> int:
        """Mark the collection as changed, so derived indexes (BM25) rebuild."""
        meta = dict(self.collection.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta["updated_at"] = time.time()
        meta.setdefault("embedding_model", self.embedding_model)
        meta.setdefault("dimension", self.dimension)
        self.collection.modify(metadata=meta)
        return meta["generation"]

    # -- reads --------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self.version[1]

    @property
    def version(self) -> tuple[str, int]:
        """(collection id, content generation): what every cache derived from the store is keyed
        by. The id is new whenever the collection is deleted and created again (`reset`), so a
        generation counter that restarts from 0 can never match a cache of the old collection."""
        collection = self._live()
        meta = collection.metadata or {}
        return str(collection.id), int(meta.get("generation", 0))

    @property
    def updated_at(self) -> float | None:
        return (self.collection.metadata or {}).get("updated_at")

    def count(self) -> int:
        return self._live().count()

    def dense_search(
        self, embedding: Sequence[float], scopes: Sequence[str], n: int
    ) -> list[Passage]:
        """Nearest chunks by cosine similarity, only from the given scopes."""
        if n <= 0:
            return []
        res = self._live().query(
            query_embeddings=[list(embedding)],
            n_results=n,
            where=scope_filter(scopes),
            include=["documents", "metadatas", "distances"],
        )
        out = []
        for id_, text, meta, dist in zip(
            res["ids"][0],
            res["documents"][0],
            res["metadatas"][0],
            res["distances"][0],
            strict=True,
        ):
            sim = 1.0 - float(dist)
            out.append(Passage.from_store(id_, text, meta, score=sim, dense_score=sim))
        return out

    def _get_all(self, include: list[str], where: dict[str, Any] | None = None) -> dict:
        """`collection.get` over any number of records, a page at a time: one call for 100k
        chunks fails inside Chroma ("too many SQL variables")."""
        out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
        page = max(1, min(self.client.get_max_batch_size(), self.PAGE))
        offset = 0
        collection = self._live()
        while True:
            res = collection.get(where=where, include=include, limit=page, offset=offset)
            for key in out:
                out[key].extend(res[key])
            if len(res["ids"]) < page:
                return out
            offset += page

    def chunks_in(self, scopes: Sequence[str]) -> list[Passage]:
        """Every chunk of these scopes (for the lexical index)."""
        res = self._get_all(["documents", "metadatas"], where=scope_filter(scopes))
        return [
            Passage.from_store(i, t, m)
            for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        ]

    def vectors_in(self, scope: str) -> tuple[list[str], Any]:
        """(ids, float32 matrix of their embeddings) of every chunk of one scope."""
        import numpy as np

        res = self._get_all(["embeddings"], where={"scope": scope})
        matrix = np.asarray(res["embeddings"], dtype=np.float32)
        return list(res["ids"]), matrix.reshape(len(res["ids"]), self.dimension)

    def get(self, ids: Sequence[str]) -> list[Passage]:
        """Chunks by id, in the order asked."""
        if not ids:
            return []
        res = self._live().get(ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"])
        by_id = {
            i: Passage.from_store(i, t, m)
            for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def source_stats(self) -> list[dict[str, Any]]:
        """One row per indexed document: source, scope, chunk count, page count."""
        res = self._get_all(["metadatas"])
        docs: dict[str, dict[str, Any]] = {}
        pages: dict[str, set[int]] = defaultdict(set)
        for meta in res["metadatas"]:
            key = str(meta.get("doc_id"))
            row = docs.setdefault(
                key,
                {
                    "source": meta.get("source"),
                    "root": meta.get("root"),
                    "title": meta.get("title"),
                    "scope": meta.get("scope", PLAYBOOK_SCOPE),
                    "chunks": 0,
                    "pages": None,
                },
            )
            row["chunks"] += 1
            page = meta.get("page") or meta.get("slide")
            if page is not None:
                pages[key].add(int(page))
        for key, row in docs.items():
            if pages[key]:
                row["pages"] = max(pages[key])
        return sorted(docs.values(), key=lambda r: (r["scope"], str(r["source"])))

    def identity(self) -> str:
        """What a manifest must describe. On a server, the collection's own id: machines may
        name the server differently, and a collection deleted and re-created gets a new id."""
        if self.settings.chroma_host:
            return f"chroma-collection:{self.collection.id}#{self.embedding_model}"
        return f"{self.location()}#{self.settings.collection}#{self.embedding_model}"

    def location(self) -> str:
        if self.settings.chroma_host:
            return f"http://{self.settings.chroma_host}:{self.settings.chroma_port}"
        return str(self.settings.chroma_path.resolve())


def open_store(settings: Settings, embeddings=None) -> Store:
    """The store for the configured embedding model.

    The packaged MiniLM's name and dimension are known without loading its weights, so status,
    warm re-ingests and app start-up never pay for the model; other models are loaded (and probed
    for their dimension) unless given.
    """
    from advisor.core.embeddings import MiniLMEmbeddings, is_packaged_minilm, load_embeddings

    if embeddings is None and is_packaged_minilm(settings.embedding_model):
        return Store(settings, MiniLMEmbeddings.name, MiniLMEmbeddings.dimension)
    embeddings = embeddings or load_embeddings(settings)
    return Store(settings, embeddings.name, embeddings.dimension)


def describe(settings: Settings) -> str:
    """Where the collection lives, for messages."""
    if settings.chroma_host:
        return (
            f"collection {settings.collection!r} on {settings.chroma_host}:{settings.chroma_port}"
        )
    return f"collection {settings.collection!r} in {settings.chroma_path}"


def delete_collection(settings: Settings) -> str:
    """Drop the collection through Chroma (whatever embedding model built it); returns where."""
    where = describe(settings)
    if not settings.chroma_host and not settings.chroma_path.exists():
        return where
    try:
        client = chroma_client(settings)
        existing = {c.name for c in client.list_collections()}
        # On a server the manifest (and the ingest lease) live in a collection of their own.
        for name in (settings.collection, settings.manifest_collection):
            if name in existing:
                client.delete_collection(name)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises plain connection/value errors
        raise StoreError(
            f"cannot delete {where} ({exc}): check that the Chroma server is running, or delete "
            "ADVISOR_DATA_DIR by hand"
        ) from exc
    return where


def purge_deleted(settings: Settings, scope: str) -> None:
    """Make a deleted scope's chunks unrecoverable from the embedded store's files.

    Chroma keeps each upsert (text and metadata) in its write-ahead log table until it
    compacts, SQLite keeps deleted rows in free pages, and the full-text index keeps deleted
    terms until its segments merge: drop the scope's log entries, merge, rebuild the file.
    A Chroma server keeps its own files; it is asked nothing here.
    """
    import sqlite3

    path = settings.chroma_path / "chroma.sqlite3"
    if settings.chroma_host or not path.exists():
        return
    db = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "embeddings_queue" in tables:
            db.execute(
                "DELETE FROM embeddings_queue WHERE json_valid(metadata) "
                "AND json_extract(metadata, '$.scope') = ?",
                (scope,),
            )
        if "embedding_fulltext_search" in tables:
            db.execute(
                "INSERT INTO embedding_fulltext_search(embedding_fulltext_search) "
                "VALUES('optimize')"
            )
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
