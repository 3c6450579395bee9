"""Conversation history: each user's chats per client, and each client's last memo and assessment.

Kept server-side in `<data dir>/conversations.sqlite` (0600), so a reload, a new tab or an app
restart finds them again. Every method takes the principal: a chat belongs to the user who started
it, under one scope (a client, or the playbooks), and is listed, opened, changed or deleted only by
that user, and only while the scope is one they may read. An id that exists but is not theirs gets
the same answer as one that does not exist (and the attempt is audited). `forget --client` and
`users remove` delete the matching chats; every deletion is audited.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from pydantic import BaseModel

from advisor.core.clients import client_name
from advisor.core.errors import InputError, NotFoundError
from advisor.core.principal import Principal
from advisor.core.sanitize import one_line
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.service.audit import AuditLog
from advisor.service.private_db import private_db

TITLE_CHARS = 60
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    scope TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chats_owner ON chats (owner, scope, updated_at);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_chat ON messages (chat_id, seq);
CREATE TABLE IF NOT EXISTS artifacts (
    owner TEXT NOT NULL,
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (owner, scope, kind)
);
"""


class Chat(BaseModel):
    id: str
    owner: str
    scope: str
    title: str
    created_at: float
    updated_at: float

    @property
    def client(self) -> str | None:
        return None if self.scope == PLAYBOOK_SCOPE else self.scope


class Message(BaseModel):
    id: str
    chat_id: str
    seq: int
    role: str
    body: dict[str, Any]
    created_at: float


def title_from(text: str) -> str:
    """A chat's title from its first question: one line, control characters out, shortened."""
    line = one_line(text or "")
    if len(line) <= TITLE_CHARS:
        return line or "New chat"
    return line[: TITLE_CHARS - 1].rstrip() + "…"


class ConversationStore:
    """Chats and their messages, per user and scope; the last memo and assessment per scope."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = settings.data_dir / "conversations.sqlite"
        self.audit = AuditLog(settings)

    def _db(self):
        return private_db(self.path, _SCHEMA)

    @staticmethod
    def scope(principal: Principal, client: str | None) -> str:
        """The scope a principal's chat lives in (a founder's is always their own client)."""
        client = principal.resolve_client(client_name(client) if client else None)
        return client or PLAYBOOK_SCOPE

    # -- chats --------------------------------------------------------------------------------

    def chats(self, principal: Principal, client: str | None, limit: int = 200) -> list[Chat]:
        """This user's chats under `client` (or the playbooks), the most recent first."""
        scope = self.scope(principal, client)
        with self._db() as db:
            rows = db.execute(
                "SELECT id, owner, scope, title, created_at, updated_at FROM chats "
                "WHERE owner = ? AND scope = ? ORDER BY updated_at DESC LIMIT ?",
                (principal.user, scope, limit),
            ).fetchall()
        return [Chat(**dict(zip(Chat.model_fields, r, strict=True))) for r in rows]

    def create(self, principal: Principal, client: str | None, title: str) -> Chat:
        scope = self.scope(principal, client)
        now = time.time()
        chat = Chat(
            id=secrets.token_urlsafe(12), owner=principal.user, scope=scope,
            title=title_from(title), created_at=now, updated_at=now,
        )  # fmt: skip
        with self._db() as db:
            db.execute(
                "INSERT INTO chats VALUES (?, ?, ?, ?, ?, ?)", tuple(chat.model_dump().values())
            )
        return chat

    def get(self, principal: Principal, chat_id: str) -> Chat:
        """One of this user's chats; NotFoundError for any other id, whoever's it is."""
        chat_id = str(chat_id or "")[:64]
        with self._db() as db:
            row = db.execute(
                "SELECT id, owner, scope, title, created_at, updated_at FROM chats WHERE id = ?",
                (chat_id,),
            ).fetchone()
        chat = Chat(**dict(zip(Chat.model_fields, row, strict=True))) if row else None
        if chat is None or chat.owner != principal.user or not principal.may_read_scope(chat.scope):
            if chat is not None:
                self.audit.record("chat_refused", principal, client=principal.client, chat=chat_id)
            raise NotFoundError(f"no chat {chat_id!r} of yours: it was deleted or never existed")
        return chat

    def rename(self, principal: Principal, chat_id: str, title: str) -> Chat:
        chat = self.get(principal, chat_id)
        title = title_from(title)
        if not title.strip():
            raise InputError("a chat needs a title")
        with self._db() as db:
            db.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat.id))
        return chat.model_copy(update={"title": title})

    def delete(self, principal: Principal, chat_id: str) -> None:
        chat = self.get(principal, chat_id)
        with self._db() as db:
            n = db.execute("SELECT COUNT(*) FROM messages WHERE chat_id = ?", (chat.id,)).fetchone()
            db.execute("DELETE FROM chats WHERE id = ?", (chat.id,))
        self.audit.record("chat_delete", principal, client=chat.client, chat=chat.id, messages=n[0])

    # -- messages -----------------------------------------------------------------------------

    def messages(self, principal: Principal, chat_id: str) -> list[Message]:
        chat = self.get(principal, chat_id)
        with self._db() as db:
            rows = db.execute(
                "SELECT id, chat_id, seq, role, body, created_at FROM messages "
                "WHERE chat_id = ? ORDER BY seq",
                (chat.id,),
            ).fetchall()
        return [
            Message(
                id=r[0], chat_id=r[1], seq=r[2], role=r[3], body=json.loads(r[4]), created_at=r[5]
            )
            for r in rows
        ]

    def append(self, principal: Principal, chat_id: str, role: str, body: dict) -> Message:
        chat = self.get(principal, chat_id)
        now = time.time()
        with self._db() as db:
            seq = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE chat_id = ?", (chat.id,)
            ).fetchone()[0]
            message = Message(
                id=secrets.token_hex(16), chat_id=chat.id, seq=seq, role=role, body=body,
                created_at=now,
            )  # fmt: skip
            db.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                (message.id, chat.id, seq, role, json.dumps(body), now),
            )
            db.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat.id))
        return message

    def update(self, principal: Principal, chat_id: str, message_id: str, body: dict) -> None:
        """Replace a message's body (an answer finished, a rating given)."""
        chat = self.get(principal, chat_id)
        with self._db() as db:
            db.execute(
                "UPDATE messages SET body = ? WHERE id = ? AND chat_id = ?",
                (json.dumps(body), message_id, chat.id),
            )

    def truncate(self, principal: Principal, chat_id: str, from_seq: int) -> None:
        """Drop the messages from `from_seq` on (regenerate, edit the last question)."""
        chat = self.get(principal, chat_id)
        with self._db() as db:
            db.execute("DELETE FROM messages WHERE chat_id = ? AND seq >= ?", (chat.id, from_seq))

    # -- memos and assessments ----------------------------------------------------------------

    def save_artifact(self, principal: Principal, client: str | None, kind: str, body: str) -> None:
        """Keep the latest memo or assessment of a scope (one of each per user and scope)."""
        scope = self.scope(principal, client)
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)",
                (principal.user, scope, kind, body, time.time()),
            )

    def artifact(self, principal: Principal, client: str | None, kind: str) -> str | None:
        scope = self.scope(principal, client)
        with self._db() as db:
            row = db.execute(
                "SELECT body FROM artifacts WHERE owner = ? AND scope = ? AND kind = ?",
                (principal.user, scope, kind),
            ).fetchone()
        return row[0] if row else None

    # -- forgetting ---------------------------------------------------------------------------

    def forget_client(self, client: str, actor: Principal) -> int:
        """Delete every user's chats, memos and assessments of one client; returns the chats."""
        return self._forget("scope = ?", client, actor, client=client, reason="client forgotten")

    def forget_user(self, user: Principal, actor: Principal) -> int:
        """Delete everything one account kept here (the account was removed)."""
        return self._forget(
            "owner = ?", user.user, actor, client=user.client, reason="account removed",
            account=user.user,
        )  # fmt: skip

    def _forget(self, where: str, value: str, actor: Principal, **detail) -> int:
        if not self.path.exists():
            return 0
        with self._db() as db:
            chats = db.execute(f"DELETE FROM chats WHERE {where}", (value,)).rowcount
            db.execute(f"DELETE FROM artifacts WHERE {where}", (value,))
        if chats:
            self.audit.record("chat_delete", actor, chats=chats, **detail)
        return chats
