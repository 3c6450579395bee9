"""Small steps shared by the app flows."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def ask(at: AppTest, question: str) -> AppTest:
    """Type a question in the chat box and wait for the answer."""
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def last_answer(at: AppTest) -> str:
    """The text of the newest assistant message."""
    message = [m for m in at.chat_message if m.name == "assistant"][-1]
    return message.markdown[0].value


def texts(*element_lists) -> list[str]:
    """The values of several element lists (markdown, caption, ...) as one list of strings."""
    return [e.value for elements in element_lists for e in elements]
