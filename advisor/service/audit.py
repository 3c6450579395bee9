"""Who saw or changed what: an append-only JSON-lines log in the data directory.

Written by the service layer (the facade and the account store), so the app, the CLI, the API and
MCP all get the same trail. It never holds a password or an API token: callers pass only the
fields below, and free text (a question, a memo topic) has anything shaped like a secret masked.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from advisor.core.settings import Settings

_LOCK = threading.Lock()
# Secrets people paste by mistake: API keys of the common vendors, our own tokens, JWTs, and
# "password: ..." phrases. Masked before anything reaches the log.
_SECRETS = re.compile(
    r"(?:\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|\bcta_[A-Za-z0-9_-]{16,}|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bxox[abpr]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|(?i:\b(?:password|passwd|pwd|secret|api[_ -]?key|token)\b\s*[:=]\s*\S+))"
)
MAX_TEXT = 500  # a question is kept to this many characters: enough to know what was asked


class AuditEvent(BaseModel):
    """One line of the audit log."""

    ts: float = Field(default_factory=time.time)
    event: str  # login, login_failed, logout, ask, memo, upload, download, delete, ...
    user: str
    role: str | None = None
    client: str | None = None  # the client the action was about (None: playbooks / none)
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def redact(text: str) -> str:
    """Free text as the log may keep it: secrets masked, length capped."""
    text = _SECRETS.sub("[redacted]", text or "")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class AuditLog:
    """Append-only JSONL at `<data_dir>/audit.jsonl`."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "audit.jsonl"

    def record(
        self,
        event: str,
        principal=None,
        *,
        user: str | None = None,
        client: str | None = None,
        **detail: Any,
    ) -> AuditEvent:
        """Append one event, by `principal` (or a bare `user`, e.g. a failed login)."""
        entry = AuditEvent(
            event=event,
            user=user or (principal.user if principal is not None else "unknown"),
            role=principal.role if principal is not None else None,
            client=client,
            detail=detail,
        )
        line = (entry.model_dump_json() + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            # O_APPEND: one write per line, so concurrent writers (app, API, CLI) never interleave.
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # after a crash mid-line, start on a fresh line
                os.write(fd, line)
            finally:
                os.close(fd)
        return entry

    def events(
        self,
        client: str | None = None,
        user: str | None = None,
        since: date | datetime | None = None,
    ) -> list[AuditEvent]:
        """The events in write order, optionally one client's, one user's, or since a date."""
        if not self.path.exists():
            return []
        if isinstance(since, datetime):
            cutoff = since.timestamp()
        elif isinstance(since, date):
            cutoff = datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp()
        else:
            cutoff = None
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                entry = AuditEvent.model_validate_json(line)
            except ValueError:
                continue  # a torn line after a crash must not hide the rest
            if client and (entry.client or "").casefold() != client.casefold():
                continue
            who = {entry.user.casefold(), str(entry.detail.get("account", "")).casefold()}
            if user and user.casefold() not in who:  # what they did, and what was done to them
                continue
            if cutoff is not None and entry.ts < cutoff:
                continue
            out.append(entry)
        return out


def as_json_lines(events: Iterable[AuditEvent]) -> list[str]:
    return [json.dumps(e.model_dump(), ensure_ascii=False) for e in events]
