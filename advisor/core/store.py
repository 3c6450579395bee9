"""The Chroma collection: embedded PersistentClient by default, HttpClient when configured.

Several processes share one embedded store (the API, the MCP server and the app run for days
while the CTO ingests from a terminal or a cron job). Chroma's embedded client keeps each
collection's vector index (HNSW) in memory, loaded once per process, while its SQLite tables
are read afresh on every call: a process that has loaded the vectors and then meets another
process's chunks in the tables fails ("Error finding id"), and one that writes from a stale
index can lose the other's vectors when it saves its own. So, one writer model:

- writes take turns: each write holds `store.lock` exclusively and counts itself in it
  (ingests also take turns as a whole, under ingest/lock.py);
- a process reads vectors only under the same lock, shared, and only through a client that has
  seen every counted write: if another process wrote since, it first opens a fresh client
  (Chroma then loads the vectors from disk and replays its log), which is what a restart did;
- text and metadata reads need no lock: every client reads them from the tables as they are.

A Chroma server (`chroma run`) is one process that every client talks to: no lock is needed.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.core.errors import EmbeddingMismatchError, StoreError
from advisor.core.locks import flocked, read_text, write_text
from advisor.core.models import Chunk, Passage
from advisor.core.settings import PLAYBOOK_SCOPE, Settings

STORE_LOCK = "store.lock"
EVERY_SCOPE = "*"  # a change whose scopes are not known: every scope's caches are stale


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _http_client(settings: Settings):
    import chromadb

    try:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=_chroma_settings()
        )
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
        raise StoreError(
            f"cannot reach the Chroma server at {settings.chroma_host}:"
            f"{settings.chroma_port} ({exc}): start it with `chroma run --path DIR --port "
            f"{settings.chroma_port}` or unset ADVISOR_CHROMA_HOST to use the embedded store"
        ) from exc


def _fresh_persistent_client(path: Path):
    """A new embedded client with its own view of the files. chromadb shares one system per
    path within a process; taking ours out of its cache makes the next client load afresh (the
    old one keeps working for whoever still holds it, and is freed when they let go)."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(path)
    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_system.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)
    return chromadb.PersistentClient(path=key, settings=_chroma_settings())


def _next_count(text: str) -> str:
    """The write count after `text` (what the lock file says; garbage counts as 0)."""
    try:
        return str(int(text) + 1)
    except ValueError:
        return "1"


class _Embedded:
    """This process's client of one embedded store (every Store on that path shares it), and
    the write count of `store.lock` up to which it has seen every write."""

    def __init__(self, path: Path, lock: Path) -> None:
        self.path = path
        self.lock = lock
        self.client = None
        self.seen: str | None = None
        self.reopened = 0  # fresh clients opened because another process wrote

    def open(self) -> None:
        if self.client is None:
            with flocked(self.lock) as fd:
                if self.client is None:
                    self.client = _fresh_persistent_client(self.path)
                    self.seen = read_text(fd)

    def reopen(self, count: str, collection: str) -> None:
        """Under the exclusive lock: a fresh client that has seen every write up to `count`.
        Its first read replays Chroma's log into the vectors it loads (a write of Chroma's own,
        hence the lock), so that happens here, before anyone else uses the client."""
        fresh = _fresh_persistent_client(self.path)
        # Deleted by a reset: created (and counted) by whichever Store needs it.
        with suppress(Exception):
            fresh.get_collection(collection).count()
        self.client, self.seen = fresh, count
        self.reopened += 1

    @contextmanager
    def exclusive(self, collection: str) -> Iterator[Callable[[], None]]:
        """Hold the store lock for a write, through a client that has seen every earlier write;
        yields `counted()`, which counts the write (call it before writing: a writer killed
        half-way must still make the others reopen)."""
        mode = getattr(_HELD, "mode", None)
        if mode == "exclusive":
            yield _count_held
            return
        if mode == "shared":
            raise RuntimeError("a write of the store inside a read of it would deadlock")
        self.open()
        with flocked(self.lock) as fd:
            _HELD.mode, _HELD.fd, _HELD.shared = "exclusive", fd, self
            try:
                current = read_text(fd)
                if current != self.seen:
                    self.reopen(current, collection)
                yield _count_held
            finally:
                _HELD.mode = _HELD.fd = _HELD.shared = None

    @contextmanager
    def reading(self, vectors: bool, collection: str) -> Iterator[None]:
        """Hold the store lock shared for a read that must not interleave with a write: of
        vectors (then through a client that has seen every write: a fresh one is opened first
        if another process wrote), or of a whole scope a page at a time."""
        if getattr(_HELD, "mode", None) is not None:
            yield
            return
        self.open()
        while True:
            with flocked(self.lock, shared=True) as fd:
                if not vectors or read_text(fd) == self.seen:
                    _HELD.mode = "shared"
                    try:
                        yield
                    finally:
                        _HELD.mode = None
                    return
            with flocked(self.lock) as fd:
                current = read_text(fd)
                if current != self.seen:
                    self.reopen(current, collection)


_EMBEDDED: dict[str, _Embedded] = {}
_EMBEDDED_GUARD = threading.Lock()
_HELD = threading.local()  # the store lock this thread holds: .mode, .fd and .shared


def _count_held() -> None:
    """Count a write in the store lock this thread holds exclusively (nothing on a server)."""
    fd, shared = getattr(_HELD, "fd", None), getattr(_HELD, "shared", None)
    if fd is not None and shared is not None:
        shared.seen = _next_count(read_text(fd))
        write_text(fd, shared.seen)


def _embedded(settings: Settings) -> _Embedded:
    path = settings.chroma_path.resolve()
    with _EMBEDDED_GUARD:
        return _EMBEDDED.setdefault(str(path), _Embedded(path, settings.data_dir / STORE_LOCK))


@contextmanager
def store_write(settings: Settings) -> Iterator[None]:
    """A counted write of the store outside `Store` (reset, purge): under the store lock."""
    if settings.chroma_host:
        yield
        return
    with _embedded(settings).exclusive(settings.collection) as counted:
        counted()
        yield


def chroma_client(settings: Settings):
    """The one way to open Chroma: embedded PersistentClient, or HttpClient when configured."""
    if settings.chroma_host:
        return _http_client(settings)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    shared = _embedded(settings)
    shared.open()
    return shared.client


def scope_filter(scopes: Sequence[str]) -> dict[str, Any]:
    """A Chroma `where` clause that admits only these scopes."""
    scopes = list(dict.fromkeys(scopes))
    return {"scope": scopes[0]} if len(scopes) == 1 else {"scope": {"$in": scopes}}


@dataclass(frozen=True)
class StoreVersion:
    """What caches derived from the store are keyed by: the collection's id (new after every
    `reset`) and, per scope, the generation at which its chunks last changed."""

    collection: str
    generation: int
    changed: Mapping[str, int] = field(default_factory=dict)  # scope -> generation

    @classmethod
    def from_metadata(cls, collection_id: Any, meta: Mapping[str, Any] | None) -> StoreVersion:
        meta = meta or {}
        generation = int(meta.get("generation", 0))
        changed = {
            k.removeprefix("generation:"): int(v)
            for k, v in meta.items()
            if k.startswith("generation:") and isinstance(v, int | float)
        }
        # An index from before per-scope generations: every scope changed at `generation`.
        changed.setdefault(EVERY_SCOPE, generation)
        return cls(str(collection_id), generation, changed)

    def of(self, scopes: Iterable[str]) -> tuple[str, int]:
        """(collection id, the last generation at which any of these scopes changed)."""
        every = self.changed.get(EVERY_SCOPE, 0)
        return self.collection, max([every, *(self.changed.get(s, 0) for s in scopes)])


class Store:
    """All reads and writes of indexed chunks go through here."""

    PAGE = 10_000  # records per `get` when reading a whole scope or the whole index

    def __init__(self, settings: Settings, embedding_model: str, dimension: int) -> None:
        self.settings = settings
        self.embedding_model = embedding_model
        self.dimension = dimension
        self._shared = None if settings.chroma_host else _embedded(settings)
        self._http = _http_client(settings) if settings.chroma_host else None
        self._collection = None
        self._override = None  # a test's stand-in collection (one that fails on purpose)
        if self._shared is not None:
            self._shared.open()
        self._collection = self._open_or_create()
        self._check_model()

    # -- one client in step with every process's writes ----------------------------------------

    @property
    def client(self):
        return self._http if self._shared is None else self._shared.client

    @property
    def collection(self):
        """The collection on the current client (a fresh one after another process wrote)."""
        if self._override is not None:
            return self._override
        client = self.client
        if self._collection is None or self._collection._client is not client._server:
            self._collection = self._live()
        return self._collection

    @collection.setter
    def collection(self, value) -> None:
        self._override = value

    def _create(self, client):
        return client.get_or_create_collection(
            name=self.settings.collection,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={
                "embedding_model": self.embedding_model,
                "dimension": self.dimension,
                "generation": 0,
            },
            embedding_function=None,
        )

    def _open_or_create(self):
        """The collection, created (a counted write) if it does not exist yet."""
        try:
            return self.client.get_collection(self.settings.collection)
        except Exception:  # chromadb's NotFoundError; anything else fails again below
            pass
        try:
            with self._exclusive() as counted:
                counted()
                return self._create(self.client)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"cannot open the Chroma collection {self.settings.collection!r} ({exc}): check "
                f"ADVISOR_DATA_DIR ({self.settings.data_dir}) or the Chroma server"
            ) from exc

    @contextmanager
    def _exclusive(self) -> Iterator[Callable[[], None]]:
        if self._shared is None:
            yield lambda: None
            return
        with self._shared.exclusive(self.settings.collection) as counted:
            yield counted

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A counted write (see `_Embedded.exclusive`)."""
        with self._exclusive() as counted:
            counted()
            yield

    @contextmanager
    def _reading(self, vectors: bool) -> Iterator[None]:
        if self._shared is None:
            yield
            return
        with self._shared.reading(vectors, self.settings.collection):
            yield

    @property
    def reopened(self) -> int:
        """How many fresh clients this process opened because another process wrote."""
        return 0 if self._shared is None else self._shared.reopened

    def _live(self):
        """The collection as it is now. Another process (`cto-advisor reset`) may have deleted
        and recreated it since this store was opened: a long-running app must read the new one
        (or an empty one), never fail on, or answer from, the old."""
        try:
            current = self.client.get_collection(self.settings.collection)
        except Exception:  # chromadb's NotFoundError: deleted and not yet recreated
            current = self._open_or_create()
        if self._override is None:
            self._collection = current  # writes go to the new collection too
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
        with self._writing():
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
        with self._writing():
            for doc_id in dict.fromkeys(existing):
                tail = {"$and": [{"doc_id": doc_id}, {"chunk_index": {"$gte": counts[doc_id]}}]}
                self.collection.delete(where=tail)
            self.upsert(chunks, embeddings)

    def delete_docs(self, doc_ids: Iterable[str]) -> None:
        """Remove every chunk of these documents."""
        ids = list(doc_ids)
        with self._writing():
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
                self.collection.delete(where=where)

    def delete_scope(self, scope: str) -> None:
        """Remove every chunk of one scope (a client being forgotten)."""
        with self._writing():
            self.collection.delete(where={"scope": scope})

    def bump_generation(self, scopes: Iterable[str] | None = None) -> int:
        """Mark the collection as changed, so derived indexes (BM25, vectors) rebuild: those of
        `scopes` only, or of every scope when they are not known."""
        with self._writing():
            meta = dict(self._live().metadata or {})  # as it is now, not as this object last saw
            generation = int(meta.get("generation", 0))
            meta.setdefault(f"generation:{EVERY_SCOPE}", generation)  # an index from before
            generation += 1
            meta["generation"] = generation
            for scope in [EVERY_SCOPE] if scopes is None else scopes:
                meta[f"generation:{scope}"] = generation
            meta["updated_at"] = time.time()
            meta.setdefault("embedding_model", self.embedding_model)
            meta.setdefault("dimension", self.dimension)
            self.collection.modify(metadata=meta)
            return generation

    # -- reads --------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self.version[1]

    @property
    def version(self) -> tuple[str, int]:
        """(collection id, content generation): what every cache derived from the whole store is
        keyed by. The id is new whenever the collection is deleted and created again (`reset`),
        so a generation counter that restarts from 0 can never match a cache of the old one."""
        current = self.versions()
        return current.collection, current.generation

    def versions(self) -> StoreVersion:
        """The collection's id and its per-scope generations, read once (one round trip)."""
        collection = self._live()
        return StoreVersion.from_metadata(collection.id, collection.metadata)

    @property
    def updated_at(self) -> float | None:
        return (self._live().metadata or {}).get("updated_at")

    def count(self) -> int:
        return self._live().count()

    def dense_search(
        self, embedding: Sequence[float], scopes: Sequence[str], n: int
    ) -> list[Passage]:
        """Nearest chunks by cosine similarity, only from the given scopes."""
        if n <= 0:
            return []
        with self._reading(vectors=True):
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

    def embeddings_of(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embedding of each of these chunks, by id (those that exist)."""
        if not ids:
            return {}
        with self._reading(vectors=True):
            res = self._live().get(ids=list(dict.fromkeys(ids)), include=["embeddings"])
        return dict(zip(res["ids"], res["embeddings"], strict=True))

    def _get_all(self, include: list[str], where: dict[str, Any] | None = None) -> dict:
        """`collection.get` over any number of records, a page at a time: one call for 100k
        chunks fails inside Chroma ("too many SQL variables")."""
        out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
        page = max(1, min(self.client.get_max_batch_size(), self.PAGE))
        offset = 0
        with self._reading(vectors="embeddings" in include):
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
        with store_write(settings):
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
    with store_write(settings):
        _purge(sqlite3.connect(str(path), timeout=60, isolation_level=None), scope)


def _purge(db, scope: str) -> None:
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
