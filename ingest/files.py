"""Finding files to ingest, and deciding from their names and first bytes how to read them."""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
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
_DOCUMENT_SUFFIXES = {s for s, kind in _BY_SUFFIX.items() if kind != "text"} | {".txt", ".rst"}

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

# Files that hold credentials rather than knowledge: never indexed, whatever their extension.
# Names are matched case-insensitively against the whole file name.
_CREDENTIAL_NAMES = re.compile(
    r"""(?x)
    id_(?:rsa|dsa|ecdsa|ed25519)(?:_\w+)?       # SSH private keys
    | .*\.(?:pem|key|p12|pfx|jks|keystore|ppk|asc|gpg|kdbx|ovpn)
    | .*\.tfstate(?:\.backup)? | .*\.tfvars(?:\.json)?     # Terraform state and variables
    | \.?env(?:\.\w+)? | .+\.env                     # .env, env.production, prod.env
    | \.npmrc | \.pypirc | \.netrc | _netrc | \.pgpass | \.git-credentials | \.dockercfg
    | \.htpasswd | \.s3cfg | \.boto
    | credentials(?:\.json|\.csv|\.ya?ml|\.xml)? | .*[._-]credentials(?:\.\w+)?
    | kubeconfig(?:\.\w+)? | .*\.kubeconfig
    | service[-_]account.*\.json | client_secrets?\.json | secrets?\.(?:ya?ml|json|toml)
    """
)
# Contents that give a credential file away even under an innocent name.
_CREDENTIAL_CONTENT = (
    (re.compile(rb"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----"), "a private key"),
    (re.compile(rb'"terraform_version"\s*:'), "Terraform state"),
    (re.compile(rb"(?m)^\s*aws_secret_access_key\s*="), "AWS credentials"),
    (re.compile(rb"(?m)^\s*(?:client-key-data|client-certificate-data)\s*:"), "a kubeconfig"),
    (re.compile(rb"(?m)^//[^\s]+:_(?:authToken|password)\s*="), "npm credentials"),
)


@dataclass(frozen=True)
class Target:
    """One file to consider: where it is, and the folder its `source` is relative to."""

    path: Path
    root: Path
    source: str


@dataclass(frozen=True)
class Walk:
    """What was found under the given paths.

    `targets` are files to consider; `skipped` are entries left out with a reason (symlinks);
    `unreadable` are folders that could not be listed: their files are not gone, only unseen,
    so their earlier chunks must be kept; `folders` are the roots that were walked.
    """

    targets: list[Target]
    folders: list[Path]
    skipped: list[tuple[Target, str]] = field(default_factory=list)
    unreadable: list[tuple[Target, str]] = field(default_factory=list)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"


def _symlink_reason(link: Path, root: Path) -> str:
    """Why a symlink is not followed: it leaves the folder, is broken, or duplicates a file."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target or a symlink loop
        return "broken symlink (its target does not exist): not followed"
    if not target.is_relative_to(root):
        return (
            f"symlink to {target}, outside the ingested folder: not followed, so a folder "
            "cannot pull in files it does not contain (copy the file in if it belongs here)"
        )
    inside = target.relative_to(root).as_posix() or "."
    return f"symlink to {inside} in the same folder: indexed once, from its real path"


def _walk(root: Path, data_dir: Path, found: dict, skipped: list, unreadable: list) -> None:
    """Depth-first walk with an explicit stack: no recursion limit, symlinks never followed."""
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            # The folder's prefix: every manifest row under it is unseen, not gone.
            source = "" if here == root else here.relative_to(root).as_posix() + "/"
            reason = (
                f"cannot read this folder ({exc.strerror or exc}): its files were not checked and "
                "stay indexed as they were; fix its permissions and re-run"
            )
            unreadable.append((Target(here, root, source), reason))
            continue
        subdirs = []
        for entry in entries:
            if _ignored(entry.name):
                continue
            path = Path(entry.path)
            source = path.relative_to(root).as_posix()
            try:
                if entry.is_symlink():
                    skipped.append((Target(path, root, source), _symlink_reason(path, root)))
                elif entry.is_dir(follow_symlinks=False):
                    if path != data_dir:
                        subdirs.append(path)
                elif entry.is_file(follow_symlinks=False):
                    found.setdefault((str(root), source), Target(path, root, source))
            except OSError as exc:
                reason = f"cannot read ({exc.strerror or exc}): check it exists and is readable"
                unreadable.append((Target(path, root, source), reason))
        stack.extend(reversed(subdirs))  # sorted, depth-first: the order os.walk gave


def discover(paths, *, data_dir: Path) -> Walk:
    """Expand files and folders into targets; hidden entries and the data dir are left out.

    Symlinks inside a folder are never followed: one pointing outside would let a client's
    folder pull in another client's file, one pointing inside would index a file twice.
    """
    data_dir = Path(data_dir).resolve()
    targets: dict[tuple[str, str], Target] = {}
    folders: list[Path] = []
    skipped: list[tuple[Target, str]] = []
    unreadable: list[tuple[Target, str]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise IngestError(f"{raw}: no such file or folder: check the path and try again")
        path = path.resolve()
        if path.is_dir():
            folders.append(path)
            _walk(path, data_dir, targets, skipped, unreadable)
        elif path.is_file():
            targets.setdefault((str(path.parent), path.name), Target(path, path.parent, path.name))
        else:
            raise IngestError(f"{raw}: not a regular file or folder")
    return Walk(list(targets.values()), folders, skipped, unreadable)


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


def credential_name(path: Path) -> str | None:
    """A skip reason when the file's name says it holds credentials (keys, state, .env)."""
    name = Path(path).name.lower()
    # A document about credentials ("credentials-policy.md", "env.md") is still a document.
    if Path(name).suffix in _DOCUMENT_SUFFIXES:
        return None
    if Path(name).suffix == ".key" and _is_zip(path):
        return None  # a Keynote deck (a zip), not a key: sniff says it is unsupported
    if _CREDENTIAL_NAMES.fullmatch(name):
        return (
            f"credential file ({name}): keys, tokens and passwords are never indexed; "
            "keep secrets out of the documents folder"
        )
    return None


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _credential_content(head: bytes) -> str | None:
    for pattern, what in _CREDENTIAL_CONTENT:
        if pattern.search(head):
            return (
                f"credential file (its content is {what}): keys, tokens and passwords are never "
                "indexed; keep secrets out of the documents folder"
            )
    return None


def _office_bomb(path: Path, kind: str, limit_mb: float) -> Sniff | None:
    """Refuse an Office file whose zip would expand past `limit_mb` before any parser opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return Sniff(fail=f"not a valid .{kind}: the zip archive is damaged ({exc})")
    if size > limit_mb * 1024 * 1024:
        return Sniff(
            skip=f"expands to {size / 1024 / 1024:.0f} MB uncompressed, over the {limit_mb:g} MB "
            "limit for Office files (a zip bomb, or raise ADVISOR_MAX_UNCOMPRESSED_MB)"
        )
    return None


def sniff(path: Path, max_uncompressed_mb: float = 200.0) -> Sniff:
    """Decide how to read `path` from its name and first bytes, without parsing it."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        return Sniff(skip="empty file")
    suffix = path.suffix.lower()
    named = credential_name(path)
    if named:
        return Sniff(skip=named)
    if suffix in _UNSUPPORTED:
        return Sniff(skip=_UNSUPPORTED[suffix])
    kind = kind_from_name(path)
    if kind not in ("pdf", *_ZIP_KINDS):
        held = _credential_content(head)
        if held:
            return Sniff(skip=held)
    if kind == "pdf":
        if not head.lstrip(b"\x00\t\r\n ").startswith(b"%PDF-"):
            return Sniff(fail="not a PDF: the content does not start with %PDF- (corrupt/renamed)")
        return Sniff(kind="pdf")
    if kind in _ZIP_KINDS:
        if not head.startswith(b"PK\x03\x04"):
            return Sniff(
                fail=f"not a valid .{kind}: the content is not a zip archive (corrupt or renamed)"
            )
        return _office_bomb(path, kind, max_uncompressed_mb) or Sniff(kind=kind)
    if kind in ("text", "md", "html", "csv", None) and head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Sniff(kind=kind or "text")  # UTF-16 text: its NUL bytes are not binary
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
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark
        return data.decode("utf-16", errors="replace"), "read as UTF-16"
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
