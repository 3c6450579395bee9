"""Sentence vectors kept on disk, so that a sentence is embedded once per data directory.

The offline answer ranks the sentences of the passages it retrieved by their MiniLM vectors, and
embedding them is most of its time (about 7 ms of CPU a sentence on this machine's cores, up to
32 sentences an answer; benchmarks/answer_bench.py). The vectors depend only on the text and the
model, so they are kept by a hash of (model, runtime, graph, text): an unchanged sentence is never
embedded again, by this process or the next one (a CLI `ask` is a new process every time), and a
changed document's new sentences simply get new keys. Nothing is ever stale, so nothing needs
invalidating; what a forget or reset removes goes with the derived folders
(`Settings.derived_dirs`), this one included.

A cache must never break an answer: a data directory that cannot be written (read-only, a full
disk, a damaged file) leaves the vectors computed in memory, as before, with one warning.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from advisor.service.private_db import private_db

log = logging.getLogger(__name__)

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL);
"""
# About 2.1 KB a sentence on disk (the dev corpus's 9,508: 19.8 MB), so about 210 MB at most:
# past this many, the oldest half goes (re-embedded if asked again).
MAX_ROWS = 100_000
_BATCH = 500  # keys per SELECT (under SQLite's limit on bound parameters)


def cache_path(data_dir: Path) -> Path:
    return data_dir / "sentences" / "vectors.sqlite"


class PersistentSentences(Embeddings):
    """The packaged MiniLM with its `embed_sentences` backed by a file of vectors; every other
    call (queries, documents, its name, dimension and token counts) goes to the model itself."""

    def __init__(self, model, path: Path) -> None:
        self.model = model
        self.path = path
        runtime = getattr(model, "runtime", "")
        variant = getattr(model, "variant", "")
        self._prefix = f"{model.name}|{runtime}|{variant}|sentences\0".encode()
        self._lock = threading.Lock()
        self._broken = False

    def __getattr__(self, name: str):
        return getattr(self.model, name)  # only reached for what this class does not define

    def embed_documents(self, texts: list[str], *args, **kwargs) -> list[list[float]]:
        return self.model.embed_documents(texts, *args, **kwargs)

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(self._prefix + text.encode("utf-8", "surrogatepass")).digest()[:20]

    def embed_sentences(self, texts: list[str]) -> list[list[float]]:
        """The model's sentence vectors, read from the file where it has them, and the new ones
        written to it."""
        unseen = [t for t in dict.fromkeys(texts) if not self.model.knows_sentence(t)]
        if unseen and not self._broken:
            self.model.remember_sentences(self._read(unseen))
            unseen = [t for t in unseen if not self.model.knows_sentence(t)]
        vectors = self.model.embed_sentences(texts)
        if unseen and not self._broken:
            by_text = dict(zip(texts, vectors, strict=True))
            self._write({t: by_text[t] for t in unseen})
        return vectors

    def _read(self, texts: list[str]) -> dict[str, list[float]]:
        if not self.path.exists():
            return {}
        keys = {self._key(t): t for t in texts}
        found: dict[str, list[float]] = {}
        try:
            with self._lock, private_db(self.path, SCHEMA) as conn:
                wanted = list(keys)
                for start in range(0, len(wanted), _BATCH):
                    part = wanted[start : start + _BATCH]
                    rows = conn.execute(
                        f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                        part,
                    ).fetchall()
                    for key, blob in rows:
                        found[keys[bytes(key)]] = np.frombuffer(blob, dtype=np.float32).tolist()
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._give_up(exc)
        return found

    def _write(self, vectors: dict[str, list[float]]) -> None:
        rows = [
            (self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()
        ]
        try:
            with self._lock, private_db(self.path, SCHEMA) as conn:
                conn.executemany("INSERT OR IGNORE INTO vectors (key, vector) VALUES (?, ?)", rows)
                (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM vectors").fetchone()
                if top > MAX_ROWS:
                    conn.execute("DELETE FROM vectors WHERE rowid <= ?", (top - MAX_ROWS // 2,))
        except (sqlite3.Error, OSError) as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        self._broken = True
        log.warning(
            "sentence vectors cannot be kept in %s (%s): they are computed in memory instead; "
            "free disk space or make the data directory writable, or delete the file",
            self.path,
            exc,
        )


def persistent_sentences(model, data_dir: Path):
    """`model` with its sentence vectors kept under `data_dir`, when it is the packaged MiniLM
    (a local model: the same text gives the same vector); any other model as it is."""
    if not hasattr(model, "remember_sentences"):
        return model
    return PersistentSentences(model, cache_path(data_dir))
