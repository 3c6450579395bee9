"""App sessions that survive a reload, and the rule that keeps the app closed once accounts exist.

A session is a random 256-bit id. The browser holds it in a signed cookie (set by the app's own
HTTP route, HttpOnly and SameSite=Strict); the server holds only its SHA-256 in
`<data dir>/sessions.sqlite` (0600), with who it belongs to and when it ends. Every page run looks
the session up and reads the account afresh, so signing out, `users remove`, a password change and
`forget --client` end it at once, in every open tab. Sessions slide: each use extends one by
`session_minutes`, never past `session_max_days` after sign-in.

Once an account has existed in a data directory, the app never falls back to single-user mode:
`<data dir>/accounts.required` records it, and a running process remembers it too, so losing or
emptying accounts.sqlite (a bad restore, a sync conflict, a mistake) shows nothing instead of
every client to whoever reaches the page, whatever address the app is bound to.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from pathlib import Path

from itsdangerous import BadSignature, TimestampSigner

from advisor.core.errors import AccessError, ConfigError, InputError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore, secret_hash
from advisor.service.audit import AuditLog
from advisor.service.private_db import private_db

SESSION_PREFIX = "cts_"
COOKIE_NAME = "advisor_session"
REQUIRED_MARKER = "accounts.required"
TOUCH_EVERY = 60.0  # seconds between writes of a session's last use (reads happen every run)
ENDED = "your session has ended: sign in again"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    client TEXT,
    via TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires_at REAL NOT NULL,
    ends_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_email ON sessions (email);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Data directories in which this process has seen accounts: it stays closed there until restart.
_SEEN_ACCOUNTS: set[str] = set()


class SessionStore:
    """Server-side app sessions: start, look up (sliding), end one, a user's or a client's."""

    def __init__(self, settings: Settings, accounts: AccountStore | None = None) -> None:
        self.settings = settings
        self.path: Path = settings.data_dir / "sessions.sqlite"
        self.accounts = accounts or AccountStore(settings)
        self.audit = AuditLog(settings)

    @property
    def idle_seconds(self) -> float:
        return self.settings.session_minutes * 60

    @property
    def max_seconds(self) -> float:
        return self.settings.session_max_days * 86400

    def _db(self):
        return private_db(self.path, _SCHEMA)

    def start(self, email: str, via: str = "password") -> str:
        """A new session for an existing account; returns its id (shown to nobody but the cookie)."""
        user = self.accounts.get_user(email)
        session_id = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ? OR ends_at < ?", (now, now))
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    secret_hash(session_id), user.email, user.client, via, now, now,
                    min(now + self.idle_seconds, now + self.max_seconds), now + self.max_seconds,
                ),
            )  # fmt: skip
        return session_id

    def principal(self, session_id: str | None, use: bool = True) -> Principal:
        """Who a session belongs to, read from the account now; AccessError once it has ended.
        `use=False` only checks (a tab watching whether it may still show its page must not keep
        an unattended session alive)."""
        if not session_id or not str(session_id).startswith(SESSION_PREFIX):
            raise AccessError("sign in to continue")
        now = time.time()
        with self._db() as db:
            row = db.execute(
                "SELECT email, client, last_seen, expires_at, ends_at FROM sessions "
                "WHERE id_hash = ?",
                (secret_hash(session_id),),
            ).fetchone()
        if row is None:
            raise AccessError(ENDED)
        email, client, last_seen, expires_at, ends_at = row
        if min(expires_at, ends_at) <= now:
            self.end(session_id, reason="expired")
            raise AccessError("your session expired: sign in again")
        try:
            user = self.accounts.get_user(email)
        except (ConfigError, InputError):
            self.end(session_id, reason="account removed")
            raise AccessError(ENDED) from None
        if user.client != client:  # the account was re-created for another client
            self.end(session_id, reason="account changed")
            raise AccessError(ENDED)
        if use and now - last_seen >= TOUCH_EVERY:
            with self._db() as db:
                db.execute(
                    "UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id_hash = ?",
                    (now, min(now + self.idle_seconds, ends_at), secret_hash(session_id)),
                )
        return user.principal

    def remaining(self, session_id: str) -> float:
        """Seconds until the session ends if unused (0 when it is gone): the cookie's Max-Age."""
        with self._db() as db:
            row = db.execute(
                "SELECT expires_at, ends_at FROM sessions WHERE id_hash = ?",
                (secret_hash(session_id),),
            ).fetchone()
        return max(0.0, min(row) - time.time()) if row else 0.0

    def end(self, session_id: str | None, reason: str = "logout") -> None:
        """End one session (sign-out, expiry); an unknown one is ignored."""
        if not session_id:
            return
        with self._db() as db:
            row = db.execute(
                "SELECT email FROM sessions WHERE id_hash = ?", (secret_hash(session_id),)
            ).fetchone()
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (secret_hash(session_id),))
        if row is not None:
            self._audit_end([row[0]], reason)

    def end_user(self, email: str, reason: str) -> int:
        """End every session of one account (removed, new password); returns how many."""
        with self._db() as db:
            n = db.execute("DELETE FROM sessions WHERE email = ?", (email,)).rowcount
        if n:
            self._audit_end([email] * n, reason)
        return n

    def end_client(self, client: str, reason: str) -> int:
        """End every session of a client's founders (the client was forgotten)."""
        with self._db() as db:
            emails = [
                r[0] for r in db.execute("SELECT email FROM sessions WHERE client = ?", (client,))
            ]
            db.execute("DELETE FROM sessions WHERE client = ?", (client,))
        self._audit_end(emails, reason)
        return len(emails)

    def _audit_end(self, emails: list[str], reason: str) -> None:
        for email in emails:
            try:
                who = self.accounts.get_user(email).principal
            except (ConfigError, InputError):
                who = Principal(user=email, role="founder")
            self.audit.record("logout", who, client=who.client, reason=reason)

    # -- the browser's copy ---------------------------------------------------------------------

    def _signer(self) -> TimestampSigner:
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('cookie_key', ?)", (secrets.token_hex(32),)
            )
            key = db.execute("SELECT value FROM meta WHERE key = 'cookie_key'").fetchone()[0]
        return TimestampSigner(key, salt="cto-advisor-session")

    def cookie_value(self, session_id: str) -> str:
        """The signed, time-stamped cookie value carrying a session id."""
        return self._signer().sign(session_id).decode()

    def from_cookie(self, value: str | None) -> str | None:
        """The session id in a cookie, if this installation signed it within the session's life."""
        if not value:
            return None
        try:
            session_id = self._signer().unsign(value, max_age=self.max_seconds).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        return session_id if session_id.startswith(SESSION_PREFIX) else None


# -- the app's sign-in rule ---------------------------------------------------------------------


def mark_accounts_required(settings: Settings) -> None:
    """Record that this data directory has accounts: from now on the app always asks to sign in."""
    marker = settings.data_dir / REQUIRED_MARKER
    _SEEN_ACCOUNTS.add(str(settings.data_dir.resolve()))
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(
            "Accounts were created for this data directory, so the app requires a sign-in and "
            "never falls back to single-user mode, even if accounts.sqlite goes missing.\n"
            "To return to single-user mode on purpose: cto-advisor users single-user\n"
        )


def sign_in_required(settings: Settings, accounts: AccountStore | None = None) -> bool:
    """Whether the app must ask who is there: accounts exist, existed here, or the setting says so.

    Raises ConfigError when sign-in is required but the account store cannot be read (missing,
    emptied, corrupt): nobody could sign in, and nothing may be shown instead.
    """
    accounts = accounts or AccountStore(settings)
    try:
        present = accounts.exists()
    except sqlite3.DatabaseError:
        present = False
    if present:
        mark_accounts_required(settings)
        return True
    required = (
        settings.require_accounts
        or str(settings.data_dir.resolve()) in _SEEN_ACCOUNTS
        or (settings.data_dir / REQUIRED_MARKER).exists()
    )
    if required:
        raise ConfigError(
            f"sign-in is required here, but the account store {accounts.path} is missing, empty "
            "or unreadable, so nobody can sign in and nothing is shown. Restore accounts.sqlite "
            "from a backup, or add an account: `cto-advisor users add you@example.com --role "
            "cto`. To run single-user on purpose, `cto-advisor users single-user` (then restart "
            "the app)."
        )
    return False


def allow_single_user(settings: Settings, accounts: AccountStore | None = None) -> None:
    """Go back to single-user mode on purpose (refused while accounts exist)."""
    accounts = accounts or AccountStore(settings)
    if accounts.exists():
        raise ConfigError(
            "accounts still exist: remove them first (`cto-advisor users list`, then "
            "`cto-advisor users remove EMAIL`)"
        )
    if settings.require_accounts:
        raise ConfigError("ADVISOR_REQUIRE_ACCOUNTS is set: unset it to allow single-user mode")
    (settings.data_dir / REQUIRED_MARKER).unlink(missing_ok=True)
    _SEEN_ACCOUNTS.discard(str(settings.data_dir.resolve()))
    AuditLog(settings).record("single_user_mode", Principal.local())
