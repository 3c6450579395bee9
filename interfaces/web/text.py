"""The page's one way to show text that came from documents, uploads, accounts or a model.

Every render call site in interfaces/web goes through these functions, which are thin names
for the one output sanitizer (advisor/core/sanitize.py): nothing shown can make the page contact
another origin or run script, and nothing copied carries a control, escape or bidi character.
"""

from __future__ import annotations

import re

from advisor.core.sanitize import code_span, escape_md
from advisor.core.sanitize import plain as plain_text


def inert(text: object) -> str:
    """Text shown as text: no links, images, HTML, math or headings; `[n]` markers stay."""
    return escape_md(text)


# A backslash escape already in the text (CommonMark: before ASCII punctuation), or a character
# that would start a link, an image, HTML, math or strikethrough in Streamlit's Markdown.
_ESCAPE_OR_SYNTAX = re.compile(r"\\[!-/:-@\[-`{-~]|[\\$\[\]<~]")


def prose(text: object) -> str:
    """Answer text (the service's safe Markdown, whole or as written so far), warnings and error
    messages: emphasis and lists kept; links, images, HTML, math and strikethrough off.

    Like `neutralize_md`, but an escape the service's sanitizer already wrote (`!\\[`) is kept as
    it is rather than escaped again, which would show its backslash on the page. Every bracket,
    `$`, `<` and `~` still ends up escaped, so raw text is just as safe."""
    return _ESCAPE_OR_SYNTAX.sub(
        lambda m: m.group() if len(m.group()) == 2 else "\\" + m.group(), plain_text(text)
    )


def code(text: object) -> str:
    """A name or path shown exactly as written, as one code span it cannot break out of."""
    return code_span(text)


def plain(text: object) -> str:
    """Text copied out as plain text (the clipboard): no control, escape or bidi characters."""
    return plain_text(text)
