"""Caches derived from the store (BM25 indexes, vector matrices, the client list) that keep
serving their last value while a newer one is built in the background.

After another process's ingest, a long-running server would otherwise make the next question
wait for the rebuild (11 s for a BM25 index at 300k chunks). A cache whose last value is small
is rebuilt in line instead, so that small indexes are always current at once.

One background thread per process builds one value at a time (the machine has few cores and
the questions need them); a key already queued is not queued twice, and a build that fails is
logged and tried again the next time the key is asked for.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger("advisor.refresh")
V = TypeVar("V")


class Refresher:
    """The background builder: `submit(key, build)` runs `build()` once, later, on its thread."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Hashable, Callable[[], Any]]] = queue.Queue()
        self._pending: set[Hashable] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, key: Hashable, build: Callable[[], Any]) -> None:
        with self._lock:
            if key in self._pending:
                return
            self._pending.add(key)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="advisor-refresh", daemon=True
                )
                self._thread.start()
        self._queue.put((key, build))

    def _work(self) -> None:
        while True:
            key, build = self._queue.get()
            try:
                build()
            except Exception:  # the next question asks again; the reason is in the log
                log.exception("refreshing %s failed", key)
            finally:
                with self._lock:
                    self._pending.discard(key)
                    self._idle.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Until nothing is queued or building (tests, and a writer that wants its own change
        answerable before it returns); False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)


REFRESHER = Refresher()


@dataclass
class _Entry(Generic[V]):
    version: tuple[str, int]
    value: V
    size: int


class VersionedCache(Generic[V]):
    """Values keyed by name, each valid for one store version (collection id, generation).

    `get(key, version, build, size)` returns the value for `version`: the cached one when it is
    current; the cached one, while `build` runs in the background, when it is stale but of the
    same collection and at least `inline_below` big (its `size`); else the value built now.
    A value of another collection (after a reset) is never served.
    """

    def __init__(self, inline_below: int, refresher: Refresher = REFRESHER) -> None:
        self.inline_below = inline_below
        self.refresher = refresher
        self._entries: dict[Hashable, _Entry[V]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(
        self,
        key: Hashable,
        version: tuple[str, int],
        build: Callable[[], V],
        size: Callable[[V], int] = len,  # type: ignore[assignment]
        now: bool = False,
    ) -> V:
        """`now`: a stale value will not do (build it in line whatever its size)."""
        entry = self._entries.get(key)
        if entry is not None and entry.version[0] == version[0] and entry.version[1] >= version[1]:
            return entry.value  # current (or newer than the version this caller read)
        if (
            not now
            and entry is not None
            and entry.version[0] == version[0]
            and entry.version[1] < version[1]
            and entry.size >= self.inline_below
        ):
            self.refresher.submit((id(self), key), lambda: self._build(key, version, build, size))
            return entry.value
        return self._build(key, version, build, size)

    def _build(self, key: Hashable, version: tuple[str, int], build, size) -> V:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one build per key at a time; the others wait for it
            entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                return entry.value
            value = build()
            with self._guard:
                entry = self._entries.get(key)
                newer = (
                    entry is not None
                    and entry.version[0] == version[0]
                    and entry.version[1] > version[1]
                )
                if not newer:
                    self._entries[key] = _Entry(version, value, size(value))
                    if entry is None or entry.version[0] != version[0]:
                        self._forget_other_collections(version[0])
            return value

    def _forget_other_collections(self, collection: str) -> None:
        """After a reset, values of the old collection are never served again: drop them."""
        for key in [k for k, e in self._entries.items() if e.version[0] != collection]:
            del self._entries[key]

    def stale(self, current: Callable[[Hashable], tuple[str, int]]) -> list[Hashable]:
        """The keys whose value is not for `current(key)`'s version."""
        return [k for k, e in list(self._entries.items()) if e.version != current(k)]

    def values(self) -> list[V]:
        return [e.value for e in list(self._entries.values())]

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
