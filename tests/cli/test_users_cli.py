"""`cto-advisor users ...` as a CTO runs it: a real subprocess, passwords never as arguments."""

from __future__ import annotations

import os
import subprocess

import pytest

from advisor.core.errors import AccessError
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.audit import AuditLog
from tests.processes import CLI


def run_cli(*args: str, data_dir, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {"ADVISOR_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [*CLI, *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_a_cto_adds_lists_resets_and_removes_accounts(tmp_path):
    data = tmp_path / "data"
    added = run_cli("users", "add", "cto@example.com", "--role", "cto", "--password-stdin",
                    data_dir=data, stdin="first password\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    founder = run_cli("users", "add", "ana@acme.com", "--role", "founder", "--client", "Acme",
                      "--password-stdin", data_dir=data, stdin="ana password 1\nignored\n")  # fmt: skip
    assert "founder for client acme" in founder.stderr
    listing = run_cli("users", "list", data_dir=data)
    assert "ana@acme.com" in listing.stdout and "acme" in listing.stdout
    assert "password" not in listing.stdout.lower()

    accounts = AccountStore(Settings(data_dir=data))
    assert accounts.login("ana@acme.com", "ana password 1").client == "acme"
    reset = run_cli("users", "set-password", "ana@acme.com", "--password-stdin",
                    data_dir=data, stdin="ana password 2\n")  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    with pytest.raises(AccessError):
        accounts.login("ana@acme.com", "ana password 1")
    assert accounts.login("ana@acme.com", "ana password 2").email == "ana@acme.com"

    removed = run_cli("users", "remove", "ana@acme.com", "--yes", data_dir=data)
    assert removed.returncode == 0 and [u.email for u in accounts.list_users()] == [
        "cto@example.com"
    ]
    events = [e.event for e in AuditLog(Settings(data_dir=data)).events()]
    assert events.count("account_add") == 2 and "account_password" in events
    assert "account_remove" in events
    log = (data / "audit.jsonl").read_text()
    assert "first password" not in log and "ana password" not in log


def test_bad_input_gets_the_fix_and_no_password_is_taken_from_an_argument(tmp_path):
    data = tmp_path / "data"
    no_client = run_cli("users", "add", "bo@globex.com", "--role", "founder", "--password-stdin",
                        data_dir=data, stdin="long enough pw\n")  # fmt: skip
    assert no_client.returncode == 2 and "--client" in no_client.stderr
    short = run_cli("users", "add", "bo@globex.com", "--role", "cto", "--password-stdin",
                    data_dir=data, stdin="short\n")  # fmt: skip
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    no_tty = run_cli("users", "add", "bo@globex.com", "--role", "cto", data_dir=data, stdin="")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    as_argument = run_cli("users", "add", "bo@globex.com", "--role", "cto", "--password",
                          "secret123", data_dir=data)  # fmt: skip
    assert as_argument.returncode != 0 and "No such option" in as_argument.stderr
    assert not AccountStore(Settings(data_dir=data)).exists()
