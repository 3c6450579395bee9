"""Markdown escaping: a reader of the rendered Markdown sees the document's text unchanged."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from advisor.core.sanitize import escape_md

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _seen(markdown: str) -> str:
    """What a reader sees: the rendered HTML's text, whitespace collapsed."""
    rendered = _MD.render(markdown)
    assert "<a " not in rendered and "<img" not in rendered and "<h" not in rendered[:3]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", rendered)).split())


def test_figures_and_numbered_steps_keep_no_stray_backslash():
    for text in ["6. Add a CI check", "1.9M deliveries routed in Q2", "12) rehearse", "3.9k tests"]:
        escaped = escape_md(text)
        assert "\\" + text[0] not in escaped  # never a backslash before a digit
        assert _seen(escaped) == text


def test_markup_in_document_text_is_shown_not_obeyed():
    text = "# Budget $40k [2] <img src=x> ![t](http://e/p.png) ~~6~~ | * _x_"
    escaped = escape_md(text)
    assert "[2]" in escaped  # citation markers stay readable
    assert _seen(escaped) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=60))
def test_any_text_reads_back_as_itself(text):
    expected = " ".join(text.split())
    if not expected:
        return
    assert _seen(escape_md(text)) == expected


def test_entities_are_shown_as_written():
    assert _seen(escape_md("R&D costs &amp; more")) == "R&D costs &amp; more"


def test_docx_and_csv_carry_the_text_unchanged_and_markdown_escapes_it():
    import csv
    import io

    import docx

    from advisor.assessment.assess import Assessment, PracticeVerdict
    from advisor.memo.model import Memo

    point = "6. Add a CI check; 1.9M deliveries routed in Q2 [1]"
    memo = Memo(topic="CI", sections={"Context": [point], "Next steps": [point]})
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(memo.to_docx())).paragraphs)
    assert point in text and "\\" not in text
    markdown = memo.to_markdown()
    assert "6\\. Add a CI check" in markdown and "\\6" not in markdown and "\\1" not in markdown
    verdict = PracticeVerdict(
        area_id="ci", area="CI", practice_id="fast-ci", practice="CI under 10 minutes.",
        verdict="contradicted", reason="The documents state 14 minutes_total *now*.",
    )  # fmt: skip
    report = Assessment(client="acme", verdicts=[verdict])
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[1][4] == verdict.reason
    cells = [
        c.text
        for t in docx.Document(io.BytesIO(report.to_docx())).tables
        for r in t.rows
        for c in r.cells
    ]
    assert verdict.reason in cells
    assert "14 minutes\\_total \\*now\\*" in report.to_markdown()
