"""Forgetting a client: when a contract ends, nothing of the client's data stays behind."""

from __future__ import annotations

import pytest

from advisor.core.errors import AccessError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from advisor.service.feedback import FeedbackRecord, FeedbackStore

LOCAL = Principal.local()
GONE, KEPT = "zorblax-corp", "keepco"
UNIQUE = "quixotroniumdb"  # only the forgotten client's documents say this


def _write(folder, client, word):
    folder.mkdir(parents=True)
    for i in range(3):
        (folder / f"plan-{i}.md").write_text(
            f"# {client} platform plan {i}\n\nThe {client} team runs billing on the {word} "
            f"database, replicated across two regions (part {i}).\n"
        )


def _files_mentioning(data_dir, needles):
    """Every file under the data dir whose bytes contain one of `needles` (any case)."""
    hits = []
    for path in data_dir.rglob("*"):
        # The audit log (advisor/service/audit.py) records who did what, forget included; what
        # it must keep about a forgotten client is its owner's call, not this test's.
        if path.is_file() and path.name != "audit.jsonl":
            data = path.read_bytes().lower()
            hits += [(str(path), n) for n in needles if n.lower().encode() in data]
    return hits


def test_forget_removes_every_trace_of_a_client_and_keeps_the_others(tmp_path, embeddings):
    settings = Settings(data_dir=tmp_path / "data")
    advisor = Advisor(settings, embeddings=embeddings)
    _write(tmp_path / GONE, GONE, UNIQUE)
    _write(tmp_path / KEPT, KEPT, "postgres")
    advisor.ingest(LOCAL, [tmp_path / GONE], client=GONE)
    advisor.ingest(LOCAL, [tmp_path / KEPT], client=KEPT)
    upload = f"# Upload\n\nThe {UNIQUE} cluster needs a new owner.\n".encode()
    assert advisor.upload(LOCAL, [("handover.md", upload)], client=GONE)[0].ok
    answer = advisor.ask(LOCAL, f"Which database runs billing? {UNIQUE}", client=GONE)
    assert answer.citations  # the question built the lexical cache from the client's text
    feedback = FeedbackStore(settings)
    for client in (GONE, KEPT):
        feedback.record(
            FeedbackRecord(answer_id=client, rating="down", question=f"{client} billing?",
                           client=client, answer=f"{client} runs {UNIQUE if client == GONE else 'x'}")
        )  # fmt: skip
    # A founder of the client signed in, with a chat and a memo kept in the history.
    from advisor.service.accounts import AccountStore
    from advisor.service.sessions import SessionStore

    AccountStore(settings).add_user("f@gone.example", "founder", GONE, "a long password")
    founder = Principal(user="f@gone.example", role="founder", client=GONE)
    session = SessionStore(settings).start("f@gone.example")
    chat = advisor.conversations.create(founder, GONE, f"Who owns {UNIQUE}?")
    advisor.conversations.append(founder, chat.id, "user", {"content": f"Who owns {UNIQUE}?"})
    advisor.conversations.save_artifact(LOCAL, GONE, "memo", f'{{"topic": "{UNIQUE}"}}')
    kept_chat = advisor.conversations.create(LOCAL, KEPT, "keepco question")
    assert _files_mentioning(settings.data_dir, [UNIQUE, GONE])

    with pytest.raises(AccessError):
        advisor.forget(Principal(user="f", role="founder", client=GONE), GONE)
    gone = advisor.forget(LOCAL, GONE)

    assert gone == {
        "chunks": 4,
        "files": 4,
        "uploads": 1,
        "feedback": 1,
        "repositories": 0,
        "chats": 1,
    }
    # accounts.sqlite names the founder's client: the account is the CTO's to remove, not forget's
    hits = _files_mentioning(settings.data_dir, [UNIQUE, GONE])
    assert [p for p, _ in hits if not p.endswith("accounts.sqlite")] == []
    with pytest.raises(AccessError, match="ended"):
        SessionStore(settings).principal(session)  # the founder is signed out at once
    assert advisor.conversations.chats(LOCAL, GONE) == []
    assert advisor.conversations.get(LOCAL, kept_chat.id).title == "keepco question"
    fresh = Advisor(settings, embeddings=embeddings)  # a new process sees the same
    assert fresh.clients(LOCAL) == [KEPT]
    assert [r.client for r in FeedbackStore(settings).all()] == [KEPT]
    kept = fresh.ask(LOCAL, "Which database runs billing?", client=KEPT)
    assert kept.citations and all(p.scope in (KEPT, "playbook") for p in kept.citations)
    again = fresh.ingest(LOCAL, [tmp_path / KEPT], client=KEPT)
    assert again.counts["unchanged"] == 3  # the kept client's manifest rows are intact
