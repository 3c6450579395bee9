"""The audit log: append-only JSON lines, filtered by client, user and date, secrets masked."""

from __future__ import annotations

import json
from datetime import date, timedelta

from typer.testing import CliRunner

from advisor.core.principal import Principal
from advisor.service.audit import AuditLog, redact
from interfaces.cli import _register
from interfaces.cli.base import app

ANA = Principal(user="ana@acme.com", role="founder", client="acme")
CTO = Principal(user="cto@example.com", role="cto")


def test_events_are_appended_and_filtered_by_client_user_and_date(settings):
    log = AuditLog(settings)
    log.record("ask", ANA, client="acme", question="Q1", sources=["acme:a.md"])
    log.record("ask", CTO, client="globex", question="Q2", sources=[])
    log.record("login_failed", user="mallory@evil.test", reason="no such account")
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('{"ts": 1, "event": "half')  # a torn line from a crash
    log.record("memo", CTO, client="acme", topic="T")

    assert [e.event for e in log.events()] == ["ask", "ask", "login_failed", "memo"]
    assert [e.user for e in log.events(client="ACME")] == ["ana@acme.com", "cto@example.com"]
    assert [e.event for e in log.events(user="cto@example.com")] == ["ask", "memo"]
    assert log.events(since=date.today() + timedelta(days=2)) == []
    assert len(log.events(since=date.today() - timedelta(days=1))) == 4


def test_secrets_pasted_into_a_question_never_reach_the_log():
    text = redact(
        "Our key is sk-proj-abcdefghijklmnopqrstuvwxyz123456, token cta_ABCDEFGHIJKLMNOPQRSTUV, "
        "and password: hunter2hunter2. How do we rotate them?"
    )
    assert "sk-proj" not in text and "cta_ABC" not in text and "hunter2" not in text
    assert "How do we rotate them?" in text
    assert len(redact("x" * 5000)) == 500


def test_the_audit_command_prints_a_table_or_json(settings, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(settings.data_dir))
    log = AuditLog(settings)
    log.record("ask", ANA, client="acme", question="Who carries the pager?", sources=["acme:a.md"])
    log.record("ask", CTO, client="globex", question="Deploy days?", sources=[])
    _register()
    runner = CliRunner()
    done = runner.invoke(app, ["audit", "--client", "acme", "--json"])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["user"], r["detail"]["sources"]) for r in rows] == [("ana@acme.com", ["acme:a.md"])]
    table = runner.invoke(app, ["audit", "--user", "cto@example.com"])
    assert "Audit (1 events)" in table.stdout and "cto@example.com" in table.stdout
    bad = runner.invoke(app, ["audit", "--since", "yesterday"])
    assert bad.exit_code != 0
