"""Thumbs up/down on answers, kept in a JSONL file, and thumbs-down turned into eval cases."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from advisor.core.settings import Settings

_LOCK = threading.Lock()
_FILE_LIKE = re.compile(r"[\w./-]+\.(?:md|markdown|txt|pdf|docx|pptx|xlsx|csv|html?)\b", re.I)
# What each eval category covers, in one line: an exported question gets the category whose line
# its embedding is nearest to (a guess; the export's notes ask for it to be checked).
CATEGORIES = {
    "staffing": "Hiring, interviewing, team size, roles, contractors and managing engineers.",
    "stack": "Choosing technology: languages, frameworks, databases, cloud hosting, architecture.",
    "process": "How engineering works: code review, releases, on-call, incidents and planning.",
}


class AnswerLedger:
    """Which user was given which answer (id, user, client; no text): a rating is accepted only
    from the user the answer was given to."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "answers.sqlite"

    def _db(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA secure_delete = ON")
        db.execute(
            "CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, user TEXT NOT NULL, "
            "client TEXT, ts REAL NOT NULL)"
        )
        return db

    def add(self, answer_id: str, user: str, client: str | None) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (id, user, client, ts) VALUES (?, ?, ?, ?)",
                (answer_id, user, client, time.time()),
            )

    def owner(self, answer_id: str) -> tuple[str, str | None] | None:
        with self._db() as db:
            row = db.execute(
                "SELECT user, client FROM answers WHERE id = ?", (answer_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def forget(self, client: str) -> int:
        with self._db() as db:
            return db.execute("DELETE FROM answers WHERE client = ?", (client,)).rowcount


class FeedbackRecord(BaseModel):
    """One user's rating of one answer; a later record by the same user for the same answer
    replaces an earlier one."""

    answer_id: str
    user: str = ""  # who rated (set by the service from the principal, never by the caller)
    rating: Literal["up", "down"]
    comment: str = ""
    question: str
    history: list[dict[str, str]] = Field(default_factory=list)
    client: str | None = None
    answer: str = ""
    abstained: bool = False
    mode: str = "offline"
    sources: list[str] = Field(default_factory=list)
    ts: float = Field(default_factory=time.time)


class FeedbackStore:
    """Append-only JSONL under ADVISOR_DATA_DIR: survives restarts, easy to read and diff."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "feedback.jsonl"

    def record(self, rec: FeedbackRecord) -> FeedbackRecord:
        """Append a rating (appending keeps history; `latest` resolves changes of mind)."""
        from ingest.redact import mask

        rec = rec.model_copy(
            update={
                "question": mask(rec.question),
                "comment": mask(rec.comment),
                "answer": mask(rec.answer),
                "history": [{**m, "content": mask(m.get("content", ""))} for m in rec.history],
            }
        )  # the one secret masker, as for the audit log
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = rec.model_dump_json() + "\n"
        with _LOCK:
            # After a crash mid-line, start on a fresh line so this record is not glued to it.
            if self.path.exists() and self.path.stat().st_size:
                with open(self.path, "rb") as fh:
                    fh.seek(-1, 2)
                    if fh.read(1) != b"\n":
                        line = "\n" + line
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
        return rec

    def forget(self, client: str) -> int:
        """Remove every record about `client` (rewritten atomically); returns how many."""
        if not self.path.exists():
            return 0
        with _LOCK:
            kept, dropped = [], 0
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    mine = FeedbackRecord.model_validate_json(line).client == client
                except ValueError:  # a half-written line: drop it if it may be theirs
                    mine = client in line
                if mine:
                    dropped += 1
                elif line.strip():
                    kept.append(line + "\n")
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(kept), encoding="utf-8")
            tmp.replace(self.path)
        return dropped

    def all(self) -> list[FeedbackRecord]:
        """Every stored record in write order; unreadable lines are skipped, not fatal."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                out.append(FeedbackRecord.model_validate_json(line))
            except ValueError:
                continue  # a half-written line from a crash must not hide the rest
        return out

    def latest(self) -> dict[tuple[str, str], FeedbackRecord]:
        """The current rating of each (user, answer) (the user's last record wins)."""
        return {(rec.user, rec.answer_id): rec for rec in self.all()}

    def thumbs_down(self) -> list[FeedbackRecord]:
        """Answers whose current rating is thumbs down, oldest first."""
        return [rec for rec in self.latest().values() if rec.rating == "down"]


def category_guesser(embeddings) -> Callable[[str], str]:
    """`guess(question)`: the eval category a question most likely belongs to, the nearest
    `CATEGORIES` line by the index's own embeddings (cosine); the lines are embedded once."""
    import numpy as np

    lines = np.asarray(embeddings.embed_documents(list(CATEGORIES.values())), dtype=float)
    lines /= np.linalg.norm(lines, axis=1, keepdims=True)

    def guess(question: str) -> str:
        q = np.asarray(embeddings.embed_query(question), dtype=float)
        return list(CATEGORIES)[int(np.argmax(lines @ (q / np.linalg.norm(q))))]

    return guess


def guess_category(question: str, embeddings) -> str:
    """One question's category (`category_guesser`, for a single call)."""
    return category_guesser(embeddings)(question)


def to_eval_case(rec: FeedbackRecord, guess: Callable[[str], str]) -> dict[str, Any]:
    """A thumbs-down answer as an eval item (dataset format), with what is unknown flagged;
    `guess` is a `category_guesser`."""
    turns = [m["content"] for m in rec.history if m.get("role") == "user"] + [rec.question]
    gold = list(dict.fromkeys(_FILE_LIKE.findall(rec.comment)))
    when = datetime.fromtimestamp(rec.ts, UTC).strftime("%Y-%m-%d")
    notes = [f"From thumbs-down feedback on {when}."]
    if rec.comment.strip():
        notes.append(f"Comment: {rec.comment.strip()}")
    notes.append(
        f"The answer ({rec.mode}{', abstained' if rec.abstained else ''}) cited: "
        f"{', '.join(rec.sources) or 'nothing'}."
    )
    if not gold:
        notes.append("TODO: fill gold_sources with the document(s) that answer this.")
    notes.append("TODO: add must_include key facts; check category and answerable.")
    case: dict[str, Any] = {"id": f"fb-{rec.answer_id[:12]}"}
    if len(turns) > 1:
        case["turns"] = turns
    else:
        case["question"] = rec.question
    case.update(
        client=rec.client,
        category=guess(" ".join(turns)),
        answerable=True,
        gold_sources=gold,
        must_include=[],
        must_not_include=[],
        notes=" ".join(notes),
    )
    return case


def export_eval_cases(records: Iterable[FeedbackRecord], embeddings) -> list[str]:
    """JSONL lines, one eval case per thumbs-down record."""
    guess = category_guesser(embeddings)
    return [json.dumps(to_eval_case(rec, guess), ensure_ascii=False) for rec in records]


def write_eval_cases(
    settings: Settings, embeddings, out: Path | None = None
) -> tuple[list[str], Path | None]:
    """Export the current thumbs-down answers; write them to `out` when given."""
    lines = export_eval_cases(FeedbackStore(settings).thumbs_down(), embeddings)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return lines, out
