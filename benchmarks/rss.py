"""Resident memory of a process and its descendants, now and at its peak (psutil).

Parser processes are forked by a forkserver and servers start workers of their own, so a
process's own rusage misses them: the benchmarks sum the whole tree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def tree_rss_mb(pid: int | None = None) -> float:
    """RSS of `pid` (default: this process) plus all its descendants, in MB."""
    import psutil

    root = psutil.Process(pid)
    total = root.memory_info().rss
    for child in root.children(recursive=True):
        with suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total / 2**20


class Peak:
    """The largest `tree_rss_mb` seen so far."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.mb = 0.0

    def now(self) -> float:
        """Sample once (folded into the peak) and return the current RSS."""
        current = tree_rss_mb(self.pid)
        self.mb = max(self.mb, current)
        return current


@contextmanager
def peak_rss(pid: int | None = None, every: float = 0.1) -> Iterator[Peak]:
    """Sample the tree's RSS every `every` seconds while the block runs (until it exits)."""
    import psutil

    peak = Peak(pid)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            try:
                peak.now()
            except psutil.NoSuchProcess:  # the process ended: its peak is final
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
