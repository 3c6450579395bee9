"""The two flagship questions of a Haulwise founder, asked in the real app in Chromium: the answer
leads with Haulwise's own plan and says the first-five-hires rules do not apply; the decision is
answered with both options side by side, citing the postmortem and the on-call playbook, and its
follow-up carries the topic. Screenshots are kept as artifacts/advice-*.png."""

from __future__ import annotations

import re

import pytest

from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from tests.browser.streamlit_server import streamlit_app
from tests.browser.test_accounts_browser import ask, sign_in
from tests.browser.test_chat_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sample_index  # noqa: F401

pytestmark = pytest.mark.browser

FOUNDER = "sam@haulwise.com"
PASSWORD = "haulwise founder 1"


@pytest.fixture(scope="module")
def haulwise_server(sample_index, tmp_path_factory):  # noqa: F811
    AccountStore(Settings(data_dir=sample_index)).add_user(FOUNDER, "founder", "haulwise", PASSWORD)
    cwd = tmp_path_factory.mktemp("advice-cwd")
    with streamlit_app(sample_index, cwd, "advice-streamlit.log") as url:
        yield url


def shoot(answer, name: str) -> None:
    """The answer's text as the founder sees it (the sources list below it is left out)."""
    text = answer.get_by_test_id("stMarkdownContainer").first
    text.scroll_into_view_if_needed()
    text.screenshot(path=str(ARTIFACTS / name))


def test_the_haulwise_founder_gets_advice_not_quotes(haulwise_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1700})
            sign_in(page, haulwise_server, FOUNDER, PASSWORD)

            hires = ask(page, "Who should our next two engineering hires be?")
            text = hires.inner_text()
            shoot(hires, "advice-next-two-hires.png")
            assert text.index("Haulwise today") < text.index("What the playbooks advise")
            assert text.index("Two senior engineers for the Dispatch team") < text.index(
                "Not for Haulwise as written"
            )
            assert "the first five hires" in text and "40 people in engineering" in text
            assert "No pure specialists before hire number four" not in text

            decision = ask(page, "Should we hire an SRE or invest in on-call first?")
            text = decision.inner_text()
            shoot(decision, "advice-sre-or-on-call.png")
            assert "I won't guess" not in text and "The options side by side" in text
            assert "Hire an SRE" in text and "Invest in on-call first" in text
            assert "Dispatch Outage, 22 July 2026" in text  # a source card's title line
            assert "Incident Response and On-Call" in text  # the playbook's card
            sre = decision.get_by_role("row").filter(has_text="Hire an SRE").inner_text()
            assert "No document mentions" in sre and not re.search(r"\[\d+\]", sre), (
                "no passage is about an SRE: the hiring lines retrieved for it are not quoted"
            )

            follow_up = ask(page, "How long would that take?")
            text = follow_up.inner_text()
            shoot(follow_up, "advice-follow-up.png")
            assert "I won't guess" not in text and "Hire an SRE" in text
        finally:
            browser.close()
