"""Parsing in child processes with a time and a memory limit, so no file can hang or sink a run.

Each worker is a process of its own: its address space is capped with RLIMIT_AS, and a parse
that outlives its time limit is killed with the worker (a new one takes its place). Workers
fork from a forkserver that has the parsers imported already, so starting one costs
milliseconds; the forkserver holds no torch threads, which a fork of the app could.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from ingest.worker import ParseOutcome

# Imported once in the forkserver: every worker forked from it starts with them loaded.
_PRELOAD = ["ingest.preload"]
# Heavier parsers, loaded (torch hidden) by a worker before its memory cap, in runs that need them.
KIND_MODULES = {"pdf": "unstructured.partition.pdf", "xlsx": "unstructured.partition.xlsx"}
_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()


def _context():
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            atexit.register(_stop_forkserver)
            _CONTEXT = ctx
        return _CONTEXT


def _stop_forkserver() -> None:
    """At exit, stop the forkserver: one still importing its parsers (a run where nothing
    needed parsing) would otherwise live on for a second, holding our stdout and stderr open,
    so whoever reads them (a script, CI) would wait for it too."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def warm_up() -> None:
    """Start the forkserver (and its parser imports, about 1 s of CPU) in the background, so
    it overlaps with the caller's own start-up instead of following it. Idempotent."""
    threading.Thread(target=_ensure_forkserver, daemon=True, name="parse-warm-up").start()


def _ensure_forkserver() -> None:
    from multiprocessing import forkserver

    _context()
    with _CONTEXT_LOCK, _main_hidden():
        forkserver.ensure_running()


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start a worker without re-running the caller's main script in it.

    multiprocessing imports `__main__` in each child; a caller's script without an
    `if __name__ == "__main__"` guard would start its own ingest there and wait on our lock.
    Workers need nothing from it.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    try:
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _vm_size() -> int:
    """This process's current address-space size in bytes (Linux), or 0 if unknown."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _watch_parent(parent: int) -> None:
    # A SIGKILLed ingest cannot stop its workers: they notice they were orphaned and exit.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _serve(conn: Connection, memory_mb: int, kinds: tuple[str, ...] = ()) -> None:
    """A worker's life: load the parsers of this run's kinds, cap memory, then parse jobs
    until told to stop."""
    import importlib
    import resource

    from advisor.core.runtime import imports_hidden
    from ingest.worker import init_worker, parse_and_chunk

    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    with imports_hidden("torch"):
        for kind in kinds:
            if kind in KIND_MODULES:
                importlib.import_module(KIND_MODULES[kind])
    # The cap is on growth beyond what the preloaded parsers already map.
    limit = _vm_size() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    init_worker()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            outcome = parse_and_chunk(*job)
        except MemoryError:
            outcome = ParseOutcome(error=memory_reason(memory_mb))
            conn.send(outcome)
            return  # the heap may be in any state: a fresh worker takes over
        except Exception as exc:  # a parser bug must cost one file, not the run
            outcome = ParseOutcome(error=f"parser error: {type(exc).__name__}: {exc}"[:300])
        conn.send(outcome)


def memory_reason(memory_mb: int) -> str:
    return (
        f"parsing needed more than the {memory_mb} MB memory limit (a zip bomb or a huge "
        "file?): split the file, or raise ADVISOR_PARSE_MEMORY_MB"
    )


def timeout_reason(seconds: float) -> str:
    return (
        f"parsing took longer than the {seconds:g} s time limit and was stopped: split the "
        "file, or raise ADVISOR_PARSE_TIMEOUT"
    )


@dataclass
class _Slot:
    process: Any
    conn: Connection
    key: Any = None
    deadline: float = 0.0


class ParsePool:
    """`workers` sandboxed parser processes; `run(jobs)` yields (key, outcome) as each ends."""

    def __init__(
        self, workers: int, timeout: float, memory_mb: int, kinds: Iterable[str] = ()
    ) -> None:
        self.kinds = tuple(sorted(set(kinds)))
        self.workers = max(1, workers)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.slots: list[_Slot] = []

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _spawn(self) -> _Slot:
        ctx = _context()
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(child, self.memory_mb, self.kinds), daemon=True)
        with _CONTEXT_LOCK, _main_hidden():
            process.start()
        child.close()
        return _Slot(process, parent)

    def _retire(self, slot: _Slot) -> None:
        slot.process.kill()
        slot.process.join(timeout=5)
        slot.conn.close()
        self.slots.remove(slot)

    def run(self, jobs: Iterable[tuple[Any, tuple]]) -> Iterator[tuple[Any, ParseOutcome]]:
        """Parse every job (key, parse_and_chunk args); outcomes come in completion order."""
        queue = deque(jobs)
        busy: list[_Slot] = []
        while queue or busy:
            while queue and len(busy) < self.workers:
                idle = [s for s in self.slots if s not in busy]
                slot = idle[0] if idle else self._spawn()
                if not idle:
                    self.slots.append(slot)
                slot.key, args = queue.popleft()
                slot.deadline = time.monotonic() + self.timeout
                try:
                    slot.conn.send(args)
                except OSError:  # the worker died while idle: replace it and retry
                    self._retire(slot)
                    queue.appendleft((slot.key, args))
                    continue
                busy.append(slot)
            now = time.monotonic()
            ready = wait(
                [s.conn for s in busy] + [s.process.sentinel for s in busy],
                timeout=max(0.0, min(s.deadline for s in busy) - now),
            )
            for slot in list(busy):
                outcome = None
                if slot.conn in ready:
                    try:
                        outcome = slot.conn.recv()
                    except (EOFError, OSError):
                        outcome = ParseOutcome(error=self._death_reason(slot))
                elif slot.process.sentinel in ready:
                    outcome = ParseOutcome(error=self._death_reason(slot))
                elif time.monotonic() >= slot.deadline:
                    outcome = ParseOutcome(error=timeout_reason(self.timeout))
                    self._retire(slot)
                if outcome is None:
                    continue
                busy.remove(slot)
                # After a MemoryError the worker exits by itself; never hand it another file.
                died = outcome.error == memory_reason(self.memory_mb)
                if slot in self.slots and (died or not slot.process.is_alive()):
                    self._retire(slot)
                yield slot.key, outcome

    def _death_reason(self, slot: _Slot) -> str:
        slot.process.join(timeout=5)
        code = slot.process.exitcode
        if code is not None and code > 0:  # an exception outside parsing (start-up, imports)
            return f"the parser process failed (exit code {code}): see the log, then re-run"
        # Killed by a signal: past RLIMIT_AS a C allocation can abort instead of raising.
        signal = f" (signal {-code})" if code else ""
        return f"the parser process died{signal}: " + memory_reason(self.memory_mb)

    def close(self) -> None:
        for slot in list(self.slots):
            with contextlib.suppress(OSError):
                slot.conn.send(None)
        for slot in list(self.slots):
            slot.process.join(timeout=2)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=2)
            slot.conn.close()
        self.slots.clear()
