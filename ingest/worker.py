"""The unit of parallel work: parse one file, redact its secrets and chunk it (in a worker)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

from advisor.core.errors import IngestError
from ingest.chunking import Chunker, Draft
from ingest.parse import ParsedDoc, parse_file, patch_spacy
from ingest.redact import redact
from ingest.tokens import TokenCounter

# Titles and headings head every chunk and reach prompts: they are document text, so bounded.
MAX_HEADING_CHARS = 200


@dataclass
class ParseOutcome:
    """A parsed and chunked file, or the reason it could not be read."""

    title: str = ""
    drafts: list[Draft] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paging: str | None = None
    error: str | None = None
    seconds: float = 0.0
    redactions: int = 0


def init_worker() -> None:
    """Run once per worker process: offline environment and the packaged spaCy model."""
    from advisor.core.runtime import configure_offline

    configure_offline()
    patch_spacy()


@lru_cache(maxsize=4)
def _chunker(embedding_model: str, budget: int, max_chars: int) -> Chunker:
    tokens = TokenCounter(embedding_model).count
    # A word piece tokenizer counts a 200 KB base64 blob as one [UNK] token: a chunk's size is
    # the larger of its tokens and its characters scaled to the budget, so both caps hold.
    per_token = max_chars / budget

    def count(text: str) -> int:
        by_chars = -int(-len(text) // per_token)
        # Over the character cap it is over budget whatever the tokens: skip the tokenizer,
        # which is slow on long unbroken strings (3 ms per 2,000 characters of base64).
        return by_chars if len(text) > max_chars else max(tokens(text), by_chars)

    return Chunker(budget, count, max_chars=max_chars)


def _bounded(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_HEADING_CHARS else text[: MAX_HEADING_CHARS - 1] + "…"


def redact_doc(doc: ParsedDoc) -> int:
    """Replace secrets in every text of `doc` (title, blocks, table cells); returns how many."""
    total = 0
    doc.title, n = redact(doc.title)
    total += n
    doc.title = _bounded(doc.title)
    for block in doc.blocks:
        block.text, n = redact(block.text)
        total += n
        if block.kind == "title":
            block.text = _bounded(block.text)
        for row in block.rows or []:
            for i, cell in enumerate(row):
                row[i], n = redact(cell)
                total += n
    return total


def parse_and_chunk(
    path: str, kind: str, embedding_model: str, budget: int, max_chars: int = 2000
) -> ParseOutcome:
    """Parse `path` as `kind`, redact secrets, cut it into drafts within `budget` and `max_chars`."""
    started = time.perf_counter()
    try:
        doc = parse_file(path, kind)
        redactions = redact_doc(doc)
        drafts = _chunker(embedding_model, budget, max_chars).chunk(doc)
    except IngestError as exc:
        return ParseOutcome(error=str(exc), seconds=time.perf_counter() - started)
    notes = list(doc.notes)
    if redactions:
        notes.append(f"{redactions} secret(s) redacted")
    return ParseOutcome(
        title=doc.title,
        drafts=drafts,
        notes=notes,
        paging=doc.paging,
        seconds=time.perf_counter() - started,
        redactions=redactions,
    )
