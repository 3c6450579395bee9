"""The eval corpus layout: `clients/<name>/` is that client's, everything else is playbooks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from advisor.core.settings import PLAYBOOK_SCOPE, Settings

CLIENTS_DIR = "clients"


# The CTO's practice checklist sits next to the playbooks but is configuration, not knowledge.
CHECKLIST_NAMES = ("checklist.yaml", "checklist.yml")


def corpus_note(rel_path: str) -> bool:
    """A README at the corpus root describes the corpus (its clients, its layout) for the people
    who keep it; it is no playbook, and `make index` does not ingest it either. Indexed as one, it
    would put a line about every client into the playbooks every client sees."""
    return "/" not in rel_path and Path(rel_path).stem.casefold() == "readme"


def _visible(name: str) -> bool:
    # Hidden entries include the product's own `.advisor` data dirs.
    return not name.startswith(".") and name not in CHECKLIST_NAMES


def corpus_files(corpus: Path) -> Iterator[tuple[str, str]]:
    """(corpus-relative POSIX path, scope) of every visible file, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames[:] = sorted(d for d in dirnames if _visible(d))
        for name in sorted(filenames):
            if not _visible(name):
                continue
            rel = Path(dirpath, name).relative_to(corpus).as_posix()
            scope = scope_of(rel)
            if scope is not None:
                yield rel, scope


def scope_of(rel_path: str) -> str | None:
    """The scope a corpus file is ingested under (None for stray files directly in
    clients/ and for the corpus's README)."""
    parts = rel_path.split("/")
    if corpus_note(rel_path):
        return None
    if parts[0] != CLIENTS_DIR:
        return PLAYBOOK_SCOPE
    return parts[1] if len(parts) >= 3 else None


def owner_of(rel_path: str) -> str | None:
    """Who owns a corpus-relative path, read from the folder layout on disk alone: the client
    whose `clients/<name>/` folder holds it, or the playbooks. None for a path outside the corpus
    (or loose in `clients/`): nobody may be shown it. Used to check client isolation without the
    product's own scope metadata."""
    parts = rel_path.split("/")
    if not rel_path or rel_path.startswith("/") or ".." in parts:
        return None
    return scope_of(rel_path)


def ingest_groups(corpus: Path) -> list[tuple[list[Path], str | None]]:
    """What to ingest, as (paths, client): the playbook entries, then each client's folder."""
    entries = sorted(p for p in corpus.iterdir() if _visible(p.name))
    playbooks = [p for p in entries if p.name != CLIENTS_DIR and not corpus_note(p.name)]
    groups: list[tuple[list[Path], str | None]] = [(playbooks, None)] if playbooks else []
    clients_dir = corpus / CLIENTS_DIR
    if clients_dir.is_dir():
        for folder in sorted(clients_dir.iterdir()):
            if folder.is_dir() and _visible(folder.name):
                groups.append(([folder], folder.name))
    return groups


def relative_source(root: str, source: str, corpus: Path) -> str:
    """A retrieved document's path relative to the corpus root (what gold sources name)."""
    if not root:
        return Path(source).as_posix()
    return Path(os.path.relpath(os.path.join(root, source), corpus)).as_posix()


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def eval_data_dir(settings: Settings, corpus: Path) -> Path:
    """The cached index dir for this corpus, its layout and the settings that shape the index.

    The layout (which folders are ingested under which client) is part of the key: a client
    folder that is renamed or removed is never ingested again, so an index kept across the
    change would still hold its chunks under the old scope. `reset` deletes these dirs too.
    """
    layout = (
        [
            (sorted(p.relative_to(corpus).as_posix() for p in paths), client)
            for paths, client in ingest_groups(corpus)
        ]
        if corpus.is_dir()
        else []
    )
    key = _digest(corpus.resolve(), settings.embedding_model, settings.chunk_tokens, layout)
    return settings.data_dir / "evals" / key


def content_fingerprint(corpus: Path) -> str:
    """Changes whenever a corpus file is added, removed, resized or touched."""
    parts = []
    for rel, scope in corpus_files(corpus):
        stat = (corpus / rel).stat()
        parts.append(f"{rel}:{scope}:{stat.st_size}:{stat.st_mtime_ns}")
    return _digest(*parts)


def with_data_dir(settings: Settings, data_dir: Path) -> Settings:
    """A copy of `settings` using another data dir. With a Chroma server, the eval indexes into a
    collection of its own there (named for that dir), never into the team's collection."""
    update: dict = {"data_dir": data_dir}
    if settings.chroma_host:
        update["collection"] = f"eval-{data_dir.name}"
    return settings.model_copy(update=update)
