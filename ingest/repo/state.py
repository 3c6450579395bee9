"""The client's repository state (SQLite, in the client's repository area): every commit read so
far, what each changed, line ownership of current files, and what is indexed from each repo.

Author names and emails are personal data: they live here, inside ``repos/<client>/``, and
in that client's chunks (names only, never emails), so ``forget --client`` removes all of it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS repos (
    key TEXT PRIMARY KEY, name TEXT NOT NULL, location TEXT NOT NULL, branch TEXT NOT NULL,
    head TEXT NOT NULL DEFAULT '', collection TEXT NOT NULL DEFAULT '', updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS commits (
    repo TEXT NOT NULL, sha TEXT NOT NULL, author TEXT NOT NULL, email TEXT NOT NULL,
    time INTEGER NOT NULL, merge INTEGER NOT NULL, tests INTEGER NOT NULL,
    PRIMARY KEY (repo, sha)
);
CREATE TABLE IF NOT EXISTS changes (
    repo TEXT NOT NULL, sha TEXT NOT NULL, path TEXT NOT NULL, added INTEGER NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_repo ON changes (repo, sha);
CREATE TABLE IF NOT EXISTS renames (
    repo TEXT NOT NULL, sha TEXT NOT NULL, time INTEGER NOT NULL, old TEXT NOT NULL,
    new TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS renames_by_repo ON renames (repo, sha);
CREATE TABLE IF NOT EXISTS blame (
    repo TEXT NOT NULL, path TEXT NOT NULL, blob TEXT NOT NULL, author TEXT NOT NULL,
    lines INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS blame_by_file ON blame (repo, path, blob);
CREATE TABLE IF NOT EXISTS docs (
    repo TEXT NOT NULL, doc_id TEXT NOT NULL, digest TEXT NOT NULL, chunks INTEGER NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (repo, doc_id)
);
"""


class RepoState:
    """One SQLite file per client; every write commits (a killed run loses at most one step)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RepoState:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- repositories ---------------------------------------------------------------------

    def repo(self, key: str) -> dict | None:
        row = self.db.execute(
            "SELECT key, name, location, branch, head, collection, updated FROM repos "
            "WHERE key = ?",
            (key,),
        ).fetchone()
        names = ("key", "name", "location", "branch", "head", "collection", "updated")
        return dict(zip(names, row, strict=True)) if row else None

    def repos(self) -> list[dict]:
        keys = [r[0] for r in self.db.execute("SELECT key FROM repos ORDER BY name")]
        return [r for k in keys if (r := self.repo(k))]

    def save_repo(self, key, name, location, branch, head, collection, updated) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO repos VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, name, location, branch, head, collection, updated),
        )

    def forget_history(self, key: str) -> None:
        """Drop what was read of a repository's history (its branch was rewritten)."""
        with self.db:
            self.db.execute("BEGIN")
            for table in ("commits", "changes", "renames", "blame"):
                self.db.execute(f"DELETE FROM {table} WHERE repo = ?", (key,))

    # -- history --------------------------------------------------------------------------

    def add_commits(self, key: str, commits: list[tuple], changes: list[tuple], renames) -> None:
        """Commits (sha, author, email, time, merge, tests), changes (sha, path, added,
        deleted) and renames (sha, time, old, new), in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            # A run killed mid-walk left some of these behind: never count a change twice.
            for table in ("changes", "renames"):
                self.db.executemany(
                    f"DELETE FROM {table} WHERE repo = ? AND sha = ?",
                    [(key, c[0]) for c in commits],
                )
            self.db.executemany(
                "INSERT OR REPLACE INTO commits VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(key, *c) for c in commits],
            )
            self.db.executemany(
                "INSERT INTO changes VALUES (?, ?, ?, ?, ?)", [(key, *c) for c in changes]
            )
            self.db.executemany(
                "INSERT INTO renames VALUES (?, ?, ?, ?, ?)", [(key, *r) for r in renames]
            )

    def commits(self, key: str) -> list[tuple]:
        return self.db.execute(
            "SELECT sha, author, email, time, merge, tests FROM commits WHERE repo = ?", (key,)
        ).fetchall()

    def changes(self, key: str) -> list[tuple]:
        return self.db.execute(
            "SELECT sha, path, added, deleted FROM changes WHERE repo = ?", (key,)
        ).fetchall()

    def renames(self, key: str) -> list[tuple]:
        return self.db.execute(
            "SELECT time, old, new FROM renames WHERE repo = ? ORDER BY time", (key,)
        ).fetchall()

    # -- line ownership -------------------------------------------------------------------

    def blamed(self, key: str) -> dict[tuple[str, str], dict[str, int]]:
        out: dict[tuple[str, str], dict[str, int]] = {}
        for path, blob, author, lines in self.db.execute(
            "SELECT path, blob, author, lines FROM blame WHERE repo = ?", (key,)
        ):
            out.setdefault((path, blob), {})[author] = lines
        return out

    def save_blame(self, key: str, current: dict[tuple[str, str], dict[str, int]]) -> None:
        """Replace the repository's line ownership with `current` ((path, blob) -> lines)."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM blame WHERE repo = ?", (key,))
            self.db.executemany(
                "INSERT INTO blame VALUES (?, ?, ?, ?, ?)",
                [
                    (key, path, blob, author, lines)
                    for (path, blob), owners in current.items()
                    for author, lines in owners.items()
                ],
            )

    # -- indexed documents ----------------------------------------------------------------

    def docs(self, key: str) -> dict[str, tuple[str, int, str]]:
        return {
            doc_id: (digest, chunks, source)
            for doc_id, digest, chunks, source in self.db.execute(
                "SELECT doc_id, digest, chunks, source FROM docs WHERE repo = ?", (key,)
            )
        }

    def save_docs(self, key: str, rows: list[tuple[str, str, int, str]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)", [(key, *r) for r in rows]
            )

    def drop_docs(self, key: str, doc_ids: list[str]) -> None:
        self.db.executemany(
            "DELETE FROM docs WHERE repo = ? AND doc_id = ?", [(key, d) for d in doc_ids]
        )
