"""Files uploaded in the app: refuse unsafe names and oversize files, save them, ingest them."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor.core.clients import client_name
from advisor.core.errors import InputError
from advisor.core.locks import unwritable
from advisor.core.settings import PLAYBOOK_SCOPE, Settings

# What the ingestion pipeline can read (ingest/files.py); anything else is refused up front.
SUPPORTED_SUFFIXES = (
    ".md", ".markdown", ".txt", ".pdf", ".docx", ".pptx", ".xlsx", ".csv", ".html", ".htm",
)  # fmt: skip


@dataclass(frozen=True)
class UploadResult:
    """What happened to one uploaded file."""

    name: str
    status: str  # indexed | unchanged | skipped | failed | refused
    reason: str = ""
    chunks: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("indexed", "unchanged")


def refusal(name: str, size: int, max_file_mb: float) -> str | None:
    """Why an upload must be refused (unsafe name, unsupported type, too large), else None."""
    if not name or not name.strip():
        return "the file has no name"
    if "/" in name or "\\" in name or ".." in name:
        return "the name contains a path ('/', '\\' or '..'): rename the file and upload it again"
    if name.startswith("."):
        return "hidden files (names starting with '.') are not accepted"
    if any(ord(ch) < 32 for ch in name) or len(name.encode()) > 255:
        return "the name has control characters or is too long: rename the file"
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"unsupported file type: upload one of {', '.join(SUPPORTED_SUFFIXES)}"
    if size > max_file_mb * 1024 * 1024:
        return (
            f"the file is {size / 1024 / 1024:.1f} MB, over the {max_file_mb:g} MB limit "
            "(raise ADVISOR_MAX_FILE_MB to accept it)"
        )
    if size == 0:
        return "the file is empty"
    return None


def upload_dir(settings: Settings, client: str | None) -> Path:
    """Where uploads for this scope are kept: `<data_dir>/uploads/<client or playbook>/`."""
    scope = client_name(client) if client else PLAYBOOK_SCOPE
    return settings.data_dir / "uploads" / scope


MAX_VERSIONS = 1000


def versions(name: str) -> Iterator[str]:
    """`plan.md`, then `plan (v2).md`, `plan (v3).md`, ...: the names one upload may take."""
    path = Path(name)
    yield name
    for n in range(2, MAX_VERSIONS + 1):
        yield f"{path.stem} (v{n}){path.suffix}"


JOURNAL = ".journal"  # in uploads/: the names an upload in progress may have created
TEMP_PREFIX = ".upload-"


def journal_path(settings: Settings) -> Path:
    return settings.data_dir / "uploads" / JOURNAL


def _journal(settings: Settings, path: Path) -> None:
    """Note a name before it is created, durably: if this process is killed before the file is
    indexed, the next start finds it here and removes it (advisor/service/facade.recover)."""
    journal = journal_path(settings)
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a", encoding="utf-8") as fh:
        fh.write(str(path.resolve()) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _save_new(settings: Settings, folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Store `data` under `name` or its next free version, never replacing a file; returns the
    path and whether it was written now (False: an identical copy was already there)."""
    # Written in full under a temporary name first: a crash mid-write must never leave a
    # truncated file that a later ingest would index. Then hard-linked into place, which fails
    # if the name is taken, even by an upload racing this one.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        for candidate in versions(name):
            path = folder / candidate
            if not path.exists():
                _journal(settings, path)
            try:
                os.link(tmp, path)
                return path, True
            except FileExistsError:
                if path.is_file() and path.read_bytes() == data:
                    return path, False  # the same file uploaded again
        raise InputError(
            f"{name} has {MAX_VERSIONS} versions already: rename the file and upload it again"
        )
    finally:
        Path(tmp).unlink(missing_ok=True)


@dataclass(frozen=True)
class Saved:
    """An accepted upload: the name it was uploaded as, where it is, whether it is new."""

    name: str
    path: Path
    new: bool

    @property
    def note(self) -> str:
        if self.path.name == self.name:
            return ""
        return (
            f"saved as {self.path.name!r}: an earlier, different {self.name!r} is kept too"
            if self.new
            else f"the same file is already kept as {self.path.name!r}"
        )


def save_uploads(
    settings: Settings, files: Sequence[tuple[str, bytes]], client: str | None
) -> tuple[list[Saved], list[UploadResult]]:
    """Save the acceptable files into the scope's upload folder, never overwriting an earlier
    upload (a file with a taken name is kept as its next version); return them and refusals."""
    folder = upload_dir(settings, client)
    saved: list[Saved] = []
    refused: list[UploadResult] = []
    for name, data in files:
        reason = refusal(name, len(data), settings.max_file_mb)
        if reason:
            refused.append(UploadResult(name, "refused", reason))
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path, new = _save_new(settings, folder, name, data)
        except OSError as exc:  # a full disk, a read-only or foreign folder: nothing is kept
            discard(saved)
            raise unwritable(folder, exc) from exc
        saved.append(Saved(name, path, new))
    return saved, refused


def discard(saved: Sequence[Saved]) -> None:
    """Remove files this upload wrote (and their folder if left empty): what was not indexed
    must not stay behind as an unlisted copy of a confidential document."""
    for item in saved:
        if item.new:
            item.path.unlink(missing_ok=True)
    for folder in {item.path.parent for item in saved}:
        with contextlib.suppress(OSError):  # only removed if empty
            folder.rmdir()


def ingest_uploads(
    advisor,
    principal,
    files: Sequence[tuple[str, bytes]],
    client: str | None,
    on_file: Callable[[UploadResult], None] | None = None,
) -> list[UploadResult]:
    """Refuse, save and ingest uploaded (name, bytes) pairs; one result per file, in order.

    A file the pipeline does not index (refused, skipped, failed) is removed again, and so is
    everything this call wrote if ingestion raises.
    """
    from ingest.lock import exclusive

    settings = advisor.settings
    # The whole upload holds the ingest lock: saving, indexing and removing what was not
    # indexed are one step for every other process (and for the clean-up after a kill).
    with exclusive(settings.data_dir, settings.ingest_lock_wait):
        try:
            return _ingest_uploads(advisor, principal, files, client, on_file)
        finally:
            journal_path(settings).unlink(missing_ok=True)


def _ingest_uploads(advisor, principal, files, client, on_file) -> list[UploadResult]:
    saved, refused = save_uploads(advisor.settings, files, client)
    results: dict[str, UploadResult] = {}
    by_path = {str(s.path.resolve()): s for s in saved}

    def note(result: UploadResult) -> None:
        results[result.name] = result
        if on_file:
            on_file(result)

    def progress(file_result) -> None:
        # Called by the pipeline as each file finishes (ingest/report.py FileResult).
        item = by_path.get(str(Path(file_result.path).resolve()))
        if item is not None:
            reason = "; ".join(r for r in (file_result.reason, item.note) if r)
            note(UploadResult(item.name, file_result.status, reason, file_result.chunks))

    for result in refused:
        note(result)
    if saved:
        try:
            report = advisor.ingest(
                principal, [s.path for s in saved], client=client, on_file=progress
            )
        except BaseException:
            discard(saved)
            raise
        for file_result in report.files:
            item = by_path.get(str(Path(file_result.path).resolve()))
            if item is not None and item.name not in results:
                progress(file_result)
        discard([s for s in saved if not results.get(s.name, UploadResult("", "failed")).ok])
    missing = "the ingestion report did not mention it: check the server log"
    return [results.get(name) or UploadResult(name, "failed", missing) for name, _ in files]
