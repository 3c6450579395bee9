"""Pieces every panel uses: errors shown with their fix, and a row of download buttons."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from advisor.core.errors import AdvisorError

log = logging.getLogger("cto_advisor.app")

DOWNLOADS = {
    "md": ("Markdown", "text/markdown"),
    "docx": (
        "Word (.docx)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "csv": ("CSV", "text/csv"),
}


def download_row(files: dict[str, bytes | str], slug: str, key: str) -> None:
    """One download button per prepared file, serving exactly the bytes built with the draft."""
    with st.container(horizontal=True):
        for kind, data in files.items():
            label, mime = DOWNLOADS[kind]
            st.download_button(
                label, data, f"{slug}.{kind}", mime, icon=":material/download:",
                on_click="ignore", key=f"{key}-{kind}",
            )  # fmt: skip


@contextmanager
def errors_shown(task: str) -> Iterator[None]:
    """Show a domain error's message (it says what to fix); log a bug's trace and say so. Neither
    takes the page down. `task` names the step in the message ("Drafting failed (...)")."""
    try:
        yield
    except AdvisorError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:
        log.exception("%s failed", task.lower())
        st.error(f"{task} failed ({type(exc).__name__}: {exc}); see the server log.")
