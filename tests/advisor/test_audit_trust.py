"""The audit log under attack (issue 22, item 10), through real `cto-advisor` processes.

- `audit verify` finds an edited, a removed and a moved event (the log was append-only by flag).
- A password typed into the Email field is never written; secrets in feedback are masked.
- `forget` is itself audited and leaves no text of the client's in the audit log or feedback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from advisor.core.errors import AccessError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.audit import AuditLog
from advisor.service.facade import Advisor
from advisor.service.feedback import FeedbackRecord
from tests.processes import CLI

ANA = Principal(user="ana@acme.com", role="founder", client="acme")
QUESTION = "Which pager does our on-call engineer carry? (marker zebra-7731)"
KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz123456"


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"ADVISOR_DATA_DIR": str(data_dir)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_verify_finds_an_edited_a_removed_and_a_moved_event(settings):
    log = AuditLog(settings)
    for n in range(5):
        log.record("ask", ANA, client="acme", question=f"question {n}")
        log.record("login", user=f"user{n}@example.com")
    intact = cli("audit", "verify", data_dir=settings.data_dir)
    assert intact.returncode == 0 and "10 events, chain intact" in intact.stdout, intact.stderr
    head = log.head()
    original = log.path.read_text().splitlines(keepends=True)

    edited = list(original)
    edited[3] = edited[3].replace("user1@example.com", "someone@else.com")
    removed = original[:4] + original[5:]
    moved = original[:2] + [original[3], original[2]] + original[4:]
    for lines, says in ((edited, "changed after"), (removed, "does not follow"),
                        (moved, "does not follow")):  # fmt: skip
        log.path.write_text("".join(lines))
        done = cli("audit", "verify", data_dir=settings.data_dir)
        assert done.returncode == 1 and says in done.stderr, (says, done.stdout, done.stderr)
    log.path.write_text("".join(original[:-2]))  # the last events cut off: the chain holds ...
    assert cli("audit", "verify", data_dir=settings.data_dir).returncode == 0
    cut = cli("audit", "verify", "--expect-head", head, data_dir=settings.data_dir)
    assert cut.returncode == 1 and "no longer in the log" in cut.stderr  # ... the head does not


def test_a_password_typed_as_the_email_is_never_written(settings):
    accounts = AccountStore(settings)
    accounts.add_user("cto@example.com", "cto", None, "correct horse battery")
    for typed in ("Tr0ub4dor&3-secret", "P@ssw0rd!secret", "hunter2 hunter2"):
        with pytest.raises(AccessError):
            accounts.login(typed, "correct horse battery", source="192.0.2.1")
    raw = AuditLog(settings).path.read_text()
    assert "secret" not in raw and "hunter2" not in raw and raw.count("login_failed") == 3


@pytest.fixture
def writable(two_clients_index, tmp_path, embeddings) -> Advisor:
    data_dir = tmp_path / "data"
    shutil.copytree(two_clients_index, data_dir)
    return Advisor(Settings(data_dir=data_dir), embeddings=embeddings)


def test_forget_is_audited_and_leaves_no_client_text_behind(writable):
    data_dir = writable.settings.data_dir
    stream = writable.ask_stream(ANA, QUESTION + f" my key is {KEY}")
    answer = stream.result()
    writable.feedback(
        ANA,
        FeedbackRecord(answer_id=stream.id, rating="down", question=QUESTION,
                       comment=f"zebra-7731 wrong, key {KEY}", answer=answer.answer),
    )  # fmt: skip
    feedback = (data_dir / "feedback.jsonl").read_text()
    assert KEY not in feedback and "zebra-7731" in feedback  # masked like the audit
    audit = (data_dir / "audit.jsonl").read_bytes()
    assert KEY.encode() not in audit and b"zebra-7731" not in audit  # sealed with acme's key
    shown = AuditLog(writable.settings).events(client="acme")
    assert any("zebra-7731" in json.dumps(e.detail) for e in shown)  # readable while kept

    done = cli("forget", "--client", "acme", "--yes", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    events = AuditLog(writable.settings).events(client="acme")
    assert events[-1].event == "forget" and events[-1].detail["key_destroyed"] is True
    assert not any("zebra-7731" in json.dumps(e.detail) for e in events)
    assert all("forgotten" in e.detail for e in events if e.sealed)
    leftovers = [p for p in data_dir.rglob("*") if p.is_file() and b"zebra-7731" in p.read_bytes()]
    assert leftovers == []
    assert cli("audit", "verify", data_dir=data_dir).returncode == 0  # still a whole chain
