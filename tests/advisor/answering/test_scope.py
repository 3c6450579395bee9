"""Whom advice is written for (parsed from the sentence or its heading) against what a client's
documents say about its size and stage."""

from __future__ import annotations

import pytest

from advisor.answering.rewrite import parse
from advisor.answering.scope import Fact, Scope, excluded, facts, scopes


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("The order of the first five hires", None, 5),
        ("For the first five hires, aim for at least three senior engineers.", None, 5),
        ("The founder can manage directly until the team reaches about seven engineers.", None, 7),
        ("Do not hire a VP of Engineering before you have roughly 15 engineers.", None, 15),
        ("At eight to fifteen engineers, context is usually worth more.", 8, 15),
        ("For teams under 20 engineers, keep one on-call rotation.", None, 20),
    ],
)
def test_a_stated_team_size_is_read_with_its_direction(text, low, high):
    [scope] = [s for s in scopes(text, parse) if s.dimension == "team"]
    assert (scope.low, scope.high) == (low, high)
    assert scope.text in text


@pytest.mark.parametrize(
    "text",
    [
        "A rotation needs at least five engineers.",  # a rule to follow, not whom it is for
        "Aim for at least three senior engineers.",
        "Juniors need mentoring time a five-person team does not have.",
        "Keep pull requests under 400 lines.",  # a count of lines, not of people
    ],
)
def test_what_advice_asks_for_is_not_its_scope(text):
    assert [s for s in scopes(text, parse) if s.dimension == "team"] == []


def test_funding_stages_are_ordered():
    [before] = scopes("Raise prices before Series A.", parse)
    [seed] = scopes("A realistic pace for a seed-stage company is one hire a quarter.", parse)
    assert before.admits(1) and not before.admits(3)  # seed yes, Series B no
    assert seed.admits(1) and not seed.admits(2)


def test_a_clients_size_is_its_largest_plain_headcount_and_goals_are_not_facts():
    known = facts(
        [
            "Only two engineers know the PHP codebase.",
            "40 people in engineering across 6 teams.",
            "Engineering grows from 40 to 48 people by December 2027.",
            "Each team keeps a rotation of at least 5 engineers.",
            "It follows the Series B raised in 2025.",
        ],
        parse,
    )
    assert known["team"].value == 40 and known["team"].text.startswith("40 people")
    assert known["stage"].value == 3  # Series B


def test_advice_outside_the_clients_size_is_excluded_and_inside_is_kept():
    big = {"team": Fact("team", 40, "40 people in engineering.")}
    small = {"team": Fact("team", 4, "We are four engineers.")}
    first_five = [Scope("team", None, 5, "the first five hires")]
    assert excluded(first_five, big)[0].text == "the first five hires"
    assert excluded(first_five, small) is None
    assert excluded(first_five, {}) is None  # nothing known: the advice stands
