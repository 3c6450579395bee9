"""Sign-ins under attack (issue 22, items 7 and 8), with real processes on one account store.

- 12 wrong passwords sent at once from 12 processes must all be counted (the counter used to be
  read and written on separate connections: they counted as 1 and never slowed anyone).
- A known and an unknown email get the same answers, attempt by attempt, and the same argon2 work.
- A stranger hammering the CTO's email from one address cannot lock the CTO out.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest

from advisor.core.errors import AccessError
from advisor.core.settings import Settings
from advisor.service.accounts import ACCOUNT_MAX_WAIT, AccountStore
from tests.processes import ROOT

PASSWORD = "correct horse battery"
GUESS = """
import sys, time
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
accounts = AccountStore(Settings(data_dir=sys.argv[1]))
while time.time() < float(sys.argv[2]):
    time.sleep(0.005)
try:
    accounts.login("cto@example.com", "wrong password", source="203.0.113.7")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.fixture
def accounts(tmp_path) -> AccountStore:
    store = AccountStore(Settings(data_dir=tmp_path))
    store.add_user("cto@example.com", "cto", None, PASSWORD)
    return store


def failures(accounts: AccountStore, key: str) -> int:
    with sqlite3.connect(accounts.path) as db:
        row = db.execute("SELECT failures FROM login_attempts WHERE key = ?", (key,)).fetchone()
    return row[0] if row else 0


def test_parallel_wrong_passwords_from_twelve_processes_all_count(accounts, tmp_path):
    start = time.time() + 3  # every process is loaded and waiting, then all try at once
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", GUESS, str(tmp_path), str(start)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(12)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all("AccessError" in out for out in outputs), outputs
    checked = sum("wrong email or password" in out for out in outputs)
    held = sum("too many failed sign-ins" in out for out in outputs)
    # Every password that was checked was counted, and the count made the rest wait: on main
    # all 12 were checked and the counter read 1.
    assert checked + held == 12
    assert failures(accounts, "pair:cto@example.com|203.0.113.7") == checked
    assert checked <= 4 and held >= 8, outputs


def test_known_and_unknown_emails_get_the_same_answers_and_the_same_work(tmp_path):
    accounts = AccountStore(Settings(data_dir=tmp_path))
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)

    def attempts(email: str) -> tuple[list[str], float]:
        answers, spent = [], 0.0
        for _ in range(6):
            started = time.perf_counter()
            try:
                accounts.login(email, "wrong password", source="198.51.100.4")
            except AccessError as exc:
                answers.append(str(exc))
            spent += time.perf_counter() - started
            with sqlite3.connect(accounts.path) as db:  # skip the waits, keep the counts
                db.execute("UPDATE login_attempts SET next_at = 0 WHERE key LIKE 'pair:%'")
        return answers, spent

    known, known_time = attempts("cto@example.com")
    unknown, unknown_time = attempts("nobody@example.com")
    assert known == unknown and set(known) == {"wrong email or password"}
    # Both paths run argon2 every time: the unknown email is not the fast one.
    assert unknown_time > 0.5 * known_time, (known_time, unknown_time)


def wait_in(exc: pytest.ExceptionInfo) -> int:
    return int(str(exc.value).split("wait ")[1].split(" ")[0])


def test_a_stranger_cannot_lock_the_cto_out(tmp_path):
    accounts = AccountStore(Settings(data_dir=tmp_path))
    accounts.add_user("cto@example.com", "cto", None, PASSWORD)
    accounts.login("cto@example.com", PASSWORD, source="192.0.2.10")  # the CTO's usual address
    for _ in range(40):  # a stranger who waits out every delay it is given
        with sqlite3.connect(accounts.path) as db:
            db.execute("UPDATE login_attempts SET next_at = 0")
        with pytest.raises(AccessError, match="wrong email or password"):
            accounts.login("cto@example.com", "guess", source="203.0.113.66")
    assert failures(accounts, "acct:cto@example.com") == 40
    # The stranger's next guess now waits login_lock_minutes, ...
    with pytest.raises(AccessError, match="wait") as stranger:
        accounts.login("cto@example.com", "guess", source="203.0.113.66")
    assert wait_in(stranger) >= 600
    # ... the CTO signs in at once from the usual address (on main: locked for 15 minutes), ...
    assert accounts.login("cto@example.com", PASSWORD, source="192.0.2.10").role == "cto"
    # ... and from a new address, after more guesses, waits at most ACCOUNT_MAX_WAIT.
    for _ in range(12):
        with sqlite3.connect(accounts.path) as db:
            db.execute("UPDATE login_attempts SET next_at = 0")
        with pytest.raises(AccessError):
            accounts.login("cto@example.com", "guess", source="203.0.113.66")
    with pytest.raises(AccessError, match="wait") as new_place:
        accounts.login("cto@example.com", PASSWORD, source="192.0.2.99")
    assert 0 < wait_in(new_place) <= ACCOUNT_MAX_WAIT
