"""Pieces every panel uses: errors shown with their fix, download buttons, kept results."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from pydantic import ValidationError

from advisor.core.errors import AdvisorError
from interfaces.web.text import prose

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
        st.error(prose(str(exc)), icon=":material/error:")
    except Exception as exc:
        log.exception("%s failed", task.lower())
        st.error(prose(f"{task} failed ({type(exc).__name__}: {exc}); see the server log."))


def keep(viewer, client: str | None, kind: str, result) -> None:
    """Keep a scope's latest memo or assessment in its history (it survives reloads)."""
    viewer.store.save_artifact(viewer.principal, client, kind, result.model_dump_json())


def kept(viewer, client: str | None, kind: str, model: type, files: Callable):
    """The latest memo or assessment kept for this scope, with its download files built once;
    None when there is none (or it no longer reads as one, after an upgrade)."""
    body = viewer.store.artifact(viewer.principal, client, kind)
    if body is None:
        return None
    cache = st.session_state.setdefault(f"_kept_{kind}", {})
    key = (client, hashlib.sha256(body.encode()).hexdigest())
    if key not in cache:
        try:
            result = model.model_validate_json(body)
        except ValidationError:
            log.warning("a kept %s no longer validates; it is not shown", kind)
            return None
        cache.clear()  # one scope's files at a time in memory
        cache[key] = (result, files(result))  # the exact bytes the download buttons serve
    return cache[key]
