"""Data at rest is private to the user (issue 22, item 11): real processes started with the usual
umask 022 create nothing others can read, and a data directory left open is fixed at start."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.advisor.corpus import write_corpus
from tests.processes import CLI


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=os.environ | {"ADVISOR_DATA_DIR": str(data_dir)},
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),  # what a login shell gives
    )


def open_to_others(root: Path) -> list[str]:
    paths = [root, *root.rglob("*")]
    return [f"{p} {stat.filemode(p.stat().st_mode)}" for p in paths if p.stat().st_mode & 0o077]


def test_everything_an_ingest_and_an_account_create_is_private(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    data_dir = tmp_path / "data"
    for args in (
        ("ingest", str(corpus / "playbooks")),
        ("ingest", str(corpus / "clients" / "acme"), "--client", "acme"),
        ("tokens", "list"),
    ):
        done = run_cli(*args, data_dir=data_dir)
        assert done.returncode == 0, done.stderr[-2000:]
    names = {p.name for p in data_dir.rglob("*")}
    assert {"chroma", "manifest.sqlite", "audit.jsonl", "accounts.sqlite"} <= names, names
    assert open_to_others(data_dir) == []


def test_a_data_directory_left_open_is_fixed_at_start_with_a_warning(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "uploads" / "acme").mkdir(parents=True)
    leaked = data_dir / "uploads" / "acme" / "board-deck.md"
    leaked.write_text("Runway: 14 months")
    for path, mode in ((data_dir, 0o755), (data_dir / "uploads", 0o755), (leaked, 0o644)):
        path.chmod(mode)
    done = run_cli("status", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "could be read by other users" in done.stderr
    assert open_to_others(data_dir) == []
