"""The chat flow in the real app script: answers, sources, history, limits, safe rendering, errors."""

from __future__ import annotations

import re
import socket
import sqlite3
import time

from streamlit.testing.v1 import AppTest

from advisor.core.settings import Settings
from advisor.service.audit import AuditLog
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.app.conftest import APP
from tests.app.helpers import (
    answers,
    ask,
    last_answer,
    open_chat_ids,
    settle,
    source_cards,
    texts,
)

PAGER_QUESTION = "What pager phone does the on-call engineer carry?"
PR_QUESTION = "How big should a pull request be?"


def fresh(app_data_dir, monkeypatch, **query) -> AppTest:
    """A new browser session (a reload, a new tab, a pasted link) over the same data."""
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(app_data_dir))
    at = AppTest.from_file(str(APP), default_timeout=90)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


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
    assert app.chat_input[0].max_chars == 2000  # ADVISOR_MAX_QUESTION_CHARS
    # Nothing rendered by accident (Streamlit "magic" turns stray expressions into output).
    assert not app.get("help") and not app.get("json") and not app.exception


def test_an_answer_links_each_citation_to_a_collapsed_one_line_source_card(app):
    started = time.perf_counter()
    ask(app, PR_QUESTION)
    elapsed = time.perf_counter() - started

    answer = last_answer(app)
    message = answers(app)[-1]
    cards = source_cards(message)
    assert "400 lines" in answer
    links = re.findall(r"\[\\\[(\d+)\\\]\]\(#src-([0-9a-f]+)-(\d+)\)", answer)
    assert links and all(n == m for n, _, m in links), answer  # [n] -> card n of this answer
    msg_id = links[0][1]
    assert {f"src-{msg_id}-{n}" for n, _, _ in links} <= {c.key for c in cards}
    assert cards[0].label.startswith("**[1]** :blue-badge[Playbook] Code review")
    assert any(c.label.endswith("On-call · Rotation size") for c in cards)  # section, if any
    assert ":blue-badge[Playbook]" in cards[0].label
    assert "400 lines" in cards[0].markdown[1].value  # the passage, shown when opened
    assert not re.search(r"(?<!\\)\]\((?!#src-)", answer), "no other link in an answer"
    assert any(b.key.startswith(f"dl-{msg_id}-") for b in app.download_button)
    assert len(app.feedback) == 1
    assert [b.label for b in message.button if b.key.startswith("regen-")] == ["Regenerate"]
    # Speed is measured by benchmarks/answer_bench.py, not asserted here: CI machines vary.
    print(f"answered in {elapsed:.1f}s")


def test_the_copy_text_is_the_answer_with_its_numbered_sources(app):
    from interfaces.web.chat import copy_text, load_answer

    ask(app, PR_QUESTION)
    store = ConversationStoreOf(app)
    msg = store.messages_of_last_chat()[-1]
    answer = load_answer(msg.body)
    text = copy_text(answer, answer.citations)
    body, sources = text.split("\n\nSources:\n")
    assert "400 lines" in body and "[1]" in body and "\\[1\\]" not in body  # not the page's escapes
    assert "](http" not in body  # the service's safe Markdown: pasted anywhere, it loads nothing
    lines = sources.splitlines()
    assert lines[0] == "[1] Code review (Playbook, code-review.md)"
    assert len(lines) == len(answer.citations)


class ConversationStoreOf:
    """The conversation store behind a running AppTest (the local CTO's chats)."""

    def __init__(self, at: AppTest) -> None:
        from advisor.core.principal import Principal
        from advisor.service.conversations import ConversationStore

        self.store = ConversationStore(Settings())
        self.principal = Principal.local()
        self.chat_id = at.query_params["chat"]

    def messages_of_last_chat(self):
        return self.store.messages(self.principal, self.chat_id)


def test_each_client_has_its_own_chats_in_the_history(app):
    app.selectbox(key="client").set_value("acme").run()
    assert "acme" in app.caption[0].value
    ask(app, PAGER_QUESTION)
    assert ACME_FACT in last_answer(app)
    acme_chat = app.query_params["chat"]
    assert ":green-badge[Client: acme]" in " ".join(c.label for c in source_cards(answers(app)[-1]))

    app.selectbox(key="client").set_value("globex").run()
    assert "globex" in app.caption[0].value
    assert not app.chat_message, "globex starts with its own, empty conversation"
    assert acme_chat not in open_chat_ids(app), "acme's chats are not listed under globex"
    ask(app, PAGER_QUESTION)
    page = " ".join(texts(app.main.markdown, app.main.caption))
    assert ACME_FACT not in page and "acme" not in page.lower()

    app.selectbox(key="client").set_value("acme").run()
    assert acme_chat in open_chat_ids(app)
    app.button(key=f"chat-{acme_chat}").click().run()
    assert ACME_FACT in last_answer(app), "acme's conversation is still there"
    assert GLOBEX_FACT not in " ".join(m.value for m in app.main.markdown)


def test_document_text_is_rendered_as_text(app):
    ask(app, "What do recruiter fees for senior engineers cost in the recruiter fee plan?")
    message = answers(app)[-1]
    shown = " ".join(texts(message.markdown, message.caption) + [c.label for c in message.expander])
    assert "40k" in shown and "tracker" in shown, "the hostile playbook was used"
    assert not re.search(r"(?<!\\)\$", shown), "dollar signs must not become LaTeX"
    assert not re.search(r"(?<!\\)<", shown), "HTML must be escaped"
    assert not re.search(r"!\[", shown), "images from documents must not load"
    assert not re.search(r"(?<!\\)~", shown), "tildes must not strike text through"
    assert "\\\\" not in shown, "an escape the service wrote is not escaped again (it would show)"
    assert not app.get("html"), "no raw HTML elements"


def test_new_chat_starts_empty_and_keeps_the_old_one_in_the_history(app):
    ask(app, PR_QUESTION)
    old = app.query_params["chat"]
    app.button(key="new-chat").click().run()
    assert not app.chat_message and "chat" not in app.query_params
    assert [b for b in app.button if b.key and b.key.startswith("ex-")], "empty state is back"
    assert old in open_chat_ids(app)
    app.button(key=f"chat-{old}").click().run()
    assert "400 lines" in last_answer(app)


def test_a_reload_or_a_pasted_link_opens_the_chat_with_its_answers(app, app_data_dir, monkeypatch):
    ask(app, PR_QUESTION)
    ask(app, "And who should review it?")
    chat_id = app.query_params["chat"]
    again = fresh(app_data_dir, monkeypatch, chat=chat_id)
    users = [m.markdown[0].value for m in again.chat_message if m.name == "user"]
    assert users == [PR_QUESTION, "And who should review it?"]
    assert "400 lines" in answers(again)[0].markdown[0].value
    assert len(answers(again)) == 2


def test_an_answer_whose_worker_is_gone_says_it_was_interrupted(app, app_data_dir, monkeypatch):
    ask(app, PR_QUESTION)
    chat_id = app.query_params["chat"]
    from interfaces.web import jobs

    jobs._jobs.clear()  # a restart: this process no longer knows the worker
    with sqlite3.connect(app_data_dir / "conversations.sqlite") as db:  # ...which never finished
        db.execute(
            "UPDATE messages SET body = json_set(body, '$.status', 'running') "
            "WHERE chat_id = ? AND role = 'assistant'",
            (chat_id,),
        )
    again = fresh(app_data_dir, monkeypatch, chat=chat_id)
    assert [m.markdown[0].value for m in again.chat_message if m.name == "user"] == [PR_QUESTION]
    assert "interrupted" in again.info[0].value
    assert [b.label for b in again.button if b.key.startswith("regen-")] == ["Regenerate"]
    settle(next(b for b in again.button if b.key.startswith("regen-")).click().run())
    assert "400 lines" in last_answer(again) and not again.info


def test_regenerate_writes_the_answer_again_and_edit_replaces_the_last_question(app):
    ask(app, PR_QUESTION)
    first = next(b.key for b in app.button if b.key.startswith("regen-"))
    settle(app.button(key=first).click().run())
    second = next(b.key for b in app.button if b.key.startswith("regen-"))
    assert second != first and "400 lines" in last_answer(app)
    assert len(answers(app)) == 1, "the old answer is replaced, not added"

    edit = next(b for b in app.button if b.key.startswith("edit-btn-"))
    edit.click().run()
    area = next(t for t in app.text_area if t.key.startswith("edit-"))
    area.input(PAGER_QUESTION)
    settle(next(b for b in app.button if b.key.startswith("resend-")).click().run())
    users = [m.markdown[0].value for m in app.chat_message if m.name == "user"]
    assert users == [PAGER_QUESTION] and len(answers(app)) == 1


def test_rename_and_delete_a_chat_and_the_deletion_is_audited(app, app_data_dir):
    ask(app, PR_QUESTION)
    chat_id = app.query_params["chat"]
    app.text_input(key=f"title-{chat_id}").input("Pull requests")
    app.button(key=f"rename-{chat_id}").click().run()
    assert app.button(key=f"chat-{chat_id}").label == "Pull requests"
    app.button(key=f"delete-{chat_id}").click().run()
    assert chat_id not in open_chat_ids(app) and not app.chat_message
    event = [
        e for e in AuditLog(Settings(data_dir=app_data_dir)).events() if e.event == "chat_delete"
    ]
    assert event[-1].detail["chat"] == chat_id


def test_a_blank_question_is_not_asked_and_a_long_one_is_capped_at_the_limit(app, app_data_dir):
    before = open_chat_ids(app)
    app.chat_input[0].set_value("   \n ").run()
    assert not app.chat_message and open_chat_ids(app) == before
    assert "empty" in app.toast[0].value
    # A crafted message past the widget's limit (the browser stops typing at 2,000 and says so):
    # the server holds the same limit.
    ask(app, "Who reviews pull requests? " + "x" * 3000)
    asked = [m.markdown[0].value for m in app.chat_message if m.name == "user"]
    assert len(asked) == 1 and len(asked[0].replace("\\", "")) <= 2000


def test_example_question_is_asked_when_clicked(app):
    example = next(b for b in app.button if b.key and b.key.startswith("ex-"))
    settle(example.click().run())
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
    ask(at, PR_QUESTION)
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
