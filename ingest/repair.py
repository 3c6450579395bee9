"""Putting the data dir right after damage: a manifest rebuilt from the index, and the plan
for rebuilding a damaged index from the documents the manifest (or the index) lists.

Nothing here deletes what it replaces: a damaged file is kept beside as `<name>.damaged-<time>`,
so a user (or support) can still look at it or restore it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.core.store import Store
from ingest.manifest import Manifest, ManifestDamaged, Row

SIDECARS = ("", "-wal", "-shm", "-journal")
REDACTED = "[REDACTED]"


def keep_aside(path: Path, why: str = "damaged") -> Path:
    """Move `path` (and SQLite's side files) to `<path>.<why>-<time>`; returns the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    for suffix in SIDECARS:
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{target}{suffix}"))
    return target


def rows_from_store(store: Store) -> list[Row]:
    """One indexed row per document of the store, from its chunks' metadata. Size and mtime
    are unknown (-1): the next run compares each file's content hash, finds it unchanged and
    records them, without parsing or embedding anything."""
    res = store._get_all(["metadatas", "documents"])
    docs: dict[str, dict] = {}
    chunks: dict[str, int] = defaultdict(int)
    redactions: dict[str, int] = defaultdict(int)
    for meta, text in zip(res["metadatas"], res["documents"], strict=True):
        doc_id = str(meta.get("doc_id"))
        docs.setdefault(doc_id, meta)
        chunks[doc_id] += 1
        redactions[doc_id] += (text or "").count(REDACTED)
    return [
        Row(
            root=str(meta.get("root") or ""),
            source=str(meta.get("source") or ""),
            scope=str(meta.get("scope") or PLAYBOOK_SCOPE),
            doc_id=doc_id,
            sha256=str(meta.get("sha256") or ""),
            size=-1,
            mtime_ns=-1,
            chunks=chunks[doc_id],
            status="indexed",
            file_type=str(meta.get("file_type") or ""),
            redactions=redactions[doc_id],
        )
        for doc_id, meta in docs.items()
        if meta.get("root") and meta.get("source")
    ]


def rebuild_manifest(settings: Settings, store: Store, damaged: ManifestDamaged) -> str:
    """Keep the damaged manifest aside and write a new one from the index; returns the note
    for the run's report."""
    from ingest.pipeline import RULES

    kept = keep_aside(damaged.path)
    rows = rows_from_store(store)
    with Manifest(damaged.path) as manifest:
        manifest.put_many(rows)
        manifest.set_meta("store", store.identity())
        manifest.set_meta("rules", RULES)
    return (
        f"the ingest manifest {damaged.path} could not be used ({damaged.problem}): it was kept "
        f"as {kept.name} and rebuilt from the index ({len(rows)} documents); nothing indexed "
        "was lost"
    )


@dataclass
class Plan:
    """What to ingest again to rebuild the index: per scope, folders and single files."""

    folders: dict[str, set[Path]] = field(default_factory=lambda: defaultdict(set))
    files: dict[str, set[Path]] = field(default_factory=lambda: defaultdict(set))
    missing: set[Path] = field(default_factory=set)
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.folders or self.files)

    def add(self, root: str, source: str, scope: str) -> None:
        folder = Path(root)
        if "/" in source:  # it came from a folder's walk: ingest the folder again
            if folder.is_dir():
                self.folders[scope].add(folder)
            else:
                self.missing.add(folder)
            return
        path = folder / source
        if path.is_file():
            self.files[scope].add(path)
        else:
            self.missing.add(path)

    def batches(self) -> list[tuple[str, list[Path]]]:
        """(scope, paths) to ingest; files under a folder of the same scope go with it."""
        out = []
        for scope in sorted(set(self.folders) | set(self.files)):
            folders = sorted(self.folders.get(scope, ()))
            files = sorted(
                p
                for p in self.files.get(scope, ())
                if not any(p.is_relative_to(f) for f in folders)
            )
            out.append((scope, [*folders, *files]))
        return out


def plan_rebuild(settings: Settings) -> Plan:
    """What was indexed, from the manifest, or else from the index's own table of chunk
    metadata (read with SQLite directly: Chroma may be unable to open it)."""
    plan = Plan()
    try:
        with Manifest(settings.manifest_path, read_only=True) as manifest:
            rows = [r for r in manifest.rows().values() if r.status in ("indexed", "pending")]
        for row in rows:
            plan.add(row.root, row.source, row.scope)
        plan.source = f"the ingest manifest {settings.manifest_path}"
    except ManifestDamaged:
        pass
    if plan:
        return plan
    for root, source, scope in _sources_in_chroma_sqlite(settings.chroma_path / "chroma.sqlite3"):
        plan.add(root, source, scope)
    plan.source = "the index's own metadata"
    return plan


def _sources_in_chroma_sqlite(path: Path) -> list[tuple[str, str, str]]:
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = db.execute(
                "SELECT id, key, string_value FROM embedding_metadata "
                "WHERE key IN ('root', 'source', 'scope')"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
    by_id: dict[int, dict[str, str]] = defaultdict(dict)
    for id_, key, value in rows:
        by_id[id_][key] = value
    found = {
        (m["root"], m["source"], m.get("scope") or PLAYBOOK_SCOPE)
        for m in by_id.values()
        if m.get("root") and m.get("source")
    }
    return sorted(found)


# -- what a killed process left ------------------------------------------------------------------

UPLOAD_JOURNAL = ".journal"
UPLOAD_TEMP = ".upload-"


def reconcile(settings: Settings, store: Store) -> dict[str, int]:
    """Finish what killed processes left, under the ingest lock (skipped, returning {}, while a
    live ingest or upload holds it: that one finishes its own work):

    - documents half-written by a killed ingest or upload (pending in the manifest) leave the
      index, and their scopes' caches are rebuilt (as are those of a run killed before it
      published its changes): the next ingest of their folder indexes them whole;
    - files an upload had saved but not indexed when it was killed are removed, with the
      temporary files of half-written saves: no unlisted copy of a document stays on disk;
    - BM25 caches half-saved by a killed answer are removed.
    """
    from ingest.lock import if_free
    from ingest.pipeline import _Run
    from ingest.shared import ChromaManifest

    with if_free(settings.data_dir) as free:
        if not free:
            return {}
        done = {"documents": 0, "uploads": 0, "temporary": 0}
        rows: dict | None = None
        if settings.chroma_host:
            rows = ChromaManifest(store.client, settings.manifest_collection).rows()
        elif settings.manifest_path.exists():
            try:
                with Manifest(settings.manifest_path) as manifest:
                    run = _Run(settings, store, manifest, None, None, None)
                    run.recover()  # drops pending documents; the files are not redone here
                    run.publish()
                    done["documents"] = run.report.recovered
                    rows = manifest.rows()
            except ManifestDamaged:
                rows = None  # the next ingest repairs the manifest; uploads are kept till then
        uploads = settings.data_dir.resolve() / "uploads"
        journal = uploads / UPLOAD_JOURNAL
        if journal.exists() and rows is not None:
            for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
                path = Path(line.strip())
                if not line.strip() or not path.is_relative_to(uploads):
                    continue
                row = rows.get((str(path.parent), path.name))
                if (row is None or row.status != "indexed") and path.is_file():
                    path.unlink()
                    done["uploads"] += 1
            journal.unlink()
        if uploads.is_dir():
            for temp in uploads.rglob(f"{UPLOAD_TEMP}*"):
                temp.unlink(missing_ok=True)
                done["temporary"] += 1
        lexical = settings.data_dir / "lexical"
        if lexical.is_dir():
            import shutil

            for temp in lexical.glob("*.tmp*"):
                if not _alive(temp.name.rpartition(".tmp-")[2]):
                    shutil.rmtree(temp, ignore_errors=True)
                    done["temporary"] += 1
        return done


def _alive(pid: str) -> bool:
    """Whether the process that wrote a temporary copy still runs (it may finish it)."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
