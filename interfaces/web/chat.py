"""The chat: a stored conversation, answers written by workers, sources you can follow.

Each message lives in the conversation store (advisor/service/conversations.py): the page draws
what is stored, and follows an answer that a worker (interfaces/web/jobs.py) is still writing.
Per answer: Copy (the text with its numbered sources), Regenerate, and thumbs; the last question
can be edited; a running answer can be stopped. Every `[n]` links to its source card, which opens
and scrolls into view; cards start collapsed as one line.
"""

from __future__ import annotations

import mimetypes
import re
import time

import streamlit as st

from advisor.answering.answer import scope_label
from advisor.core.errors import AdvisorError
from advisor.core.models import Answer
from advisor.core.principal import scopes_for, visible
from advisor.core.settings import PLAYBOOK_SCOPE
from advisor.memo.model import location, source_line
from advisor.service.conversations import Chat, Message
from advisor.service.feedback import FeedbackRecord
from interfaces.web import jobs
from interfaces.web.bridge import copy_button
from interfaces.web.resources import Viewer
from interfaces.web.text import inert, plain, prose

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
FOLLOW_EVERY = 0.3  # seconds between redraws of an answer being written
INTERRUPTED = (
    "The answer was interrupted before it was finished (the app restarted while it was being "
    "written). Regenerate to ask again."
)


def scope_key(client: str | None) -> str:
    return client or PLAYBOOK_SCOPE


# -- the open chat (in the URL, so a reload or a pasted link opens it again) ---------------------


def open_chat_id() -> str | None:
    return st.query_params.get("chat") or None


def open_chat(chat_id: str | None) -> None:
    """Callback: show a chat (None: a new, empty one)."""
    st.session_state.pop("editing", None)
    if chat_id:
        st.query_params["chat"] = chat_id
    else:
        st.query_params.pop("chat", None)


def pick_example(question: str) -> None:
    st.session_state["pending"] = question


def history_of(messages: list[Message]) -> list[dict[str, str]]:
    """The conversation as the advisor takes it: answered turns only, errors left out."""
    out = []
    for m in messages:
        if m.role == "user":
            out.append({"role": "user", "content": m.body["content"]})
        elif m.body.get("status") == "done":
            out.append({"role": "assistant", "content": m.body["answer"]["answer"]})
    if out and out[-1]["role"] == "user":
        out.pop()  # a question whose answer never came is not part of the conversation
    return out


def load_answer(body: dict) -> Answer:
    data = dict(body["answer"])
    warning = data.pop("warning", None)
    answer = Answer.model_validate(data)
    answer.warning = warning
    return answer


# -- asking --------------------------------------------------------------------------------------


def check_question(question: str | None, limit: int) -> str | None:
    """The question to ask, or None after saying plainly why not (blank, too long)."""
    if question is None:
        return None
    if not question.strip():
        st.toast("Type a question first: it is empty.", icon=":material/edit:")
        return None
    if len(question) > limit:
        st.error(
            f"Your question has {len(question):,} characters; the limit is {limit:,}. Shorten "
            "it, or ask it in two parts.",
            icon=":material/straighten:",
        )
        return None
    return question.strip()


def ask(viewer: Viewer, client: str | None, chat: Chat | None, question: str) -> None:
    """Store the question, start its answer, and show the chat it is in."""
    store = viewer.store
    if chat is None:
        chat = store.create(viewer.principal, client, question)
        open_chat(chat.id)
    messages = store.messages(viewer.principal, chat.id)
    store.append(viewer.principal, chat.id, "user", {"content": question})
    _answer(viewer, chat, question, history_of(messages))
    st.rerun()


def _answer(viewer: Viewer, chat: Chat, question: str, history: list[dict]) -> None:
    body = {"status": "running", "question": question, "history": history, "client": chat.client}
    msg = viewer.store.append(viewer.principal, chat.id, "assistant", body)
    jobs.start(viewer.advisor, viewer.principal, chat.id, msg.id, body)


def regenerate(viewer: Viewer, chat: Chat, msg: Message) -> None:
    """Callback: drop an answer and write it again (same question, same conversation)."""
    jobs.stop(msg.id)
    viewer.store.truncate(viewer.principal, chat.id, msg.seq)
    _answer(viewer, chat, msg.body["question"], msg.body.get("history", []))


def edit_question(viewer: Viewer, chat: Chat, msg: Message) -> None:
    """Callback: replace the last question (and its answer) with the edited text."""
    text = st.session_state.get(f"edit-{msg.id}", "")
    limit = viewer.advisor.settings.max_question_chars
    if not text.strip() or len(text) > limit:
        st.session_state["edit_error"] = (
            f"A question needs some text, at most {limit:,} characters."
        )
        return
    st.session_state.pop("editing", None)
    messages = viewer.store.messages(viewer.principal, chat.id)
    for m in messages:
        if m.seq > msg.seq and m.role == "assistant":
            jobs.stop(m.id)
    viewer.store.truncate(viewer.principal, chat.id, msg.seq)
    viewer.store.append(viewer.principal, chat.id, "user", {"content": text.strip()})
    _answer(viewer, chat, text.strip(), history_of([m for m in messages if m.seq < msg.seq]))


def stop(msg_id: str) -> None:
    """Callback of the Stop button: the worker stops, not just the display."""
    jobs.stop(msg_id)
    job = jobs.find(msg_id)
    if job is not None:
        job.done.wait(5)  # the worker closes the model's stream at its next piece


# -- drawing -------------------------------------------------------------------------------------


def render_chat(viewer: Viewer, chat: Chat | None, client: str | None, status: dict) -> bool:
    """Draw the conversation; True while an answer is still being written."""
    messages = viewer.store.messages(viewer.principal, chat.id) if chat else []
    if not messages and not st.session_state.get("pending"):
        empty_state(viewer, client, status)
    last_user = max((m.seq for m in messages if m.role == "user"), default=None)
    last = messages[-1].seq if messages else None
    busy = bool(messages) and messages[-1].body.get("status") == "running"
    running = None
    for msg in messages:
        if msg.role == "user":
            render_question(viewer, chat, msg, editable=msg.seq == last_user and not busy)
        elif msg.body.get("status") == "running":
            running = msg
        else:
            render_answer(viewer, chat, msg, latest=msg.seq == last)
    return running is not None and follow(viewer, chat, running)


def render_question(viewer: Viewer, chat: Chat, msg: Message, editable: bool) -> None:
    with st.chat_message("user"):
        if st.session_state.get("editing") == msg.id:
            st.text_area(
                "Edit your question", value=msg.body["content"], key=f"edit-{msg.id}",
                max_chars=viewer.advisor.settings.max_question_chars,
            )  # fmt: skip
            if error := st.session_state.pop("edit_error", None):
                st.error(error)
            with st.container(horizontal=True):
                st.button(
                    "Send", type="primary", icon=":material/send:", key=f"resend-{msg.id}",
                    on_click=edit_question, args=(viewer, chat, msg),
                )  # fmt: skip
                st.button("Cancel", key=f"cancel-{msg.id}", on_click=st.session_state.pop,
                          args=("editing", None))  # fmt: skip
            return
        st.markdown(inert(msg.body["content"]))
        if editable:
            st.button(
                "Edit", icon=":material/edit:", type="tertiary", key=f"edit-btn-{msg.id}",
                help="Change this question and ask it again",
                on_click=st.session_state.__setitem__, args=("editing", msg.id),
            )  # fmt: skip


def linked(text: str, msg_id: str, numbers: set[int]) -> str:
    """Answer Markdown (already neutralised) with each known `[n]` linked to its source card."""

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        return f"[\\[{n}\\]](#src-{msg_id}-{n})" if n in numbers else m.group(0)

    return re.sub(r"\\\[(\d{1,3})\\\]", link, text)


def copy_text(answer: Answer, citations) -> str:
    """The answer with its numbered sources, as plain text that pastes cleanly anywhere."""
    lines = [plain(answer.answer).strip()]
    if citations:
        lines += ["", "Sources:"] + [f"[{c.n}] {plain(source_line(c))}" for c in citations]
    return "\n".join(lines)


def render_answer(viewer: Viewer, chat: Chat, msg: Message, latest: bool) -> None:
    body = msg.body
    with st.chat_message("assistant"):
        state = body.get("status")
        if state == "done":
            answer = load_answer(body)
            # The final scope gate, once more at the screen: only this chat's scope + playbooks.
            citations = visible(answer.citations, scopes_for(chat.client), "ui sources")
            with st.container(key=f"answer-{msg.id}"):
                st.markdown(linked(prose(answer.answer), msg.id, {c.n for c in citations}))
            if answer.warning:
                st.warning(prose(answer.warning), icon=":material/warning:")
            render_sources(viewer, msg.id, citations)
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                copy_button(copy_text(answer, citations), key=f"copy-{msg.id}")
                if latest:
                    _regenerate_button(viewer, chat, msg)
                render_feedback(viewer, chat, msg, answer)
            return
        if body.get("text"):
            st.markdown(prose(body["text"]))
        if state == "stopped":
            st.caption(":material/stop_circle: Stopped before the answer was finished.")
        elif state == "error":
            st.error(prose(body.get("error", "The answer failed.")), icon=":material/error:")
        else:
            st.info(INTERRUPTED, icon=":material/history:")
        if latest:
            _regenerate_button(viewer, chat, msg)


def _regenerate_button(viewer: Viewer, chat: Chat, msg: Message) -> None:
    st.button(
        "Regenerate", icon=":material/refresh:", type="tertiary", key=f"regen-{msg.id}",
        help="Write this answer again", on_click=regenerate, args=(viewer, chat, msg),
    )  # fmt: skip


def follow(viewer: Viewer, chat: Chat, msg: Message) -> bool:
    """An answer a worker is writing: followed by a fragment, so the page itself stays usable.
    True while it is being written."""
    job = jobs.find(msg.id)
    if job is None or job.done.is_set():
        # No worker writes it (any more): it has just finished, or the app restarted meanwhile.
        stored = {m.id: m for m in viewer.store.messages(viewer.principal, chat.id)}.get(msg.id)
        if stored is None:
            return False
        if stored.body.get("status") == "running":
            stored.body = job.body if job is not None else {**stored.body, "status": "interrupted"}
            viewer.store.update(viewer.principal, chat.id, msg.id, stored.body)
        render_answer(viewer, chat, stored, latest=True)
        return False
    following(msg.id, time.monotonic())
    return True


@st.fragment(run_every=FOLLOW_EVERY)
def following(msg_id: str, started: float) -> None:
    """Redraw the answer as it grows, with Stop; once the worker is done, draw the page again."""
    job = jobs.find(msg_id)
    if job is None or job.done.is_set():
        st.rerun(scope="app")
    with st.chat_message("assistant"):
        if job.text:
            st.markdown(prose(job.text) + " ▍")
        else:
            st.caption(f"Reading the documents… {time.monotonic() - started:.0f} s")
        st.button(
            "Stop", icon=":material/stop_circle:", key=f"stop-{msg_id}", on_click=stop,
            args=(msg_id,), help="Stop writing this answer",
        )  # fmt: skip


def render_sources(viewer: Viewer, msg_id: str, citations) -> None:
    """One collapsed line per source (title, where, whose); the passage and file on opening."""
    if not citations:
        return
    with st.container(gap="xxsmall", key=f"sources-{msg_id}"):
        for c in citations:
            source_card(viewer, msg_id, c)


def source_card(viewer: Viewer, msg_id: str, c) -> None:
    """A source as one line (its number, whose it is, title, section, page or slide); opening it
    shows the cited passage and, where this principal may, the file (a PDF at its page)."""
    whose = scope_label(c.scope)
    badge = (
        ":blue-badge[Playbook]" if c.scope == PLAYBOOK_SCOPE else f":green-badge[{inert(whose)}]"
    )
    where = location(c)
    title = inert(c.title or c.source) + (f" · {inert(where)}" if where else "")
    with st.expander(f"**[{c.n}]** {badge} {title}", key=f"src-{msg_id}-{c.n}"):
        st.markdown(f"**{title}**")
        st.markdown(f"> {inert(c.snippet)}")
        age = c.age_days()
        when = {None: "", 0: " · modified today", 1: " · modified yesterday"}.get(
            age, f" · modified {age} days ago"
        )
        st.caption(inert(c.source) + when)
        file_actions(viewer, msg_id, c)


def file_actions(viewer: Viewer, msg_id: str, c) -> None:
    data = viewer.file(c)
    if data is None:
        if c.scope == PLAYBOOK_SCOPE and not viewer.principal.is_cto:
            st.caption(
                ":material/lock: Playbook files stay with your CTO: the cited passage above "
                "is what you can read."
            )
        return
    name = c.source.rsplit("/", 1)[-1]
    with st.container(horizontal=True):
        if link := viewer.open_link(c):
            where = f"at page {c.page}" if c.page else ""
            st.link_button(f"Open {where}".strip(), link, icon=":material/open_in_new:",
                           type="tertiary")  # fmt: skip
        st.download_button(
            "Download file",
            data=data,
            file_name=name,
            mime=mimetypes.guess_type(name)[0] or "application/octet-stream",
            key=f"dl-{msg_id}-{c.n}",
            icon=":material/download:",
            type="tertiary",
            on_click="ignore",
        )


def render_feedback(viewer: Viewer, chat: Chat, msg: Message, answer: Answer) -> None:
    key = f"fb-{msg.id}"
    st.feedback(
        "thumbs", key=key,
        default=None if key in st.session_state else msg.body.get("rating"),
        on_change=save_feedback, args=(viewer, chat, msg, answer),
    )  # fmt: skip
    if msg.body.get("rating") is not None:
        with st.popover("Comment", icon=":material/comment:", type="tertiary"):
            st.text_input(
                "What was wrong or missing? Which document should it have used?",
                key=f"fbc-{msg.id}",
                value="" if f"fbc-{msg.id}" in st.session_state else msg.body.get("comment", ""),
                on_change=save_feedback, args=(viewer, chat, msg, answer),
            )  # fmt: skip
            st.caption("Thanks: your feedback is saved.")


def save_feedback(viewer: Viewer, chat: Chat, msg: Message, answer: Answer) -> None:
    """Widget callback: store the thumbs (and comment) of one answer, with the chat too."""
    value = st.session_state.get(f"fb-{msg.id}")
    if value is None:
        return
    body = dict(msg.body)
    body["rating"] = value
    body["comment"] = st.session_state.get(f"fbc-{msg.id}", body.get("comment", "")) or ""
    viewer.store.update(viewer.principal, chat.id, msg.id, body)
    viewer.record(
        FeedbackRecord(
            answer_id=body.get("answer_id", msg.id),  # the service's id (older chats: none)
            rating="up" if value == 1 else "down",
            comment=body["comment"],
            question=body["question"],
            history=body.get("history", []),
            client=chat.client,
            answer=answer.answer,
            abstained=answer.abstained,
            mode=answer.mode,
            sources=[c.source for c in answer.citations],
        )
    )


def empty_state(viewer: Viewer, client: str | None, status: dict) -> None:
    if not status["documents"]:
        st.info(
            "Nothing is indexed yet. Add documents under **Add documents** in the sidebar, or "
            "run `cto-advisor ingest data/playbooks` and reload.",
            icon=":material/info:",
        )
    playbooks = "your playbooks" if viewer.principal.is_cto else "your CTO's playbooks"
    who = f"**{inert(client)}**'s documents and {playbooks}" if client else playbooks
    st.markdown(
        f"Ask a question in plain words. Answers come from {who}, and every claim is cited "
        "with a numbered source you can open."
    )
    st.caption("Try one of these:")
    for q in EXAMPLES["client" if client else None]:
        st.button(q, key=f"ex-{q}", on_click=pick_example, args=(q,))


def safe_chat(viewer: Viewer, chat_id: str | None) -> Chat | None:
    """The chat named in the URL if it is this user's; otherwise a new chat and a notice."""
    if not chat_id:
        return None
    try:
        return viewer.store.get(viewer.principal, chat_id)
    except AdvisorError as exc:
        open_chat(None)
        st.warning(prose(f"{exc}. Here is a new chat instead."), icon=":material/search_off:")
        return None
