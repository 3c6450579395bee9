"""Small steps shared by the app flows."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest


def ask(at: AppTest, question: str) -> AppTest:
    """Type a question in the chat box and wait for the answer (the worker writes it)."""
    at.chat_input[0].set_value(question).run()
    return settle(at)


def settle(at: AppTest, timeout: float = 90) -> AppTest:
    """Run the page again until no answer is being written (a browser's fragment does this)."""
    deadline = time.monotonic() + timeout
    while any((b.key or "").startswith("stop-") for b in at.button):
        assert time.monotonic() < deadline, "the answer never finished"
        time.sleep(0.1)
        at.run()
    assert not at.exception, at.exception
    return at


def answers(at: AppTest) -> list:
    return [m for m in at.chat_message if m.name == "assistant"]


def last_answer(at: AppTest) -> str:
    """The text of the newest assistant message."""
    return answers(at)[-1].markdown[0].value


def source_cards(message) -> list:
    """The collapsed one-line source cards under an answer (expanders keyed src-<id>-<n>)."""
    return [e for e in message.expander if e.label.startswith("**[")]


def texts(*element_lists) -> list[str]:
    """The values of several element lists (markdown, caption, ...) as one list of strings."""
    return [e.value for elements in element_lists for e in elements]


def open_chat_ids(at: AppTest) -> list[str]:
    """The chats the sidebar's history lists (button keys chat-<id>)."""
    return [
        b.key.removeprefix("chat-") for b in at.sidebar.button if (b.key or "").startswith("chat-")
    ]
