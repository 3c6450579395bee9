"""The Recommendation memo tab: a cited memo per client, with Markdown and Word downloads.

Each client has its own tab state: the topic field is keyed by scope (switching client shows a
fresh one), and the client's last memo is kept in its history, so it is there again after a
reload or when the CTO comes back to that client.
"""

from __future__ import annotations

import streamlit as st

from advisor.memo.model import Memo
from advisor.service.conversations import Chat
from interfaces.web.chat import history_of, scope_key
from interfaces.web.common import download_row, errors_shown, keep, kept
from interfaces.web.resources import Viewer
from interfaces.web.text import prose


def memo_panel(viewer: Viewer, client: str | None, chat: Chat | None) -> None:
    messages = viewer.store.messages(viewer.principal, chat.id) if chat else []
    history = history_of(messages)
    st.markdown(
        "A structured memo with every point cited: the client's situation, what the playbooks "
        "recommend, the options side by side (benefits, costs, risks), risks, next steps and "
        "the open questions the documents do not settle. Ready to send as Markdown or Word."
    )
    # One form: the topic, the checkbox and the button reach the server together, so a topic
    # typed and clicked away at once (no Enter, no pause) is never lost to a rerun race.
    with st.form("memo-form", border=False, enter_to_submit=True):
        topic = st.text_input(
            "Topic",
            key=f"memo-topic-{scope_key(client)}",
            placeholder="e.g. Should we hire an SRE or invest in on-call first?",
            help='Name the choice ("X or Y", "whether to X", "build vs buy") to compare '
            "the options side by side. Leave empty to write the memo about the conversation.",
        )
        use_chat = st.checkbox(
            f"Use this conversation ({len(history)} messages)",
            value=bool(history),
            disabled=not history,
            key=f"memo-chat-{scope_key(client)}",
        )
        draft = st.form_submit_button(
            "Draft memo", type="primary", icon=":material/edit_note:", key="draft-memo"
        )
    if draft:
        with st.spinner("Drafting the memo…"), errors_shown("Drafting"):
            memo = viewer.advisor.memo(
                viewer.principal, topic, client=client, history=history if use_chat else []
            )
            keep(viewer, client, "memo", memo)
    found = kept(
        viewer, client, "memo", Memo, lambda m: {"md": m.to_markdown(), "docx": m.to_docx()}
    )
    if found is None:
        return
    memo, files = found
    if memo.warning:
        st.warning(prose(memo.warning), icon=":material/warning:")
    download_row(files, memo.slug(), "memo")
    with st.container(border=True):
        st.markdown(memo.to_markdown(level=3))  # the preview sits under the page's own title
