"""The Recommendation memo tab: a cited memo per client, with Markdown and Word downloads."""

from __future__ import annotations

import streamlit as st

from advisor.core.principal import Principal
from advisor.service.facade import Advisor
from interfaces.web.chat import chat, history_of, scope_key
from interfaces.web.common import download_row, errors_shown


def memo_panel(advisor: Advisor, principal: Principal, client: str | None) -> None:
    history = history_of(chat(client))
    st.markdown(
        "A structured memo with every point cited: the client's situation, what the playbooks "
        "recommend, the options side by side (benefits, costs, risks), risks, next steps and "
        "the open questions the documents do not settle. Ready to send as Markdown or Word."
    )
    topic = st.text_input(
        "Topic",
        key="memo-topic",
        placeholder="e.g. Should we hire an SRE or invest in on-call first?",
        help='Name the choice ("X or Y", "whether to X", "build vs buy") to compare '
        "the options side by side. Leave empty to write the memo about the conversation.",
    )
    use_chat = st.checkbox(
        f"Use this conversation ({len(history)} messages)",
        value=bool(history),
        disabled=not history,
    )
    memos = st.session_state.setdefault("memos", {})  # one per scope, like the chats
    if st.button("Draft memo", type="primary", icon=":material/edit_note:", key="draft-memo"):
        with st.spinner("Drafting the memo…"), errors_shown("Drafting"):
            memo = advisor.memo(
                principal, topic, client=client, history=history if use_chat else []
            )
            # The exact bytes the download buttons serve, built once per draft.
            files = {"md": memo.to_markdown(), "docx": memo.to_docx()}
            memos[scope_key(client)] = (memo, files)
    if scope_key(client) not in memos:
        return
    memo, files = memos[scope_key(client)]
    if memo.warning:
        st.warning(memo.warning, icon=":material/warning:")
    download_row(files, memo.slug(), "memo")
    with st.container(border=True):
        st.markdown(memo.to_markdown(level=3))  # the preview sits under the page's own title
