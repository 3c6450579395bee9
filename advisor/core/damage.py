"""What is wrong with a file of the data dir, in words a user can act on.

Chroma and SQLite report a damaged file as "file is not a database" or "database disk image is
malformed", with a traceback and without its name; and both take a zero-byte file (or any
SQLite file) as a new, empty database, so an index that was truncated to nothing would be
silently replaced by an empty one. These checks run before a file is opened, read only its
header and its table list, and say which file is damaged and how.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterable
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_problem(path: Path, tables: Iterable[str] = (), write: bool = True) -> str | None:
    """Why `path` cannot be used as the SQLite database it should be (None if it can, or if it
    does not exist yet): unreadable, read-only, empty, not SQLite, truncated, or lacking
    `tables` (another program's database)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if write and not _writable(path):
        return "it is read-only"
    if info.st_size == 0:
        return "it is empty (0 bytes)"
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        return "it is not a SQLite database (overwritten by something else?)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count is valid when its change counter matches (SQLite >= 3.7).
    counted = header[24:28] == header[92:96] and pages > 0
    if (
        page_size < 512
        or info.st_size % page_size
        or (counted and info.st_size < pages * page_size)
    ) and not _has_journal(path):
        expected = f" of {pages * page_size:,}" if counted else ""
        return f"it is truncated ({info.st_size:,}{expected} bytes)"
    wanted = set(tables)
    if not wanted:
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            found = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return f"it is damaged ({exc})"
    missing = sorted(wanted - found)
    if missing:
        return f"it lacks the tables {', '.join(missing)} (another program's database?)"
    return None


HNSW_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin")


def hnsw_problem(folder: Path) -> tuple[Path, str] | None:
    """(file, why) if a Chroma vector-index folder is visibly damaged: a file missing, or
    shorter than its header says (hnswlib would load a truncated file without complaint and
    then answer from garbage), or an id map that is not a pickle."""
    import struct

    folder = Path(folder)
    header = folder / "header.bin"
    try:
        if not header.exists():
            return None  # not written yet: Chroma builds the index from its log
        data = header.read_bytes()
        if len(data) != 100:
            return header, f"it is {len(data)} bytes, not the 100 of an index header"
        fields = struct.unpack("<iQQQQQQiiQQQdQ", data)
        count, per_element = fields[3], fields[4]
        sizes = {name: (folder / name).stat().st_size for name in HNSW_FILES[1:3]}
        if sizes["data_level0.bin"] < count * per_element:
            return folder / "data_level0.bin", (
                f"it is truncated ({sizes['data_level0.bin']:,} of {count * per_element:,} bytes)"
            )
        if sizes["length.bin"] < count * 4:
            return folder / "length.bin", (
                f"it is truncated ({sizes['length.bin']:,} of {count * 4:,} bytes)"
            )
        ids = folder / "index_metadata.pickle"
        if ids.exists():
            with open(ids, "rb") as fh:
                if fh.read(1) != b"\x80":
                    return ids, "it is not the index's id map (not a pickle)"
    except FileNotFoundError as exc:
        return Path(exc.filename or folder), "it is missing"
    except OSError as exc:
        return Path(exc.filename or folder), f"it cannot be read ({exc.strerror or exc})"
    except struct.error:
        return header, "it is not an index header"
    return None


def _writable(path: Path) -> bool:
    if not os.access(path, os.W_OK):
        return False
    try:
        return not os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError:
        return True


def _has_journal(path: Path) -> bool:
    """A rollback journal or write-ahead log beside it: SQLite completes the file from it."""
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-journal", "-wal"))


def sqlite_error_problem(exc: BaseException) -> str | None:
    """The plain words for an SQLite error that means the file is damaged, else None."""
    text = str(exc).lower()
    for needle, words in (
        ("file is not a database", "it is not a SQLite database"),
        ("malformed", "it is damaged (SQLite: database disk image is malformed)"),
        ("no such table", f"it lacks a table ({exc})"),
        ("no such column", f"it has another layout ({exc})"),
        ("readonly database", "it is read-only"),
        ("unable to open database", "it cannot be opened (permissions, or a missing folder)"),
        ("disk i/o error", "it cannot be read (disk I/O error)"),
    ):
        if needle in text:
            return words
    return None


def access_fix(path: Path) -> str:
    """How to give this user access to `path`, naming its owner when it is someone else."""
    path = Path(path)
    try:
        import pwd

        try:
            info = path.stat()
        except FileNotFoundError:  # not created yet: its folder is what must be writable
            path = path.parent
            info = path.stat()
        owner = pwd.getpwuid(info.st_uid).pw_name
        me = pwd.getpwuid(os.geteuid()).pw_name
    except (OSError, KeyError, ImportError):
        return f"give this user read and write access to {path} (chmod u+rw {path})"
    if owner != me:
        return (
            f"{path} belongs to {owner}: run as {owner}, or give it to this user "
            f"(chown -R {me} {path.parent})"
        )
    return f"make it readable and writable (chmod u+rw {path})"
