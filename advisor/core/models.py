"""The domain's typed records: stored chunks, retrieved passages, citations and answers."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from advisor.core.settings import PLAYBOOK_SCOPE

# Chroma metadata values must be str/int/float/bool; these keys are the stored contract.
META_KEYS = (
    "source",  # path relative to the folder given to `ingest`
    "root",  # absolute folder the source is relative to
    "doc_id",  # stable id of (root, source)
    "title",
    "section",  # heading path, " > " separated
    "page",
    "slide",
    "scope",  # "playbook" or the client name
    "sha256",
    "chunk_index",
    "mtime",
    "file_type",
    "commit",  # repository chunks: the commit the text was read from or computed at
    "facts",  # repository chunks: structured facts (JSON) behind the text, for the assessment
)


class Chunk(BaseModel):
    """One piece of a document, as stored in the index."""

    id: str
    text: str
    source: str
    root: str
    doc_id: str
    title: str
    section: str = ""
    page: int | None = None
    slide: int | None = None
    scope: str = PLAYBOOK_SCOPE
    sha256: str
    chunk_index: int
    mtime: float
    file_type: str
    commit: str | None = None
    facts: str | None = None

    def context_text(self) -> str:
        """The text embedded and indexed: title and heading path give the body its context."""
        return context_text(self.title, self.section, self.text)

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for Chroma (None values are left out)."""
        data = self.model_dump(exclude={"id", "text"})
        return {k: v for k, v in data.items() if v is not None}


def context_text(title: str, section: str, text: str) -> str:
    """Heading context plus body, the one text form used for both dense and lexical search."""
    head = title
    if section and section != title:
        head = f"{title} > {section}" if title else section
    return f"{head}\n{text}" if head else text


class Passage(BaseModel):
    """A chunk returned by retrieval, with its scores."""

    id: str
    text: str
    source: str
    root: str = ""
    title: str = ""
    section: str = ""
    page: int | None = None
    slide: int | None = None
    scope: str = PLAYBOOK_SCOPE
    doc_id: str = ""
    chunk_index: int | None = None
    mtime: float | None = None  # the document's modification time when it was indexed
    commit: str | None = None  # a repository chunk's commit (full sha)
    facts: str | None = None  # a repository chunk's structured facts (JSON)
    score: float = 0.0
    dense_score: float | None = None

    @classmethod
    def from_store(cls, id: str, text: str, meta: dict[str, Any], **scores: Any) -> Passage:
        return cls(
            id=id,
            text=text,
            source=str(meta.get("source", "")),
            root=str(meta.get("root", "")),
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            page=meta.get("page"),
            slide=meta.get("slide"),
            scope=str(meta.get("scope", PLAYBOOK_SCOPE)),
            doc_id=str(meta.get("doc_id", "")),
            chunk_index=meta.get("chunk_index"),
            mtime=meta.get("mtime"),
            commit=meta.get("commit"),
            facts=meta.get("facts"),
            **scores,
        )

    def context_text(self) -> str:
        return context_text(self.title, self.section, self.text)


class Citation(BaseModel):
    """A numbered source behind an `[n]` marker in an answer."""

    n: int
    source: str
    title: str = ""
    section: str = ""
    page: int | None = None
    slide: int | None = None
    snippet: str = ""
    scope: str = PLAYBOOK_SCOPE
    score: float = 0.0
    modified: float | None = None  # the document's modification time (Unix seconds)
    commit: str | None = None  # for a repository source: the commit its text comes from
    root: str = Field("", exclude=True)

    def age_days(self, now: float | None = None) -> int | None:
        """Whole days since the document was last modified, when known."""
        if self.modified is None:
            return None
        return max(0, int(((now or time.time()) - self.modified) // 86400))


class Answer(BaseModel):
    """What `ask` returns: the text, how it was made, and the sources it cites."""

    answer: str
    abstained: bool = False
    mode: Literal["offline", "llm"] = "offline"
    citations: list[Citation] = Field(default_factory=list)
    # Passages retrieved for the question (in rank order); not part of the JSON contract.
    passages: list[Passage] = Field(default_factory=list, exclude=True)
    invented_markers: int = Field(0, exclude=True)
    standalone_question: str = Field("", exclude=True)
    warning: str | None = Field(None, exclude=True)
    # Cited documents of one client that disagree: "value [n] vs value [m]" lines.
    conflicts: list[str] = Field(default_factory=list)
    # Cited documents older than the configured age: "[n] source, N days old" lines.
    stale: list[str] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The `ask --json` contract."""
        return self.model_dump(
            include={"answer", "abstained", "mode", "citations", "conflicts", "stale"}
        )
