"""Accounts, logins, app sessions and API tokens: a small SQLite database in the data directory.

Passwords are hashed with argon2 (argon2-cffi) and never stored or logged in clear. API tokens and
session ids are random 256-bit secrets; only their SHA-256 is stored (a token is not guessable, so
a fast hash is enough and keeps every request cheap). `login` is the one place a password is
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
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from advisor.core.clients import client_name
from advisor.core.errors import AccessError, ConfigError, InputError
from advisor.core.principal import Principal, Role
from advisor.core.settings import Settings
from advisor.service.audit import AuditLog

TOKEN_PREFIX = "cta_"
SESSION_PREFIX = "cts_"
WRONG_LOGIN = "wrong email or password"
# Wrong passwords in a row after which each new attempt must wait: 1 s, then 2 s, 4 s, ... until
# `login_max_failures` locks the account for `login_lock_minutes`.
SLOW_AFTER = 2
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
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
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
        self.settings = settings
        self.path: Path = settings.data_dir / "accounts.sqlite"
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
        """Delete an account with its sessions and tokens (they stop working at once)."""
        user = self.get_user(email)
        with self._db() as db:
            db.execute("DELETE FROM users WHERE email = ?", (user.email,))
        self.audit.record(
            "account_remove", actor or Principal.local(), client=user.client, account=user.email
        )

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
            db.execute("DELETE FROM sessions WHERE email = ?", (email,))
        if not changed:
            raise ConfigError(f"no account for {email}: add one with `cto-advisor users add`")
        self.audit.record("account_password", actor or Principal.local(), account=email)

    # -- logins and sessions ------------------------------------------------------------------

    def login(self, email: str, password: str, via: str = "app") -> User:
        """The user whose password this is; AccessError (audited) when wrong, slowed or locked.

        After SLOW_AFTER wrong passwords in a row each attempt must wait longer (1 s, 2 s, ...);
        after `login_max_failures` the account is locked for `login_lock_minutes`. While an
        account waits, no password is checked at all, so guessing faster gains nothing.
        """
        now = time.time()
        try:
            email = normalize_email(email)
        except InputError:
            self.audit.record("login_failed", user=str(email)[:254], via=via, reason="not an email")
            raise AccessError(WRONG_LOGIN) from None
        with self._db() as db:
            row = db.execute(
                "SELECT password_hash, failed_logins, locked_until FROM users WHERE email = ?",
                (email,),
            ).fetchone()
        if row is None:
            _HASHER.hash(password or "x")  # same cost as a real check: timing hides who exists
            self.audit.record("login_failed", user=email, via=via, reason="no such account")
            raise AccessError(WRONG_LOGIN)
        stored, failures, locked_until = row
        if locked_until > now:
            self.audit.record("login_refused", user=email, via=via, reason="locked")
            raise AccessError(_locked_message(locked_until - now, failures, self.settings))
        try:
            _HASHER.verify(stored, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failures += 1
            wait = _wait_after(failures, self.settings)
            with self._db() as db:
                db.execute(
                    "UPDATE users SET failed_logins = ?, locked_until = ? WHERE email = ?",
                    (failures, now + wait if wait else 0, email),
                )
            self.audit.record(
                "login_failed", user=email, via=via, reason="wrong password", failures=failures
            )
            if failures >= self.settings.login_max_failures:
                raise AccessError(_locked_message(wait, failures, self.settings)) from None
            raise AccessError(WRONG_LOGIN) from None
        with self._db() as db:
            db.execute(
                "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE email = ?", (email,)
            )
        user = self.get_user(email)
        self.audit.record("login", user.principal, client=user.client, via=via)
        return user

    def start_session(self, email: str) -> str:
        """A new app session for a logged-in user: a random id, valid `session_minutes`."""
        user = self.get_user(email)
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            db.execute(
                "INSERT INTO sessions (token_hash, email, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (_token_hash(token), user.email, now, now + self.settings.session_minutes * 60),
            )
        return token

    def principal_for_session(self, token: str | None) -> Principal:
        """Who an app session belongs to, read afresh from the account (role changes apply at
        once); AccessError when the session is unknown, ended or expired."""
        if not token or not str(token).startswith(SESSION_PREFIX):
            raise AccessError("sign in to continue")
        with self._db() as db:
            row = db.execute(
                "SELECT u.email, u.role, u.client, s.expires_at FROM sessions s JOIN users u "
                "ON u.email = s.email WHERE s.token_hash = ?",
                (_token_hash(token),),
            ).fetchone()
        if row is None:
            raise AccessError("your session has ended: sign in again")
        if row[3] <= time.time():
            self.end_session(token, reason="expired")
            raise AccessError("your session expired: sign in again")
        return Principal(user=row[0], role=row[1], client=row[2])

    def end_session(self, token: str | None, reason: str = "logout") -> None:
        """Forget a session (logout or expiry); unknown sessions are ignored."""
        if not token:
            return
        with self._db() as db:
            row = db.execute(
                "SELECT u.email, u.role, u.client FROM sessions s JOIN users u "
                "ON u.email = s.email WHERE s.token_hash = ?",
                (_token_hash(token),),
            ).fetchone()
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
        if row is not None:
            who = Principal(user=row[0], role=row[1], client=row[2])
            self.audit.record("logout", who, client=who.client, reason=reason)

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
                (_token_hash(token),),
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


def _wait_after(failures: int, settings: Settings) -> float:
    """Seconds an account waits after `failures` wrong passwords in a row."""
    if failures >= settings.login_max_failures:
        return settings.login_lock_minutes * 60
    if failures >= SLOW_AFTER:
        return float(2 ** (failures - SLOW_AFTER))
    return 0.0


def _locked_message(seconds: float, failures: int, settings: Settings) -> str:
    if failures >= settings.login_max_failures:
        minutes = max(1, round(seconds / 60))
        return (
            f"too many wrong passwords: this account is locked for {minutes} more minute(s); "
            "a CTO can unlock it now with `cto-advisor users set-password EMAIL`"
        )
    return f"too many wrong passwords: wait {max(1, round(seconds))} s and try again"


def _check_password(password: str) -> None:
    if not password or len(password) < 8:
        raise InputError("the password must have at least 8 characters")
    if "\n" in password or "\r" in password:
        raise InputError("the password must be one line")
