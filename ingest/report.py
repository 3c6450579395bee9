"""What an ingest run did, file by file, and the exit code that follows from it."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["indexed", "unchanged", "removed", "skipped", "failed"]
STATUSES: tuple[Status, ...] = ("indexed", "unchanged", "removed", "skipped", "failed")


@dataclass
class FileResult:
    """The outcome for one file."""

    path: str
    source: str
    scope: str
    status: Status
    reason: str = ""
    chunks: int = 0
    seconds: float = 0.0
    redactions: int = 0  # secrets replaced by [REDACTED] before storing


@dataclass
class IngestReport:
    """Per-file results plus the work actually done (parsed files, embedded chunks)."""

    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    parsed: int = 0  # files handed to a parser this run
    embedded: int = 0  # chunks embedded this run
    recovered: int = 0  # half-written files from an interrupted run that were cleaned up
    notes: list[str] = field(default_factory=list)  # what the run repaired before it started
    # Where the time went (seconds; parse+chunk is summed over parser processes, so it can
    # exceed the run's wall time when parsing ran in parallel).
    stage_seconds: dict[str, float] = field(
        default_factory=lambda: {"parse+chunk": 0.0, "embed": 0.0, "write": 0.0}
    )

    def add(self, result: FileResult) -> None:
        self.files.append(result)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(f.status for f in self.files)
        return {s: counted.get(s, 0) for s in STATUSES}

    @property
    def chunks(self) -> int:
        """Chunks written this run."""
        return sum(f.chunks for f in self.files if f.status == "indexed")

    @property
    def nothing_indexed(self) -> bool:
        """Files were given, none is now indexed (new or unchanged), and some were rejected."""
        c = self.counts
        considered = c["indexed"] + c["unchanged"] + c["skipped"] + c["failed"]
        return considered > 0 and c["indexed"] + c["unchanged"] == 0

    def exit_code(self, strict: bool = False) -> int:
        """0 on success; 1 if nothing could be indexed, or with `strict` if any file failed."""
        if self.nothing_indexed:
            return 1
        if strict and self.counts["failed"]:
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "chunks": self.chunks,
            "parsed": self.parsed,
            "embedded": self.embedded,
            "recovered": self.recovered,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "files": [asdict(f) for f in self.files],
        }
