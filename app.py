"""CTO Advisor in the browser: `streamlit run app.py`.

This file is the page wiring only. The panels and view helpers live in `interfaces/web/`, and all
logic below them in `advisor/` (the service facade decides what each principal may see).
"""

from __future__ import annotations

import streamlit as st

from advisor.core.errors import AdvisorError
from advisor.core.settings import get_settings
from interfaces.web.assessment import assessment_panel
from interfaces.web.chat import ask, chat, empty_state, new_chat, render_message
from interfaces.web.memo import memo_panel
from interfaces.web.resources import Viewer, index_status, load_advisor, settings_key, warm_scope
from interfaces.web.sidebar import mode_panel, scope_selector, status_panel, upload_panel
from interfaces.web.signin import account_panel, current_principal
from interfaces.web.text import inert

st.set_page_config(page_title="CTO Advisor", page_icon=":material/explore:", layout="centered")


def main() -> None:
    settings = get_settings()
    # Single-user mode on loopback with no accounts, else a signed-in session (or the sign-in form).
    principal = current_principal(settings)
    st.title("CTO Advisor")  # drawn first, so the page shows up while the model loads
    scope_line = st.empty()
    with st.spinner("Loading the embedding model and the index…"):
        try:
            advisor = load_advisor(settings, settings_key(settings))
            status = index_status(advisor, principal, str(settings.data_dir))
        except AdvisorError as exc:
            st.error(str(exc), icon=":material/error:")
            st.stop()
    viewer = Viewer(advisor, principal)

    with st.sidebar:
        st.header(":material/tune: Workspace", divider="blue")
        account_panel(settings, principal)
        if principal.is_cto:
            client = scope_selector(status["clients"])
        else:  # a founder has one client: no selector, and the service enforces it regardless
            client = principal.client
            st.markdown(f"**Client:** {inert(client or '')}")
        st.button(
            "New chat", icon=":material/add_comment:", on_click=new_chat, args=(client,),
            width="stretch",
        )  # fmt: skip
        upload_panel(advisor, principal, client, status["clients"])
        status_panel(status, client)
        mode_panel(settings, principal)

    scope = f"**{inert(client)}** documents + playbooks" if client else "**Playbooks only**"
    where = settings.answer_destination if settings.use_llm else "offline answers"
    scope_line.caption(f"Scope: {scope} · {inert(where)}")
    chat_tab, memo_tab, assess_tab = st.tabs(
        ["Chat", "Recommendation memo", "Assessment"], key="view", on_change="rerun"
    )
    if memo_tab.open:
        with memo_tab:
            memo_panel(advisor, principal, client)
        return
    if assess_tab.open:
        with assess_tab:
            assessment_panel(advisor, principal, client)
        return
    messages = chat(client)
    question = st.chat_input("Ask about hiring, architecture, process…")
    question = question or st.session_state.pop("pending", None)
    with chat_tab:
        if not messages and not question:
            empty_state(client, status)
        for i, msg in enumerate(messages):
            render_message(msg, viewer, latest=i == len(messages) - 1 and not question)
        if question and question.strip():
            ask(advisor, principal, viewer, client, question.strip())
    if status["chunks"]:
        warm_scope(advisor, principal, settings_key(settings), client)


main()
