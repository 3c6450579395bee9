"""Feedback: stored as JSONL, last rating wins, thumbs-down exported as eval cases."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisor.service.feedback import (
    FeedbackRecord,
    FeedbackStore,
    category_guesser,
    guess_category,
    to_eval_case,
)
from evals.dataset import parse_dataset
from interfaces.cli import _register
from interfaces.cli.base import app


def rec(answer_id: str, rating: str, **extra) -> FeedbackRecord:
    fields = {"question": "Who should our next two hires be?", "client": "ledgerly"}
    return FeedbackRecord(answer_id=answer_id, rating=rating, **(fields | extra))


def test_records_survive_a_new_store_and_the_last_rating_wins(settings):
    FeedbackStore(settings).record(rec("a1", "down"))
    FeedbackStore(settings).record(rec("a2", "up"))
    FeedbackStore(settings).record(rec("a1", "up", comment="actually fine"))

    store = FeedbackStore(settings)
    assert store.path == settings.data_dir / "feedback.jsonl"
    assert len(store.all()) == 3
    latest = {answer_id: r for (_, answer_id), r in store.latest().items()}
    assert latest["a1"].rating == "up" and latest["a1"].comment == "actually fine"
    assert store.thumbs_down() == []


def test_a_damaged_line_does_not_hide_the_rest(settings):
    store = FeedbackStore(settings)
    store.record(rec("a1", "down"))
    with open(store.path, "a", encoding="utf-8") as fh:
        fh.write('{"answer_id": "half-writ')
    store.record(rec("a2", "down"))
    assert [r.answer_id for r in store.thumbs_down()] == ["a1", "a2"]


def test_thumbs_down_becomes_a_valid_eval_case_when_the_comment_names_the_source(embeddings):
    record = rec(
        "0123456789abcdef",
        "down",
        comment="Wrong: the roster is in clients/ledgerly/team-roster.docx",
        sources=["architecture-notes.md"],
        abstained=False,
    )
    case = to_eval_case(record, category_guesser(embeddings))
    assert case["id"] == "fb-0123456789ab"
    assert case["question"] == record.question and "turns" not in case
    assert case["client"] == "ledgerly" and case["category"] == "staffing"
    assert case["answerable"] is True
    assert case["gold_sources"] == ["clients/ledgerly/team-roster.docx"]
    assert case["must_include"] == [] and case["must_not_include"] == []
    assert record.comment in case["notes"] and "architecture-notes.md" in case["notes"]

    items, problems = parse_dataset([json.dumps(case)])
    assert problems == [] and items[0][1].gold_sources == ["clients/ledgerly/team-roster.docx"]


def test_follow_ups_export_as_turns_and_unknown_gold_is_flagged(embeddings):
    history = [
        {"role": "user", "content": "What caused the outage?"},
        {"role": "assistant", "content": "A migration locked the table [1]."},
    ]
    case = to_eval_case(
        rec("b", "down", question="And how do we stop it?", history=history),
        category_guesser(embeddings),
    )
    assert case["turns"] == ["What caused the outage?", "And how do we stop it?"]
    assert "question" not in case
    assert case["gold_sources"] == [] and "TODO: fill gold_sources" in case["notes"]
    _, problems = parse_dataset([json.dumps(case)])
    assert problems and "gold source" in problems[0], "the validator insists it is filled in"


@pytest.mark.parametrize(
    ("question", "category"),
    [
        ("Should we move off Heroku to AWS?", "stack"),
        ("How do we interview senior engineers?", "staffing"),
        ("How often should we do retrospectives?", "process"),
        # No word of any list: the category is read from the meaning.
        ("Is Elixir a sensible choice for the payments service?", "stack"),
        ("Who should lead the new mobile squad?", "staffing"),
        ("What do we do when production goes down at night?", "process"),
    ],
)
def test_category_guess(question, category, embeddings):
    assert guess_category(question, embeddings) == category


def test_cli_export_writes_only_thumbs_down(settings, tmp_path):
    store = FeedbackStore(settings)
    store.record(rec("keep", "down", comment="see playbooks/hiring-plan-first-hires.md"))
    store.record(rec("skip", "up"))
    store.record(rec("flip", "down"))
    store.record(rec("flip", "up"))
    _register()
    out = tmp_path / "cases" / "feedback.jsonl"

    result = CliRunner().invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["fb-keep"]
    assert "wrote 1 eval case" in result.output

    to_stdout = CliRunner().invoke(app, ["feedback", "export"])
    assert to_stdout.exit_code == 0
    assert json.loads(to_stdout.stdout.splitlines()[0])["id"] == "fb-keep"
