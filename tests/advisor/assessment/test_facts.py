"""Facts read from the parse, and conflicts between one client's documents."""

from __future__ import annotations

import pytest

from advisor.answering.facts import (
    facts,
    find_conflicts,
    negated,
    parse_number,
    polar_terms,
    sentence_facts,
    statement_kind,
)
from advisor.core.models import Passage


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("nine", 9),
        ("twenty-one", 21),
        ("four hundred", 400),
        ("650,000", 650_000),
        ("1.9M", 1_900_000),
        ("GBP 4.1M", 4_100_000),
        ("128k", 128_000),
        ("31%", 31),
    ],
)
def test_numbers_are_parsed_whether_written_in_digits_or_words(text, value):
    assert parse_number(text)[0] == pytest.approx(value)


def test_a_rounded_number_carries_its_precision():
    assert parse_number("1.9M")[1] == pytest.approx(50_000)
    assert parse_number("$400".strip("$"))[1] == 0


def _one(sentence: str):
    found = [f for f in sentence_facts(sentence) if f.unit not in ("date", "quarter-date")]
    assert found, sentence
    return found[0]


@pytest.mark.parametrize(
    ("sentence", "value", "unit", "counted"),
    [
        ("The team is nine developers, all reporting to the CTO.", 9, "", "developer"),
        ("We issued €23,500 in service credits to growers.", 23_500, "EUR", ""),
        ("Estimated £64,000 in SLA credits.", 64_000, "GBP", ""),
        ("A full CI run takes around 22 minutes.", 22, "minute", ""),
        ("The deploy takes 2 hours.", 120, "minute", ""),
        ("Published five business days after resolution.", 5, "business day", ""),
        ("31% of dispatch traffic is on the new API.", 31, "%", ""),
    ],
)
def test_a_fact_is_a_value_its_unit_and_what_it_counts(sentence, value, unit, counted):
    f = _one(sentence)
    assert (f.value, f.unit) == (pytest.approx(value), unit)
    assert f.counted == counted
    assert f.stated


@pytest.mark.parametrize(
    "sentence",
    [
        "Cut the CI run to under 8 minutes by splitting the tests.",  # imperative, bound
        "Keep the cloud bill under €10,000 a month.",  # bound
        "We will hire 4 engineers next year.",  # modal
        "Raise uptime to 99.5% by Q3 2027.",  # deadline
        "Engineering grows to 15 people by December 2027.",  # deadline, no modal
        "The rotation must have at least five engineers.",  # superlative bound
        "If the primary does not answer within ten minutes, the backup is paged.",  # condition
    ],
)
def test_targets_plans_bounds_and_conditions_are_not_statements(sentence):
    assert not any(f.stated for f in sentence_facts(sentence))


def test_rates_and_totals_carry_their_period():
    rate = _one("The platform routes roughly 650,000 deliveries a month.")
    total = _one("1.9M deliveries routed in Q2 across our customers.")
    assert rate.per == "month" and total.span_kind == "quarter"
    assert rate.per_year() == pytest.approx(7_800_000)
    assert _one("On-call pays $400 per week.").per == "week"
    assert _one("The monthly AWS bill is about £128,000.").per == "month"


def test_table_rows_are_facts_about_their_label_and_column():
    text = "metric | value\nHeadcount (engineering) | 11\nOn-call allowance per week | €250"
    got = {(f.measure, f.value, f.unit, f.per) for f in facts(text)}
    assert ("Headcount (engineering)", 11, "", None) in got
    assert ("On-call allowance per week", 250, "EUR", "week") in got
    # several value columns: the header says which; a row number ("#") is not a value
    text = "# | name | tenure_years | age\n1 | Ana Silva | 2.5 | 31"
    got = {(f.measure, f.value) for f in facts(text)}
    assert got == {("Ana Silva tenure_years", 2.5), ("Ana Silva age", 31)}


def test_statement_kind_reads_the_main_clause():
    assert statement_kind("We ship to production several times a day.") == "stated"
    assert statement_kind("Write a runbook for incident commanders.") == "target"
    assert statement_kind("We will add a secondary next quarter.") == "target"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Nothing pages when the payment success rate drops.", True),
        ("The commander does not debug.", True),
        ("We don't review infrastructure changes.", True),
        ("Migrations run without a lock timeout.", True),
        ("Alerts page the on-call engineer.", False),
    ],
)
def test_negation_is_read_from_the_parse(sentence, expected):
    assert negated(sentence) is expected


def _p(doc: str, text: str, scope: str = "acme") -> Passage:
    return Passage(id=f"{doc}:0", text=text, source=f"{doc}.md", doc_id=doc, scope=scope)


def test_two_documents_stating_different_values_for_one_fact_conflict(embeddings):
    a = _p("roster", "Each engineer on call is paid an on-call stipend of $400 per week.")
    b = _p("notes", "Engineers on call receive an on-call stipend of $300 per week.")
    [c] = find_conflicts([a, b], embeddings)
    assert {c.first.doc_id, c.second.doc_id} == {"roster", "notes"}
    assert {c.first_value, c.second_value} == {"$400", "$300"}
    described = c.describe(1, 2)
    assert "[1]" in described and "[2]" in described and "stipend" in described


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
        # agreeing documents, in other words
        (("roster", "The stipend is $400 per week."), ("notes", "We pay $400 per week on call.")),
        # different facts that happen to carry numbers
        (
            ("roster", "The stipend is $400 per week."),
            ("notes", "The office rent is $9,000 a month."),
        ),
        # a target against a measured value
        (("deck", "CI takes 14 minutes on every push."), ("notes", "Cut CI to under 10 minutes.")),
        (("deck", "Uptime was 98.9% in H1."), ("plan", "Raise uptime to 99.5% by Q3 2027.")),
        # the same quantity over different periods
        (
            ("deck", "The platform routed 1.9M deliveries in Q2."),
            ("notes", "The platform routes roughly 650,000 deliveries a month."),
        ),
        # a rate is not a total
        (("deck", "Credits cost £40,000 a month."), ("notes", "Credits cost £40,000 in total.")),
    ],
)
def test_no_conflict_without_two_documents_disagreeing_on_one_fact(embeddings, pair):
    (d1, t1), (d2, t2) = pair
    assert find_conflicts([_p(d1, t1), _p(d2, t2)], embeddings) == []


def test_the_same_quantity_over_a_period_that_disagrees_is_a_conflict(embeddings):
    a = _p("deck", "The platform routed 1.9M deliveries in Q2.")
    b = _p("notes", "The platform routes roughly 300,000 deliveries a month.")
    assert len(find_conflicts([a, b], embeddings)) == 1


def test_different_clients_never_conflict_with_each_other(embeddings):
    a = _p("roster", "The on-call stipend is $400 per week.", scope="acme")
    b = _p("notes", "The on-call stipend is $300 per week.", scope="globex")
    assert find_conflicts([a, b], embeddings) == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # "not" negates its own clause; the joined clause keeps its polarity
        (
            "The lead was the only person testing, so nobody was reviewing.",
            {"review": True, "testing": False},
        ),
        # a negative subject negates its clause, and a verb that shares the subject
        ("Nobody reviews or approves the change.", {"review": True, "approve": True}),
        # "without" negates its object only
        ("Backups run without an encryption key.", {"run": False, "key": True}),
        ("No weekly capacity review.", {"review": True}),
    ],
)
def test_negation_is_read_per_clause(sentence, expected):
    got = dict(polar_terms(sentence))
    assert {w: got.get(w) for w in expected} == expected


def test_a_measure_stated_with_other_verbs_is_one_measure(embeddings):
    a = _p("report", "The vendor granted $2,400 in goodwill refunds after the outage.")
    b = _p("deck", "Goodwill refunds paid: $3,100.")
    [c] = find_conflicts([a, b], embeddings)
    assert {c.first_value, c.second_value} == {"$2,400", "$3,100"}
    assert "refunds" in c.measure


def test_counts_of_different_things_do_not_conflict_even_in_one_phrase(embeddings):
    a = _p("plan", "We opened three data roles and one design role this spring.")
    b = _p("deck", "Opened 3 data roles and 2 analysts this spring.")
    [one] = [f for f in facts(a.text) if f.value == 1]
    assert "data" not in one.measure  # the sibling's words are not its measure
    assert find_conflicts([a, b], embeddings) == []


def test_a_day_s_date_on_the_measured_thing_is_not_a_period(embeddings):
    # "the 3 June release" says which release, not a total over June: its length compares with
    # a length stated without any date.
    f = _one("The 3 June release was a 45-minute rollout.")
    assert f.span is None and f.per is None
    a = _p("postmortem", "The rollout lasted 70 minutes.")
    b = _p("update", "The 3 June release was a 45-minute rollout.")
    [c] = find_conflicts([a, b], embeddings)
    assert {c.first_value, c.second_value} == {"70 minutes", "45-minute"}
    assert not any(f.value == 3 for f in sentence_facts("The 3 June release went out."))


def test_an_amount_s_own_in_phrase_says_what_it_measures_not_whom_it_was_paid_to(embeddings):
    f = _one("The insurer reimbursed affected tenants £2,750 in repair grants.")
    assert f.counted == "grant" and f.core_lemmas == "repair grant"
    a = _p("claims", "The insurer reimbursed affected tenants £2,750 in repair grants.")
    b = _p("letter", "We paid tenants £1,900 in repair grants last quarter.")
    [c] = find_conflicts([a, b], embeddings)
    assert {c.first_value, c.second_value} == {"£2,750", "£1,900"}
    # A share's "of" phrase is its base: two shares of one base are not one measure by it.
    assert _one("Desktop accounts for 40% of orders.").counted == ""


def test_per_cent_spelled_out_is_a_percentage():
    assert _one("About 64 per cent of tickets were closed on the day.").unit == "%"


def test_a_table_cell_may_carry_unit_words_and_the_row_may_give_the_period():
    text = "item | cost | period\nGCP | €7,300 per month | \nDatadog | 2,900 | per month"
    got = {(f.measure, f.value, f.per) for f in facts(text)}
    assert ("GCP", 7300, "month") in got  # "per month" in the cell; "GCP" keeps its letters
    assert ("Datadog", 2900, "month") in got  # from the row's period cell


def test_a_plain_count_counts_its_plural_head_or_the_group_its_singular_head_sizes():
    text = "team | headcount | open roles\nSupport | 6 | 2"
    got = {(f.measure, f.counted, f.size_of) for f in facts(text)}
    assert ("Support headcount", "support", "support") in got
    assert ("Support open roles", "role", "") in got


def test_a_group_s_size_said_in_other_words_is_one_measure(embeddings):
    a = _p("wiki", "The data science group is seven analysts.")
    b = _p("hr", "team | headcount | open roles\nData science | 9 | 1")
    [c] = find_conflicts([a, b], embeddings)
    assert {c.first_value, c.second_value} == {"seven analysts", "9"}
    a = _p("wiki", "We have 31 nurses on the wards.")
    b = _p("hr", "Nursing headcount is 35.")
    assert len(find_conflicts([a, b], embeddings)) == 1


def test_counts_of_some_of_a_group_are_not_its_size(embeddings):
    # doing something, placed somewhere, or another group's size
    for sentence in (
        "Three nurses cover the night shift.",
        "Eight nurses are on the surgical ward.",
        "The surgical team is eight nurses.",
    ):
        a = _p("wiki", sentence)
        b = _p("hr", "Nursing headcount is 35.")
        assert find_conflicts([a, b], embeddings) == [], sentence


def test_a_value_both_documents_state_is_not_in_conflict_with_the_other_s_figure(embeddings):
    # The second document states the first's 300,000 too (for the test system): its other
    # figure (the live one) is another measure, whichever side is read first.
    a = _p(
        "postmortem", "The script was tried on the test system, which holds only 300,000 orders."
    )
    b = _p("notes", "The test system holds about 300,000 orders versus 52 million in the live one.")
    assert find_conflicts([a, b], embeddings) == []
    assert find_conflicts([b, a], embeddings) == []
