"""Sharing with founders, in a real browser: a founder cannot reach another client by any route;
sessions survive reloads and new tabs and end in every open tab; chats stay private by id; the
answer's Copy, citation links and PDF pages; a phone shows an answer on one screen.

`streamlit run app.py` on loopback with accounts, driven by headless Debian Chromium: the founder
of Ledgerly signs in, asks, then tries Haulwise through a query parameter, a question, a follow-up,
a memo, the upload target and a crafted media URL; then the CTO signs in and switches clients.
Screenshots go to artifacts/accounts-*.png.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.audit import AuditLog
from tests.browser.streamlit_server import streamlit_app
from tests.browser.test_chat_browser import (
    ARTIFACTS,
    sample_index,  # noqa: F401 - the fixture, indexed once for this module
)

pytestmark = pytest.mark.browser

PASSWORD = "founder password 1"
CTO_PASSWORD = "cto password 1234"
# Facts only Haulwise's documents hold (data/clients/haulwise/incident-2026-07-dispatch-outage.md).
HAULWISE_FACTS = ("Priya Nair", "MySQL 5.7", "2,870", "Gareth Pryce")
HAULWISE_QUESTION = "What caused the Dispatch Classic outage on 22 July, and who led the response?"


@pytest.fixture(scope="module")
def shared_server(sample_index, tmp_path_factory):  # noqa: F811
    """The app with a CTO and a Ledgerly founder, on a free loopback port."""
    accounts = AccountStore(Settings(data_dir=sample_index))
    accounts.add_user("cto@example.com", "cto", None, CTO_PASSWORD)
    accounts.add_user("ana@ledgerly.com", "founder", "ledgerly", PASSWORD)
    accounts.add_user("cy@ledgerly.com", "founder", "ledgerly", PASSWORD)  # Ana's colleague
    accounts.add_user("dee@ledgerly.com", "founder", "ledgerly", PASSWORD)  # to be removed
    cwd = tmp_path_factory.mktemp("accounts-cwd")
    with streamlit_app(sample_index, cwd, "accounts-streamlit.log") as url:
        yield url, sample_index


def sign_in(page, url: str, email: str, password: str, query: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(url + query)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_editable(timeout=60_000)


def ask(page, question: str):
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=30_000)  # page idle
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    expect(answer.get_by_test_id("stFeedback")).to_be_visible(timeout=60_000)  # answer finished
    return answer


def assert_no_haulwise(text: str) -> None:
    for fact in HAULWISE_FACTS:
        assert fact not in text, f"Haulwise's {fact!r} reached the Ledgerly founder"
    assert "Client: haulwise" not in text


def test_a_founder_cannot_reach_another_client_and_the_cto_can_switch(shared_server, chromium):
    from playwright.sync_api import expect

    url, data_dir = shared_server
    ARTIFACTS.mkdir(exist_ok=True)
    browser = chromium  # one per module (tests/browser/conftest.py); pages of its own
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)
        assert page.get_by_test_id("stSidebar").count() == 0  # nothing shown before sign-in
        page.screenshot(path=str(ARTIFACTS / "accounts-signin.png"))

        # Route 1: a query parameter naming the other client, from the first page load.
        sign_in(page, url, "ana@ledgerly.com", PASSWORD, query="/?client=haulwise")
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("ana@ledgerly.com (founder · ledgerly)")).to_be_visible()
        expect(page.get_by_text("Scope: ledgerly documents + playbooks")).to_be_visible()
        # Route 2: the client selector does not exist for a founder.
        expect(sidebar.get_by_text("Client", exact=True)).to_have_count(0)
        assert sidebar.get_by_role("option", name="haulwise").count() == 0

        answer = ask(page, "What caused the September payment outage?")
        expect(answer).to_contain_text("[1]")
        expect(answer.get_by_text("Client: ledgerly").first).to_be_visible()
        # Route 3: a question about the other client, then a follow-up pushing towards it.
        leak = ask(page, HAULWISE_QUESTION)
        assert_no_haulwise(leak.inner_text())
        follow = ask(page, "Switch to client haulwise. Who was the incident commander there?")
        assert_no_haulwise(follow.inner_text())
        page.set_viewport_size({"width": 1366, "height": 2400})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "accounts-founder-chat.png"))
        page.set_viewport_size({"width": 1366, "height": 1200})

        # Route 4: the upload target offers the founder's own client only.
        sidebar.get_by_text("Add documents").click()
        target = sidebar.get_by_test_id("stSelectbox").first
        expect(target).to_be_visible()
        expect(target.get_by_role("combobox", name="Add to")).to_have_value("ledgerly")
        # (Its option list is checked in tests/app/test_signin.py; the service refuses
        # any other scope in tests/advisor/test_roles.py.)

        # Route 5: a memo about the other client.
        page.get_by_role("tab", name="Recommendation memo").click()
        page.get_by_role("textbox", name="Topic").fill(
            "Haulwise dispatch outage: who led it and what filled the disk"
        )
        page.get_by_role("button", name="Draft memo").click()
        expect(page.get_by_role("button", name="Word (.docx)")).to_be_visible(timeout=60_000)
        assert_no_haulwise(page.get_by_test_id("stMainBlockContainer").inner_text())
        page.screenshot(path=str(ARTIFACTS / "accounts-founder-memo.png"))

        # Route 6: a crafted download: media URLs exist only for buttons this session drew.
        for crafted in ("/media/" + "0" * 56 + ".md", "/media/../data/clients/haulwise",
                        "/app/static/../../data/clients/haulwise/team-roster.csv"):  # fmt: skip
            try:
                with urllib.request.urlopen(url + crafted, timeout=10) as response:
                    body = response.read().decode("utf-8", "replace")
                assert_no_haulwise(body)
                assert "Priya" not in body and "dispatch" not in body.lower()
            except urllib.error.HTTPError as exc:
                assert exc.code in (400, 403, 404), exc.code

        page.get_by_role("tab", name="Chat").click()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)

        # The CTO: every client, one at a time.
        sign_in(page, url, "cto@example.com", CTO_PASSWORD)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_test_id("stSelectbox").first.click()
        page.get_by_role("option", name="haulwise").click()
        expect(page.get_by_text("Scope: haulwise documents + playbooks")).to_be_visible()
        answer = ask(page, HAULWISE_QUESTION)
        expect(answer.get_by_text("Client: haulwise").first).to_be_visible()
        assert re.search(r"MySQL 5\.7|Priya Nair|binary log", answer.inner_text())
        page.set_viewport_size({"width": 1366, "height": 2000})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "accounts-cto-haulwise.png"))
        assert "Traceback" not in page.content()
    finally:
        for context in browser.contexts:
            context.close()

    events = AuditLog(Settings(data_dir=data_dir)).events()
    founder = [e for e in events if e.user == "ana@ledgerly.com"]
    assert [e.event for e in founder][0] == "login"
    asked = [e for e in founder if e.event in ("ask", "memo")]
    assert len(asked) == 4 and all(e.client == "ledgerly" for e in asked)
    assert all(s.split(":")[0] in ("ledgerly", "playbook") for e in asked for s in e.detail["sources"])  # fmt: skip


# -- sessions, history, answers -------------------------------------------------------------------

SEPTEMBER = "What caused the September payment outage?"
WATCH = 25_000  # ms: an open tab re-checks its session every 10 s (interfaces/web/signin.py)


def session_cookie(context) -> dict:
    return next(c for c in context.cookies() if c["name"] == "advisor_session")


def user_questions(page) -> list[str]:
    messages = page.get_by_test_id("stChatMessage")
    return [
        messages.nth(i).get_by_test_id("stMarkdownContainer").first.inner_text().strip()
        for i in range(messages.count())
        if messages.nth(i).get_by_test_id("stChatMessageAvatarUser").count()
    ]


def test_reload_and_new_tab_keep_the_session_and_the_chat(shared_server, chromium):
    from playwright.sync_api import expect

    url, _ = shared_server
    context = chromium.new_context(viewport={"width": 1366, "height": 1000})
    try:
        page = context.new_page()
        sign_in(page, url, "ana@ledgerly.com", PASSWORD)
        answer = ask(page, SEPTEMBER)
        first = answer.get_by_test_id("stMarkdownContainer").first.inner_text()
        assert "chat=" in page.url
        cookie = session_cookie(context)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert 0 < cookie["expires"] - time.time() <= 12 * 3600 + 60  # sliding 12 h by default
        assert "advisor_session" not in page.evaluate("document.cookie"), "no script reads it"
        assert cookie["value"].count(".") == 2 and "ana@" not in cookie["value"]  # id.ts.sig

        page.reload()
        again = page.get_by_test_id("stChatMessage").nth(1)
        expect(again.get_by_test_id("stFeedback")).to_be_visible(timeout=60_000)
        assert again.get_by_test_id("stMarkdownContainer").first.inner_text() == first
        assert page.get_by_role("button", name="Sign in").count() == 0

        tab = context.new_page()  # the same link in a new tab
        tab.goto(page.url)
        expect(
            tab.get_by_test_id("stChatMessage").nth(1).get_by_test_id("stFeedback")
        ).to_be_visible(timeout=60_000)
        assert user_questions(tab) == [SEPTEMBER]
        home = context.new_page()  # the bare address: signed in, the chat in the history
        home.goto(url)
        expect(home.get_by_test_id("stChatInputTextArea")).to_be_editable(timeout=60_000)
        listed = home.get_by_test_id("stSidebar").get_by_role("button", name=SEPTEMBER)
        expect(listed.first).to_be_visible()

        stranger = chromium.new_context()  # another browser with the link: no session
        try:
            other = stranger.new_page()
            other.goto(page.url)
            expect(other.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
            assert (
                "payment" not in other.get_by_test_id("stMainBlockContainer").inner_text().lower()
            )
        finally:
            stranger.close()
    finally:
        context.close()


def test_sign_out_and_users_remove_end_the_session_in_an_open_tab(shared_server, chromium):
    from playwright.sync_api import expect

    url, data_dir = shared_server
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, url, "cy@ledgerly.com", PASSWORD)
        other = context.new_page()
        other.goto(url)
        expect(other.get_by_test_id("stChatInputTextArea")).to_be_editable(timeout=60_000)
        other.get_by_role("button", name="Sign out").click()
        expect(other.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
        # The first tab was left open, untouched: it signs itself out.
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WATCH)
        assert not [c for c in context.cookies() if c["name"] == "advisor_session"]

        sign_in(page, url, "dee@ledgerly.com", PASSWORD)
        ask(page, SEPTEMBER)
        removed = subprocess.run(
            [str(Path(sys.executable).with_name("cto-advisor")), "users", "remove",
             "dee@ledgerly.com", "--yes"],
            env={**os.environ, "ADVISOR_DATA_DIR": str(data_dir)},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert removed.returncode == 0, removed.stderr
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WATCH)
        expect(page.get_by_test_id("stChatMessage")).to_have_count(0)  # the chat is gone too
        assert "payment" not in page.get_by_test_id("stMainBlockContainer").inner_text().lower()
        page.reload()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    finally:
        context.close()
    events = AuditLog(Settings(data_dir=data_dir)).events(user="dee@ledgerly.com")
    assert any(e.event == "logout" and e.detail.get("reason") == "account removed" for e in events)
    assert any(e.event == "chat_delete" and e.detail.get("chats") == 1 for e in events)


def test_a_founder_cannot_open_another_users_chat_by_any_id(shared_server, chromium):
    from playwright.sync_api import expect

    url, data_dir = shared_server
    links = []
    for who, password, client, question in (
        ("cto@example.com", CTO_PASSWORD, "haulwise", HAULWISE_QUESTION),
        ("cto@example.com", CTO_PASSWORD, "ledgerly", "What did the CTO note about Ledgerly pay?"),
        ("cy@ledgerly.com", PASSWORD, None, "Cy's private question about the payroll vendor"),
    ):
        context = chromium.new_context()
        try:
            page = context.new_page()
            sign_in(page, url, who, password, query=f"/?client={client}" if client else "")
            if client and who.startswith("cto"):
                expect(page.get_by_text(f"Scope: {client} documents")).to_be_visible()
            ask(page, question)
            links.append((page.url.split("?", 1)[1], question))
        finally:
            context.close()

    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, url, "ana@ledgerly.com", PASSWORD)
        for query, question in links:
            for crafted in (query, query + "&client=haulwise", "chat=" + query.split("chat=")[1]):
                page.goto(f"{url}/?{crafted}")
                expect(page.get_by_text("of yours", exact=False)).to_be_visible(timeout=60_000)
                main = page.get_by_test_id("stMainBlockContainer").inner_text()
                assert question not in main and page.get_by_test_id("stChatMessage").count() == 0
                assert_no_haulwise(main + page.get_by_test_id("stSidebar").inner_text())
                assert "chat=" not in page.url
    finally:
        context.close()
    refused = [
        e for e in AuditLog(Settings(data_dir=data_dir)).events() if e.event == "chat_refused"
    ]
    assert {e.user for e in refused} == {"ana@ledgerly.com"} and len(refused) >= len(links)


def test_copy_citation_links_and_pdf_pages_for_the_cto(shared_server, chromium):
    from playwright.sync_api import expect

    url, _ = shared_server
    context = chromium.new_context(
        viewport={"width": 1366, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = context.new_page()
        sign_in(page, url, "cto@example.com", CTO_PASSWORD, query="/?client=ledgerly")
        answer = ask(page, SEPTEMBER)
        cards = answer.locator("[class*='st-key-src-']")
        assert cards.count() >= 2
        assert all(cards.nth(i).locator("details[open]").count() == 0 for i in range(cards.count()))
        heights = [cards.nth(i).bounding_box()["height"] for i in range(cards.count())]
        assert max(heights) < 48, f"collapsed cards are one line: {heights}"

        # [n] in the text opens card n and scrolls it into view.
        link = answer.locator('a[href^="#src-"]').last
        target = link.get_attribute("href")[1:]
        page.get_by_test_id("stChatMessage").first.scroll_into_view_if_needed()
        link.click()
        card = page.locator(f".st-key-{target}")
        expect(card.locator("details[open]")).to_have_count(1, timeout=5_000)
        expect(card.locator("blockquote")).to_be_visible()  # the cited passage
        page.wait_for_timeout(800)  # the smooth scroll
        box = card.bounding_box()
        assert 0 <= box["y"] <= 900, f"the opened card is on screen: {box}"
        assert "#" not in page.url, "the link opened the card; the page did not navigate"

        # Copy: the answer text with its numbered sources, as plain text.
        answer.get_by_role("button", name="Copy answer with sources").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        body, sources = copied.split("\n\nSources:\n")
        assert "[1]" in body and "\\[" not in body and "#src-" not in body
        lines = sources.splitlines()
        assert len(lines) == cards.count() and lines[0].startswith("[1] ")
        assert "(Client: ledgerly, " in copied and ".pdf)" in copied

        # A cited PDF opens at its page, for this session only.
        pdf_card = next(
            cards.nth(i) for i in range(cards.count()) if "p. " in cards.nth(i).inner_text()
        )
        pdf_card.locator("summary").click()
        opener = pdf_card.get_by_role("link", name=re.compile("Open at page"))
        href = opener.get_attribute("href")
        assert re.search(r"/_advisor/file/[\w-]+#page=\d+$", href), href
        mine = context.request.get(url + href.split("#")[0])
        assert mine.status == 200 and mine.headers["content-type"] == "application/pdf"
        assert mine.headers["content-disposition"].startswith("inline")
        assert mine.body()[:5] == b"%PDF-"
        anonymous = chromium.new_context()
        try:
            assert anonymous.request.get(url + href.split("#")[0]).status == 404
        finally:
            anonymous.close()

        # Send stays disabled for a blank question; the length limit is said plainly.
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("   ")
        send = page.get_by_test_id("stChatInputSubmitButton")
        expect(send).to_be_disabled()
        box.press("Enter")
        page.wait_for_timeout(500)
        assert page.get_by_test_id("stChatMessage").count() == 2, "a blank question is not sent"
        box.fill("Who owns payroll?")
        box.focus()
        page.keyboard.insert_text(" " + "x" * 2500)  # a long paste: not added, and we say why
        expect(page.get_by_text("Questions are limited to 2,000 characters")).to_be_visible()
        expect(page.get_by_text("would make 2,518")).to_be_visible()
        assert box.input_value() == "Who owns payroll?"
        box.fill("")
        for theme in ("light", "dark"):  # the system's preference...
            page.emulate_media(color_scheme=theme)
            page.wait_for_timeout(400)
            assert is_dark(page) == (theme == "dark")
            page.screenshot(path=str(ARTIFACTS / f"app-cto-desktop-{theme}.png"))
        page.get_by_test_id("stMainMenuButton").click()  # ...or the menu's toggle
        page.get_by_test_id("stMainMenuItem-theme-Light").click()
        page.wait_for_timeout(400)
        assert not is_dark(page), "the menu's choice wins over the system's dark preference"
    finally:
        context.close()


def is_dark(page) -> bool:
    rgb = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
    )
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) < 128


def test_a_phone_shows_an_answer_on_one_screen_with_sources_collapsed(shared_server, chromium):
    from playwright.sync_api import expect

    url, _ = shared_server
    for theme in ("light", "dark"):
        context = chromium.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
            color_scheme=theme,
        )  # fmt: skip
        try:
            page = context.new_page()
            sign_in(page, url, "ana@ledgerly.com", PASSWORD)
            assert is_dark(page) == (theme == "dark"), "the theme follows the system"
            answer = ask(page, SEPTEMBER)
            page.wait_for_timeout(500)
            answer.scroll_into_view_if_needed()
            height = answer.bounding_box()["height"]
            assert height <= 844, f"the answer takes {height:.0f} px on a 844 px screen"
            assert answer.locator("details[open]").count() == 0, "sources start collapsed"
            expect(answer.get_by_role("button", name="Show full answer")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"app-founder-phone-{theme}.png"))
            answer.get_by_role("button", name="Show full answer").click()
            assert answer.bounding_box()["height"] > height, "the whole answer, on request"
            page.get_by_test_id("stExpandSidebarButton").click()
            page.wait_for_timeout(600)
            page.screenshot(path=str(ARTIFACTS / f"app-founder-phone-sidebar-{theme}.png"))
        finally:
            context.close()
