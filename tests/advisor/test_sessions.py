"""App sessions (sliding, signed, ended by every route that should end them) and the rule that
the app never falls back to single-user mode once accounts have existed (issue 22, item 1)."""

from __future__ import annotations

import os
import sqlite3
import stat
import time

import pytest

from advisor.core.errors import AccessError, ConfigError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service import sessions as sessions_module
from advisor.service.accounts import AccountStore
from advisor.service.audit import AuditLog
from advisor.service.sessions import (
    REQUIRED_MARKER,
    SessionStore,
    allow_single_user,
    sign_in_required,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path) -> SessionStore:
    settings = Settings(data_dir=tmp_path / "data", session_minutes=60, session_max_days=2)
    accounts = AccountStore(settings)
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)
    accounts.add_user("ana@acme.com", "founder", "acme", PASSWORD)
    accounts.add_user("bo@globex.com", "founder", "globex", PASSWORD)
    return SessionStore(settings, accounts)


def move(store: SessionStore, column: str, seconds: float) -> None:
    """Shift a column of every session by `seconds`, as if time had passed."""
    with sqlite3.connect(store.path) as db:
        db.execute(f"UPDATE sessions SET {column} = {column} + ?", (seconds,))


def test_a_session_names_its_principal_and_only_its_hash_is_stored(store):
    sid = store.start("cto@example.com")
    assert store.principal(sid).is_cto
    assert store.principal(store.start("ana@acme.com")) == Principal(
        user="ana@acme.com", role="founder", client="acme"
    )
    assert sid.encode() not in store.path.read_bytes()
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    for forged in ("", None, "cts_" + "A" * 43, "cta_whatever", sid + "x"):
        with pytest.raises(AccessError):
            store.principal(forged)


def test_sessions_slide_while_used_and_end_when_idle_or_too_old(store):
    sid = store.start("cto@example.com")
    first = store.remaining(sid)
    assert 3590 < first <= 3600  # session_minutes=60
    move(store, "last_seen", -120)  # used two minutes ago: the next use extends it
    move(store, "expires_at", -1800)
    store.principal(sid)
    assert store.remaining(sid) > first - 5, "use slides the idle expiry forward"

    idle = store.remaining(sid)
    move(store, "last_seen", -120)
    store.principal(sid, use=False)  # an open tab checking, nobody using it: no extension
    assert store.remaining(sid) <= idle

    move(store, "expires_at", -4000)  # idle past the hour
    with pytest.raises(AccessError, match="expired"):
        store.principal(sid)
    with pytest.raises(AccessError, match="ended"):
        store.principal(sid)  # and it is gone, not merely refused

    busy = store.start("cto@example.com")
    move(store, "ends_at", -2 * 86400)  # however active, two days after sign-in it ends
    with pytest.raises(AccessError, match="expired"):
        store.principal(busy)


def test_sign_out_password_change_user_removal_and_forget_end_sessions_at_once(store, tmp_path):
    accounts = store.accounts
    cto, ana, bo = (store.start(e) for e in ("cto@example.com", "ana@acme.com", "bo@globex.com"))
    store.end(cto)
    with pytest.raises(AccessError, match="ended"):
        store.principal(cto)

    ana2 = store.start("ana@acme.com")
    accounts.set_password("ana@acme.com", "another password 1")
    for sid in (ana, ana2):
        with pytest.raises(AccessError):
            store.principal(sid)
    assert store.principal(bo).client == "globex"

    accounts.remove_user("bo@globex.com")
    with pytest.raises(AccessError):
        store.principal(bo)

    # forget ends the sessions of that client's founders (and no one else's)
    ana3, cto2 = store.start("ana@acme.com"), store.start("cto@example.com")
    assert store.end_client("acme", reason="client forgotten") == 1
    with pytest.raises(AccessError):
        store.principal(ana3)
    assert store.principal(cto2).is_cto
    reasons = [
        e.detail.get("reason") for e in AuditLog(store.settings).events() if e.event == "logout"
    ]
    assert {"logout", "password changed", "account removed", "client forgotten"} <= set(reasons)


def test_a_session_of_a_removed_then_recreated_account_does_not_come_back(store):
    ana = store.start("ana@acme.com")
    with sqlite3.connect(store.accounts.path) as db:  # removed behind the store's back
        db.execute("DELETE FROM users WHERE email = 'ana@acme.com'")
    store.accounts.add_user("ana@acme.com", "founder", "globex", PASSWORD)
    with pytest.raises(AccessError):
        store.principal(ana)  # same email, another client: the old session is not theirs


def test_the_cookie_is_signed_by_this_installation_and_carries_only_the_session_id(store, tmp_path):
    sid = store.start("cto@example.com")
    value = store.cookie_value(sid)
    assert store.from_cookie(value) == sid
    assert "cto@example.com" not in value
    assert store.from_cookie(value[:-2] + ("AA" if value[-2:] != "AA" else "BB")) is None
    other = SessionStore(Settings(data_dir=tmp_path / "elsewhere"))
    assert other.from_cookie(value) is None, "another installation's key does not verify it"
    assert store.from_cookie("cts_" + "A" * 43) is None  # an unsigned id is not a cookie
    assert store.from_cookie(None) is None


# -- issue 22 item 1: fail closed when the account store is lost ---------------------------------


@pytest.mark.parametrize("damage", ["remove", "empty", "garbage", "drop users"])
def test_a_lost_account_store_never_falls_back_to_single_user_mode(tmp_path, damage):
    settings = Settings(data_dir=tmp_path / "data")
    accounts = AccountStore(settings)
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)
    assert sign_in_required(settings, accounts) is True
    if damage == "remove":
        accounts.path.unlink()
    elif damage == "empty":
        accounts.path.write_bytes(b"")
    elif damage == "garbage":
        accounts.path.write_bytes(b"not a database" * 100)
    else:
        with sqlite3.connect(accounts.path) as db:
            db.execute("DELETE FROM users")
    with pytest.raises(ConfigError, match="missing, empty or unreadable"):
        sign_in_required(settings, AccountStore(settings))
    # A fresh process (nothing remembered in memory) is held by the marker on disk.
    sessions_module._SEEN_ACCOUNTS.clear()
    with pytest.raises(ConfigError):
        sign_in_required(settings, AccountStore(settings))
    # And a process that saw accounts stays closed even if the marker goes too.
    (settings.data_dir / REQUIRED_MARKER).unlink()
    sessions_module._SEEN_ACCOUNTS.add(str(settings.data_dir.resolve()))
    with pytest.raises(ConfigError):
        sign_in_required(settings, AccountStore(settings))


def test_accounts_created_before_the_marker_existed_are_marked_on_first_look(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    AccountStore(settings).add_user("cto@example.com", "cto", None, PASSWORD)
    (settings.data_dir / REQUIRED_MARKER).unlink()  # as an older version left it
    sessions_module._SEEN_ACCOUNTS.clear()
    assert sign_in_required(settings) is True
    assert (settings.data_dir / REQUIRED_MARKER).exists()
    assert stat.S_IMODE(os.stat(settings.data_dir / REQUIRED_MARKER).st_mode) == 0o600


def test_single_user_mode_comes_back_only_on_purpose(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    assert sign_in_required(settings) is False  # never had accounts: single-user, as today
    accounts = AccountStore(settings)
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)
    with pytest.raises(ConfigError, match="accounts still exist"):
        allow_single_user(settings)
    accounts.remove_user("cto@example.com")
    with pytest.raises(ConfigError):
        sign_in_required(settings)  # removing the last account does not open the app
    allow_single_user(settings)
    assert sign_in_required(settings) is False
    assert [e.event for e in AuditLog(settings).events()][-1] == "single_user_mode"

    strict = Settings(data_dir=tmp_path / "strict", require_accounts=True)
    with pytest.raises(ConfigError):
        sign_in_required(strict)  # ADVISOR_REQUIRE_ACCOUNTS: closed without ever having accounts
    with pytest.raises(ConfigError, match="ADVISOR_REQUIRE_ACCOUNTS"):
        allow_single_user(strict)


def test_expired_sessions_are_cleaned_up_when_new_ones_start(store):
    old = store.start("cto@example.com")
    move(store, "expires_at", -time.time())
    store.start("ana@acme.com")
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    with pytest.raises(AccessError):
        store.principal(old)


def test_mcp_without_a_token_stays_closed_when_the_account_store_is_lost(tmp_path):
    from interfaces.mcp.server import principal_from_env

    settings = Settings(data_dir=tmp_path / "data")
    assert principal_from_env(settings, {}) == Principal.local()  # never had accounts
    AccountStore(settings).add_user("cto@example.com", "cto", None, PASSWORD)
    AccountStore(settings).path.unlink()
    with pytest.raises(ConfigError):
        principal_from_env(settings, {})
