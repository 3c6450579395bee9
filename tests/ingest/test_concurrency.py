"""Ingests and questions at the same time on one data directory: one writer at a time (the
second waits, or refuses with the fix), and readers never see a half-indexed document."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from advisor.core.errors import IngestError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from ingest.lock import LOCK_NAME
from tests.ingest.test_pipeline import _assert_store_matches_manifest
from tests.processes import CLI

LOCAL = Principal.local()
TOPICS = ["billing", "hiring", "incidents", "security", "roadmap", "vendors"]


def _corpus(root: Path, version: str, files: int = 24) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        topic = TOPICS[i % len(TOPICS)]
        sections = "".join(
            f"## {topic.title()} practice {s}\n\nFor {topic}, the team keeps rule {s} of "
            f"document {i} in {version}. Marker {version}doc{i}.\n\n"
            for s in range(6)
        )
        (root / f"{topic}-{i:02d}.md").write_text(f"# {topic.title()} guide {i}\n\n{sections}")


def _cli_ingest(docs: Path, data_dir: Path, client: str | None = None) -> subprocess.Popen:
    args = ["ingest", str(docs)] + (["--client", client] if client else [])
    return subprocess.Popen(
        [*CLI, *args],
        env=os.environ | {"ADVISOR_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lock(data_dir: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    """Until the subprocess holds the ingest lock (its pid is in the lock file)."""
    deadline = time.monotonic() + timeout
    lock = data_dir / LOCK_NAME
    while time.monotonic() < deadline and proc.poll() is None:
        if lock.exists() and lock.read_text().strip() == f"pid {proc.pid}":
            return
        time.sleep(0.05)
    raise AssertionError(f"the CLI ingest never took the lock: {proc.stderr.read()}")


@pytest.mark.slow
def test_a_second_ingest_waits_for_the_first_or_refuses_with_the_fix(tmp_path, embeddings):
    data_dir = tmp_path / "data"
    _corpus(tmp_path / "cli-docs", "v1", files=40)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "note.md").write_text("# Note\n\nThe app upload arrives mid-run.\n")
    proc = _cli_ingest(tmp_path / "cli-docs", data_dir)
    try:
        _wait_for_lock(data_dir, proc)
        impatient = Advisor(
            Settings(data_dir=data_dir, ingest_lock_wait=0.3), embeddings=embeddings
        )
        with pytest.raises(
            IngestError, match=r"another ingest \(pid \d+\) is running .* try again"
        ):
            impatient.ingest(LOCAL, [tmp_path / "mine"])

        # An app upload during the CLI ingest goes through the same lock: it waits, then lands.
        patient = Advisor(Settings(data_dir=data_dir), embeddings=embeddings)
        upload = patient.upload(
            LOCAL, [("mid-run.md", b"# Mid-run\n\nUploaded during a CLI run.\n")], client="acme"
        )
        # It waited: the CLI no longer holds the lock (it may still be printing its summary).
        holder = (data_dir / LOCK_NAME).read_text().strip()
        assert holder != f"pid {proc.pid}", "the upload did not wait for the CLI ingest"
    finally:
        proc.wait(timeout=600)
    assert proc.returncode == 0, proc.stderr.read()
    assert [u.status for u in upload] == ["indexed"]
    settings = Settings(data_dir=data_dir)
    fresh = Advisor(settings, embeddings=embeddings)
    assert fresh.status(LOCAL)["documents"] == 41
    _assert_store_matches_manifest(fresh.store, settings)


@pytest.mark.slow
def test_fifty_questions_answered_while_another_process_ingests(tmp_path, embeddings):
    """Every document changes while the questions run. Replacing a document used to delete all
    its chunks, then add the new ones: a question in between found the client's scope empty
    ("Nothing is indexed for this scope yet"), 2 runs in 5. Documents are now replaced in place
    (Store.replace_docs). And an answer reads its passages' neighbouring chunks in a second
    read, after which a document could be half old, half new: neighbours now come only from
    the version of the passage they surround."""
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    docs = tmp_path / "docs"
    _corpus(docs, "v1")
    reader = Advisor(settings, embeddings=embeddings)
    reader.ingest(LOCAL, [docs], client="acme")
    _corpus(docs, "v2")  # every document changes: the writer replaces all of them

    proc = _cli_ingest(docs, data_dir, client="acme")
    answers = []
    try:
        _wait_for_lock(data_dir, proc)
        for i in range(50):
            question = f"What rule does the team keep for {TOPICS[i % 6]}?"
            answers.append(reader.ask(LOCAL, question, client="acme"))
        overlapped = proc.poll() is None  # the writer was still running after 50 answers
    finally:
        proc.wait(timeout=600)
    assert proc.returncode == 0, proc.stderr.read()
    print(f"\n50 answers during the ingest; writer still running at the end: {overlapped}")

    assert len(answers) == 50
    for answer in answers:
        assert answer.citations
        by_doc: dict[str, set[str]] = {}
        for cited in answer.citations:
            found = {v for v in ("v1", "v2") if f" in {v}." in cited.snippet}
            by_doc.setdefault(cited.source, set()).update(found)
        # A document is cited from one version only: never half old, half new.
        assert all(len(v) <= 1 for v in by_doc.values()), by_doc
    _assert_store_matches_manifest(Advisor(settings, embeddings=embeddings).store, settings)
