"""File locks shared by processes on one machine (flock): the ingest lock and the store lock.

A lock is taken on a fresh open of its file each time, so two threads of one process exclude
each other as two processes do (flock locks belong to an open file, not to a process), and the
kernel releases a lock when its holder dies, so a SIGKILLed process never blocks the others.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.core.errors import StoreError

POLL = 0.05


def unwritable(path: Path, exc: OSError) -> StoreError:
    """The message for a data-dir file that cannot be created or written."""
    if exc.errno == errno.ENOSPC:
        return StoreError(f"the disk holding {path} is full: free some space, then try again")
    if exc.errno in (errno.EROFS,):
        return StoreError(
            f"{path} is on a read-only file system: remount it read-write, or point "
            "ADVISOR_DATA_DIR at a writable folder"
        )
    from advisor.core.damage import access_fix

    return StoreError(f"cannot open {path} ({exc.strerror or exc}): {access_fix(path)}")


@contextmanager
def flocked(
    path: Path,
    *,
    shared: bool = False,
    wait: float | None = None,
    on_wait: Callable[[int], None] | None = None,
) -> Iterator[int]:
    """Hold `path`'s lock (shared or exclusive); yields the open file descriptor.

    Waits forever when `wait` is None; else raises TimeoutError after `wait` seconds.
    `on_wait(fd)` is called once if the lock is busy (to say who holds it).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise unwritable(path, exc) from exc
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        if wait is None and on_wait is None:
            fcntl.flock(fd, mode)
        else:
            deadline = None if wait is None else time.monotonic() + wait
            told = False
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TimeoutError(str(path)) from None
                    if on_wait is not None and not told:
                        on_wait(fd)
                        told = True
                    time.sleep(POLL)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_text(fd: int, limit: int = 256) -> str:
    """What a lock file says (its holder, its counter), never failing on garbage."""
    try:
        return os.pread(fd, limit, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def write_text(fd: int, text: str) -> None:
    """Replace what a lock file says (written in place: the lock, not the content, is what
    other processes rely on to be atomic)."""
    data = text.encode()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
