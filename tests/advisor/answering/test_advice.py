"""The ask path end to end, offline, on the two-client corpus: a decision is answered with its
options side by side by the memo's engine, a question about something no document mentions is
refused naming it, and a decision's follow-up is asked about the same options."""

from __future__ import annotations

import re

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.advice import decision_clause
from advisor.service.facade import Advisor

LOCAL = Principal.local()


@pytest.fixture(scope="module")
def advisor(two_clients_index, embeddings):
    return Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        ("Should we hire an SRE or invest in on-call first?", "Should we hire an SRE or invest in on-call first?"),
        ("For our iOS apps, should we go cross-platform or build natively?", "should we go cross-platform or build natively?"),
        ("Build vs buy our KYC checks?", "Build vs buy our KYC checks?"),
        ("When is Go or Rust actually justified?", None),
        ("What should a CTO focus on versus a VP of Engineering?", None),
        ("Is our current on-call setup good enough, or do we need to change it?", None),
        ("How big should a pull request be?", None),
    ],
)  # fmt: skip
def test_a_decision_is_told_from_a_question_of_fact(question, clause):
    assert decision_clause(question) == clause


def test_a_decision_gets_its_options_side_by_side_with_cited_cells(advisor):
    answer = advisor.ask(
        LOCAL, "Should we hire two more engineers or share a rotation with another team?", "acme"
    )
    assert not answer.abstained, answer.answer
    assert "**The options side by side**" in answer.answer
    table = [line for line in answer.answer.splitlines() if line.startswith("| ")]
    assert len(table) == 4, "a header, its rule and one row per option"
    assert table[2].startswith("| Hire two more engineers") and "Share a rotation" in table[3]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers and markers == {c.n for c in answer.citations}
    assert all(c.scope in ("playbook", "acme") for c in answer.citations)


def test_a_question_about_something_no_document_mentions_names_it(advisor):
    answer = advisor.ask(LOCAL, "Should we move our pager to Opsgenie?", "acme")
    assert answer.abstained
    assert answer.answer.startswith(
        "Nothing in Acme's documents or the playbooks mentions “Opsgenie”"
    )


def test_a_decision_between_two_things_no_document_mentions_is_refused_naming_both(advisor):
    # Each option alone ("jenkins") reads as a common word; the question shows both are names.
    answer = advisor.ask(LOCAL, "Should we run our builds on CircleCI or Jenkins?", "acme")
    assert answer.abstained, answer.answer
    first = answer.answer.splitlines()[0]
    assert "mentions" in first and "“CircleCI”" in first and "“Jenkins”" in first


def test_another_clients_name_is_refused_without_being_said(advisor):
    answer = advisor.ask(LOCAL, "What does the Globex release process look like?", "acme")
    assert answer.abstained and "globex" not in answer.answer.casefold()


def test_a_follow_up_of_a_decision_is_asked_about_its_options(advisor):
    first = "Should we hire two more engineers or share a rotation with another team?"
    earlier = advisor.ask(LOCAL, first, "acme")
    history = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": earlier.answer},
    ]
    answer = advisor.ask(LOCAL, "How long would that take?", "acme", history=history)
    assert "hire two more engineers" in answer.standalone_question.lower()
    assert not answer.abstained and "Hire two more engineers" in answer.answer
