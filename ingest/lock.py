"""One writer per data directory: an ingest holds an exclusive file lock while it runs.

Two ingests writing one Chroma store and one manifest at once would interleave their pending
and done rows; the second one waits for the first (up to a limit), then refuses with the fix.
The lock is released by the kernel when its holder dies, so a SIGKILLed run never blocks.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.core.errors import IngestError

LOCK_NAME = "ingest.lock"
_POLL = 0.2


@contextmanager
def exclusive(
    data_dir: Path, wait: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the data directory's ingest lock; wait up to `wait` seconds for another holder."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if time.monotonic() >= deadline:
                    raise IngestError(
                        f"another ingest ({holder}) is running on {data_dir.resolve()} and did "
                        f"not finish within {wait:g} s: wait for it to finish, then try again "
                        "(ADVISOR_INGEST_LOCK_WAIT sets how long to wait)"
                    ) from None
                if on_wait is not None and not told:
                    on_wait(holder)
                    told = True
                time.sleep(_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "another process"
    except OSError:
        return "another process"
