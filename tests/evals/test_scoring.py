"""Per-item scoring and aggregation, from hand-built answers of a system under test."""

import math

import pytest

from advisor.core.models import Answer, Citation, Passage
from evals.dataset import EvalItem
from evals.runner import Observation, run_item
from evals.scoring import aggregate, by_category, cited_passages, metric_names, score_observation
from evals.support import PassageTexts

CORPUS_ROOT = "/corpus"


def passage(source: str, scope: str = "playbook", root: str = "/corpus/playbooks") -> Passage:
    return Passage(id=source, text=f"text of {source}", source=source, root=root, scope=scope)


def item(**fields) -> EvalItem:
    base = {"id": "q", "question": "?", "category": "stack", "answerable": True}
    base.setdefault("gold_sources", ["playbooks/gold.md"])
    return EvalItem.model_validate({**base, **fields})


def score(it: EvalItem, answer: Answer, k: int = 5, **kw):
    from pathlib import Path

    return score_observation(Observation(it, answer, 12.0), Path(CORPUS_ROOT), k, **kw)


def test_scores_use_corpus_relative_documents_deduped():
    answer = Answer(
        answer="Use Postgres [1] and hire slowly [2] and [5].",
        passages=[passage("x.md"), passage("gold.md"), passage("gold.md"), passage("y.md")],
        citations=[
            Citation(n=1, source="gold.md", root="/corpus/playbooks"),
            Citation(n=2, source="x.md", root="/corpus/playbooks"),
        ],
    )
    entry = score(item(gold_sources=["playbooks/gold.md"], must_include=["postgres", "Go"]), answer)
    assert entry["retrieved"] == ["playbooks/x.md", "playbooks/gold.md", "playbooks/y.md"]
    assert entry["cited"] == ["playbooks/gold.md", "playbooks/x.md"]
    s = entry["scores"]
    assert s["hit@5"] == 1.0 and s["mrr@10"] == 0.5 and s["recall@5"] == 1.0
    assert s["fact_recall"] == 0.5
    assert s["citation_validity"] == pytest.approx(2 / 3)  # [5] resolves to nothing
    assert s["citation_precision"] == 0.5
    assert entry["must_include_missing"] == ["Go"]


def test_isolation_violations_and_scope_leaks_are_recorded():
    answer = Answer(
        answer="Priya Nair is on call.",
        passages=[passage("roster.md", scope="globex", root="/corpus/clients/globex")],
    )
    it = item(
        client="acme", gold_sources=["clients/acme/roster.md"], must_not_include=["priya nair"]
    )
    entry = score(it, answer)
    assert entry["must_not_include_found"] == ["priya nair"]
    assert entry["scope_leaks"] == ["clients/globex/roster.md"]
    assert entry["quality"] == 0.0


def test_unanswerable_items_have_no_retrieval_scores():
    entry = score(item(answerable=False, gold_sources=[]), Answer(answer="", abstained=True))
    assert all(v is None for v in entry["scores"].values())
    assert entry["quality"] == 1.0


def test_markers_the_answerer_dropped_still_count_as_invalid():
    answer = Answer(
        answer="Use Postgres [1].",
        passages=[passage("gold.md")],
        citations=[Citation(n=1, source="gold.md", root="/corpus/playbooks")],
        invented_markers=1,
    )
    entry = score(item(), answer)
    assert entry["scores"]["citation_validity"] == 0.5
    assert entry["invented_markers"] == 1


def test_no_markers_gives_null_citation_scores_with_a_note():
    entry = score(item(), Answer(answer="Plain text.", passages=[passage("gold.md")]))
    assert entry["scores"]["citation_validity"] is None
    assert entry["scores"]["citation_precision"] is None
    assert any("no [n] markers" in n for n in entry["notes"])


def test_a_system_that_does_not_cite_gets_null_citation_scores():
    answer = Answer(answer="Footnote [1] copied from a chunk.", passages=[passage("gold.md")])
    entry = score(item(), answer, cites=False)
    assert entry["scores"]["citation_validity"] is None


def test_aggregate_averages_answerable_items_and_skips_undefined():
    good = score(
        item(id="a", must_include=["postgres"]),
        Answer(
            answer="Postgres [1].",
            passages=[passage("gold.md")],
            citations=[Citation(n=1, source="gold.md", root="/corpus/playbooks")],
        ),
    )
    miss = score(item(id="b", category="process"), Answer(answer="No idea.", abstained=True))
    refused = score(item(id="c", answerable=False, gold_sources=[]), Answer(answer="x"))
    metrics, support, notes = aggregate([good, miss, refused], k=5)
    assert list(metrics) == metric_names(5)
    assert metrics["hit@5"] == 0.5
    assert metrics["fact_recall"] == 1.0 and support["fact_recall"] == 1
    assert metrics["citation_validity"] == 1.0 and support["citation_validity"] == 1
    assert metrics["false_abstain_rate"] == 0.5
    assert metrics["abstain_rate_unanswerable"] == 0.0
    assert metrics["latency_p50_ms"] == 12.0
    assert metrics["must_not_include_violation_rate"] is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in metrics.values())
    assert any(n.startswith("citation_validity: undefined for 1") for n in notes)
    cats = by_category([good, miss, refused], k=5)
    assert cats["process"]["n"] == 1 and cats["process"]["hit@5"] == 0.0


def test_cited_passages_read_the_indexed_text_of_the_cited_section():
    answer = Answer(
        answer="See [2].",
        passages=[passage("a.md"), passage("b.md")],
        citations=[
            Citation(n=1, source="a.md", root="/corpus/playbooks", snippet="a..."),
            Citation(n=2, source="b.md", root="/corpus/playbooks", snippet="b..."),
        ],
    )
    texts = PassageTexts([passage("a.md"), passage("b.md")])
    assert cited_passages(answer, texts) == [(2, "text of b.md")]


def test_leaks_are_judged_by_the_folder_a_file_lives_in_not_by_its_scope_label():
    mislabelled = passage("roster.md", scope="acme", root="/corpus/clients/globex")
    outside = passage("notes.md", scope="playbook", root="/elsewhere")
    entry = score(item(client="acme"), Answer(answer="x", passages=[mislabelled, outside]))
    assert entry["scope_leaks"] == ["clients/globex/roster.md", "../elsewhere/notes.md"]
    own = passage("roster.md", scope="acme", root="/corpus/clients/acme")
    assert score(item(client="acme"), Answer(answer="x", passages=[own]))["scope_leaks"] == []


def test_faithfulness_is_the_share_of_claims_their_cited_passage_states():
    texts = PassageTexts([passage("gold.md")])  # its text: "text of gold.md"
    cited = [Citation(n=1, source="gold.md", root="/corpus/playbooks")]
    good = Answer(answer="The text of gold [1].", passages=[passage("gold.md")], citations=cited)
    bad = Answer(answer="Hire five SREs [1].", passages=[passage("gold.md")], citations=cited)
    assert score(item(), good, passages=texts)["scores"]["faithfulness"] == 1.0
    assert score(item(), bad, passages=texts)["scores"]["faithfulness"] == 0.0
    refused = Answer(answer="Nope [1].", abstained=True, citations=cited)
    assert score(item(), refused, passages=texts)["scores"]["faithfulness"] is None


class RecordingSystem:
    """Answers every question with its own text and records what it was asked."""

    name, cites, report_notes = "recording", False, []

    def __init__(self):
        self.calls = []

    def ask(self, question, client, history):
        self.calls.append((question, client, list(history)))
        return Answer(answer=f"answer to {question}")


def test_multi_turn_items_pass_the_history_and_score_the_last_turn():
    system = RecordingSystem()
    it = item(question=None, turns=["first?", "second?", "third?"], client="acme")
    obs = run_item(system, it)
    assert [c[0] for c in system.calls] == ["first?", "second?", "third?"]
    assert system.calls[2][2] == [
        {"role": "user", "content": "first?"},
        {"role": "assistant", "content": "answer to first?"},
        {"role": "user", "content": "second?"},
        {"role": "assistant", "content": "answer to second?"},
    ]
    assert all(c[1] == "acme" for c in system.calls)
    assert obs.answer.answer == "answer to third?"
    assert obs.latency_ms >= 0
