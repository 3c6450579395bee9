"""A real `cto-advisor ingest` process killed with SIGKILL mid-run: the next run completes the
index with no duplicates and no orphans."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from tests.ingest.test_pipeline import _assert_store_matches_manifest
from tests.processes import CLI

LOCAL = Principal.local()

FILES = 60


def _indexed_rows(manifest) -> int:
    try:
        with sqlite3.connect(f"file:{manifest}?mode=ro", uri=True, timeout=0.2) as db:
            return db.execute("SELECT count(*) FROM files WHERE status = 'indexed'").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet, or locked by the writer for a moment


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_leaves_a_consistent_index(tmp_path, embeddings):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(FILES):
        sections = "".join(
            f"## Topic {i}.{s}\n\n"
            + f"Team {i} keeps rule {s} for process area {i * s}. " * 12
            + "\n\n"
            for s in range(4)
        )
        (docs / f"guide-{i:02d}.md").write_text(f"# Guide {i}\n\n{sections}", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")

    proc = subprocess.Popen(
        [*CLI, "ingest", str(docs)],
        env=os.environ | {"ADVISOR_DATA_DIR": str(settings.data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if _indexed_rows(settings.manifest_path) > 0:  # the first batch is in the store
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert 0 < _indexed_rows(settings.manifest_path) < FILES

    advisor = Advisor(settings, embeddings=embeddings)
    report = advisor.ingest(LOCAL, [docs])
    assert report.counts["failed"] == 0
    assert report.counts["indexed"] + report.counts["unchanged"] == FILES
    _assert_store_matches_manifest(advisor.store, settings)
    assert advisor.status(LOCAL)["documents"] == FILES


def _assert_consistent_after_a_kill(settings) -> None:
    """What a killed run may leave: pending rows (the next run redoes them); never an indexed
    row whose chunks are missing or extra, nor chunks of a document the manifest does not know."""
    from tests.ingest.test_pipeline import _store_docs

    with sqlite3.connect(settings.manifest_path, timeout=30) as db:
        rows = db.execute("SELECT doc_id, chunks, status FROM files").fetchall()
    store = Advisor(settings).store
    docs = _store_docs(store)
    known = {doc_id for doc_id, _, _ in rows}
    assert set(docs) <= known, "chunks of a document the manifest does not know"
    for doc_id, chunks, status in rows:
        if status == "indexed":
            assert docs.get(doc_id) == {f"{doc_id}:{i}" for i in range(chunks)}


@pytest.mark.slow
def test_ten_sigkills_at_random_points_never_leave_store_and_manifest_disagreeing(
    tmp_path, embeddings
):
    import random

    rng = random.Random(20261130)
    docs = tmp_path / "docs"
    docs.mkdir()
    settings = Settings(data_dir=tmp_path / "data")
    env = os.environ | {"ADVISOR_DATA_DIR": str(settings.data_dir)}
    command = [*CLI, "ingest", str(docs)]

    def change_every_file(round_: int) -> None:
        for i in range(12):  # every round changes every file, so every run has work to do
            (docs / f"guide-{i:02d}.md").write_text(
                f"# Guide {i}\n\n" + f"Round {round_} rule {i} for the team. " * 60
            )

    # How long one whole run takes on this machine, so the kills land inside a run wherever
    # they fall (a fixed range would miss on a fast machine and never reach the end on a slow one).
    change_every_file(0)
    started = time.monotonic()
    subprocess.run(command, env=env, capture_output=True, check=True, timeout=600)
    whole_run = time.monotonic() - started
    kills = round_ = 0
    while kills < 10 and round_ < 20:
        round_ += 1
        change_every_file(round_)
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # Any point: start-up, discovery, parsing, embedding or the store write.
        time.sleep(rng.uniform(0.05, 0.9) * whole_run)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += proc.returncode == -signal.SIGKILL
        if settings.manifest_path.exists():
            _assert_consistent_after_a_kill(settings)
    assert kills == 10, f"only {kills} of {round_} runs were killed mid-way"

    advisor = Advisor(settings, embeddings=embeddings)
    report = advisor.ingest(LOCAL, [docs])
    assert report.counts["failed"] == 0
    assert report.counts["indexed"] + report.counts["unchanged"] == 12
    _assert_store_matches_manifest(advisor.store, settings)
    assert advisor.status(LOCAL)["documents"] == 12
