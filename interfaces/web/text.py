"""The page's one way to show text that came from documents, uploads, accounts or a model.

Every render call site in interfaces/web goes through these functions, so the output
neutraliser (advisor/core/sanitize.py, issue 22) replaces them in one place.
"""

from __future__ import annotations

from advisor.memo.model import escape_md, neutralize_md
from advisor.service.conversations import strip_controls


def inert(text: object) -> str:
    """Text shown as text: no links, images, HTML, math or headings; `[n]` markers stay."""
    return escape_md(str(text))


def prose(text: str) -> str:
    """Model or offline answer text: emphasis and lists kept, links, images, HTML, math off.
    Works character by character, so it is safe on streamed pieces."""
    return neutralize_md(text)


def plain(text: str) -> str:
    """Text copied out as plain text (the clipboard): no control, escape or bidi characters."""
    return strip_controls(text)
