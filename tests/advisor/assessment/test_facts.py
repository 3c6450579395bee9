"""Facts in sentences, negation, and conflicts between one client's documents."""

from __future__ import annotations

import pytest

from advisor.assessment.facts import dates, find_conflicts, negated, quantities
from advisor.core.models import Passage


@pytest.mark.parametrize(
    ("sentence", "units", "expected"),
    [
        ("The rotation has three engineers: Ana, Bo and Cy.", ["engineers"], [(3, "engin")]),
        ("The Dispatch rotation gains two trained engineers.", ["engineers"], [(2, "engin")]),
        (
            "CI takes 14 minutes; target under 10 minutes.",
            ["minutes"],
            [(14, "minut"), (10, "minut")],
        ),
        ("An on-call stipend of $400 per week.", [], [(400, "USD")]),
        ("AWS bill GBP 128k per month.", [], [(128000, "GBP")]),
        ("31% of dispatch traffic is on the new API.", [], [(31, "%")]),
        ("Renewal in January 2027 with a price increase.", [], []),  # a year is not a quantity
    ],
)
def test_quantities_carry_their_unit(sentence, units, expected):
    got = [(q.value, q.unit) for q in quantities(sentence, units)]
    assert got == [(float(v), u) for v, u in expected]


def test_dates_are_month_and_year():
    assert dates("Renew in March 2027, not January 2027.") == [(2027, 3), (2027, 1)]
    assert dates("Q1 2027 is busy.") == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Nothing pages when the payment success rate drops.", True),
        ("The commander does not debug.", True),
        ("We don't review infrastructure changes.", True),
        ("The incident commander was also the only engineer debugging.", False),
        ("Alerts page the on-call engineer.", False),
    ],
)
def test_negation_uses_closed_class_negators(sentence, expected):
    assert negated(sentence) is expected


def _p(doc: str, text: str, scope: str = "acme") -> Passage:
    return Passage(id=f"{doc}:0", text=text, source=f"{doc}.md", doc_id=doc, scope=scope)


def test_two_documents_stating_different_values_for_one_fact_conflict(embeddings):
    a = _p("roster", "Each engineer on call is paid an on-call stipend of $400 per week.")
    b = _p("notes", "Engineers on call receive an on-call stipend of $300 per week.")
    found = find_conflicts([a, b], embeddings)
    assert len(found) == 1
    c = found[0]
    assert {c.first.doc_id, c.second.doc_id} == {"roster", "notes"}
    assert {c.first_value, c.second_value} == {"$400", "$300"}
    assert "[1]" in c.describe(1, 2) and "[2]" in c.describe(1, 2)


def test_dates_that_disagree_conflict_too(embeddings):
    a = _p("deck", "The Plaid contract renewal is in January 2027, with a price increase.")
    b = _p("roadmap", "Renegotiate the Plaid contract before its renewal in March 2027.")
    [c] = find_conflicts([a, b], embeddings)
    assert {c.first_value, c.second_value} == {"January 2027", "March 2027"}


@pytest.mark.parametrize(
    "pair",
    [
        # the same document may revise itself; that is not two sources disagreeing
        (("roster", "The stipend is $400 per week."), ("roster", "The stipend was $300 per week.")),
        # agreeing documents
        (("roster", "The stipend is $400 per week."), ("notes", "We pay $400 per week on call.")),
        # different facts that happen to carry numbers
        (
            ("roster", "The stipend is $400 per week."),
            ("notes", "The office rent is $9,000 a month."),
        ),
    ],
)
def test_no_conflict_without_two_documents_disagreeing_on_one_fact(embeddings, pair):
    (d1, t1), (d2, t2) = pair
    assert find_conflicts([_p(d1, t1), _p(d2, t2)], embeddings) == []


def test_different_clients_never_conflict_with_each_other(embeddings):
    a = _p("roster", "The on-call stipend is $400 per week.", scope="acme")
    b = _p("notes", "The on-call stipend is $300 per week.", scope="globex")
    assert find_conflicts([a, b], embeddings) == []


def test_bounds_and_goals_are_not_compared_with_statements(embeddings):
    a = _p("deck", "CI takes 14 minutes on every push today.")
    b = _p("notes", "Cut CI time to under 10 minutes on every push.")
    assert find_conflicts([a, b], embeddings) == []
