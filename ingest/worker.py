"""The unit of parallel work: parse one file and chunk it (runs in a worker process)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

from advisor.core.errors import IngestError
from ingest.chunking import Chunker, Draft
from ingest.parse import parse_file, patch_spacy
from ingest.tokens import TokenCounter


@dataclass
class ParseOutcome:
    """A parsed and chunked file, or the reason it could not be read."""

    title: str = ""
    drafts: list[Draft] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paging: str | None = None
    error: str | None = None
    seconds: float = 0.0


def init_worker() -> None:
    """Run once per worker process: offline environment and the packaged spaCy model."""
    from advisor.core.runtime import configure_offline

    configure_offline()
    patch_spacy()


@lru_cache(maxsize=4)
def _chunker(embedding_model: str, budget: int) -> Chunker:
    return Chunker(budget, TokenCounter(embedding_model).count)


def parse_and_chunk(path: str, kind: str, embedding_model: str, budget: int) -> ParseOutcome:
    """Parse `path` as `kind` and cut it into drafts of at most `budget` model tokens."""
    started = time.perf_counter()
    try:
        doc = parse_file(path, kind)
        drafts = _chunker(embedding_model, budget).chunk(doc)
    except IngestError as exc:
        return ParseOutcome(error=str(exc), seconds=time.perf_counter() - started)
    return ParseOutcome(
        title=doc.title,
        drafts=drafts,
        notes=doc.notes,
        paging=doc.paging,
        seconds=time.perf_counter() - started,
    )
