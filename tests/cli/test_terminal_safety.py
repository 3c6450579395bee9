"""Hostile text cannot act on the CTO's terminal or break an export (issue 22, item 4).

A client document and its file name carry OSC sequences (ESC ] 52 writes the clipboard, ESC ] 8
hides a link, ESC ] 0 retitles the window), a CSI colour, a bidi override and a carriage return;
`ingest`, `status`, `ask` (text and --json), `memo` (Markdown and Word) run as real processes.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.processes import CLI

OSC = "\x1b]52;c;U0VDUkVU\x07"
LINK = "\x1b]8;;https://evil.example/\x1b\\runbook\x1b]8;;\x1b\\"
TITLE = "\x1b]0;owned\x07"
DANGEROUS = ("\x1b", "\x07", "\u202e", "\x9b", "\r")
NAME = f"pager{TITLE}-\u202edm.md"
DOC = (
    "# Pager policy\n\nThe on-call engineer carries the red pager "
    f"{OSC} and reads the {LINK} first.\nA pasted log: \x1b[31mERROR\x1b[0m\r overwritten.\n"
)


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"ADVISOR_DATA_DIR": str(data_dir)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    docs = tmp_path_factory.mktemp("hostile-docs")
    (docs / NAME).write_text(DOC, encoding="utf-8")
    data_dir = tmp_path_factory.mktemp("hostile-data")
    return docs, data_dir


def assert_inert(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stderr[-2000:]
    for stream in (done.stdout, done.stderr):
        for char in DANGEROUS:
            assert char not in stream, f"{char!r} reached the terminal: {stream[:500]!r}"


def test_ingest_status_and_ask_print_nothing_a_terminal_would_act_on(hostile):
    docs, data_dir = hostile
    assert_inert(run_cli("ingest", str(docs), "--client", "acme", data_dir=data_dir))
    assert_inert(run_cli("status", data_dir=data_dir))
    status = run_cli("status", "--json", data_dir=data_dir)
    assert_inert(status)
    # JSON keeps the exact name (a tool may open the file) but as escapes, not raw bytes.
    assert NAME in [s["source"] for s in json.loads(status.stdout)["sources"]]
    asked = run_cli("ask", "Who carries the red pager?", "--client", "acme", data_dir=data_dir)
    assert_inert(asked)
    assert "Pager policy" in asked.stdout  # the document is cited, its escapes are not
    as_json = run_cli(
        "ask", "Who carries the red pager?", "-c", "acme", "--json", data_dir=data_dir
    )
    assert_inert(as_json)
    assert "ERROR" in json.loads(as_json.stdout)["citations"][0]["snippet"]


def test_a_memo_with_control_characters_exports_to_word(hostile, tmp_path):
    from docx import Document

    docs, data_dir = hostile
    run_cli("ingest", str(docs), "--client", "acme", data_dir=data_dir)
    out = tmp_path / "memo.docx"
    topic = "Pager \x1b[31mrotation\x07 or\x0c a second \x1fpager?"
    done = run_cli("memo", topic, "--client", "acme", "--out", str(out), data_dir=data_dir)
    assert_inert(done)
    text = "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    assert "Pager rotation or a second pager?" in text
    assert not any(c in text for c in DANGEROUS + ("\x1f", "\x0c"))
    shown = run_cli("memo", topic, "--client", "acme", data_dir=data_dir)
    assert_inert(shown)
