"""The model's structured answer read as it streams: whatever the split of its JSON, only text
that will not change is shown, and what was shown is the start of the final answer."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.answering.llm_answer import AnswerDraft, UncitedAnswer, settled
from advisor.core.llm import LLMOutputError

REPLY = {
    "covered": True,
    "not_covered": "",
    "direct_answer": ["Grow the rotation to five before hiring an SRE [2]."],
    "situation": ["Acme's rotation has three engineers [1]. Nights are paged twice a week [1]."],
    "options": [
        {"option": "Hire an SRE", "for_it": ["An expert [3]."], "against_it": ["Costly [3]."]},
        {"option": "Grow the rotation", "for_it": ["Shares the load [2]."], "against_it": []},
    ],
    "recommendation": [
        "A rotation needs at least five engineers [2]. Pay an on-call stipend [2].",
        "An uncited claim. Review alerts weekly [4].",
    ],
    "risks": ["The July outage cost £40,000 [1]."],
    "next_step": ["Add two engineers to the rotation [2]."],
}
TEXT = json.dumps(REPLY, ensure_ascii=False)


def fed(text: str, cuts: list[int]) -> tuple[AnswerDraft, list[str]]:
    draft = AnswerDraft(n_sources=4, client="acme")
    bounds = [0, *sorted(set(cuts)), len(text)]
    pieces = [draft.feed(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return draft, [p for p in pieces if p]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(TEXT) - 1), max_size=40))
def test_any_split_shows_a_prefix_of_the_final_answer(cuts):
    draft, pieces = fed(TEXT, cuts)
    _, final, _, dropped = draft.finish()
    assert "".join(pieces) == draft.shown and final.startswith(draft.shown)
    assert dropped == 1 and "An uncited claim" not in final


def test_the_answer_grows_section_by_section_as_the_json_arrives():
    draft, pieces = fed(TEXT, list(range(7, len(TEXT), 7)))  # as the fake server sends it
    assert len(pieces) >= 8, pieces  # claims and sections arrive one by one
    _, final, _, _ = draft.finish()
    assert final == draft.shown + final[len(draft.shown) :]
    order = ["Grow the rotation to five", "**Acme today**", "**The options side by side**",
             "| Hire an SRE |", "**Recommendation**", "**Watch out**", "**Next step**"]  # fmt: skip
    assert [final.index(s) for s in order] == sorted(final.index(s) for s in order)


@pytest.mark.parametrize("cut", range(1, len(TEXT), 11))
def test_nothing_shown_is_unfinished(cut):
    """No prefix shows a claim not yet whole, an option row still open, or any section before
    the reply says whether it is covered."""
    draft, _ = fed(TEXT[:cut], [])
    shown = draft.shown
    for line in shown.splitlines():
        if line.startswith("- "):
            assert line.endswith("."), (cut, line)
        if line.startswith("| ") and "---" not in line and "Option" not in line:
            assert line.count("|") == 4 and line.endswith("|"), (cut, line)
    if '"covered": true,' not in TEXT[:cut]:
        assert shown == ""


def test_an_open_item_shows_its_whole_claims_only():
    doc = {"covered": True, "recommendation": ["Done [1].", "Whole claim [2]. Half a cla"]}
    fixed, field, tail = settled(doc)
    assert fixed == {"covered": True, "recommendation": ["Done [1]."]}
    assert (field, tail) == ("recommendation", "Whole claim [2]. Half a cla")
    draft, _ = fed(json.dumps(doc)[:-3], [])
    assert draft.shown == "**Recommendation**\n- Done [1].\n- Whole claim [2]."


def test_a_reply_that_says_it_is_not_covered_shows_only_that():
    text = json.dumps({"covered": False, "not_covered": "Only code review [1].", "risks": []})
    draft, pieces = fed(text, list(range(3, len(text), 3)))
    reply, final, _, _ = draft.finish()
    assert not reply.covered and final == "The documents don't cover this. Only code review [1]."
    assert "".join(pieces) == draft.shown and final.startswith(draft.shown)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Keep pull requests small [1]. Prose, not JSON.", LLMOutputError),
        (
            '{"covered": true, "recommendation": ["Small [1]."], "risks": "not a list"}',
            LLMOutputError,
        ),
        ('{"covered": true, "recommendation": ["Small [1].", "Cut mid-', LLMOutputError),
        ('{"covered": true, "recommendation": ["Uncited."]}', UncitedAnswer),
    ],
)
def test_a_reply_not_of_the_schema_stops_showing_and_fails_at_the_end(text, error):
    draft, _ = fed(text, list(range(5, len(text), 5)))
    assert "not a list" not in draft.shown and "Cut mid" not in draft.shown
    with pytest.raises(error):
        draft.finish()
