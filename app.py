"""CTO Advisor in the browser: `streamlit run app.py`.

This file is the page wiring only. The panels and view helpers live in `interfaces/web/`, all
logic below them in `advisor/` (the service facade decides what each principal may see).

It plays two parts. `streamlit run` imports it as a module and finds `app`, an `st.App` that
serves this same file as the page plus our own routes (the HttpOnly session cookie, cited PDFs
opened at their page: interfaces/web/routes.py). Each browser session then runs it as the page
(`__main__`), which calls `main()`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from advisor.core.errors import AdvisorError
from advisor.core.settings import get_settings
from interfaces.web.assessment import assessment_panel
from interfaces.web.bridge import bridge
from interfaces.web.chat import ask as ask_question
from interfaces.web.chat import check_question, open_chat_id, render_chat, safe_chat
from interfaces.web.history import history_panel
from interfaces.web.memo import memo_panel
from interfaces.web.resources import Viewer, index_status, load_advisor, settings_key, warm_scope
from interfaces.web.routes import base_path
from interfaces.web.sidebar import (
    founder_note,
    mode_panel,
    scope_selector,
    status_panel,
    upload_panel,
)
from interfaces.web.signin import SESSION_KEY, account_panel, current_principal, session_watch
from interfaces.web.text import inert, prose

# A local icon: a `:material/...:` or emoji icon is fetched from a font or emoji host on every visit.
ICON = Path(__file__).parent / "interfaces" / "web" / "static" / "icon.png"


def main() -> None:
    st.set_page_config(
        page_title="CTO Advisor", page_icon=str(ICON), layout="centered",
        menu_items={"About": "CTO Advisor: cited answers from your own documents."},
    )  # fmt: skip
    settings = get_settings()
    # Single-user mode on loopback with no accounts, else a signed-in session (or the sign-in form).
    principal = current_principal(settings)
    session_id = st.session_state.get(SESSION_KEY)
    bridge(base_path(), settings.max_question_chars, touch=session_id is not None)
    if principal is None:
        st.stop()  # the sign-in form, or why nothing is shown
    session_watch(settings, signed_in=session_id is not None)
    st.title("CTO Advisor")  # drawn first, so the page shows up while the model loads
    scope_line = st.empty()
    with st.spinner("Loading the embedding model and the index…"):
        try:
            advisor = load_advisor(settings, settings_key(settings))
            status = index_status(advisor, principal, str(settings.data_dir))
        except AdvisorError as exc:
            st.error(prose(str(exc)), icon=":material/error:")
            st.stop()
    viewer = Viewer(advisor, principal, session_id)
    chat = safe_chat(viewer, open_chat_id())  # from the URL: only ever one of this user's chats

    with st.sidebar:
        st.header(":material/tune: Workspace", divider="blue")
        account_panel(settings, principal)
        if principal.is_cto:
            client = scope_selector(status["clients"], chat)
        else:  # a founder has one client: no selector, and the service enforces it regardless
            client = principal.client
            st.markdown(f"**Client:** {inert(client or '')}")
        history_panel(viewer, client, chat)
        upload_panel(advisor, principal, client, status["clients"])
        if principal.is_cto:
            status_panel(status, client)
            mode_panel(settings, principal)
        else:
            founder_note(settings, client)

    scope = f"**{inert(client)}** documents + playbooks" if client else "**Playbooks only**"
    where = settings.answer_destination if settings.use_llm else "offline answers"
    scope_line.caption(f"Scope: {scope} · {inert(where)}")
    chat_tab, memo_tab, assess_tab = st.tabs(
        ["Chat", "Recommendation memo", "Assessment"], key="view", on_change="rerun"
    )
    if memo_tab.open:
        with memo_tab:
            memo_panel(viewer, client, chat)
        return
    if assess_tab.open:
        with assess_tab:
            assessment_panel(viewer, client)
        return
    with chat_tab:
        busy = render_chat(viewer, chat, client, status)  # True while a worker writes an answer
    question = st.chat_input(
        "Ask about hiring, architecture, process…",
        key="question",  # one widget whether enabled or not (disabled while an answer is written)
        max_chars=settings.max_question_chars,
        disabled=busy,
    )
    question = check_question(question or st.session_state.pop("pending", None),
                              settings.max_question_chars)  # fmt: skip
    if question:
        ask_question(viewer, client, chat, question)
    if status["chunks"]:
        warm_scope(advisor, principal, settings_key(settings), client)


if __name__ == "__main__":
    main()
else:  # imported by `streamlit run` (or uvicorn): serve this page plus our routes
    from interfaces.web.routes import routes

    app = st.App(__file__, routes=routes())
