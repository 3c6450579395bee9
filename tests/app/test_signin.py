"""Signing in to the app: the form, founder and CTO views, logout, lockout, expiry, tampering."""

from __future__ import annotations

import re
import shutil
import sqlite3
import time

import pytest
from streamlit.testing.v1 import AppTest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.audit import AuditLog
from advisor.service.conversations import ConversationStore
from tests.advisor.corpus import GLOBEX_FACT
from tests.app.conftest import APP
from tests.app.helpers import ask, last_answer, texts

PASSWORD = "a long enough password"
GLOBEX_QUESTION = "Which pipeline does Globex deploy through, and on which days?"


@pytest.fixture(scope="module")
def shared_dir(app_data_dir, tmp_path_factory):
    """A copy of the app corpus with three accounts (the other app tests stay single-user)."""
    data_dir = tmp_path_factory.mktemp("signin") / "data"
    shutil.copytree(app_data_dir, data_dir)
    (data_dir / "audit.jsonl").unlink(missing_ok=True)
    accounts = AccountStore(Settings(data_dir=data_dir))
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)
    accounts.add_user("ana@acme.com", "founder", "acme", PASSWORD)
    accounts.add_user("bo@globex.com", "founder", "globex", PASSWORD)
    return data_dir


def open_app(data_dir, monkeypatch, **env: str) -> AppTest:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(data_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, email: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="signin-email").input(email)
    at.text_input(key="signin-password").input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    return at


def is_signin_page(at: AppTest) -> bool:
    keys = {t.key for t in at.text_input}
    return "signin-password" in keys and not at.chat_input and not at.sidebar.metric


def test_with_accounts_the_app_shows_only_a_sign_in_form(shared_dir, monkeypatch):
    at = open_app(shared_dir, monkeypatch)
    assert is_signin_page(at)
    shown = " ".join(texts(at.markdown, at.caption))
    assert "acme" not in shown and "globex" not in shown
    sign_in(at, "ana@acme.com", "not the password")
    assert is_signin_page(at) and "wrong email or password" in at.error[0].value


def test_a_founder_sees_one_client_no_selector_and_never_the_other_clients_documents(
    shared_dir, monkeypatch
):
    at = sign_in(open_app(shared_dir, monkeypatch), "ana@acme.com")
    assert not is_signin_page(at)
    assert not [s for s in at.selectbox if s.key == "client"], "a founder has no client selector"
    sidebar = " ".join(texts(at.sidebar.markdown, at.sidebar.caption))
    assert "ana@acme.com (founder · acme)" in sidebar and "globex" not in sidebar.casefold()
    assert at.selectbox(key="target-acme").options == ["acme"]  # uploads: own client only

    ask(at, GLOBEX_QUESTION)
    assert GLOBEX_FACT not in last_answer(at)
    answer = [m for m in at.chat_message if m.name == "assistant"][-1]
    assert "globex" not in " ".join(texts(answer.markdown, answer.caption)).casefold()
    badges = " ".join(texts(answer.markdown))
    assert "Client: acme" in badges or "Playbook" in badges
    # Playbook files are the CTO's: their cited passages show, their download does not, and the
    # card says why.
    chat = at.query_params["chat"]
    founder = Principal(user="ana@acme.com", role="founder", client="acme")
    msg = ConversationStore(Settings(data_dir=shared_dir)).messages(founder, chat)[-1]
    cited = [c["scope"] for c in msg.body["answer"]["citations"]]
    assert "playbook" in cited and set(cited) <= {"acme", "playbook"}
    buttons = [b for b in at.download_button if b.key.startswith(f"dl-{msg.id}-")]
    assert len(buttons) == cited.count("acme")
    notes = [c for c in texts(at.caption) if "Playbook files stay with your CTO" in c]
    assert len(notes) == cited.count("playbook")

    # Tampering: a query parameter, a widget key and the selector's state name another client.
    at.query_params["client"] = "globex"
    at.session_state["client"] = "globex"
    at.run()
    ask(at, GLOBEX_QUESTION)
    assert GLOBEX_FACT not in last_answer(at)
    events = AuditLog(Settings(data_dir=shared_dir)).events(user="ana@acme.com")
    asks = [e for e in events if e.event == "ask"]
    assert len(asks) == 2 and all(e.client == "acme" for e in asks)
    assert all(s.split(":")[0] in ("acme", "playbook") for e in asks for s in e.detail["sources"])


def test_a_cto_switches_clients_and_signing_out_forgets_the_conversation(shared_dir, monkeypatch):
    at = sign_in(open_app(shared_dir, monkeypatch), "CTO@example.com")
    assert at.selectbox(key="client").options == ["Playbooks only", "acme", "globex"]
    at.selectbox(key="client").set_value("globex").run()
    ask(at, GLOBEX_QUESTION)
    assert GLOBEX_FACT in last_answer(at)
    assert any(b.label == "Download file" for b in at.download_button)

    at.button(key="signout").click().run()
    assert is_signin_page(at)
    assert "_advisor_session" not in at.session_state  # the next person here sees nothing
    sign_in(at, "bo@globex.com")
    assert not [m for m in at.chat_message], "a new session starts with an empty chat"
    assert [e.event for e in AuditLog(Settings(data_dir=shared_dir)).events(user="cto@example.com")][-1] == "logout"  # fmt: skip


def test_repeated_wrong_passwords_hold_the_sign_in_in_the_app(shared_dir, monkeypatch):
    AccountStore(Settings(data_dir=shared_dir)).add_user("cy@acme.com", "founder", "acme", PASSWORD)
    at = open_app(shared_dir, monkeypatch, ADVISOR_LOGIN_MAX_FAILURES="3")
    messages = []
    for _ in range(3):
        sign_in(at, "cy@acme.com", "guess-guess")
        messages.append(at.error[0].value)
        with sqlite3.connect(shared_dir / "accounts.sqlite") as db:
            # Skip the short waits between tries (tested in tests/advisor); the long one stays.
            db.execute("UPDATE login_attempts SET next_at = 0 WHERE failures < 3")
    assert messages == ["wrong email or password"] * 3  # nothing tells the account exists
    sign_in(at, "cy@acme.com", PASSWORD)
    assert is_signin_page(at) and re.search(r"wait (89\d|900) s", at.error[0].value)


def test_an_expired_session_asks_to_sign_in_again(shared_dir, monkeypatch):
    at = sign_in(open_app(shared_dir, monkeypatch), "ana@acme.com")
    assert not is_signin_page(at)
    with sqlite3.connect(shared_dir / "sessions.sqlite") as db:  # as if the hours had gone by
        db.execute("UPDATE sessions SET expires_at = ?", (time.time() - 1,))
    at.run()
    assert is_signin_page(at)
    assert "expired" in at.info[0].value


def test_a_forged_session_id_gets_the_sign_in_form(shared_dir, monkeypatch):
    at = open_app(shared_dir, monkeypatch)
    at.session_state["_advisor_session"] = "cts_" + "A" * 43
    at.run()
    assert is_signin_page(at)


def test_a_non_loopback_address_without_accounts_is_refused_with_the_fix(app_data_dir, monkeypatch):
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    at = open_app(app_data_dir, monkeypatch)
    assert "cto-advisor users add" in at.error[0].value and not at.chat_input


def oidc_app(shared_dir, monkeypatch, user: dict) -> AppTest:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(shared_dir))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "cto-advisor",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    }
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_oidc_identity_maps_to_its_accounts_role_and_client(shared_dir, monkeypatch):
    verified = {"is_logged_in": True, "email_verified": True}
    at = oidc_app(shared_dir, monkeypatch, {"email": "ana@acme.com", **verified})
    assert not is_signin_page(at) and not [s for s in at.selectbox if s.key == "client"]
    assert "ana@acme.com (founder · acme)" in " ".join(texts(at.sidebar.caption))

    stranger = oidc_app(shared_dir, monkeypatch, {"email": "eve@evil.test", **verified})
    assert "has no account here" in stranger.error[0].value and not stranger.chat_input
    signed_out = oidc_app(shared_dir, monkeypatch, {"email": "cto@example.com"})
    assert is_signin_page(signed_out)  # an email without a login is not an identity
    assert any(b.label == "Sign in with single sign-on" for b in signed_out.button)


def test_single_sign_on_requires_an_email_the_provider_verified(shared_dir, monkeypatch):
    """Issue 22 item 9: a missing `email_verified` is not a yes (only `false` was refused)."""
    for claims in ({}, {"email_verified": False}, {"email_verified": "true"}):
        user = {"email": "ana@acme.com", "is_logged_in": True, **claims}
        at = oidc_app(shared_dir, monkeypatch, user)
        assert is_signin_page(at) and not at.chat_input, claims
        assert "did not confirm" in " ".join(e.value for e in at.error), claims


def test_a_founder_sees_no_operator_settings_and_the_mode_in_plain_words(shared_dir, monkeypatch):
    at = sign_in(open_app(shared_dir, monkeypatch), "ana@acme.com")
    sidebar = " ".join(texts(at.sidebar.markdown, at.sidebar.caption))
    assert not at.sidebar.metric and not at.sidebar.code, "no index counts, no export lines"
    assert "MiniLM" not in sidebar and "OPENAI_BASE_URL" not in sidebar
    assert str(shared_dir) not in sidebar and "Data directory" not in sidebar
    assert (
        "Answers are drawn only from acme's documents and your CTO's playbooks; nothing leaves "
        "this server." in sidebar
    )
    assert "your CTO's playbooks" in " ".join(texts(at.main.markdown))
    cto = sign_in(open_app(shared_dir, monkeypatch), "cto@example.com")
    assert cto.sidebar.metric and "OPENAI_BASE_URL" in cto.sidebar.code[0].value


def test_a_founder_cannot_open_another_users_chat_by_any_id(shared_dir, monkeypatch):
    store = ConversationStore(Settings(data_dir=shared_dir))
    cto = Principal(user="cto@example.com", role="cto")
    cy = Principal(user="cy2@acme.com", role="founder", client="acme")
    AccountStore(Settings(data_dir=shared_dir)).add_user(
        "cy2@acme.com", "founder", "acme", PASSWORD
    )
    secret = "Zebra-7 handover notes for the CTO only"
    others = []
    for owner, client in ((cto, "acme"), (cto, "globex"), (cy, "acme")):
        chat = store.create(owner, client, secret)
        store.append(owner, chat.id, "user", {"content": secret})
        others.append(chat.id)
    for chat_id in others:
        monkeypatch.setenv("ADVISOR_DATA_DIR", str(shared_dir))
        at = AppTest.from_file(str(APP), default_timeout=90)
        at.query_params["chat"] = chat_id  # a pasted link
        at.run()
        sign_in(at, "ana@acme.com")
        page = " ".join(texts(at.markdown, at.caption, at.warning) + [b.label for b in at.button])
        assert secret not in page and not at.chat_message
        assert "chat" not in at.query_params, "the URL no longer names it"
        # The URL again, after sign-in, and a session state naming it: still nothing.
        at.query_params["chat"] = chat_id
        at.session_state["chat"] = chat_id
        at.run()
        page = " ".join(texts(at.markdown, at.caption) + [b.label for b in at.button])
        assert secret not in page and "of yours" in at.warning[0].value
    refused = [
        e for e in AuditLog(Settings(data_dir=shared_dir)).events() if e.event == "chat_refused"
    ]
    assert {e.detail["chat"] for e in refused} >= set(others)
    assert {e.user for e in refused if e.detail["chat"] in others} == {"ana@acme.com"}


def test_losing_the_account_store_shows_nothing_instead_of_single_user_mode(
    shared_dir, tmp_path, monkeypatch
):
    data = tmp_path / "lost"
    shutil.copytree(shared_dir, data)
    at = sign_in(open_app(data, monkeypatch), "cto@example.com")
    assert at.chat_input  # an open, signed-in tab on loopback (the README's proxy set-up)
    (data / "accounts.sqlite").unlink()
    at.run()
    assert not at.chat_input and not at.sidebar.metric and not at.selectbox
    assert (
        "account store" in at.error[0].value and "missing, empty or unreadable" in at.error[0].value
    )
    (data / "accounts.sqlite").write_bytes(b"")  # emptied instead: the same
    fresh = open_app(data, monkeypatch)
    assert not fresh.chat_input and "account store" in fresh.error[0].value
    assert "acme" not in " ".join(texts(fresh.markdown, fresh.caption))
