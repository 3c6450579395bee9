"""A real restart and a real stop: `streamlit run app.py` is stopped and started again on the same
address and data; the browser is still signed in and finds its chats. Then, against a slow model
(a real OpenAI-protocol server on loopback), Stop ends the worker's request, not just the display,
and a reload while an answer is written shows it finished.
"""

from __future__ import annotations

import time

import pytest

from advisor.answering.llm_answer import MAX_ITEMS  # an answer field's sentences, kept
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.conversations import ConversationStore
from tests.browser.conftest import copy_index
from tests.browser.streamlit_server import streamlit_app
from tests.browser.test_accounts_browser import ask, sign_in
from tests.browser.test_chat_browser import ARTIFACTS
from tests.chroma_server import free_port
from tests.fakes.openai_server import FakeOpenAI, answering

pytestmark = pytest.mark.browser

PASSWORD = "cto password 1234"
SEPTEMBER = "What caused the September payment outage?"
CLAIMS = ["The migration locked the ledger table [1]."] * 40  # ~300 JSON pieces
REPLY = " ".join(CLAIMS)


@pytest.fixture(scope="module")
def data_dir(sample_corpus_index, tmp_path_factory):
    data = copy_index(sample_corpus_index, tmp_path_factory.mktemp("restart") / "data")
    AccountStore(Settings(data_dir=data)).add_user("cto@example.com", "cto", None, PASSWORD)
    return data


def stored_answers(data_dir, url: str) -> list[tuple[str, str]]:
    """(status, the first words) of each answer the conversation store holds for the open chat."""
    from urllib.parse import parse_qs, urlparse

    chat = parse_qs(urlparse(url).query)["chat"][0]
    store = ConversationStore(Settings(data_dir=data_dir))
    cto = Principal(user="cto@example.com", role="cto")
    return [
        (m.body.get("status", ""), str(m.body.get("text") or m.body.get("answer", ""))[:60])
        for m in store.messages(cto, chat)
        if m.role == "assistant"
    ]


def test_history_survives_a_restart_and_stop_ends_the_worker(data_dir, chromium, tmp_path):
    from playwright.sync_api import expect

    port = free_port()
    context = chromium.new_context(viewport={"width": 1366, "height": 1000})
    try:
        page = context.new_page()
        with streamlit_app(data_dir, tmp_path, "restart-streamlit.log", port=port) as url:
            sign_in(page, url, "cto@example.com", PASSWORD, query="/?client=ledgerly")
            answer = ask(page, SEPTEMBER).get_by_test_id("stMarkdownContainer").first.inner_text()
            link = page.url

        with (
            FakeOpenAI(answering(*CLAIMS)) as slow,
            streamlit_app(
                data_dir, tmp_path, "restart-streamlit.log", port=port,
                OPENAI_BASE_URL=slow.base_url, ADVISOR_LLM_MAX_RETRIES="0",
            ) as url,
        ):  # fmt: skip
            page.goto(link)  # a new process: the cookie and the chat are still good
            first = page.get_by_test_id("stChatMessage").nth(1)
            expect(first.get_by_test_id("stFeedback")).to_be_visible(timeout=60_000)
            assert first.get_by_test_id("stMarkdownContainer").first.inner_text() == answer
            assert page.get_by_role("button", name="Sign in").count() == 0
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_role("button", name=SEPTEMBER).first).to_be_visible()

            sidebar.get_by_role("button", name="New chat").click()
            expect(page.get_by_text("Ask a question in plain words")).to_be_visible()
            expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=30_000)
            slow.fail_next("drip", 0.1)  # the whole reply would take ~25 s
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill(SEPTEMBER)
            box.press("Enter")
            writing = page.get_by_test_id("stChatMessage").nth(1)
            try:
                expect(writing).to_contain_text("The migration locked", timeout=60_000)
            finally:
                page.screenshot(path=str(ARTIFACTS / "app-streaming.png"))
            expect(page.get_by_test_id("stChatInputTextArea")).to_be_disabled()
            page.screenshot(path=str(ARTIFACTS / "app-streaming.png"))
            stop = time.monotonic()
            writing.get_by_role("button", name="Stop").click()
            expect(page.get_by_text("Stopped before the answer was finished.")).to_be_visible(
                timeout=10_000
            )
            deadline = time.monotonic() + 5
            while slow.disconnects == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slow.disconnects == 1, "the model's stream was closed: the worker stopped"
            print(f"stream closed {time.monotonic() - stop:.2f}s after Stop")
            kept = page.get_by_test_id("stChatMessage").nth(1).inner_text()
            assert "The migration locked" in kept and len(kept) < len(REPLY)
            expect(page.get_by_test_id("stChatInputTextArea")).to_be_editable()

            page.reload()  # what was written is kept, with the note
            expect(page.get_by_text("Stopped before the answer was finished.")).to_be_visible(
                timeout=60_000
            )

            # Regenerate, then reload while it is written: the reloaded page shows it finished.
            slow.fail_next("drip", 0.03)  # ~8 s
            page.get_by_role("button", name="Regenerate").click()
            writing = page.get_by_test_id("stChatMessage").nth(1)
            # The stopped answer already shows that text: wait until the new one is written
            # (its Stop button), or the reload may come before the server had the click.
            expect(writing.get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
            expect(writing).to_contain_text("The migration locked", timeout=60_000)
            page.reload()
            done = page.get_by_test_id("stChatMessage").nth(1)
            try:
                expect(done.get_by_test_id("stFeedback")).to_be_visible(timeout=60_000)
            except AssertionError as exc:  # say whether the worker or the page fell behind
                log = (tmp_path / "streamlit.log").read_text(errors="replace").splitlines()[-30:]
                raise AssertionError(
                    f"{exc}\nstored: {stored_answers(data_dir, page.url)}\nthe app's log:\n"
                    + "\n".join(log)
                ) from exc
            assert done.get_by_test_id("stMarkdownContainer").first.inner_text().count(
                "The migration locked"
            ) == min(len(CLAIMS), MAX_ITEMS), "the whole answer, not what was shown"
            assert slow.disconnects == 1, "the reload did not stop the worker"
    finally:
        context.close()
