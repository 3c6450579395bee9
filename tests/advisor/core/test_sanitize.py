"""The one output sanitizer (issue 22, items 2-4): a GFM renderer (markdown-it with linkify, as
chat UIs render replies) finds no image, no raw HTML and no link to an origin not allowed in what
it lets out, for any input and any way a stream splits it; benign Markdown passes unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.core.sanitize import MarkdownStream, code_span, json_text, markdown, origin, plain

ALLOWED = frozenset({"http://ok.example"})
PIECES = list("![]()<>`\\:/ \n|-*#~\"'\t") + [
    "https://evil.example/?s", "www.evil.example", "http://ok.example/p", "alt", "1", "```", "~~~",
    "[1]: ", "[^1]: ", "<img src=x>", "<!--", "<a href=", "javascript:", "    ", "> ", "- ",
    "1. ", "&#33;", "\n\n", "xhttps://e.example",
]  # fmt: skip


def rendered_hazards(text: str) -> list[str]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})
    found = []

    def walk(tokens):
        for t in tokens:
            if t.type in ("image", "html_inline", "html_block"):
                found.append(t.type)
            if t.type == "link_open" and origin(t.attrGet("href") or "") not in ALLOWED:
                found.append(f"link {t.attrGet('href')}")
            walk(t.children or [])

    walk(md.parse(text))
    return found


@settings(max_examples=1500, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join), st.integers(0, 60))
def test_nothing_hostile_survives_and_any_stream_split_gives_the_same(text, split):
    out = markdown(text, ALLOWED)
    assert rendered_hazards(out) == [], (text, out)
    stream = MarkdownStream(ALLOWED)
    assert stream.feed(text[:split]) + stream.feed(text[split:]) + stream.close() == out


@pytest.mark.parametrize(
    "text",
    [
        "Hire two engineers first [1], then a manager [2].",
        "**Bold**, *em*, `code <b>` and a list:\n\n- one [1]\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        "```html\n<div>![x](https://evil.example)</div>\nhttps://evil.example\n```\nafter",
    ],
)
def test_benign_markdown_passes_unchanged(text):
    assert markdown(text) == text


def test_images_links_html_and_urls_are_reduced_readably():
    text = (
        "See ![chart](https://evil.example/c.png?k=1) and [the doc](https://evil.example/d) "
        "or [ours](http://ok.example/x) at https://evil.example/y. <img src=x> [1]: https://z"
    )
    assert markdown(text, ALLOWED) == (
        "See chart and the doc or [ours](http://ok.example/x) at `https://evil.example/y`. "
        "\\<img src=x> [1\\]: `https://z`"
    )


def test_terminal_escapes_controls_bidi_and_bad_code_points_are_removed():
    hostile = (
        "a\x1b]52;c;U0VDUkVU\x07b\x1b]8;;https://e\x1b\\c\x1b]8;;\x1b\\\x1b[31md\r\ne\u202ef\x9b2J"
    )
    assert plain(hostile) == "abcd\nef"
    assert plain("x\udcff\x00\ufffe\U000e0041y") == "x\ufffdy"  # surrogate, NUL, XML, tag
    assert plain("fine ASCII") == "fine ASCII"
    assert json_text({"name": "a\u202eb\x1b"}) == '{"name": "a\\u202eb\\u001b"}'


def test_a_code_span_holds_any_name():
    name = "notes `![t](https://evil.example)` x"
    assert rendered_hazards(code_span(name)) == []
    assert origin("https://ok.example\\@evil.example/") is None  # decoded differently
    assert origin("HTTPS://Ok.Example:443/a") == "https://ok.example"
