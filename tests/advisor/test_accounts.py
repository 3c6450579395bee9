"""Accounts: argon2 passwords, logins slowed then locked, the exposure rule (sessions:
test_sessions.py)."""

from __future__ import annotations

import sqlite3
import time

import pytest

from advisor.core.errors import AccessError, ConfigError, InputError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore, check_exposure, is_loopback
from advisor.service.audit import AuditLog

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tmp_path) -> AccountStore:
    store = AccountStore(Settings(data_dir=tmp_path / "data", login_lock_minutes=10))
    store.add_user("cto@example.com", "cto", None, PASSWORD)
    store.add_user("Ana@Acme.com", "founder", "Acme", PASSWORD)
    return store


def test_a_password_is_stored_only_as_an_argon2_hash(accounts):
    raw = accounts.path.read_bytes()
    assert PASSWORD.encode() not in raw
    with sqlite3.connect(accounts.path) as db:
        hashes = [r[0] for r in db.execute("SELECT password_hash FROM users")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_a_founder_is_bound_to_one_normalized_client_and_a_cto_to_none(accounts):
    ana = accounts.get_user("ana@acme.com")
    assert ana.principal == Principal(user="ana@acme.com", role="founder", client="acme")
    with pytest.raises(InputError, match="--client"):
        accounts.add_user("bo@acme.com", "founder", None, PASSWORD)
    with pytest.raises(InputError, match="leave out --client"):
        accounts.add_user("cy@acme.com", "cto", "acme", PASSWORD)
    with pytest.raises(ConfigError, match="already has an account"):
        accounts.add_user("ANA@acme.com", "founder", "acme", PASSWORD)


def test_the_right_password_logs_in_and_a_wrong_one_says_nothing_about_which_part(accounts):
    assert accounts.login("ANA@acme.com", PASSWORD).email == "ana@acme.com"
    with pytest.raises(AccessError) as wrong_password:
        accounts.login("ana@acme.com", "not the password")
    with pytest.raises(AccessError) as no_account:
        accounts.login("nobody@acme.com", PASSWORD)
    assert str(wrong_password.value) == str(no_account.value) == "wrong email or password"


def pass_time(accounts: AccountStore, table: str, column: str) -> None:
    """Move a wait's end into the past, as if the time had gone by."""
    with sqlite3.connect(accounts.path) as db:
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} > 0", (time.time() - 1,))


def test_repeated_wrong_passwords_are_slowed_then_held_even_for_the_right_password(accounts):
    for _ in range(2):
        with pytest.raises(AccessError, match="wrong email or password"):
            accounts.login("ana@acme.com", "guess-guess", source="10.0.0.9")
    # The second failure makes the next attempt wait 1 s; during the wait nothing is checked
    # (the wait is stretched here so that a slow machine cannot outlast it).
    with sqlite3.connect(accounts.path) as db:
        wait = db.execute("SELECT MAX(next_at) FROM login_attempts").fetchone()[0] - time.time()
        db.execute("UPDATE login_attempts SET next_at = next_at + 60 WHERE next_at > 0")
    assert 0 < wait <= 1.0
    with pytest.raises(AccessError, match=r"wait \d+ s"):
        accounts.login("ana@acme.com", PASSWORD, source="10.0.0.9")
    for _ in range(3):
        pass_time(accounts, "login_attempts", "next_at")
        with pytest.raises(AccessError, match="wrong email or password"):
            accounts.login("ana@acme.com", "guess-guess", source="10.0.0.9")
    # The fifth wrong password from this source holds the pair for login_lock_minutes (10).
    with pytest.raises(AccessError, match=r"wait (59\d|600) s"):
        accounts.login("ana@acme.com", PASSWORD, source="10.0.0.9")
    accounts.set_password("ana@acme.com", "a brand new password")  # a CTO lifts it at once
    user = accounts.login("ana@acme.com", "a brand new password", source="10.0.0.9")
    assert user.role == "founder"


def test_a_wait_ends_by_itself_and_a_success_resets_the_count(tmp_path):
    settings = Settings(data_dir=tmp_path, login_max_failures=2, login_lock_minutes=10)
    accounts = AccountStore(settings)
    accounts.add_user("bo@globex.com", "founder", "globex", PASSWORD)
    for _ in range(2):
        with pytest.raises(AccessError):
            accounts.login("bo@globex.com", "guess-guess")
    with pytest.raises(AccessError, match="wait"):
        accounts.login("bo@globex.com", PASSWORD)
    pass_time(accounts, "login_attempts", "next_at")
    assert accounts.login("bo@globex.com", PASSWORD).client == "globex"
    with pytest.raises(AccessError, match="wrong email or password"):
        accounts.login("bo@globex.com", "guess-guess")  # counting starts again from zero


def test_logins_and_account_changes_are_audited_without_passwords(accounts):
    accounts.login("ana@acme.com", PASSWORD)
    with pytest.raises(AccessError):
        accounts.login("ana@acme.com", "wrong-password-123")
    accounts.remove_user("cto@example.com")
    events = [(e.event, e.user) for e in AuditLog(accounts.settings).events()]
    assert ("login", "ana@acme.com") in events
    assert ("login_failed", "ana@acme.com") in events
    assert events.count(("account_add", "local")) == 2
    assert ("account_remove", "local") in events
    text = AuditLog(accounts.settings).path.read_text()
    assert PASSWORD not in text and "wrong-password-123" not in text


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("localhost", True), ("127.0.0.1", True), ("::1", True), ("[::1]", True),
        ("127.0.1.1", True), ("0.0.0.0", False), ("", False), (None, False),
        ("192.168.1.20", False), ("advisor.example.com", False), ("::", False),
    ],
)  # fmt: skip
def test_only_loopback_addresses_count_as_this_machine_only(address, loopback):
    assert is_loopback(address) is loopback


def test_serving_beyond_loopback_without_accounts_is_refused_with_the_fix(tmp_path):
    accounts = AccountStore(Settings(data_dir=tmp_path))
    check_exposure("127.0.0.1", accounts)  # single-user mode, as today
    with pytest.raises(ConfigError, match="cto-advisor users add .* --role cto"):
        check_exposure("0.0.0.0", accounts)
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)
    check_exposure("0.0.0.0", accounts)
