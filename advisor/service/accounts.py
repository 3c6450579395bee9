"""Accounts, logins and API tokens: a small SQLite database in the data directory.

App sessions live beside it (`advisor/service/sessions.py`). Passwords are hashed with argon2
(argon2-cffi) and never stored or logged in clear. API tokens are random 256-bit secrets; only
their SHA-256 is stored (a token is not guessable, so a fast hash is enough and keeps every
request cheap). `login` is the one place a password is
checked (app, API, anything else): wrong passwords slow the account down, then lock it for a
while. Logins and account changes go to the audit log.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from advisor.core.clients import client_name
from advisor.core.errors import AccessError, ConfigError, InputError
from advisor.core.principal import Principal, Role
from advisor.core.runtime import secure_data_dir
from advisor.core.settings import Settings
from advisor.service.audit import AuditLog

TOKEN_PREFIX = "cta_"
WRONG_LOGIN = "wrong email or password"
# Failed sign-ins are throttled per (email, source), per source and per email (OWASP ASVS V2.2):
# after SLOW_AFTER failures each new attempt waits 1 s, 2 s, 4 s, ... For one email from one
# source, `login_max_failures` failures mean a wait of `login_lock_minutes`. From all sources
# together an email only ever waits ACCOUNT_MAX_WAIT s (at most 100 guesses an hour), and not at
# all from a source it has signed in from before: a stranger cannot lock its owner out. The same
# rules apply to emails with no account, so the answers never tell which accounts exist.
SLOW_AFTER = 2
ACCOUNT_SLOW_AFTER = 10
ACCOUNT_MAX_WAIT = 36.0
SOURCE_SLOW_AFTER = 20
KNOWN_SOURCE_DAYS = 30
FORGET_AFTER = 24 * 3600  # a counter untouched this long starts again from zero
_HASHER = PasswordHasher()
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    email TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('cto', 'founder')),
    client TEXT,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS login_attempts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    next_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_sources (
    email TEXT NOT NULL,
    source TEXT NOT NULL,
    last_ok REAL NOT NULL,
    PRIMARY KEY (email, source)
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_used REAL,
    revoked_at REAL
);
"""


@dataclass(frozen=True)
class User:
    email: str
    role: Role
    client: str | None
    created_at: float

    @property
    def principal(self) -> Principal:
        return Principal(user=self.email, role=self.role, client=self.client)


@dataclass(frozen=True)
class TokenInfo:
    id: str
    email: str
    name: str
    created_at: float
    last_used: float | None
    revoked: bool


def normalize_email(email: str) -> str:
    """One account per address, whatever its case; refuses what is not an address."""
    email = (email or "").strip().casefold()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise InputError(f"{email!r} is not an email address: use name@example.com")
    return email


def secret_hash(secret: str) -> str:
    """How a bearer secret (an API token, a session id) is stored: its SHA-256, never itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountStore:
    """Users (email, role, client, password hash) and their API tokens."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path: Path = settings.data_dir / "accounts.sqlite"
        secure_data_dir(settings.data_dir)
        self.audit = AuditLog(settings)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def exists(self) -> bool:
        """True when at least one account exists (then the app requires a login)."""
        if not self.path.exists():
            return False
        with self._db() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    # -- users --------------------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        role: Role,
        client: str | None,
        password: str,
        actor: Principal | None = None,
    ) -> User:
        """Create an account; a founder is bound to exactly one client, a CTO to none."""
        email = normalize_email(email)
        if role not in ("cto", "founder"):
            raise InputError(f"role must be cto or founder, not {role!r}")
        if role == "founder" and not client:
            raise InputError("a founder belongs to one client: add --client NAME")
        if role == "cto" and client:
            raise InputError("a CTO sees every client: leave out --client")
        client = client_name(client) if client else None
        _check_password(password)
        with self._db() as db:
            try:
                db.execute(
                    "INSERT INTO users (email, role, client, password_hash, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (email, role, client, _HASHER.hash(password), time.time()),
                )
            except sqlite3.IntegrityError as exc:
                raise ConfigError(
                    f"{email} already has an account: use `cto-advisor users set-password` "
                    "or remove it first"
                ) from exc
        from advisor.service.sessions import mark_accounts_required

        mark_accounts_required(self.settings)  # from now on the app never runs without sign-in
        self.audit.record(
            "account_add",
            actor or Principal.local(),
            client=client,
            account=email,
            account_role=role,
        )
        return self.get_user(email)

    def get_user(self, email: str) -> User:
        email = normalize_email(email)
        with self._db() as db:
            row = db.execute(
                "SELECT email, role, client, created_at FROM users WHERE email = ?", (email,)
            ).fetchone()
        if row is None:
            raise ConfigError(f"no account for {email}: add one with `cto-advisor users add`")
        return User(*row)

    def list_users(self) -> list[User]:
        with self._db() as db:
            rows = db.execute(
                "SELECT email, role, client, created_at FROM users ORDER BY email"
            ).fetchall()
        return [User(*r) for r in rows]

    def remove_user(self, email: str, actor: Principal | None = None) -> None:
        """Delete an account with its sessions, tokens and chats (they stop working at once)."""
        from advisor.service.conversations import ConversationStore
        from advisor.service.sessions import SessionStore

        user = self.get_user(email)
        with self._db() as db:
            db.execute("DELETE FROM users WHERE email = ?", (user.email,))
        self.audit.record(
            "account_remove", actor or Principal.local(), client=user.client, account=user.email
        )
        SessionStore(self.settings, self).end_user(user.email, reason="account removed")
        ConversationStore(self.settings).forget_user(user.principal, actor or Principal.local())

    def set_password(self, email: str, password: str, actor: Principal | None = None) -> None:
        """Replace a password; unlocks the account and ends its open sessions."""
        email = normalize_email(email)
        _check_password(password)
        with self._db() as db:
            changed = db.execute(
                "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0 "
                "WHERE email = ?",
                (_HASHER.hash(password), email),
            ).rowcount
            db.execute(
                "DELETE FROM login_attempts WHERE key = ? OR key LIKE ? ESCAPE '\\'",
                (f"acct:{email}", "pair:" + _like(email) + "|%"),
            )
        if not changed:
            raise ConfigError(f"no account for {email}: add one with `cto-advisor users add`")
        self.audit.record("account_password", actor or Principal.local(), account=email)
        from advisor.service.sessions import SessionStore

        SessionStore(self.settings, self).end_user(email, reason="password changed")

    # -- logins -------------------------------------------------------------------------------

    def login(self, email: str, password: str, via: str = "app", source: str = "") -> User:
        """The user whose password this is; AccessError (audited) when wrong or throttled.

        `source` is where the attempt comes from (the client's address). The attempt is counted
        before the password is checked, in one transaction (BEGIN IMMEDIATE), so parallel
        guesses all count; a throttled attempt checks no password at all. Known and unknown
        emails get the same answers, and the same argon2 work.
        """
        source = str(source or "unknown")[:100]
        try:
            email = normalize_email(email)
        except InputError:
            email = ""
        keys = self._attempt_keys(email or "(not an email)", source)
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            wait, row = self._throttle(db, keys, email, source, now)
            if wait <= 0:
                for key, failures in self._counts(db, keys, now).items():
                    db.execute(
                        "INSERT OR REPLACE INTO login_attempts (key, failures, next_at, updated_at)"
                        " VALUES (?, ?, ?, ?)",
                        (key, failures + 1, now + self._wait(key, failures + 1), now),
                    )
        who = email if row is not None else "(unknown account)"
        if wait > 0:
            self.audit.record("login_refused", user=who, via=via, source=source, reason="throttled")
            raise AccessError(
                f"too many failed sign-ins: wait {max(1, round(wait))} s and try again"
            )
        try:
            _HASHER.verify(row[0] if row is not None else _dummy_hash(), password or "")
            ok = row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            reason = "wrong password" if row is not None else "no such account"
            self.audit.record("login_failed", user=who, via=via, source=source, reason=reason)
            raise AccessError(WRONG_LOGIN)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM login_attempts WHERE key IN (?, ?)", (keys[0], keys[2]))
            db.execute(
                "UPDATE login_attempts SET failures = MAX(0, failures - 1) WHERE key = ?",
                (keys[1],),
            )  # this attempt was counted for the source before the password was known
            db.execute(
                "INSERT OR REPLACE INTO login_sources (email, source, last_ok) VALUES (?, ?, ?)",
                (email, source, now),
            )
        user = self.get_user(email)
        self.audit.record("login", user.principal, client=user.client, via=via, source=source)
        return user

    @staticmethod
    def _attempt_keys(email: str, source: str) -> tuple[str, str, str]:
        return f"pair:{email}|{source}", f"src:{source}", f"acct:{email}"

    def _counts(self, db, keys, now: float) -> dict[str, int]:
        counts = dict.fromkeys(keys, 0)
        marks = ",".join("?" * len(keys))
        query = f"SELECT key, failures, updated_at FROM login_attempts WHERE key IN ({marks})"
        for key, failures, updated in db.execute(query, keys):
            counts[key] = failures if now - updated < FORGET_AFTER else 0
        return counts

    def _throttle(self, db, keys, email: str, source: str, now: float):
        """Seconds this attempt must still wait (0: go on), and the account's row if any."""
        db.execute("DELETE FROM login_attempts WHERE updated_at < ?", (now - FORGET_AFTER,))
        row = (
            db.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()
            if email
            else None
        )
        known = db.execute(
            "SELECT 1 FROM login_sources WHERE email = ? AND source = ? AND last_ok > ?",
            (email, source, now - KNOWN_SOURCE_DAYS * 86400),
        ).fetchone()
        marks = ",".join("?" * len(keys))
        waits = [
            next_at - now
            for key, next_at in db.execute(
                f"SELECT key, next_at FROM login_attempts WHERE key IN ({marks})", keys
            )
            if not (known and key.startswith("acct:"))  # its owner's usual source
        ]
        return max(waits, default=0.0), row

    def _wait(self, key: str, failures: int) -> float:
        """Seconds the next attempt on `key` waits after `failures` failed ones."""
        settings = self.settings
        if key.startswith("acct:"):
            if failures < ACCOUNT_SLOW_AFTER:
                return 0.0
            return min(ACCOUNT_MAX_WAIT, float(2 ** (failures - ACCOUNT_SLOW_AFTER)))
        first = SLOW_AFTER if key.startswith("pair:") else SOURCE_SLOW_AFTER
        if key.startswith("pair:") and failures >= settings.login_max_failures:
            return settings.login_lock_minutes * 60
        if failures < first:
            return 0.0
        return min(settings.login_lock_minutes * 60, float(2 ** (failures - first)))

    def principal_for_email(self, email: str) -> Principal:
        """The principal of an account found by a trusted identity provider (OIDC)."""
        try:
            return self.get_user(email).principal
        except (ConfigError, InputError):
            raise AccessError(
                f"{email} has no account here: ask your CTO to run "
                f"`cto-advisor users add {email} --role founder --client NAME`"
            ) from None

    def verify_password(self, email: str, password: str) -> User | None:
        """The user if the password matches, else None (no lockout logic here; see callers)."""
        try:
            email = normalize_email(email)
        except InputError:
            return None
        with self._db() as db:
            row = db.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()
        try:
            # Against a dummy hash when there is no account: timing does not tell which exist.
            _HASHER.verify(row[0] if row else _dummy_hash(), password or "")
            if row is None:
                return None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return self.get_user(email)

    # -- tokens -------------------------------------------------------------------------------

    def create_token(self, email: str, name: str = "default") -> str:
        """A new API token for `email`; the only time its clear text exists."""
        user = self.get_user(email)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute(
                "INSERT INTO tokens (id, email, name, token_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (secrets.token_hex(4), user.email, name, secret_hash(token), time.time()),
            )
        self.audit.record("token_create", Principal.local(), account=user.email, name=name)
        return token

    def list_tokens(self, email: str | None = None) -> list[TokenInfo]:
        query = "SELECT id, email, name, created_at, last_used, revoked_at FROM tokens"
        args: tuple = ()
        if email:
            query += " WHERE email = ?"
            args = (normalize_email(email),)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY created_at", args).fetchall()
        return [TokenInfo(r[0], r[1], r[2], r[3], r[4], r[5] is not None) for r in rows]

    def revoke_token(self, token_id: str) -> None:
        with self._db() as db:
            changed = db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), token_id),
            ).rowcount
        if not changed:
            raise ConfigError(
                f"no active token with id {token_id!r}: see `cto-advisor tokens list`"
            )
        self.audit.record("token_revoke", Principal.local(), token_id=token_id)

    def principal_for_token(self, token: str) -> Principal:
        """The principal a bearer token acts as; AccessError when unknown or revoked."""
        if not token or not token.startswith(TOKEN_PREFIX):
            raise AccessError(
                "missing or malformed API token: create one with `cto-advisor tokens create EMAIL`"
            )
        with self._db() as db:
            row = db.execute(
                "SELECT t.id, u.email, u.role, u.client FROM tokens t JOIN users u "
                "ON u.email = t.email WHERE t.token_hash = ? AND t.revoked_at IS NULL",
                (secret_hash(token),),
            ).fetchone()
            if row is None:
                raise AccessError(
                    "unknown or revoked API token: create a new one with `cto-advisor tokens create EMAIL`"
                )
            db.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (time.time(), row[0]))
        return Principal(user=row[1], role=row[2], client=row[3])


def is_loopback(address: str | None) -> bool:
    """Whether a server bound to `address` is reachable from this machine only."""
    address = (address or "").strip().strip("[]")
    if address.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # empty (every interface), 0.0.0.0, a LAN name: reachable by others


def check_exposure(address: str | None, accounts: AccountStore) -> None:
    """Refuse to serve client documents beyond this machine without accounts to sign in with."""
    if is_loopback(address) or accounts.exists():
        return
    shown = address or "every interface"
    raise ConfigError(
        f"the app is bound to {shown}, where others can reach it, but there are no accounts, so "
        "anyone could read every client's documents. Create one first: `cto-advisor users add "
        "you@example.com --role cto` (then one per founder with --role founder --client NAME), "
        "or bind to this machine only with `--server.address 127.0.0.1`"
    )


def _like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the email has no account: the same argon2 work."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def _check_password(password: str) -> None:
    if not password or len(password) < 8:
        raise InputError("the password must have at least 8 characters")
    if "\n" in password or "\r" in password:
        raise InputError("the password must be one line")
