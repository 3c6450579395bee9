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
- text and metadata reads need no lock: every client reads them from the tables as they are;
  a long one (a whole scope, a page at a time) is done again if a write was counted meanwhile,
  so it never holds the lock against this process's own fresh client.

A Chroma server (`chroma run`) is one process that every client talks to: no lock is needed.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.core.damage import access_fix, hnsw_problem, sqlite_error_problem, sqlite_problem
from advisor.core.errors import AdvisorError, EmbeddingMismatchError, StoreError
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


def _parse_count(text: str) -> tuple[int, int]:
    """(epoch, writes) from what the store lock says; garbage reads as (0, 0). The epoch moves
    when the index files are replaced (`rebuild`): every process then opens them again, even
    for reads that need no lock."""
    parts = text.split()
    try:
        return (int(parts[0]), int(parts[1])) if len(parts) == 2 else (0, int(parts[0]))
    except (ValueError, IndexError):
        return 0, 0


def _next_count(text: str, epoch: bool = False) -> str:
    """What the store lock says after one more write (in a new epoch if `epoch`)."""
    current, writes = _parse_count(text)
    return f"{current + epoch} {writes + 1}"


def _epoch(text: str | None) -> int:
    return _parse_count(text or "")[0]


# Chroma's own tables: a chroma.sqlite3 without them is another program's database.
CHROMA_TABLES = ("collections", "segments", "embeddings", "embedding_metadata", "max_seq_id")
FULL = ("database or disk is full", "no space left on device")


def rebuild_fix(settings: Settings) -> str:
    return (
        f"restore the folder {settings.chroma_path} from a backup, or rebuild the index from "
        "your documents with `cto-advisor rebuild --yes` (it keeps the damaged folder beside "
        "it and indexes again every folder the ingest manifest lists)"
    )


def index_damage(settings: Settings, problem: str, path: Path | None = None) -> StoreError:
    """The message for a damaged or unusable index file: which file, what is wrong, the fix."""
    path = path or settings.chroma_path / "chroma.sqlite3"
    if problem.startswith(("it is read-only", "it cannot be read", "it cannot be opened")):
        # Chroma writes even to answer (it records what it has read): read-only is not enough.
        fix = access_fix(path)
    else:
        fix = rebuild_fix(settings)
    return StoreError(
        f"the index file {path} cannot be used: {problem}. Nothing was changed: {fix}"
    )


def disk_full(settings: Settings) -> StoreError:
    import shutil

    try:
        free = f" ({shutil.disk_usage(settings.data_dir).free / 2**20:.0f} MB free)"
    except OSError:
        free = ""
    return StoreError(
        f"the disk holding {settings.data_dir} is full{free}: free some space, then run the "
        "same command again (what was indexed before is kept, and the ingest resumes)"
    )


def check_index_files(settings: Settings) -> None:
    """Refuse, with the file and the fix, an embedded index Chroma would fail on or, worse,
    silently take as a new empty one (a zero-byte or foreign chroma.sqlite3)."""
    problem = sqlite_problem(settings.chroma_path / "chroma.sqlite3", CHROMA_TABLES)
    if problem:
        raise index_damage(settings, problem)
    if settings.chroma_path.is_dir():
        for folder in sorted(p for p in settings.chroma_path.iterdir() if p.is_dir()):
            found = hnsw_problem(folder)
            if found:
                raise index_damage(settings, found[1], found[0])


def translate(settings: Settings, exc: BaseException) -> StoreError:
    """A Chroma or SQLite failure as a StoreError that names the damaged file and the fix."""
    text = str(exc)
    if any(words in text.lower() for words in FULL):
        return disk_full(settings)
    if settings.chroma_host:
        return StoreError(
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port} failed "
            f"({type(exc).__name__}: {text[:300]}): check that it is running and see its log"
        )
    sqlite_file = settings.chroma_path / "chroma.sqlite3"
    problem = sqlite_problem(sqlite_file, CHROMA_TABLES)
    if problem:
        return index_damage(settings, problem)
    folders = sorted(p for p in settings.chroma_path.iterdir() if p.is_dir())
    for folder in folders:
        found = hnsw_problem(folder)
        if found:
            return index_damage(settings, found[1], found[0])
    if any(w in text.lower() for w in ("hnsw", "pickle", "getting embedding", "finding id")):
        where = ", ".join(str(p) for p in folders) or str(settings.chroma_path)
        return index_damage(settings, f"its vectors cannot be loaded ({text[:200]})", Path(where))
    problem = sqlite_error_problem(exc)
    if problem:
        return index_damage(settings, problem)
    if isinstance(exc, OSError):
        return index_damage(
            settings,
            f"it cannot be used ({exc.strerror or exc})",
            Path(exc.filename or settings.chroma_path),
        )
    return StoreError(
        f"the index in {settings.chroma_path} failed ({type(exc).__name__}: {text[:300]}): "
        f"try again; if it keeps failing, {rebuild_fix(settings)}"
    )


def _store_errors() -> tuple[type[BaseException], ...]:
    from chromadb.errors import ChromaError

    return (ChromaError, sqlite3.Error, OSError)


def guarded(method):
    """Chroma and SQLite failures of a Store method become StoreErrors with the fix."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except AdvisorError:
            raise
        except _store_errors() as exc:
            raise translate(self.settings, exc) from exc

    return wrapper


class _Embedded:
    """This process's client of one embedded store (every Store on that path shares it), and
    the write count of `store.lock` up to which it has seen every write."""

    def __init__(self, settings: Settings, path: Path, lock: Path) -> None:
        self.settings = settings
        self.path = path
        self.lock = lock
        self.client = None
        self.seen: str | None = None
        self.reopened = 0  # fresh clients opened because another process wrote

    def open(self) -> None:
        if self.client is None:
            with flocked(self.lock) as fd:
                if self.client is None:
                    self.client = self._client()
                    self.seen = read_text(fd)

    def check_epoch(self) -> None:
        """Open the index again if it was replaced since this client opened it (a cheap read
        of the lock file, done before every search)."""
        try:
            text = self.lock.read_text()
        except OSError:
            return  # the lock is checked, with its fix, by the next locked read or write
        if self.client is not None and _epoch(text) != _epoch(self.seen):
            with flocked(self.lock) as fd:
                current = read_text(fd)
                if _epoch(current) != _epoch(self.seen):
                    self.reopen(current, self.settings.collection)

    def _client(self):
        check_index_files(self.settings)
        try:
            return _fresh_persistent_client(self.path)
        except _store_errors() as exc:
            raise translate(self.settings, exc) from exc

    def reopen(self, count: str, collection: str) -> None:
        """Under the exclusive lock: a fresh client that has seen every write up to `count`.
        Its first read replays Chroma's log into the vectors it loads (a write of Chroma's own,
        hence the lock), so that happens here, before anyone else uses the client."""
        fresh = self._client()
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
        held = _held()
        mode = held.get(self.lock, (None,))[0]
        counted = functools.partial(_count_held, self)
        if mode == "exclusive":
            yield counted
            return
        if mode == "shared":
            raise RuntimeError("a write of the store inside a read of it would deadlock")
        self.open()
        with flocked(self.lock) as fd:
            held[self.lock] = ("exclusive", fd)
            try:
                current = read_text(fd)
                if current != self.seen:
                    self.reopen(current, collection)
                yield counted
            finally:
                held.pop(self.lock, None)

    @contextmanager
    def reading(self, vectors: bool, collection: str) -> Iterator[None]:
        """Hold the store lock shared for a read that must not interleave with a write: of
        vectors (then through a client that has seen every write: a fresh one is opened first
        if another process wrote), or of a whole scope a page at a time."""
        held = _held()
        if self.lock in held:
            yield
            return
        self.open()
        while True:
            with flocked(self.lock, shared=True) as fd:
                if not vectors or read_text(fd) == self.seen:
                    held[self.lock] = ("shared", fd)
                    try:
                        yield
                    finally:
                        held.pop(self.lock, None)
                    return
            with flocked(self.lock) as fd:
                current = read_text(fd)
                if current != self.seen:
                    self.reopen(current, collection)

    def count_now(self) -> str | None:
        """The write count once no write is under way (the shared lock, held for a moment)."""
        with flocked(self.lock, shared=True) as fd:
            return read_text(fd)

    def unlocked(self, read: Callable[[], Any], collection: str, tries: int = 3) -> Any:
        """A read of text and metadata too long to hold the lock for (a whole scope or the
        whole index, a page at a time), kept consistent without holding it: it is done again
        when a write was counted meanwhile (every write counts itself before writing), and
        after `tries` such retries under the shared lock.

        Held throughout, a long read made this process's own fresh client wait for it: at 100k
        chunks the first question after another process's ingest waited 14 s for the client
        list being rebuilt in the background (that reopen needs the lock exclusively)."""
        if self.lock in _held():
            return read()
        self.open()
        for _ in range(tries):
            before = self.count_now()
            try:
                value = read()
            except Exception:
                if self.count_now() != before:
                    continue  # a write (a reset, say) came in between: read again
                raise
            if self.count_now() == before:
                return value
        with self.reading(False, collection):
            return read()


_EMBEDDED: dict[str, _Embedded] = {}
_EMBEDDED_GUARD = threading.Lock()
_HELD = threading.local()  # .locks: the store locks this thread holds -> (mode, fd)


def _held() -> dict[Path, tuple[str, int]]:
    if not hasattr(_HELD, "locks"):
        _HELD.locks = {}
    return _HELD.locks


def _count_held(shared: _Embedded) -> None:
    """Count a write in the store lock this thread holds exclusively."""
    mode, fd = _held().get(shared.lock, (None, None))
    if mode == "exclusive" and fd is not None:
        shared.seen = _next_count(read_text(fd))
        write_text(fd, shared.seen)


def _embedded(settings: Settings) -> _Embedded:
    path = settings.chroma_path.resolve()
    with _EMBEDDED_GUARD:
        return _EMBEDDED.setdefault(
            str(path), _Embedded(settings, path, settings.data_dir / STORE_LOCK)
        )


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
        if self._shared is None:
            return self._http
        if self._shared.client is None:  # the index was set aside for a rebuild
            self._shared.open()
        return self._shared.client

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

    @guarded
    def _open_or_create(self):
        """The collection, created (a counted write) if it does not exist yet."""
        from chromadb.errors import NotFoundError

        try:
            return self.client.get_collection(self.settings.collection)
        except NotFoundError:
            pass
        with self._exclusive() as counted:
            counted()
            return self._create(self.client)

    @contextmanager
    def _exclusive(self) -> Iterator[Callable[[], None]]:
        if self._shared is None:
            yield lambda: None
            return
        with self._shared.exclusive(self.settings.collection) as counted:
            yield counted

    def writing(self):
        """For a caller writing to `collection` directly (a benchmark filling a store): hold
        the store lock and count the write, as every write of this class does."""
        return self._writing()

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

    @guarded
    def _live(self):
        """The collection as it is now. Another process (`cto-advisor reset`) may have deleted
        and recreated it since this store was opened: a long-running app must read the new one
        (or an empty one), never fail on, or answer from, the old."""
        from chromadb.errors import NotFoundError

        try:
            current = self.client.get_collection(self.settings.collection)
        except NotFoundError:  # deleted (a reset) and not yet recreated
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

    @guarded
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

    @guarded
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

    @guarded
    def delete_docs(self, doc_ids: Iterable[str]) -> None:
        """Remove every chunk of these documents."""
        ids = list(doc_ids)
        with self._writing():
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
                self.collection.delete(where=where)

    @guarded
    def delete_scope(self, scope: str) -> None:
        """Remove every chunk of one scope (a client being forgotten)."""
        with self._writing():
            self.collection.delete(where={"scope": scope})

    @guarded
    def bump_generation(
        self, scopes: Iterable[str] | None = None, forgotten: Iterable[str] = ()
    ) -> int:
        """Mark the collection as changed, so derived indexes (BM25, vectors) rebuild: those of
        `scopes` only, or of every scope when they are not known. A `forgotten` scope's name
        leaves the metadata (every scope is marked changed instead)."""
        with self._writing():
            meta = dict(self._live().metadata or {})  # as it is now, not as this object last saw
            for scope in forgotten:
                meta.pop(f"generation:{scope}", None)
                scopes = None
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

    @guarded
    def versions(self) -> StoreVersion:
        """The collection's id and its per-scope generations, read once (one round trip)."""
        if self._shared is not None:
            self._shared.check_epoch()
        collection = self._live()
        return StoreVersion.from_metadata(collection.id, collection.metadata)

    @property
    def updated_at(self) -> float | None:
        return (self._live().metadata or {}).get("updated_at")

    @guarded
    def count(self) -> int:
        return self._live().count()

    @guarded
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

    @guarded
    def embeddings_of(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embedding of each of these chunks, by id (those that exist)."""
        if not ids:
            return {}
        with self._reading(vectors=True):
            res = self._live().get(ids=list(dict.fromkeys(ids)), include=["embeddings"])
        return dict(zip(res["ids"], res["embeddings"], strict=True))

    @guarded
    def _get_all(self, include: list[str], where: dict[str, Any] | None = None) -> dict:
        """`collection.get` over any number of records, a page at a time: one call for 100k
        chunks fails inside Chroma ("too many SQL variables")."""
        page = max(1, min(self.client.get_max_batch_size(), self.PAGE))

        def pages() -> dict[str, list]:
            out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
            collection = self._live()
            offset = 0
            while True:
                res = collection.get(where=where, include=include, limit=page, offset=offset)
                for key in out:
                    out[key].extend(res[key])
                if len(res["ids"]) < page:
                    return out
                offset += page

        if "embeddings" in include or self._shared is None:
            with self._reading(vectors="embeddings" in include):
                return pages()
        # Text and metadata: no lock held while reading (see `_Embedded.unlocked`).
        return self._shared.unlocked(pages, self.settings.collection)

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

    @guarded
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


def set_aside_index(settings: Settings) -> str:
    """Put the index out of the way for a rebuild, keeping it: the embedded store's folder is
    renamed `chroma.damaged-<time>` (it is never opened, since it may be what is damaged); on a
    server the collections are deleted. Every other process opens the new index at its next
    search. Returns what was done, for the user."""
    if settings.chroma_host:
        return f"deleted {delete_collection(settings)}"
    import os

    shared = _embedded(settings)
    with flocked(shared.lock) as fd:
        kept = ""
        if settings.chroma_path.exists():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            target = settings.chroma_path.with_name(f"{settings.chroma_path.name}.damaged-{stamp}")
            os.replace(settings.chroma_path, target)
            kept = f"kept the old index as {target}"
        write_text(fd, _next_count(read_text(fd), epoch=True))
        shared.client = shared.seen = None  # this process, too, opens the new index
    return kept or "there was no index folder"


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
