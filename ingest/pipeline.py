"""The ingest run: discover, skip what is unchanged, parse in parallel, embed in batches, store."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from advisor.core.clients import client_name
from advisor.core.models import Chunk
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.core.store import EVERY_SCOPE, Store
from ingest.files import Target, check_size, credential_name, discover, sniff
from ingest.lock import exclusive
from ingest.manifest import PENDING, Manifest, ManifestDamaged, Row
from ingest.repair import rebuild_manifest
from ingest.report import FileResult, IngestReport
from ingest.sandbox import ParsePool
from ingest.shared import ChromaManifest, IngestLease
from ingest.worker import ParseOutcome

# Chunks embedded together: big enough for efficient batches, small enough to commit often.
FLUSH_CHUNKS = 128

Progress = Callable[[int, int, str], None]
# The rules a file is read under (what is skipped, redacted, capped). When they change, every
# file is parsed again once, so nothing indexed under older rules (an unredacted key) stays.
RULES = "2026-12 credentials, redaction (API tokens too), chunk caps"
# Manifest meta: the scopes a run changed and has not yet published (bumped), as JSON.
UNPUBLISHED = "unpublished scopes"


def scope_for(client: str | None) -> str:
    """The scope stored on chunks: "playbook" without a client, else the validated client name."""
    return PLAYBOOK_SCOPE if client is None else client_name(client)


def parse_processes(settings: Settings) -> int:
    """Parser processes to use: `parse_workers`, leaving two cores to the embedding model.

    Parser processes next to torch slowed embedding far more than parallel parsing saved:
    dev corpus on 2 cores, 103 s with 2 workers vs 67 s parsing in-process (naive: 80 s).
    """
    return max(1, min(settings.parse_workers, (os.cpu_count() or 1) - 2))


def doc_id_for(root: str, source: str) -> str:
    """Stable id of a document: the same (folder, relative path) always maps to the same id."""
    return hashlib.sha1(f"{root}\n{source}".encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Work:
    target: Target
    scope: str
    kind: str
    sha256: str
    size: int
    mtime_ns: int
    mtime: float
    started: float


@dataclass
class _Ready:
    work: _Work
    outcome: ParseOutcome
    chunks: list[Chunk]


class _Embedder:
    """Resolves an embeddings object or a zero-arg factory only when something needs embedding."""

    def __init__(self, embeddings) -> None:
        self._source = embeddings
        self._model = embeddings if hasattr(embeddings, "embed_documents") else None
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None

    def warm_up(self) -> None:
        """Start loading the model in the background (it overlaps with parser start-up)."""
        if self._model is None and self._loader is None:
            self._loader = threading.Thread(target=self._resolve, daemon=True)
            self._loader.start()

    def _resolve(self):
        with self._lock:
            if self._model is None:
                self._model = self._source()
            return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self._resolve().embed_documents(texts)


class _Run:
    def __init__(self, settings, store, manifest, embeddings, progress, on_file) -> None:
        self.settings = settings
        self.store = store
        self.manifest = manifest
        self.embedder = _Embedder(embeddings)
        self.progress = progress
        self.on_file = on_file
        self.report = IngestReport()
        self.changed: set[str] = set()  # scopes whose chunks this run changed
        self.done = 0
        self.total = 0
        self.rows: dict[tuple[str, str], Row] = {}

    # -- bookkeeping --------------------------------------------------------------------------

    def emit(self, result: FileResult) -> None:
        self.report.add(result)
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, result.source)
        if self.on_file is not None:
            self.on_file(result)

    def check_store(self) -> None:
        """Forget the manifest if it describes another store, or a store that was emptied."""
        identity = self.store.identity()
        rows = self.manifest.rows()
        indexed = any(r.status == "indexed" and r.chunks for r in rows.values())
        if self.manifest.get_meta("store") != identity or (indexed and self.store.count() == 0):
            self.manifest.clear()
            self.manifest.set_meta("store", identity)

    def drop(self, row: Row) -> None:
        """Remove a document's chunks and its manifest row, crash-safely."""
        row.status = PENDING
        self.manifest.put(row)
        self.changing([row.scope])
        self.store.delete_docs([row.doc_id])
        self.manifest.delete(row.key)

    def changing(self, scopes: Iterable[str]) -> None:
        """Journal the scopes about to change before their chunks do: a run killed before it
        bumps the store's generation leaves them in the manifest, and the next run bumps them,
        so no reader keeps answering from caches of what is no longer there."""
        new = set(scopes) - self.changed
        if new:
            self.changed |= new
            self.manifest.set_meta(UNPUBLISHED, json.dumps(sorted(self.changed)))

    def publish(self) -> None:
        """Bump the generation of every changed scope (derived indexes rebuild), then clear
        the journal of them."""
        if self.changed:
            self.store.bump_generation(sorted(self.changed))
            self.manifest.set_meta(UNPUBLISHED, "[]")

    def recover(self) -> list[tuple[Target, str]]:
        """Clean up documents a killed run left half-written; return the files to redo."""
        try:
            self.changed |= set(json.loads(self.manifest.get_meta(UNPUBLISHED) or "[]"))
        except ValueError:
            self.changed.add(EVERY_SCOPE)  # unreadable: every scope's caches rebuild
        redo = []
        for row in self.manifest.pending():
            self.drop(row)
            self.report.recovered += 1
            path = Path(row.root) / row.source
            if path.is_file():
                redo.append((Target(path, Path(row.root), row.source), row.scope))
        return redo

    # -- the run ------------------------------------------------------------------------------

    def run(self, paths: Iterable, scope: str) -> IngestReport:
        started = time.perf_counter()
        walk = discover(paths, data_dir=self.settings.data_dir)
        self.check_store()
        if self.manifest.get_meta("rules") != RULES:
            # New ingest rules (credential skips, redaction, caps): every file is read again.
            self.manifest.invalidate()
            self.manifest.set_meta("rules", RULES)
        items = [(t, scope) for t in walk.targets]
        seen = {(str(t.root), t.source) for t in walk.targets}
        seen |= {(str(t.root), t.source) for t, _ in walk.skipped}
        items += [(t, s) for t, s in self.recover() if (str(t.root), t.source) not in seen]
        rows = self.rows = self.manifest.rows()
        unseen = [(str(t.root), t.source) for t, _ in walk.unreadable]

        def gone(key: tuple[str, str]) -> bool:
            # A file in a folder that could not be listed is unseen, not deleted: keep it.
            return key not in seen and not any(
                key[0] == root and (key[1] == unread or _is_folder(unread, key[1]))
                for root, unread in unseen
            )

        removed = [
            row
            for folder in map(str, walk.folders)
            for key, row in rows.items()
            if key[0] == folder and gone(key) and row.status != PENDING
        ]
        self.total = len(items) + len(removed) + len(walk.skipped) + len(walk.unreadable)
        if self.progress is not None:
            self.progress(0, self.total, "")

        try:
            for target, reason in walk.unreadable:
                self.emit(
                    FileResult(str(target.path), target.source or "./", scope, "failed", reason)
                )
            for target, reason in walk.skipped:
                row = rows.get((str(target.root), target.source))
                reason = self._forget(row, reason)
                self.emit(FileResult(str(target.path), target.source, scope, "skipped", reason))
            for row in removed:
                self.remove(row)
            work = [w for w in (self.classify_safely(t, s, rows) for t, s in items) if w]
            self.process(work)
        finally:
            # Even an interrupted run may have changed the store: derived indexes must rebuild.
            self.publish()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def remove(self, row: Row) -> None:
        """A file that left its folder: its chunks go too."""
        t0 = time.perf_counter()
        self.drop(row)
        path = str(Path(row.root) / row.source)
        self.emit(
            FileResult(
                path,
                row.source,
                row.scope,
                "removed",
                "no longer in the folder",
                seconds=time.perf_counter() - t0,
            )
        )

    def classify_safely(self, target: Target, scope: str, rows: dict) -> _Work | None:
        try:
            return self.classify(target, scope, rows)
        except OSError as exc:  # vanished since the walk, unreadable, permission denied
            reason = (
                f"cannot read the file ({exc.strerror or exc}): check it exists and is readable"
            )
            self.emit(FileResult(str(target.path), target.source, scope, "failed", reason))
            return None

    def classify(self, target: Target, scope: str, rows: dict) -> _Work | None:
        """Settle unchanged, oversize and unreadable files; return the rest as parse work."""
        t0 = time.perf_counter()
        key = (str(target.root), target.source)
        row = rows.get(key)
        stat = target.path.stat()

        def settle(status, reason="", chunks=0) -> None:
            self.emit(
                FileResult(
                    str(target.path),
                    target.source,
                    scope,
                    status,
                    reason,
                    chunks,
                    time.perf_counter() - t0,
                )
            )

        refused = credential_name(target.path) or check_size(
            target.path, stat.st_size, self.settings.max_file_mb
        )
        if refused:
            settle("skipped", self._forget(row, refused))
            return None
        same_scope = row is not None and row.scope == scope and row.status != PENDING
        # Fast path: same size and mtime means same content; nothing is read.
        if same_scope and row.size == stat.st_size and row.mtime_ns == stat.st_mtime_ns:
            settle(*self._cached(row))
            return None
        sha = file_sha256(target.path)
        if same_scope and row.sha256 == sha:
            self.manifest.touch(key, stat.st_mtime_ns, stat.st_size)
            settle(*self._cached(row))
            return None
        sniffed = sniff(target.path, self.settings.max_uncompressed_mb)
        if sniffed.kind is None:
            status = "skipped" if sniffed.skip else "failed"
            reason = self._forget(row, sniffed.skip or sniffed.fail or "unreadable")
            self._remember(target, scope, sha, stat, status, reason)
            settle(status, reason)
            return None
        return _Work(
            target, scope, sniffed.kind, sha, stat.st_size, stat.st_mtime_ns, stat.st_mtime, t0
        )

    @staticmethod
    def _cached(row: Row) -> tuple[str, str, int]:
        if row.status == "indexed":
            return "unchanged", "", row.chunks
        return row.status, f"{row.reason} (unchanged since the last run)", 0

    def _forget(self, row: Row | None, reason: str) -> str:
        """Drop a previously indexed version of a file that can no longer be read."""
        if row is None or row.status != "indexed":
            if row is not None:
                self.manifest.delete(row.key)
            return reason
        self.drop(row)
        return f"{reason}; its previous version was removed from the index"

    def _remember(self, target: Target, scope: str, sha: str, stat, status: str, reason: str):
        # Failures are remembered by content, so an unchanged bad file is not parsed every run.
        root = str(target.root)
        self.manifest.put(
            Row(
                root,
                target.source,
                scope,
                doc_id_for(root, target.source),
                sha,
                stat.st_size,
                stat.st_mtime_ns,
                0,
                status,
                reason,
            )
        )

    # -- parsing and embedding ------------------------------------------------------------------

    def process(self, work: list[_Work]) -> None:
        budget = self.settings.chunk_tokens
        model = self.store.embedding_model
        batch: list[_Ready] = []
        for item, outcome in self._parsed(work, model, budget):
            self.report.parsed += 1
            self.report.stage_seconds["parse+chunk"] += outcome.seconds
            if outcome.error or not outcome.drafts:
                reason = outcome.error or "no text found (scanned or image-only?)"
                status = "failed" if outcome.error else "skipped"
                reason = self._forget(self._row(item), reason)
                self._remember(item.target, item.scope, item.sha256, _Stat(item), status, reason)
                self.emit(
                    FileResult(
                        str(item.target.path),
                        item.target.source,
                        item.scope,
                        status,
                        reason,
                        seconds=time.perf_counter() - item.started,
                    )
                )
                continue
            batch.append(_Ready(item, outcome, self._chunks(item, outcome)))
            if sum(len(r.chunks) for r in batch) >= FLUSH_CHUNKS:
                self.flush(batch)
                batch = []
        if batch:
            self.flush(batch)

    def _row(self, item: _Work) -> Row | None:
        return self.rows.get((str(item.target.root), item.target.source))

    def _parsed(self, work: list[_Work], model: str, budget: int) -> Iterator[tuple]:
        """(work, outcome) pairs as parses finish; every parse runs sandboxed (ingest/sandbox)."""
        if not work:
            return
        self.embedder.warm_up()
        settings = self.settings
        workers = min(parse_processes(settings), len(work))
        # Largest files first, so one big file does not finish alone at the end.
        queue = sorted(work, key=lambda w: -w.size)
        jobs = [
            (w, (str(w.target.path), w.kind, model, budget, settings.chunk_max_chars))
            for w in queue
        ]
        kinds = {w.kind for w in work}
        with ParsePool(workers, settings.parse_timeout, settings.parse_memory_mb, kinds) as pool:
            yield from pool.run(jobs)

    def _chunks(self, item: _Work, outcome: ParseOutcome) -> list[Chunk]:
        root = str(item.target.root)
        doc_id = doc_id_for(root, item.target.source)
        slides = outcome.paging == "slide"
        return [
            Chunk(
                id=f"{doc_id}:{i}",
                text=d.text,
                source=item.target.source,
                root=root,
                doc_id=doc_id,
                title=outcome.title,
                section=d.section,
                page=None if slides else d.page,
                slide=d.page if slides else None,
                scope=item.scope,
                sha256=item.sha256,
                chunk_index=i,
                mtime=item.mtime,
                file_type=item.kind,
            )
            for i, d in enumerate(outcome.drafts)
        ]

    def flush(self, batch: list[_Ready]) -> None:
        """Embed a batch, then replace those documents in the store between pending and done."""
        chunks = [c for r in batch for c in r.chunks]
        # Embed before touching anything: a failing embedding endpoint leaves the index as it was.
        t0 = time.perf_counter()
        vectors = self.embedder.embed([c.context_text() for c in chunks])
        t1 = time.perf_counter()
        self.report.stage_seconds["embed"] += t1 - t0
        rows = [
            Row(
                str(r.work.target.root),
                r.work.target.source,
                r.work.scope,
                r.chunks[0].doc_id,
                r.work.sha256,
                r.work.size,
                r.work.mtime_ns,
                len(r.chunks),
                PENDING,
                "",
                r.work.kind,
            )
            for r in batch
        ]
        existing = [r.chunks[0].doc_id for r in batch if self._row(r.work) is not None]
        self.manifest.put_many(rows)
        self.changing(r.work.scope for r in batch)
        self.store.replace_docs(chunks, vectors, existing)
        self.report.stage_seconds["write"] += time.perf_counter() - t1
        for row, ready in zip(rows, batch, strict=True):
            row.status = "indexed"
            row.reason = "; ".join(ready.outcome.notes)
            row.redactions = ready.outcome.redactions
        self.manifest.put_many(rows)
        self.report.embedded += len(chunks)
        for row, ready in zip(rows, batch, strict=True):
            item = ready.work
            self.emit(
                FileResult(
                    str(item.target.path),
                    item.target.source,
                    item.scope,
                    "indexed",
                    row.reason,
                    len(ready.chunks),
                    time.perf_counter() - item.started,
                    row.redactions,
                )
            )


def _is_folder(prefix: str, source: str) -> bool:
    """Whether `prefix` names a folder ("" is the root, "a/b/" a subfolder) holding `source`."""
    return (prefix == "" or prefix.endswith("/")) and source.startswith(prefix)


@dataclass
class _Stat:
    """The stat fields `_remember` needs, rebuilt from parse work."""

    st_size: int
    st_mtime_ns: int

    def __init__(self, item: _Work) -> None:
        self.st_size = item.size
        self.st_mtime_ns = item.mtime_ns


def ingest_paths(
    paths,
    *,
    client: str | None,
    settings: Settings,
    embeddings,
    store: Store,
    progress: Progress | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Index files and folders into `store`; unchanged files are neither parsed nor embedded.

    `embeddings` is an Embeddings object or a zero-arg callable returning one (called only if
    something needs embedding). `progress(done, total, source)` and `on_file(FileResult)` are
    called as each file is settled.
    """
    scope = scope_for(client)
    if isinstance(paths, str | os.PathLike):
        paths = [paths]

    def waiting(holder: str) -> None:
        if progress is not None:
            progress(0, 0, f"waiting for another ingest ({holder}) to finish")

    if settings.chroma_host:
        # Shared by every process on every machine: see ingest/shared.py for why and how.
        shared = ChromaManifest(store.client, settings.manifest_collection)
        with shared, IngestLease(shared):
            return _Run(settings, store, shared, embeddings, progress, on_file).run(paths, scope)
    with exclusive(settings.data_dir, settings.ingest_lock_wait, waiting):
        notes = []
        try:
            manifest = Manifest(settings.manifest_path)
        except ManifestDamaged as exc:
            if not exc.repairable:
                raise
            notes.append(rebuild_manifest(settings, store, exc))
            manifest = Manifest(settings.manifest_path)
        with manifest:
            run = _Run(settings, store, manifest, embeddings, progress, on_file)
            run.report.notes.extend(notes)
            try:
                return run.run(paths, scope)
            except sqlite3.Error as exc:  # the manifest, mid-run: a full disk, or damage
                raise _manifest_failure(settings, exc) from exc


@contextmanager
def journalled(settings: Settings, store: Store, scopes: Iterable[str]) -> Iterator[None]:
    """A write made outside an ingest run (a repository's documents), journalled like one: its
    scopes are recorded as unpublished in the manifest before their chunks change and bumped
    after, so a writer killed in between is published by the next process. The caller holds
    the writer lock (`writer_lock`)."""
    try:
        manifest = (
            ChromaManifest(store.client, settings.manifest_collection)
            if settings.chroma_host
            else Manifest(settings.manifest_path)
        )
    except ManifestDamaged:  # the next document ingest repairs it: bump, without a journal
        manifest = None
    if manifest is None:
        yield
        store.bump_generation(sorted(set(scopes)))
        return
    with manifest:
        run = _Run(settings, store, manifest, None, None, None)
        run.changing(scopes)
        yield
        run.publish()


@contextmanager
def writer_lock(settings: Settings, store: Store) -> Iterator[None]:
    """The lock every writer of the index holds, as a document ingest takes it: the data dir's
    ingest lock, and with a Chroma server the lease every machine shares."""
    with exclusive(settings.data_dir, settings.ingest_lock_wait):
        if not settings.chroma_host:
            yield
            return
        shared = ChromaManifest(store.client, settings.manifest_collection)
        with shared, IngestLease(shared):
            yield


def _manifest_failure(settings: Settings, exc: sqlite3.Error) -> Exception:
    from advisor.core.damage import sqlite_error_problem
    from advisor.core.store import FULL, disk_full

    if any(words in str(exc).lower() for words in FULL):
        return disk_full(settings)
    problem = sqlite_error_problem(exc) or f"it failed ({exc})"
    return ManifestDamaged(settings.manifest_path, problem)
