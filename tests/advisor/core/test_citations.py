"""The citation-marker grammar: every form a model may write resolves to a shown source as a
canonical [n] or is removed, and the streaming filter gives exactly what the whole text gives."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from advisor.core.citations import (
    MarkerFilter,
    marker_numbers,
    rewrite_markers,
    strip_markers,
)

SHOWN = range(1, 6)  # five sources were shown to the model
# Checked independently of the module's own regex: anything that opens like a marker ...
LOOKS_LIKE_A_MARKER = re.compile(r"[\[［【]\^?[ \t]*\d")
# ... must be exactly a canonical marker naming a shown source.
CANONICAL = re.compile(r"\[([1-5])\]")

# Text built from the characters markers are made of, plus prose, so that hypothesis mostly
# writes near-markers; and any text at all, for what nobody thought of.
MARKERISH = st.text(alphabet="[]［］【】^0123456789 ,;，、-–\t\nab.:", max_size=80)
ANY_TEXT = st.one_of(MARKERISH, st.text(max_size=80))
PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def clean(text: str) -> str:
    return MarkerFilter(SHOWN).clean(text)


def streamed(text: str, cuts: list[int]) -> tuple[str, int]:
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    deltas = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    f = MarkerFilter(SHOWN)
    return "".join(f.stream(deltas)), f.invented


# -- properties -------------------------------------------------------------------------------


@PROPERTY
@given(ANY_TEXT, st.lists(st.integers(min_value=0, max_value=200), max_size=12))
@example("a [ [0]7] b", [3, 4, 6])  # the stray opener and the removed marker in two deltas
@example("x [^ [9]6]", [2, 5])
def test_any_split_of_a_stream_filters_to_what_the_whole_text_gives(text, cuts):
    whole = MarkerFilter(SHOWN)
    expected = whole.clean(text)

    assert streamed(text, cuts) == (expected, whole.invented)


@PROPERTY
@given(ANY_TEXT)
# Removing an invented marker must not join the opener left before it to the digits after it:
# "[ [0]7]" would read "[7]", a citation to a source that was never shown.
@example("[ [0]7]")
@example("see [^[9]6] and 【 【0】8】")
@example("[ [ [0]7]")
def test_no_marker_outside_the_shown_sources_survives(text):
    out = clean(text)

    for found in LOOKS_LIKE_A_MARKER.finditer(out):
        assert CANONICAL.match(out, found.start()), (text, out)


@PROPERTY
@given(ANY_TEXT)
def test_cleaning_twice_changes_nothing_more(text):
    once = clean(text)

    assert clean(once) == once


@PROPERTY
@given(st.text(max_size=80).filter(lambda t: not LOOKS_LIKE_A_MARKER.search(t)))
def test_text_without_markers_passes_unchanged(text):
    assert clean(text) == text


@PROPERTY
@given(ANY_TEXT, st.sampled_from("abxyz"))
def test_a_letter_releases_everything_held_back(text, letter):
    """An unclosed "[" followed by prose is shown at once, never swallowed."""
    f = MarkerFilter(SHOWN)

    assert f.feed(text + letter) == MarkerFilter(SHOWN).clean(text + letter)


# -- each form --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        ("Keep PRs small [2].", "Keep PRs small [2]."),
        ("Keep PRs small [1, 2].", "Keep PRs small [1][2]."),
        ("Keep PRs small [1;3].", "Keep PRs small [1][3]."),
        ("Keep PRs small [2-4].", "Keep PRs small [2][3][4]."),
        ("Keep PRs small [^2].", "Keep PRs small [2]."),
        ("Keep PRs small 【2】.", "Keep PRs small [2]."),
        ("Keep PRs small ［2］.", "Keep PRs small [2]."),
        ("Keep PRs small [ 2 ].", "Keep PRs small [2]."),
        ("Keep PRs small [2", "Keep PRs small [2]"),
        ("Keep PRs small [2 and review daily.", "Keep PRs small [2] and review daily."),
        ("Keep PRs small [2, 2].", "Keep PRs small [2]."),
    ],
)
def test_every_form_that_names_a_shown_source_becomes_canonical(reply, shown):
    assert clean(reply) == shown


@pytest.mark.parametrize(
    ("reply", "shown", "invented"),
    [
        ("Ask Bob [9].", "Ask Bob.", 1),
        ("Ask Bob [0] today", "Ask Bob today", 1),
        ("Ask Bob [^9]", "Ask Bob", 1),
        ("Ask Bob 【12】.", "Ask Bob.", 1),
        ("Ask Bob [7", "Ask Bob", 1),
        ("Ask Bob [7 and Ann.", "Ask Bob and Ann.", 1),
        ("Ask Bob [1, 2, 3, 4, 5, 6, 7, 99].", "Ask Bob [1][2][3][4][5].", 3),
        ("Ask Bob [4-9].", "Ask Bob [4][5].", 4),
        ("Ask Bob [123456789012345678901234567890].", "Ask Bob.", 1),
    ],
)
def test_a_number_no_source_carries_is_removed_and_counted(reply, shown, invented):
    f = MarkerFilter(SHOWN)

    assert f.clean(reply) == shown
    assert f.invented == invented


@pytest.mark.parametrize(
    "prose",
    ["[see below]", "[] and [ ]", "a [b] c", "arrays like x[i]", "[^note]", "【注】", "1, 2] done"],
)
def test_brackets_that_hold_no_number_are_prose(prose):
    assert clean(prose) == prose


def test_an_unfinished_marker_is_held_back_until_the_next_delta_decides():
    f = MarkerFilter(SHOWN)

    assert f.feed("Keep PRs small [1, ") == "Keep PRs small"
    assert f.feed("9") == ""
    assert f.feed("] always.") == " [1] always."
    assert f.invented == 1


def test_an_opener_followed_by_prose_is_shown_at_once():
    f = MarkerFilter(SHOWN)

    assert f.feed("Costs [") == "Costs"
    assert f.feed("see the appendix]") == " [see the appendix]"


def test_a_long_run_of_spaces_is_not_held_back_whole():
    f = MarkerFilter(SHOWN)

    assert f.feed("word" + " " * 100).startswith("word" + " " * 80)


def test_marker_numbers_reads_every_form_in_order():
    text = "a [3] b [1, 2] c [^4] d 【5】 e [6-8] f [9"

    assert marker_numbers(text) == [3, 1, 2, 4, 5, 6, 7, 8, 9]


def test_rewrite_renumbers_and_drops_whole_markers():
    order = {4: "[1]", 2: "[2]"}

    out = rewrite_markers("X [4]. Y [2, 9]. Z [9].", lambda n: order.get(n, ""))

    assert out == "X [1]. Y [2]. Z."


def test_strip_markers_leaves_the_prose():
    assert (
        strip_markers("Ship weekly [1, 2]; review daily 【3】.", "") == "Ship weekly; review daily."
    )
