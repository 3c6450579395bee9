"""`cto-advisor ask` as a user runs it: a real subprocess on an index built by the CLI."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.processes import CLI


def run_cli(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = os.environ | {"ADVISOR_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def data_dir(two_clients_index):
    return two_clients_index


def test_ask_json_follows_the_contract(data_dir):
    done = run_cli(
        "ask",
        "Which pager does our on-call engineer carry?",
        "--client",
        "acme",
        "--json",
        data_dir=data_dir,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"answer", "abstained", "mode", "citations", "conflicts", "stale"}
    assert answer["conflicts"] == [] and answer["stale"] == []
    assert answer["mode"] == "offline" and answer["abstained"] is False
    assert ACME_FACT in answer["answer"] and GLOBEX_FACT not in done.stdout
    citation = answer["citations"][0]
    assert set(citation) == {
        "n",
        "source",
        "title",
        "section",
        "page",
        "slide",
        "snippet",
        "scope",
        "score",
        "modified",
        "commit",  # a repository source's commit; null for a document
    }
    assert isinstance(citation["modified"], float) and citation["commit"] is None
    assert citation["scope"] == "acme" and citation["source"] == "on-call.md"


def test_ask_streams_text_then_lists_sources(data_dir):
    done = run_cli("ask", "How big should a pull request be?", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "400 lines" in done.stdout
    assert "Sources" in done.stdout and "code-review.md" in done.stdout


def test_unknown_client_is_refused_with_the_fix(data_dir):
    done = run_cli("ask", "Who is on call?", "--client", "acmee", data_dir=data_dir)
    assert done.returncode == 2
    assert "no documents for client 'acmee'" in done.stderr
    assert "known clients are acme, globex" in done.stderr
    assert "--client acmee" in done.stderr
