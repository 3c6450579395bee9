"""Document text placed inside Markdown (the Markdown exports, the app's Markdown widgets).

Only where text is rendered as Markdown: the DOCX, the CSV and the terminal carry the text
unchanged. Escaping follows CommonMark: a backslash escapes only ASCII punctuation, so a digit
is never escaped ("6." at the start of a line becomes "6\\.", not "\\6.", which a renderer would
show with its backslash). tests/advisor/core/test_markdown.py renders the result with
markdown-it-py and checks the reader sees the original text.
"""

from __future__ import annotations

import re

# Inline syntax: emphasis, code, links and images, HTML, tables, math and strikethrough.
_INLINE = re.compile(r"([\\`*_\[\]<>$~|!&])")
# Block syntax at the start of a line: headings, quotes, list items, thematic breaks.
_BLOCK = re.compile(r"^(\s*)(#|[-+=]|\d{1,9}(?=[.)](?:\s|$)))")


def escape_md(text: str) -> str:
    """Document text as inert Markdown: no links, images, HTML, math or headings; [n] stays."""
    text = " ".join(str(text).split())
    text = _INLINE.sub(r"\\\1", text)
    # Keep citation markers readable, unless they could start a link or a link definition.
    text = re.sub(r"\\\[(\d{1,3})\\\](?![(:])", r"[\1]", text)
    m = _BLOCK.match(text)
    if m:
        lead, marker = m.group(1), m.group(2)
        if marker[0].isdigit():  # "6. Add a check": escape the dot, never the digit
            rest = text[m.end() :]
            text = f"{lead}{marker}\\{rest}"
        elif text[m.start(2) - 1 : m.start(2)] != "\\":
            text = f"{lead}\\{text[m.start(2) :]}"
    return text


def neutralize_md(text: str) -> str:
    """Keep Markdown emphasis and lists but disable links, images, HTML, math and strikethrough.

    Works character by character, so it is safe on streamed deltas.
    """
    return re.sub(r"([\\$\[\]<~])", r"\\\1", text)
