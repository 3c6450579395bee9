"""The chat flow in the real app script: answers, sources, scope, safe rendering, errors."""

from __future__ import annotations

import re
import socket
import time

from streamlit.testing.v1 import AppTest

from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.app.conftest import APP
from tests.app.helpers import ask, last_answer, texts

PAGER_QUESTION = "What pager phone does the on-call engineer carry?"


def test_first_page_shows_scope_status_mode_and_examples(app):
    assert app.title[0].value == "CTO Advisor"
    assert app.selectbox(key="client").options == ["Playbooks only", "acme", "globex"]
    assert "Playbooks only" in app.caption[0].value
    metrics = {m.label: m.value for m in app.sidebar.metric}
    assert metrics["Documents"] == "6" and int(metrics["Chunks"]) >= 6
    sidebar_text = " ".join(texts(app.sidebar.markdown, app.sidebar.caption))
    assert "all-MiniLM-L6-v2" in sidebar_text and "Offline" in sidebar_text
    assert "OPENAI_BASE_URL" in app.sidebar.code[0].value
    examples = [b.label for b in app.button if b.key and b.key.startswith("ex-")]
    assert len(examples) == 3
    # Nothing rendered by accident (Streamlit "magic" turns stray expressions into output).
    assert not app.get("help") and not app.get("json") and not app.exception


def test_ask_streams_an_answer_with_numbered_sources(app):
    started = time.perf_counter()
    ask(app, "How big should a pull request be?")
    elapsed = time.perf_counter() - started

    answer = last_answer(app)
    assert "400 lines" in answer and "\\[1\\]" in answer  # [1] shown literally, not as a link
    titles = [m.value for m in app.main.markdown if m.value.startswith("**[")]
    assert titles[0].startswith("**[1] Code review")
    assert app.expander[0].label == f"Sources ({len(titles)})"
    assert ":blue-badge[Playbook]" in [m.value for m in app.main.markdown]
    assert any("code-review.md" in c.value for c in app.main.caption)
    assert any(b.key.startswith("dl-") for b in app.download_button)
    assert len(app.feedback) == 1
    # Speed is measured by benchmarks/answer_bench.py, not asserted here: CI machines vary.
    print(f"answered in {elapsed:.1f}s")


def test_switching_client_scopes_questions_and_keeps_conversations_apart(app):
    app.selectbox(key="client").set_value("acme").run()
    assert "acme" in app.caption[0].value
    ask(app, PAGER_QUESTION)
    assert ACME_FACT in last_answer(app)
    assert ":green-badge[Client: acme]" in [m.value for m in app.main.markdown]

    app.selectbox(key="client").set_value("globex").run()
    assert "globex" in app.caption[0].value
    assert not [m for m in app.chat_message], "globex starts with its own, empty conversation"
    ask(app, PAGER_QUESTION)
    page = " ".join(texts(app.main.markdown, app.main.caption))
    assert ACME_FACT not in page and "acme" not in page.lower()

    app.selectbox(key="client").set_value("acme").run()
    assert ACME_FACT in last_answer(app), "acme's conversation is still there"
    assert GLOBEX_FACT not in " ".join(m.value for m in app.main.markdown)


def test_document_text_is_rendered_as_text(app):
    ask(app, "What do recruiter fees for senior engineers cost in the recruiter fee plan?")
    shown = " ".join(texts(app.main.markdown, app.main.caption))
    assert "40k" in shown and "tracker" in shown, "the hostile playbook was used"
    assert not re.search(r"(?<!\\)\$", shown), "dollar signs must not become LaTeX"
    assert not re.search(r"(?<!\\)<", shown), "HTML must be escaped"
    assert not re.search(r"!\[", shown), "images from documents must not load"
    assert not re.search(r"(?<!\\)~", shown), "tildes must not strike text through"
    assert not app.get("html"), "no raw HTML elements"


def test_new_chat_clears_the_conversation(app):
    ask(app, "How big should a pull request be?")
    assert app.chat_message
    next(b for b in app.sidebar.button if b.label == "New chat").click().run()
    assert not app.chat_message
    assert [b for b in app.button if b.key and b.key.startswith("ex-")], "empty state is back"


def test_example_question_is_asked_when_clicked(app):
    example = next(b for b in app.button if b.key and b.key.startswith("ex-"))
    example.click().run()
    users = [m for m in app.chat_message if m.name == "user"]
    assert users and users[0].markdown[0].value.rstrip("?") in example.label


def test_the_sidebar_always_says_where_answers_go_and_which_data_directory(app, app_data_dir):
    sidebar = " ".join(texts(app.sidebar.markdown, app.sidebar.caption))
    assert "Answers go to: **offline (nothing leaves this machine)**" in sidebar
    assert str(app_data_dir.resolve()) in sidebar
    assert "offline answers" in app.caption[0].value
    assert not app.sidebar.warning


def test_a_dotenv_in_the_start_folder_that_switches_to_a_remote_llm_is_shown(
    app_data_dir, monkeypatch, tmp_path
):
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(app_data_dir))
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=https://llm.example.net/v1\n")  # cwd
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert not at.exception, at.exception
    sidebar = " ".join(texts(at.sidebar.markdown, at.sidebar.caption))
    assert "Answers go to: **LLM at llm.example.net" in sidebar
    assert "llm.example.net" in at.caption[0].value
    warning = at.sidebar.warning[0].value
    assert str((tmp_path / ".env").resolve()) in warning and "OPENAI_BASE_URL" in warning


def test_llm_down_answers_offline_with_a_warning(app_data_dir, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(app_data_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("ADVISOR_LLM_MAX_RETRIES", "0")
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert any(":green-badge[LLM]" in m.value for m in at.sidebar.markdown)
    ask(at, "How big should a pull request be?")
    assert "400 lines" in last_answer(at)
    assert at.warning and "OPENAI_BASE_URL" in at.warning[0].value
    assert not at.error


def test_unreachable_store_shows_the_fix_not_a_traceback(monkeypatch, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ADVISOR_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ADVISOR_CHROMA_PORT", str(port))
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert not at.exception
    assert at.error and "ADVISOR_CHROMA_HOST" in at.error[0].value
