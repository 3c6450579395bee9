"""Accounts and API tokens: a small SQLite database in the data directory.

Passwords are hashed with argon2 (argon2-cffi) and never stored or logged in clear. API tokens are
random 256-bit secrets shown once; only their SHA-256 is stored (a token is not guessable, so a
fast hash is enough and keeps every API request cheap).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from advisor.core.clients import client_name
from advisor.core.errors import AccessError, ConfigError, InputError
from advisor.core.principal import Principal, Role
from advisor.core.settings import Settings

TOKEN_PREFIX = "cta_"
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Users (email, role, client, password hash) and their API tokens."""

    def __init__(self, settings: Settings) -> None:
        self.path: Path = settings.data_dir / "accounts.sqlite"

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

    def add_user(self, email: str, role: Role, client: str | None, password: str) -> User:
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

    def remove_user(self, email: str) -> None:
        email = normalize_email(email)
        with self._db() as db:
            if db.execute("DELETE FROM users WHERE email = ?", (email,)).rowcount == 0:
                raise ConfigError(f"no account for {email}")

    def set_password(self, email: str, password: str) -> None:
        email = normalize_email(email)
        _check_password(password)
        with self._db() as db:
            changed = db.execute(
                "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0 "
                "WHERE email = ?",
                (_HASHER.hash(password), email),
            ).rowcount
        if not changed:
            raise ConfigError(f"no account for {email}")

    def verify_password(self, email: str, password: str) -> User | None:
        """The user if the password matches, else None (no lockout logic here; see callers)."""
        try:
            email = normalize_email(email)
        except InputError:
            return None
        with self._db() as db:
            row = db.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()
        if row is None:
            # Same cost as a real check, so timing does not tell which accounts exist.
            _HASHER.hash(password or "x")
            return None
        try:
            _HASHER.verify(row[0], password or "")
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
                (secrets.token_hex(4), user.email, name, _token_hash(token), time.time()),
            )
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
                (_token_hash(token),),
            ).fetchone()
            if row is None:
                raise AccessError(
                    "unknown or revoked API token: create a new one with `cto-advisor tokens create EMAIL`"
                )
            db.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (time.time(), row[0]))
        return Principal(user=row[1], role=row[2], client=row[3])


def _check_password(password: str) -> None:
    if not password or len(password) < 8:
        raise InputError("the password must have at least 8 characters")
    if "\n" in password or "\r" in password:
        raise InputError("the password must be one line")
