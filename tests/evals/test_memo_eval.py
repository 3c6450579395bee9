"""The memo task's scoring: key facts, gold sources per section, off-topic and uncited points."""

from __future__ import annotations

import json

import pytest

from advisor.core.errors import AdvisorError
from advisor.core.models import Citation, Passage
from advisor.memo.model import Memo, OptionRow
from evals.memo_eval import (
    aggregate,
    load_memo_dataset,
    memo_metrics,
    memo_points,
    missed_targets,
    score_memo,
)
from evals.metrics import contains_phrase, words
from evals.parts import gate, summarize
from evals.splits import Split, split_for
from evals.support import PassageTexts
from evals.thresholds import Gates


def item_line(**overrides) -> dict:
    line = {
        "id": "m1",
        "topic": "Grow on-call or hire?",
        "client": "acme",
        "gold": {"context": ["clients/acme/on-call.md"], "risks": ["playbooks/on-call.md"]},
        "related": ["playbooks/hiring.md"],
        "key_facts": ["five engineers", "Zebra-7"],
    }
    return {**line, **overrides}


@pytest.fixture
def corpus(tmp_path):
    for rel in ("clients/acme/on-call.md", "playbooks/on-call.md", "playbooks/hiring.md",
                "playbooks/security.md"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    return tmp_path


def write(tmp_path, *lines) -> object:
    path = tmp_path / "memos.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def cite(n: int, rel: str, corpus) -> Citation:
    return Citation(n=n, source=rel, root=str(corpus), scope="acme")


def test_a_memo_is_scored_per_section_against_its_gold_sources(tmp_path, corpus):
    [item] = load_memo_dataset(write(tmp_path, item_line()), corpus)
    memo = Memo(
        topic=item.topic,
        client="acme",
        sections={
            "Context": ["Acme carries the Zebra-7 pager [1]. Three people rotate [1]."],
            "Risks": ["Burn-out below five engineers [1].", "Patch servers monthly [3]."],
            "Open questions": ["What budget is there?"],
        },
        options=[OptionRow(option="Hire", benefits="Hiring helps [2].", costs="")],
        citations=[
            cite(1, "clients/acme/on-call.md", corpus),
            cite(2, "playbooks/hiring.md", corpus),
            cite(3, "playbooks/security.md", corpus),
        ],
    )
    assert memo_points(memo)["context"] == [
        "Acme carries the Zebra-7 pager [1].",
        "Three people rotate [1].",
    ]
    entry = score_memo(memo, item, corpus, seconds=0.5)
    assert entry["key_fact_recall"] == 1.0
    assert entry["source_recall"] == {"context": 1.0, "risks": 0.0}
    assert entry["points"] == 5, "two context sentences, two risks, one options cell"
    assert entry["off_topic_points"] == ["Patch servers monthly."]
    assert entry["off_topic_share"] == pytest.approx(1 / 5)
    assert entry["cited_share"] == 1.0 and entry["open_questions"] == 1

    metrics = aggregate([entry])
    assert metrics["source_recall.context"] == 1.0 and metrics["source_recall.risks"] == 0.0
    assert missed_targets(metrics) == ["off_topic_share = 0.200, target <= 0.1"]


def test_an_uncited_point_counts_against_every_point_cited(tmp_path, corpus):
    [item] = load_memo_dataset(write(tmp_path, item_line()), corpus)
    memo = Memo(
        topic=item.topic,
        sections={"Recommendation": ["Grow to five engineers."]},
        citations=[],
    )
    entry = score_memo(memo, item, corpus, seconds=0.1)
    assert entry["cited_share"] == 0.0 and entry["off_topic_share"] == 1.0
    assert entry["key_facts_missed"] == ["Zebra-7"]


def test_a_dataset_naming_a_missing_source_or_section_is_refused_with_the_line(tmp_path, corpus):
    bad = write(
        tmp_path,
        item_line(gold={"context": ["clients/acme/nope.md"]}),
        item_line(id="m2", gold={"summary": []}),
    )
    with pytest.raises(AdvisorError) as err:
        load_memo_dataset(bad, corpus)
    assert "line 1 (m1): not in" in str(err.value) and "clients/acme/nope.md" in str(err.value)
    assert "line 2: " in str(err.value) and "summary" in str(err.value)


def test_the_checked_in_memo_sets_are_valid_and_big_enough(shared_corpora):
    from tests.conftest import ROOT, SAMPLE_DATA

    sample = load_memo_dataset(ROOT / "evals/datasets/memos.jsonl", SAMPLE_DATA)
    dev = load_memo_dataset(ROOT / "evals/datasets/memos-dev.jsonl", shared_corpora / "dev")
    topics = sample + dev
    assert len(topics) >= 40
    assert {i.client for i in sample} >= {"haulwise", "ledgerly", None}
    assert len({i.topic for i in topics}) == len(topics)
    frozen = [i for i in topics if split_for("memos").part_of(i.id) == "test"
              or split_for("memos-dev").part_of(i.id) == "test"]  # fmt: skip
    assert len(frozen) * 2 >= len(topics), "half the topics are frozen test"
    # A key fact a memo could copy from its own topic measures nothing.
    for i in topics:
        assert not any(contains_phrase(words(i.topic), f) for f in i.key_facts), i.id


def test_key_facts_are_whole_words_and_a_cited_point_must_be_backed_by_its_passage(
    tmp_path, corpus
):
    [item] = load_memo_dataset(
        write(tmp_path, item_line(key_facts=["Go", "five engineers"])), corpus
    )
    texts = PassageTexts(
        [
            Passage(id="a", source="on-call.md", root=str(corpus / "clients/acme"),
                    text="A rotation needs five engineers.", scope="acme"),
            Passage(id="b", source="hiring.md", root=str(corpus / "playbooks"),
                    text="Hire slowly, through Google referrals."),
        ]
    )  # fmt: skip
    memo = Memo(
        topic=item.topic,
        client="acme",
        sections={"Recommendation": ["A rotation needs five engineers [1].",
                                     "Hire through Google referrals [1]."]},
        citations=[
            Citation(n=1, source="on-call.md", root=str(corpus / "clients/acme"), scope="acme"),
        ],
    )  # fmt: skip
    entry = score_memo(memo, item, corpus, 0.1, texts)
    assert entry["key_facts_found"] == ["five engineers"], "Go is not found in Google"
    assert entry["cited_share"] == 0.5, "the second point cites a passage that does not say it"
    assert entry["unsupported_points"] == ["Hire through Google referrals [1]."]


def test_a_memo_citing_another_clients_file_is_a_leak_by_the_folder_it_lives_in(tmp_path, corpus):
    (corpus / "clients/globex").mkdir()
    (corpus / "clients/globex/plan.md").write_text("x")
    [item] = load_memo_dataset(write(tmp_path, item_line()), corpus)
    memo = Memo(
        topic=item.topic,
        client="acme",
        sections={"Context": ["Acme carries the Zebra-7 pager [1]."]},
        # The citation's scope claims acme; the file sits in globex's folder.
        citations=[Citation(n=1, source="plan.md", root=str(corpus / "clients/globex"),
                            scope="acme")],
    )  # fmt: skip
    entry = score_memo(memo, item, corpus, 0.1)
    assert entry["scope_leaks"] == ["clients/globex/plan.md"]
    assert aggregate([entry])["scope_leaks"] == 1


def topic(i: int, facts: float, off: float, points: int = 10) -> dict:
    return {"id": f"m{i}", "key_fact_recall": facts, "off_topic_share": off,
            "cited_share": 1.0, "points": points, "source_recall": {}}  # fmt: skip


MARGINS = Gates([], margins={"key_fact_recall": 0.05, "off_topic_share": 0.05})


def test_a_run_worse_than_its_baseline_fails_per_part_and_noise_within_margin_does_not():
    base = [topic(i, facts=0.8, off=0.05) for i in range(12)]
    split = Split("memos", "item", {f"m{i}": "x" for i in range(6, 12)}, "x", "test")
    worse = [topic(i, facts=0.3, off=0.4) for i in range(12)]
    found, _ = gate({"metrics": {}, "items": worse}, memo_metrics(), MARGINS, split, base)
    assert sorted((f.metric, f.part) for f in found) == [
        ("key_fact_recall", "test"), ("key_fact_recall", "tuning"),
        ("off_topic_share", "test"), ("off_topic_share", "tuning"),
    ]  # fmt: skip
    # Only the frozen part got worse: still a failure, and it names the part.
    test_only = [topic(i, facts=0.8 if i < 6 else 0.6, off=0.05) for i in range(12)]
    found, _ = gate({"metrics": {}, "items": test_only}, memo_metrics(), MARGINS, split, base)
    assert [(f.metric, f.part) for f in found] == [("key_fact_recall", "test")]
    steady = [topic(i, facts=0.8 + (0.02 if i % 2 else -0.02), off=0.05) for i in range(12)]
    assert gate({"metrics": {}, "items": steady}, memo_metrics(), MARGINS, split, base)[0] == []


def test_intervals_resample_topics_and_pool_shares_over_points():
    entries = [topic(0, 1.0, 0.0, points=30), topic(1, 0.0, 1.0, points=10)]
    summary = summarize(entries + [topic(2, 0.5, 0.0, points=10)], memo_metrics(), None)
    low, high = summary["ci"]["off_topic_share"]
    assert 0.0 <= low < 10 / 50 < high <= 1.0
    assert summary["parts"]["tuning"]["items"] == 3 and summary["parts"]["test"]["items"] == 0
    assert summarize(entries[:1], memo_metrics(), None)["ci"]["key_fact_recall"] is None
