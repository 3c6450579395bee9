"""Conversation history: per user and client, private by id, gone with `forget` and `users remove`."""

from __future__ import annotations

import os
import stat

import pytest

from advisor.core.errors import AccessError, NotFoundError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.audit import AuditLog
from advisor.service.conversations import ConversationStore, title_from

CTO = Principal(user="cto@example.com", role="cto")
ANA = Principal(user="ana@acme.com", role="founder", client="acme")
CY = Principal(user="cy@acme.com", role="founder", client="acme")
BO = Principal(user="bo@globex.com", role="founder", client="globex")


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    return ConversationStore(Settings(data_dir=tmp_path / "data"))


def test_chats_are_listed_per_user_and_client_newest_first_and_survive_a_new_store(store):
    first = store.create(CTO, "acme", "What caused the outage?")
    store.append(CTO, first.id, "user", {"content": "What caused the outage?"})
    second = store.create(CTO, "acme", "Who should we hire?")
    store.create(CTO, None, "On-call in general")
    store.create(ANA, None, "Ana's own")  # a founder's chat is always under her client
    again = ConversationStore(store.settings)  # a restart: a new process opens the same file
    assert [c.id for c in again.chats(CTO, "acme")] == [second.id, first.id]
    assert [c.title for c in again.chats(CTO, None)] == ["On-call in general"]
    assert [c.title for c in again.chats(ANA, "acme")] == ["Ana's own"]
    assert again.messages(CTO, first.id)[0].body == {"content": "What caused the outage?"}
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_no_one_opens_another_users_chat_by_its_id(store):
    ctos = store.create(CTO, "acme", "The CTO's notes on acme")
    anas = store.create(ANA, "acme", "Ana's question")
    bos = store.create(BO, "globex", "Bo's question")
    calls = [
        ("get",), ("messages",), ("append", "user", {"content": "x"}), ("rename", "mine now"),
        ("delete",), ("truncate", 1),
    ]  # fmt: skip
    for who, chat in ((ANA, ctos), (CY, anas), (BO, anas), (ANA, bos), (CTO, anas)):
        for name, *args in calls:
            with pytest.raises(NotFoundError) as refused:
                getattr(store, name)(who, chat.id, *args)
            assert "of yours" in str(refused.value)
    # The same words as for an id that never existed: nothing tells them apart.
    with pytest.raises(NotFoundError, match="of yours"):
        store.get(ANA, "no-such-chat")
    with pytest.raises(AccessError):
        store.chats(ANA, "globex")  # listing another client is refused outright
    assert [c.title for c in store.chats(CTO, "acme")] == ["The CTO's notes on acme"]
    refusals = [e for e in AuditLog(store.settings).events() if e.event == "chat_refused"]
    assert refusals and refusals[0].user == "ana@acme.com"


def test_a_founder_moved_to_another_client_no_longer_sees_the_old_clients_chats(store):
    chat = store.create(ANA, "acme", "acme question")
    moved = Principal(user="ana@acme.com", role="founder", client="globex")
    with pytest.raises(NotFoundError):
        store.get(moved, chat.id)
    assert store.chats(moved, None) == []


def test_rename_truncate_and_delete_with_an_audit_entry(store):
    chat = store.create(CTO, "acme", "first")
    for i in range(4):
        store.append(CTO, chat.id, "user" if i % 2 == 0 else "assistant", {"n": i})
    store.truncate(CTO, chat.id, 3)
    assert [m.body["n"] for m in store.messages(CTO, chat.id)] == [0, 1]
    assert store.rename(CTO, chat.id, "  Hiring\x1b]0;owned\x07 plan\u202e ").title == (
        "Hiring plan"  # the whole escape sequence goes (it retitled a terminal), not only ESC
    )
    store.delete(CTO, chat.id)
    assert store.chats(CTO, "acme") == []
    event = [e for e in AuditLog(store.settings).events() if e.event == "chat_delete"][-1]
    assert event.user == CTO.user and event.client == "acme" and event.detail["messages"] == 2
    assert "Hiring" not in str(event.detail)  # the title is client text: not in the audit log


def test_titles_come_from_the_first_question(store):
    assert title_from("  What   caused\nthe outage?  ") == "What caused the outage?"
    long = title_from("word " * 40)
    assert len(long) <= 60 and long.endswith("…")
    assert title_from("   ") == "New chat"


def test_forget_deletes_every_users_chats_and_memos_of_that_client_only(store):
    for who in (CTO, ANA, CY):
        chat = store.create(who, "acme", f"{who.user} on acme")
        store.append(who, chat.id, "user", {"content": "what did the acme outage cost?"})
        store.save_artifact(who, "acme", "memo", '{"topic": "acme memo"}')
    kept = store.create(BO, "globex", "globex stays")
    assert store.forget_client("acme", CTO) == 3
    assert store.chats(CTO, "acme") == store.chats(ANA, None) == []
    assert store.artifact(ANA, None, "memo") is None
    assert store.get(BO, kept.id).title == "globex stays"
    left = store.path.read_bytes()  # messages go with their chat, and no free page keeps text
    assert b"acme outage" not in left and b"acme memo" not in left and b"on acme" not in left
    event = [e for e in AuditLog(store.settings).events() if e.event == "chat_delete"][-1]
    assert event.client == "acme" and event.detail["chats"] == 3


def test_removing_an_account_deletes_its_chats(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    accounts = AccountStore(settings)
    accounts.add_user("ana@acme.com", "founder", "acme", "a long password")
    store = ConversationStore(settings)
    chat = store.create(ANA, "acme", "mine")
    store.create(CY, "acme", "Cy's stays")
    accounts.remove_user("ana@acme.com")
    with pytest.raises(NotFoundError):
        store.get(ANA, chat.id)
    assert [c.title for c in store.chats(CY, None)] == ["Cy's stays"]
    events = [e for e in AuditLog(settings).events() if e.event == "chat_delete"]
    assert events[-1].detail == {"chats": 1, "reason": "account removed", "account": "ana@acme.com"}


def test_each_scope_keeps_its_own_last_memo(store):
    store.save_artifact(CTO, "acme", "memo", "acme v1")
    store.save_artifact(CTO, "acme", "memo", "acme v2")
    store.save_artifact(CTO, "globex", "memo", "globex v1")
    assert store.artifact(CTO, "acme", "memo") == "acme v2"
    assert store.artifact(CTO, "globex", "memo") == "globex v1"
    assert store.artifact(CTO, None, "memo") is None
    assert store.artifact(ANA, "acme", "memo") is None  # per user too
