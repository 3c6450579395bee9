"""Table rows are read with their header as sentences; prose around a table is kept."""

from __future__ import annotations

from advisor.answering.extractive import units
from advisor.answering.language import not_english


def test_a_table_row_reads_as_header_value_pairs():
    text = (
        "# | Action | Owner | Due\n"
        "1 | Route all disk alerts to PagerDuty (page at 80%) | Priya Nair | 2026-08-05\n"
        "Prose after the table is a sentence of its own."
    )
    assert units(text) == [
        ("Action: Route all disk alerts to PagerDuty (page at 80%); Owner: Priya Nair; "
         "Due: 2026-08-05.", True),
        ("Prose after the table is a sentence of its own.", False),
    ]  # fmt: skip


def test_a_csv_header_with_underscores_names_the_columns():
    text = "name | team | tenure_years\nHelena Brandt | Leadership | 2.5"
    assert units(text) == [("Name: Helena Brandt; Team: Leadership; Tenure years: 2.5.", True)]


def test_a_table_without_a_header_keeps_its_cells_in_order():
    text = "Q1 2027 | Database on RDS | Dispatch\nQ2 2027 | All assignment via the API | Dispatch"
    rows = [u for u, row in units(text) if row]
    assert rows[0] == "Q1 2027; Database on RDS; Dispatch."


def test_questions_in_other_languages_are_told_apart_from_short_english_ones():
    assert not_english("¿Deberíamos contratar un SRE o invertir primero en guardias?")
    assert not_english("Sollten wir zuerst einen SRE einstellen oder in Bereitschaft investieren?")
    for english in ("Kubernetes at our stage?", "SRE or on-call?", "Who owns Pathfinder?"):
        assert not not_english(english)
