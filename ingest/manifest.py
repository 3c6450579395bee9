"""The SQLite manifest: what was indexed from which file, so re-runs skip unchanged work."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from advisor.core.damage import access_fix, sqlite_error_problem, sqlite_problem
from advisor.core.errors import IngestError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    root TEXT NOT NULL,
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    file_type TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL,
    redactions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (root, source)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# "pending" is written before the store is touched and replaced when the file is done, so a
# pending row after a crash names exactly the documents that may be half-written.
PENDING = "pending"


@dataclass
class Row:
    """One file as last seen by ingest."""

    root: str
    source: str
    scope: str
    doc_id: str
    sha256: str
    size: int
    mtime_ns: int
    chunks: int
    status: str  # pending | indexed | failed | skipped
    reason: str = ""
    file_type: str = ""
    updated_at: float = 0.0
    redactions: int = 0  # secrets replaced by [REDACTED] in this file's chunks

    @property
    def key(self) -> tuple[str, str]:
        return (self.root, self.source)


_COLUMNS = ", ".join(f.name for f in fields(Row))
_REQUIRED = {f.name for f in fields(Row)} - {"redactions"}  # added later by ALTER TABLE


class ManifestDamaged(IngestError):
    """The manifest file cannot be used; `repairable` when it can be rebuilt from the index
    (damaged, empty, foreign), not when only its permissions or its disk are at fault."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.repairable = not problem.startswith(
            ("it is read-only", "it cannot be read", "it cannot be opened")
        )
        if self.repairable:
            fix = (
                "the next `cto-advisor ingest` keeps it beside as a .damaged copy and rebuilds "
                "it from the index (nothing indexed is lost)"
            )
        else:
            fix = access_fix(self.path)
        super().__init__(f"the ingest manifest {self.path} cannot be used: {problem}: {fix}")


_PLACEHOLDERS = ", ".join("?" for _ in fields(Row))


class Manifest:
    """Rows keyed by (root, source); every write commits at once (crash safety needs that)."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        """Open (or create) the manifest; a damaged one raises ManifestDamaged, never a
        traceback, and is never silently replaced by an empty one."""
        path = Path(path)
        self.path = path
        problem = sqlite_problem(path, write=not read_only)
        if problem:
            raise ManifestDamaged(path, problem)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if read_only:
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            else:
                self._refuse_foreign(path)
                self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(_SCHEMA)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(files)")}
            if _REQUIRED - columns:
                self.db.close()
                missing = ", ".join(sorted(_REQUIRED - columns))
                raise ManifestDamaged(path, f"it has another layout (no column {missing})")
            if "redactions" not in columns and not read_only:  # written before redaction
                self.db.execute(
                    "ALTER TABLE files ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0"
                )
        except sqlite3.Error as exc:
            raise ManifestDamaged(path, sqlite_error_problem(exc) or f"it failed ({exc})") from exc

    @staticmethod
    def _refuse_foreign(path: Path) -> None:
        """Another program's SQLite file is never written into: tables but no `files`."""
        if not path.exists():
            return
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            db.close()
        if tables and "files" not in tables:
            names = ", ".join(sorted(tables)[:5])
            raise ManifestDamaged(path, f"it is another program's database (tables {names})")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads --------------------------------------------------------------------------------

    def rows(self) -> dict[tuple[str, str], Row]:
        """Every row, keyed by (root, source)."""
        cur = self.db.execute(f"SELECT {_COLUMNS} FROM files")
        return {(r[0], r[1]): Row(*r) for r in cur}

    def pending(self) -> list[Row]:
        cur = self.db.execute(f"SELECT {_COLUMNS} FROM files WHERE status = ?", (PENDING,))
        return [Row(*r) for r in cur]

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- writes -------------------------------------------------------------------------------

    def put(self, row: Row) -> None:
        """Insert or replace a row."""
        row.updated_at = time.time()
        self.db.execute(
            f"INSERT OR REPLACE INTO files ({_COLUMNS}) VALUES ({_PLACEHOLDERS})", astuple(row)
        )

    def put_many(self, rows: list[Row]) -> None:
        """Insert or replace rows in one transaction."""
        now = time.time()
        for row in rows:
            row.updated_at = now
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                f"INSERT OR REPLACE INTO files ({_COLUMNS}) VALUES ({_PLACEHOLDERS})",
                [astuple(r) for r in rows],
            )

    def touch(self, key: tuple[str, str], mtime_ns: int, size: int) -> None:
        """Record a new mtime (and size) for content that did not change."""
        self.db.execute(
            "UPDATE files SET mtime_ns = ?, size = ?, updated_at = ? WHERE root = ? AND source = ?",
            (mtime_ns, size, time.time(), *key),
        )

    def delete(self, key: tuple[str, str]) -> None:
        self.db.execute("DELETE FROM files WHERE root = ? AND source = ?", key)

    def invalidate(self) -> None:
        """Make every file look changed, so the next run parses it again (rows stay)."""
        self.db.execute("UPDATE files SET sha256 = '', mtime_ns = -1")

    def delete_scope(self, scope: str) -> list[str]:
        """Forget every file of one scope; returns their doc ids."""
        ids = [r[0] for r in self.db.execute("SELECT doc_id FROM files WHERE scope = ?", (scope,))]
        self.db.execute("DELETE FROM files WHERE scope = ?", (scope,))
        return ids

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        """Forget every file (the store they described is gone)."""
        self.db.execute("DELETE FROM files")
