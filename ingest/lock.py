"""One writer per data directory: an ingest holds an exclusive file lock while it runs.

Two ingests writing one Chroma store and one manifest at once would interleave their pending
and done rows; the second one waits for the first (up to a limit), then refuses with the fix.
The lock is released by the kernel when its holder dies, so a SIGKILLed run never blocks.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from advisor.core.errors import IngestError
from advisor.core.locks import flocked, read_text, write_text

LOCK_NAME = "ingest.lock"
_HELD = threading.local()  # data dirs whose lock this thread holds (an upload, then its ingest)


@contextmanager
def exclusive(
    data_dir: Path, wait: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the data directory's ingest lock; wait up to `wait` seconds for another holder.
    A thread that holds it already (an upload saving files, then ingesting them) goes on."""
    path = Path(data_dir) / LOCK_NAME
    key = str(path.resolve())
    held_here = getattr(_HELD, "paths", None)
    if held_here is None:
        held_here = _HELD.paths = set()
    if key in held_here:
        yield
        return

    def busy(fd: int) -> None:
        if on_wait is not None:
            on_wait(read_text(fd) or "another process")

    held = False
    try:
        with flocked(path, wait=wait, on_wait=busy) as fd:
            held = True
            held_here.add(key)
            write_text(fd, f"pid {os.getpid()}")
            try:
                yield
            finally:
                held_here.discard(key)
                write_text(fd, "")
    except TimeoutError:
        if held:  # raised by the caller's work, not by the wait
            raise
        holder = _holder(path)
        raise IngestError(
            f"another ingest ({holder}) is running on {Path(data_dir).resolve()} and did "
            f"not finish within {wait:g} s: wait for it to finish, then try again "
            "(ADVISOR_INGEST_LOCK_WAIT sets how long to wait)"
        ) from None


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "another process"
    except OSError:
        return "another process"


@contextmanager
def if_free(data_dir: Path) -> Iterator[bool]:
    """Hold the ingest lock if nobody does (yields True), else yield False at once: for
    clean-ups that another live writer will do itself (this thread's own upload included)."""
    key = str((Path(data_dir) / LOCK_NAME).resolve())
    if key in (getattr(_HELD, "paths", None) or ()):
        yield False
        return
    with ExitStack() as stack:
        try:
            stack.enter_context(exclusive(data_dir, wait=0))
        except IngestError:
            free = False
        else:
            free = True
        yield free
