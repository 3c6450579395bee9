"""One way to open a small SQLite database in the data directory that only its owner may read.

Sessions and conversations hold who signed in and what clients asked: the file is created 0600
before SQLite touches it (SQLite gives its journal the database's mode), and an existing file
that others could read is narrowed back to 0600.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def private_db(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to `path` (created 0600 with `schema`), committed on success, then closed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")  # deleted chats leave no text in free pages
        conn.executescript(schema)
        with conn:
            yield conn
    finally:
        conn.close()
