"""SIGKILL at random points of an upload (API and app), a forget and an answer (issue 25,
attack 3); the CLI ingest's ten kills are tests/ingest/test_killed_run.py.

After every kill the next process starts and must leave the index consistent (no half-written
document, chunks exactly as the manifest lists them) and no copy of a document under uploads/
that is not indexed: before the journal and the clean-up at start (ingest/repair.reconcile),
six kills of an upload through the API left 228 unlisted copies. Three kills per operation (two for the app)
here; benchmarks/kill_bench.py kills each operation ten times.
"""

from __future__ import annotations

import pytest

from tests.server import kills

pytestmark = pytest.mark.slow


def _nothing_left(result: kills.Kills, wanted: int) -> None:
    print("\n" + result.line())
    assert result.landed >= wanted, f"only {result.landed} kills landed mid-way"
    assert result.problems == []


def test_killed_uploads_through_the_api_leave_nothing_behind(tmp_path):
    _nothing_left(kills.api_upload_kills(tmp_path, 3), 3)


def test_killed_forgets_leave_the_client_all_there_or_all_gone(tmp_path):
    _nothing_left(kills.forget_kills(tmp_path, 3), 3)


def test_killed_answers_leave_nothing_behind(tmp_path):
    _nothing_left(kills.ask_kills(tmp_path, 3), 3)


@pytest.mark.browser
def test_killed_uploads_through_the_app_leave_nothing_behind(tmp_path):
    from tests.server.scenario import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install_browser.sh")
    pytest.importorskip("playwright")
    _nothing_left(kills.app_upload_kills(tmp_path, 2), 2)
