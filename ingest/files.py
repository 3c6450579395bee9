"""Finding files to ingest, and deciding from their names and first bytes how to read them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from advisor.core.errors import IngestError

# What each parser kind is called in chunk metadata (`file_type`).
KINDS = ("pdf", "docx", "pptx", "xlsx", "csv", "html", "md", "text")

_BY_SUFFIX = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "md",
    ".markdown": "md",
    ".mdx": "md",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".json": "text",
    ".yaml": "text",
    ".yml": "text",
}
_ZIP_KINDS = {"docx": "word/", "pptx": "ppt/", "xlsx": "xl/"}

# Formats people commonly drop in a folder that we cannot read; the fix is in the reason.
_UNSUPPORTED = {
    ".doc": "legacy Word .doc is not supported: save it as .docx",
    ".ppt": "legacy PowerPoint .ppt is not supported: save it as .pptx",
    ".xls": "legacy Excel .xls is not supported: save it as .xlsx",
    ".key": "Keynote files are not supported: export to .pptx or .pdf",
    ".pages": "Pages files are not supported: export to .docx or .pdf",
    ".numbers": "Numbers files are not supported: export to .xlsx or .csv",
}
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Target:
    """One file to consider: where it is, and the folder its `source` is relative to."""

    path: Path
    root: Path
    source: str


@dataclass(frozen=True)
class Walk:
    """The files found under the given paths, and the folders that were walked in full."""

    targets: list[Target]
    folders: list[Path]


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"


def discover(paths, *, data_dir: Path) -> Walk:
    """Expand files and folders into targets; hidden entries and the data dir are left out."""
    data_dir = Path(data_dir).resolve()
    targets: dict[tuple[str, str], Target] = {}
    folders: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise IngestError(f"{raw}: no such file or folder: check the path and try again")
        path = path.resolve()
        if path.is_dir():
            folders.append(path)
            for dirpath, dirnames, filenames in os.walk(path):
                here = Path(dirpath)
                # Prune in place so os.walk never descends into hidden dirs or the index itself.
                dirnames[:] = sorted(
                    d for d in dirnames if not _ignored(d) and (here / d).resolve() != data_dir
                )
                for name in sorted(filenames):
                    file = here / name
                    if _ignored(name) or not file.is_file():
                        continue
                    source = file.relative_to(path).as_posix()
                    targets.setdefault((str(path), source), Target(file, path, source))
        elif path.is_file():
            targets.setdefault((str(path.parent), path.name), Target(path, path.parent, path.name))
        else:
            raise IngestError(f"{raw}: not a regular file or folder")
    return Walk(list(targets.values()), folders)


@dataclass(frozen=True)
class Sniff:
    """A parser kind, or why the file is skipped (unsupported) or failed (corrupt)."""

    kind: str | None = None
    skip: str | None = None
    fail: str | None = None


def kind_from_name(path: Path) -> str | None:
    """The parser kind a file name implies (`.md` anywhere in the suffixes means Markdown)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    # Middleman/Jekyll pages are named like `page.html.md.erb`: the Markdown wins.
    if any(s in (".md", ".markdown") for s in suffixes):
        return "md"
    return _BY_SUFFIX.get(Path(path).suffix.lower())


def sniff(path: Path) -> Sniff:
    """Decide how to read `path` from its name and first bytes, without parsing it."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        return Sniff(skip="empty file")
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        return Sniff(skip=_UNSUPPORTED[suffix])
    kind = kind_from_name(path)
    if kind == "pdf":
        if not head.lstrip(b"\x00\t\r\n ").startswith(b"%PDF-"):
            return Sniff(fail="not a PDF: the content does not start with %PDF- (corrupt/renamed)")
        return Sniff(kind="pdf")
    if kind in _ZIP_KINDS:
        if not head.startswith(b"PK\x03\x04"):
            return Sniff(
                fail=f"not a valid .{kind}: the content is not a zip archive (corrupt or renamed)"
            )
        return Sniff(kind=kind)
    if head.startswith((b"PK\x03\x04", b"%PDF-")) or b"\x00" in head:
        return Sniff(skip=f"binary file with unsupported extension {suffix or '(none)'}")
    if kind is None:
        # Unknown extension: text if its start is (nearly all) valid UTF-8; a few bad bytes are
        # replaced when reading, but a file that is mostly undecodable is binary.
        decoded = head.decode("utf-8", errors="replace")
        if decoded.count("\ufffd") > max(2, len(decoded) // 50):
            return Sniff(skip=f"unsupported file type {suffix or '(no extension)'}: not text")
        return Sniff(kind="text")
    return Sniff(kind=kind)


def read_text(path: Path) -> tuple[str, str | None]:
    """Decode a text file as UTF-8; invalid bytes become U+FFFD and the note says how many."""
    data = Path(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        return text, f"invalid UTF-8: {bad} byte sequence(s) replaced with U+FFFD"


def check_size(path: Path, size: int, max_file_mb: float) -> str | None:
    """A skip reason when the file is over the size limit, else None."""
    if size > max_file_mb * 1024 * 1024:
        return (
            f"file is {size / 1024 / 1024:.1f} MB, over the {max_file_mb:g} MB limit "
            "(raise ADVISOR_MAX_FILE_MB to include it)"
        )
    return None
