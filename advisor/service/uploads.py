"""Files uploaded in the app: refuse unsafe names and oversize files, save them, ingest them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor.core.clients import client_name
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


def _write_atomic(path: Path, data: bytes) -> None:
    # A crash mid-write must never leave a truncated file that a later ingest would index.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_uploads(
    settings: Settings, files: Sequence[tuple[str, bytes]], client: str | None
) -> tuple[list[Path], list[UploadResult]]:
    """Save the acceptable files into the scope's upload folder; return paths and refusals."""
    folder = upload_dir(settings, client)
    saved: list[Path] = []
    refused: list[UploadResult] = []
    for name, data in files:
        reason = refusal(name, len(data), settings.max_file_mb)
        if reason:
            refused.append(UploadResult(name, "refused", reason))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        _write_atomic(path, data)
        saved.append(path)
    return saved, refused


def ingest_uploads(
    advisor,
    principal,
    files: Sequence[tuple[str, bytes]],
    client: str | None,
    on_file: Callable[[UploadResult], None] | None = None,
) -> list[UploadResult]:
    """Refuse, save and ingest uploaded (name, bytes) pairs; one result per file, in order."""
    saved, refused = save_uploads(advisor.settings, files, client)
    results: dict[str, UploadResult] = {}
    by_path = {str(p.resolve()): p.name for p in saved}

    def note(result: UploadResult) -> None:
        results[result.name] = result
        if on_file:
            on_file(result)

    def progress(file_result) -> None:
        # Called by the pipeline as each file finishes (ingest/report.py FileResult).
        name = by_path.get(str(Path(file_result.path).resolve()))
        if name is not None:
            note(UploadResult(name, file_result.status, file_result.reason, file_result.chunks))

    for result in refused:
        note(result)
    if saved:
        report = advisor.ingest(principal, saved, client=client, on_file=progress)
        for file_result in report.files:
            name = by_path.get(str(Path(file_result.path).resolve()))
            if name is not None and name not in results:
                progress(file_result)
    missing = "the ingestion report did not mention it: check the server log"
    return [results.get(name) or UploadResult(name, "failed", missing) for name, _ in files]
