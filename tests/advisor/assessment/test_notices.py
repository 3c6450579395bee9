"""Answers warn when the client's cited documents disagree or are stale, with both citations."""

from __future__ import annotations

import os
import time

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor

LOCAL = Principal.local()


def _index(tmp_path, embeddings, **settings):
    docs = tmp_path / "acme"
    docs.mkdir()
    (docs / "roster.md").write_text(
        "# Team roster\n\n## On-call\nEvery engineer on call is paid an on-call stipend of $400 "
        "per week on call.\n"
    )
    (docs / "notes.md").write_text(
        "# Architecture notes\n\n## Risks\nEngineers on call are paid an on-call stipend of $300 "
        "per week on call, which is low.\n"
    )
    old = time.time() - 800 * 86400
    os.utime(docs / "notes.md", (old, old))
    advisor = Advisor(Settings(data_dir=tmp_path / "data", **settings), embeddings=embeddings)
    advisor.ingest(LOCAL, [docs], client="acme")
    return advisor


def test_an_answer_resting_on_disagreeing_documents_warns_with_both_citations(tmp_path, embeddings):
    answer = _index(tmp_path, embeddings).ask(LOCAL, "How much is the on-call stipend?", "acme")
    by_source = {c.source: c.n for c in answer.citations}
    assert {"roster.md", "notes.md"} <= set(by_source)
    [conflict] = answer.conflicts
    assert f"[{by_source['roster.md']}]" in conflict and f"[{by_source['notes.md']}]" in conflict
    assert "$300" in conflict and "$400" in conflict
    assert "disagree" in answer.warning
    assert answer.to_json_dict()["conflicts"] == [conflict]


def test_every_citation_has_an_age_and_old_documents_are_called_out(tmp_path, embeddings):
    answer = _index(tmp_path, embeddings, stale_after_days=365).ask(
        LOCAL, "How much is the on-call stipend?", "acme"
    )
    ages = {c.source: c.age_days() for c in answer.citations}
    assert ages["notes.md"] >= 799 and ages["roster.md"] <= 1
    [stale] = answer.stale
    assert "notes" in stale.lower() and ("800 days" in stale or "799 days" in stale)
    assert "older than 365 days" in answer.warning
    (tmp_path / "again").mkdir()
    fresh = _index(tmp_path / "again", embeddings, stale_after_days=5000).ask(
        LOCAL, "How much is the on-call stipend?", "acme"
    )
    assert fresh.stale == []


def test_a_memo_quoting_a_figure_another_document_disagrees_with_flags_it(tmp_path, embeddings):
    advisor = _index(tmp_path, embeddings)
    memo = advisor.memo(LOCAL, "Should we raise the on-call stipend?", client="acme")
    by_source = {c.source: c.n for c in memo.citations}
    [conflict] = memo.conflicts
    assert {"roster.md", "notes.md"} <= set(by_source)
    assert f"[{by_source['roster.md']}]" in conflict and f"[{by_source['notes.md']}]" in conflict
    assert "stipend" in conflict and "disagree" in memo.warning
    assert "Figures that disagree" in memo.to_markdown()
