"""The sidebar's chat history: New chat, past chats of this client by date, rename and delete."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import streamlit as st

from advisor.core.errors import AdvisorError
from advisor.service.conversations import Chat
from interfaces.web.chat import open_chat
from interfaces.web.resources import Viewer
from interfaces.web.text import inert, prose

SHOWN = 50  # chats listed; older ones stay stored (and open from their link)


def day_group(ts: float, today: date | None = None) -> str:
    """The heading a chat is listed under: Today, Yesterday, Previous 7 days, or its month."""
    today = today or date.today()
    day = datetime.fromtimestamp(ts).date()
    if day >= today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day > today - timedelta(days=7):
        return "Previous 7 days"
    return day.strftime("%B %Y")


def history_panel(viewer: Viewer, client: str | None, current: Chat | None) -> None:
    st.button(
        "New chat", icon=":material/add_comment:", on_click=open_chat, args=(None,),
        width="stretch", key="new-chat", help="Start a new conversation; this one stays below",
    )  # fmt: skip
    chats = viewer.store.chats(viewer.principal, client, limit=SHOWN)
    if not chats:
        st.caption("Your chats with this client appear here.")
        return
    group = None
    with st.container(key="history", gap="xxsmall"):
        for chat in chats:
            if (heading := day_group(chat.updated_at)) != group:
                group = heading
                st.caption(heading)
            here = current is not None and chat.id == current.id
            if here:  # the open chat: highlighted, with its menu beside it
                with st.container(
                    horizontal=True, vertical_alignment="center", gap="xxsmall", wrap=False
                ):
                    st.button(
                        inert(chat.title), key=f"chat-{chat.id}", type="secondary",
                        icon=":material/chat:", width="stretch",
                    )  # fmt: skip
                    chat_menu(viewer, chat)
            else:
                st.button(
                    inert(chat.title), key=f"chat-{chat.id}", type="tertiary", width="stretch",
                    on_click=open_chat, args=(chat.id,),
                    help=datetime.fromtimestamp(chat.updated_at).strftime("%Y-%m-%d %H:%M"),
                )  # fmt: skip


def chat_menu(viewer: Viewer, chat: Chat) -> None:
    """Rename or delete the open chat."""
    with st.popover("", icon=":material/more_horiz:", type="tertiary", help="Rename or delete"):
        st.text_input("Title", value=chat.title, key=f"title-{chat.id}", max_chars=100)
        st.button(
            "Rename", icon=":material/edit:", key=f"rename-{chat.id}",
            on_click=_rename, args=(viewer, chat),
        )  # fmt: skip
        st.divider()
        st.button(
            "Delete this chat", icon=":material/delete:", key=f"delete-{chat.id}",
            on_click=_delete, args=(viewer, chat),
        )  # fmt: skip


def _rename(viewer: Viewer, chat: Chat) -> None:
    try:
        viewer.store.rename(viewer.principal, chat.id, st.session_state.get(f"title-{chat.id}", ""))
    except AdvisorError as exc:
        st.toast(prose(str(exc)), icon=":material/error:")


def _delete(viewer: Viewer, chat: Chat) -> None:
    viewer.store.delete(viewer.principal, chat.id)
    open_chat(None)
    st.toast("Chat deleted.", icon=":material/delete:")
