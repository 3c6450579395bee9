"""A long-running server keeps answering while another process ingests (issue 25, attack 1).

Real processes throughout: the CLI indexes two clients, a real `cto-advisor serve` (or
`streamlit run app.py` driven by Chromium) answers askers without pause, and meanwhile a
separate `cto-advisor ingest` indexes acme's folder after documents were edited, added and
deleted. Before the one-writer model (advisor/core/store.py), every question for acme failed
after that ingest with "Error finding id" until a restart. The figures at 20 askers are
printed by benchmarks/concurrency_bench.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.scenario import CHROMIUM, print_report, run_api, run_app

pytestmark = pytest.mark.slow


def _assert_served_through_the_ingest(report: dict) -> None:
    assert report["during"]["requests"] > 0, "no question overlapped the ingest"
    assert report["after"]["requests"] > 0
    assert report["failed"] == 0, (report["statuses"], report["first_errors"])
    assert report["problems"] == [], "an answer was half old, half new, or another client's"
    # The new documents are answerable within seconds of the ingest's end, and the deleted
    # ones are no longer cited.
    assert report["new_answerable_after_s"] is not None, report["new_question_answers"]
    assert report["new_answerable_after_s"] < 20
    assert report["deleted_cited_after"] == 0


def test_the_api_answers_throughout_another_processs_ingest(tmp_path: Path):
    report = run_api(tmp_path, "embedded", askers=8, before=3, after=10)
    print_report("API, embedded store, 8 askers", report)
    _assert_served_through_the_ingest(report)


def test_the_api_on_a_chroma_server_answers_throughout_another_processs_ingest(tmp_path):
    report = run_api(tmp_path, "server", askers=8, before=3, after=10)
    print_report("API, chroma run, 8 askers", report)
    _assert_served_through_the_ingest(report)


@pytest.mark.browser
def test_the_app_answers_throughout_another_processs_ingest(tmp_path: Path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install_browser.sh")
    pytest.importorskip("playwright")
    report = run_app(tmp_path, "embedded", askers=4, before=3, after=15)
    print_report("app, embedded store, 4 Chromium pages", report)
    assert report["asker_errors"] == []
    _assert_served_through_the_ingest(report)
