"""The chat: one conversation per scope, answers streamed with numbered sources and feedback."""

from __future__ import annotations

import logging
import mimetypes
import uuid

import streamlit as st

from advisor.answering.answer import scope_label
from advisor.core.errors import AdvisorError
from advisor.core.principal import Principal, scopes_for, visible
from advisor.core.settings import PLAYBOOK_SCOPE
from advisor.memo.model import location
from advisor.service.facade import Advisor
from advisor.service.feedback import FeedbackRecord
from interfaces.web.resources import Viewer
from interfaces.web.text import inert, prose

log = logging.getLogger("cto_advisor.app")
EXAMPLES = {
    None: [
        "Who should our first three engineering hires be?",
        "When should we build rather than buy?",
        "What does a sensible on-call rotation look like for a small team?",
    ],
    "client": [
        "What caused our last outage, and what should we change?",
        "Should we move off our current hosting now or after the next raise?",
        "Who should our next two hires be?",
    ],
}


def pick_example(question: str) -> None:
    st.session_state["pending"] = question


def scope_key(client: str | None) -> str:
    return client or PLAYBOOK_SCOPE


def chat(client: str | None) -> list[dict]:
    """The conversation of this scope; each scope keeps its own so nothing crosses clients."""
    return st.session_state.setdefault("chats", {}).setdefault(scope_key(client), [])


def new_chat(client: str | None) -> None:
    st.session_state.setdefault("chats", {})[scope_key(client)] = []
    st.session_state.setdefault("memos", {}).pop(scope_key(client), None)


def history_of(messages: list[dict]) -> list[dict[str, str]]:
    """The conversation as the advisor takes it: answered turns only, errors left out."""
    out = []
    for m in messages:
        if m["role"] == "user":
            out.append({"role": "user", "content": m["content"]})
        elif "answer" in m:
            out.append({"role": "assistant", "content": m["answer"].answer})
    return out


def save_feedback(viewer: Viewer, msg: dict) -> None:
    """Widget callback: store the thumbs (and comment) of one answer."""
    value = st.session_state.get(f"fb-{msg['id']}")
    if value is None:
        return
    msg["rating"] = value
    msg["comment"] = st.session_state.get(f"fbc-{msg['id']}", msg.get("comment", ""))
    answer = msg["answer"]
    viewer.record(
        FeedbackRecord(
            answer_id=msg["id"],
            rating="up" if value == 1 else "down",
            comment=msg["comment"] or "",
            question=msg["question"],
            history=msg["history"],
            client=msg["client"],
            answer=answer.answer,
            abstained=answer.abstained,
            mode=answer.mode,
            sources=[c.source for c in answer.citations],
        )
    )


# -- rendering -----------------------------------------------------------------------------------


def render_sources(msg: dict, viewer: Viewer, expanded: bool) -> None:
    # The final scope gate, once more at the screen: only this chat's client and the playbooks.
    citations = visible(msg["answer"].citations, scopes_for(msg.get("client")), "ui sources")
    if not citations:
        return
    label = f"Sources ({len(citations)})"
    with st.expander(label, icon=":material/menu_book:", expanded=expanded):
        for c in citations:
            with st.container(border=True, key=f"src-{msg['id']}-{c.n}"):
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.markdown(f"**[{c.n}] {inert(c.title or c.source)}**")
                    color = "blue" if c.scope == PLAYBOOK_SCOPE else "green"
                    st.badge(scope_label(c.scope), color=color)
                where = location(c)
                age = c.age_days()
                when = "" if age is None else f" · modified {age} day{'s' if age != 1 else ''} ago"
                st.caption(inert(f"{where} · {c.source}" if where else c.source) + when)
                st.markdown(f"> {inert(c.snippet)}")
                data = viewer.file(c)
                if data is not None:
                    name = c.source.rsplit("/", 1)[-1]
                    st.download_button(
                        "Download file",
                        data=data,
                        file_name=name,
                        mime=mimetypes.guess_type(name)[0] or "application/octet-stream",
                        key=f"dl-{msg['id']}-{c.n}",
                        icon=":material/download:",
                        type="tertiary",
                        on_click="ignore",
                    )


def render_feedback(msg: dict, viewer: Viewer) -> None:
    key = f"fb-{msg['id']}"
    # `default` restores the thumbs after the widget was cleaned up (e.g. another scope shown).
    st.feedback(
        "thumbs",
        key=key,
        default=None if key in st.session_state else msg.get("rating"),
        on_change=save_feedback,
        args=(viewer, msg),
    )
    if msg.get("rating") is not None:
        st.text_input(
            "Comment (optional)",
            key=f"fbc-{msg['id']}",
            value="" if f"fbc-{msg['id']}" in st.session_state else msg.get("comment", ""),
            placeholder="What was wrong or missing? Which document should it have used?",
            on_change=save_feedback,
            args=(viewer, msg),
        )
        st.caption("Thanks: your feedback is saved.")


def render_answer(msg: dict, viewer: Viewer, latest: bool, with_text: bool = True) -> None:
    answer = msg["answer"]
    if with_text:
        st.markdown(prose(answer.answer))
    if answer.warning:
        st.warning(answer.warning, icon=":material/warning:")
    render_sources(msg, viewer, expanded=latest)  # older answers fold their sources away
    render_feedback(msg, viewer)


def render_message(msg: dict, viewer: Viewer, latest: bool = False) -> None:
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(inert(msg["content"]))
        elif "error" in msg:
            st.error(msg["error"], icon=":material/error:")
        else:
            render_answer(msg, viewer, latest)


def empty_state(client: str | None, status: dict) -> None:
    if not status["documents"]:
        st.info(
            "Nothing is indexed yet. Add documents under **Add documents** in the sidebar, or "
            "run `cto-advisor ingest data/playbooks` and reload.",
            icon=":material/info:",
        )
    who = f"**{inert(client)}**'s documents and your playbooks" if client else "your playbooks"
    st.markdown(
        f"Ask a question in plain words. Answers come from {who}, and every claim is cited "
        "with a numbered source you can open."
    )
    st.caption("Try one of these:")
    for q in EXAMPLES["client" if client else None]:
        st.button(q, key=f"ex-{q}", on_click=pick_example, args=(q,))


def ask(
    advisor: Advisor, principal: Principal, viewer: Viewer, client: str | None, question: str
) -> None:
    """Stream one answer into the chat and keep it in the conversation."""
    messages = chat(client)
    history = history_of(messages)
    messages.append({"role": "user", "content": question})
    render_message(messages[-1], viewer)
    msg = {"id": uuid.uuid4().hex, "role": "assistant", "question": question}
    msg |= {"client": client, "history": history}
    with st.chat_message("assistant"):
        try:
            stream = advisor.ask_stream(principal, question, client=client, history=history)
            st.write_stream(prose(delta) for delta in stream)
            msg["answer"] = stream.answer
        except AdvisorError as exc:
            msg["error"] = str(exc)
        except Exception as exc:  # a bug must not take the page down; the log has the trace
            log.exception("answering failed")
            msg["error"] = f"Something went wrong ({type(exc).__name__}: {exc}). Try again; the "
            msg["error"] += "server log has the details."
        messages.append(msg)
        if "error" in msg:
            st.error(msg["error"], icon=":material/error:")
        else:
            render_answer(msg, viewer, latest=True, with_text=False)
