"""Who saw or changed what: a tamper-evident JSON-lines log in the data directory.

Written by the service layer (the facade and the account store), so the app, the CLI, the API and
MCP all get the same trail.

- **Masked:** every text field of every event goes through the one secret masker
  (`ingest.redact.mask`, detect-secrets' detectors plus API tokens) and is capped in length, so a
  key pasted into a question, a comment or any other field is never written. A failed sign-in
  with an email that has no account records no typed text at all (people type passwords into the
  Email field).
- **Chained:** each line carries `seq`, the previous line's hash (`prev`) and its own `hash`
  (SHA-256 over `prev` and the line's canonical JSON). Editing, removing, inserting or reordering
  a line breaks the chain from there on: `cto-advisor audit verify` says where. Lines are
  appended under a file lock, so the app, the API and the CLI can write at once.
- **Forgettable:** what an event says about a client (questions, topics, file names, sources) is
  sealed with that client's own key (AES-GCM, in `audit-keys.sqlite`). `forget` destroys the key:
  the events stay, chained and verifiable, but nothing of the client's text can be read again.
  The forgetting itself is recorded, in clear.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from advisor.core.sanitize import json_text
from advisor.core.settings import Settings

_LOCK = threading.Lock()
MAX_TEXT = 500  # a question is kept to this many characters: enough to know what was asked
GENESIS = "0" * 64
CLEAR_KEYS = ("account",)  # who an account event was about stays readable after a forget
FORGOTTEN = {"forgotten": "this client was forgotten: the event's details were destroyed"}


class AuditEvent(BaseModel):
    """One line of the audit log."""

    ts: float = Field(default_factory=time.time)
    event: str  # login, login_failed, logout, ask, memo, upload, download, delete, ...
    user: str
    role: str | None = None
    client: str | None = None  # the client the action was about (None: playbooks / none)
    detail: dict[str, Any] = Field(default_factory=dict)
    sealed: str | None = None  # the client's part of `detail`, encrypted with its key
    seq: int = 0
    prev: str = GENESIS
    hash: str = ""

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.ts, UTC).strftime("%Y-%m-%d %H:%M:%S")

    def digest(self) -> str:
        body = self.model_dump(exclude={"hash"})
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(f"{self.prev}\n{canonical}".encode()).hexdigest()


def redact(text: Any) -> str:
    """Free text as the log may keep it: secrets masked, length capped."""
    from ingest.redact import mask

    text = mask(str(text or ""))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


class ClientKeys:
    """One random AES-256 key per client; `destroy` makes that client's sealed text unreadable.
    SQLite's secure_delete overwrites a destroyed key inside the file."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "audit-keys.sqlite"

    def _db(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA secure_delete = ON")
        db.execute("CREATE TABLE IF NOT EXISTS keys (client TEXT PRIMARY KEY, key BLOB NOT NULL)")
        return db

    def get(self, client: str, create: bool = False) -> bytes | None:
        with self._db() as db:
            row = db.execute("SELECT key FROM keys WHERE client = ?", (client,)).fetchone()
            if row is None and create:
                db.execute(
                    "INSERT OR IGNORE INTO keys (client, key) VALUES (?, ?)",
                    (client, secrets.token_bytes(32)),
                )
                row = db.execute("SELECT key FROM keys WHERE client = ?", (client,)).fetchone()
        return row[0] if row else None

    def destroy(self, client: str) -> bool:
        with self._db() as db:
            gone = db.execute("DELETE FROM keys WHERE client = ?", (client,)).rowcount
        if gone:
            with sqlite3.connect(self.path) as db:
                db.execute("VACUUM")  # no page of the old file keeps the key
        return bool(gone)


def _aad(entry: AuditEvent) -> bytes:
    return f"{entry.ts}|{entry.event}|{entry.user}|{entry.client}".encode()


class AuditLog:
    """The chained, append-only JSONL at `<data_dir>/audit.jsonl`."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "audit.jsonl"
        self.keys = ClientKeys(settings)

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
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        detail = _masked(detail)
        entry = AuditEvent(
            event=event,
            user=redact(user or (principal.user if principal is not None else "unknown")),
            role=principal.role if principal is not None else None,
            client=client,
            detail=detail,
        )
        if client and event != "forget":
            private = {k: v for k, v in detail.items() if k not in CLEAR_KEYS}
            if private:
                nonce = secrets.token_bytes(12)
                data = json.dumps(private, ensure_ascii=False).encode()
                key = self.keys.get(client, create=True)
                sealed = nonce + AESGCM(key).encrypt(nonce, data, _aad(entry))
                entry.sealed = base64.b64encode(sealed).decode()
                entry.detail = {k: v for k, v in detail.items() if k in CLEAR_KEYS}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # other processes append to the same chain
                last, torn = _last_line(fd)
                if last is not None:
                    entry.seq, entry.prev = last.seq + 1, last.hash
                entry.hash = entry.digest()
                line = (json_text(entry.model_dump()) + "\n").encode("utf-8")
                if torn:
                    line = b"\n" + line  # after a crash mid-line, start on a fresh line
                os.write(fd, line)
            finally:
                os.close(fd)
        return entry

    def forget_client(self, principal, client: str, **counts: Any) -> AuditEvent:
        """Destroy the client's key (its sealed text can never be read again), and say so."""
        destroyed = self.keys.destroy(client)
        return self.record("forget", principal, client=client, key_destroyed=destroyed, **counts)

    def _read(self) -> Iterable[tuple[int, str, AuditEvent | None]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, line, AuditEvent.model_validate_json(line)
                except ValueError:
                    yield number, line, None

    def _open(self, entry: AuditEvent) -> AuditEvent:
        """The event with its sealed part decrypted (or marked forgotten)."""
        if not entry.sealed or not entry.client:
            return entry
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self.keys.get(entry.client)
        opened = dict(FORGOTTEN)
        if key is not None:
            raw = base64.b64decode(entry.sealed)
            try:
                opened = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], _aad(entry)))
            except (InvalidTag, ValueError):
                opened = {"unreadable": "the sealed details do not match this event"}
        return entry.model_copy(update={"detail": {**entry.detail, **opened}})

    def events(
        self,
        client: str | None = None,
        user: str | None = None,
        since: date | datetime | None = None,
    ) -> list[AuditEvent]:
        """The events in write order, optionally one client's, one user's, or since a date."""
        if isinstance(since, datetime):
            cutoff = since.timestamp()
        elif isinstance(since, date):
            cutoff = datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp()
        else:
            cutoff = None
        out = []
        for _, _, entry in self._read():
            if entry is None:
                continue  # a torn line after a crash must not hide the rest
            if client and (entry.client or "").casefold() != client.casefold():
                continue
            who = {entry.user.casefold(), str(entry.detail.get("account", "")).casefold()}
            if user and user.casefold() not in who:  # what they did, and what was done to them
                continue
            if cutoff is not None and entry.ts < cutoff:
                continue
            out.append(self._open(entry))
        return out

    def verify(self) -> tuple[int, list[str]]:
        """(events checked, problems): every line must hash to itself and chain to the one
        before it. A line cut short by a crash is reported too."""
        problems: list[str] = []
        prev, seq, count = GENESIS, -1, 0
        for number, _, entry in self._read():
            if entry is None:
                problems.append(
                    f"line {number}: not a complete event (a crash while writing, or an edit)"
                )
                continue
            count += 1
            if entry.digest() != entry.hash:
                problems.append(f"line {number} (event {entry.seq}): changed after it was written")
            if entry.prev != prev or entry.seq != seq + 1:
                problems.append(
                    f"line {number} (event {entry.seq}): does not follow event {seq} "
                    "(a line before it was removed, inserted or moved)"
                )
            prev, seq = entry.hash, entry.seq
        return count, problems

    def head(self) -> str:
        """The hash of the last event: note it elsewhere to detect a truncated log later."""
        last = GENESIS
        for _, _, entry in self._read():
            if entry is not None:
                last = entry.hash
        return last


def _last_line(fd: int) -> tuple[AuditEvent | None, bool]:
    """The last complete event in the file, and whether the file ends in a torn line."""
    size = os.fstat(fd).st_size
    if not size:
        return None, False
    torn = os.pread(fd, 1, size - 1) != b"\n"
    chunk, start = b"", size
    while start > 0:
        step = min(65536, start)
        start -= step
        chunk = os.pread(fd, step, start) + chunk
        lines = chunk.split(b"\n")
        for raw in reversed(lines[1:] if start else lines):
            if raw.strip():
                try:
                    return AuditEvent.model_validate_json(raw), torn
                except ValueError:
                    continue
    return None, torn


def as_json_lines(events: Iterable[AuditEvent]) -> list[str]:
    return [json_text(e.model_dump(exclude={"sealed"})) for e in events]
