"""The app's own HTTP routes (interfaces/web/routes.py), attacked directly: the session cookie
can only be set once, from our own page, for a live session; a PDF link works for its session
only; and the copied text carries no terminal or bidi control characters."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.sessions import COOKIE_NAME, SessionStore
from interfaces.web import routes

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "data"))
    settings = Settings(data_dir=tmp_path / "data")
    AccountStore(settings).add_user("ana@acme.com", "founder", "acme", "a long password")
    client = TestClient(Starlette(routes=routes.routes()), base_url=BASE)
    return client, SessionStore(settings)


def test_a_handoff_code_sets_the_cookie_once_and_only_from_our_page(app):
    client, sessions = app
    session_id = sessions.start("ana@acme.com")
    code = routes.issue_handoff(session_id)
    assert client.post("/_advisor/session", json={"code": code}).status_code == 403  # no Origin
    evil = {"Origin": "https://evil.example"}
    assert client.post("/_advisor/session", json={"code": code}, headers=evil).status_code == 403
    r = client.post("/_advisor/session", json={"code": code}, headers=ORIGIN)
    assert r.status_code == 204
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert sessions.from_cookie(r.cookies[COOKIE_NAME]) == session_id
    again = client.post("/_advisor/session", json={"code": code}, headers=ORIGIN)
    assert again.status_code == 400, "a code works once"
    assert (
        client.post("/_advisor/session", json={"code": "guess"}, headers=ORIGIN).status_code == 400
    )

    ended = sessions.start("ana@acme.com")
    late = routes.issue_handoff(ended)
    sessions.end(ended)
    assert client.post("/_advisor/session", json={"code": late}, headers=ORIGIN).status_code == 400


def test_touch_renews_a_live_session_and_drops_an_ended_ones_cookie(app):
    client, sessions = app
    session_id = sessions.start("ana@acme.com")
    client.cookies.set(COOKIE_NAME, sessions.cookie_value(session_id))
    r = client.post("/_advisor/session/touch", headers=ORIGIN)
    assert r.status_code == 204 and "Max-Age=43" in r.headers["set-cookie"]  # ~43,200 s
    sessions.end(session_id)
    r = client.post("/_advisor/session/touch", headers=ORIGIN)
    assert r.status_code == 401 and "Max-Age=0" in r.headers["set-cookie"]
    client.cookies.set(COOKIE_NAME, "cts_" + "A" * 43)  # unsigned: not ours
    assert client.post("/_advisor/session/touch", headers=ORIGIN).status_code == 401
    assert client.delete("/_advisor/session").status_code == 403  # no sign-out from elsewhere


def test_a_pdf_link_opens_only_for_its_session(app, tmp_path):
    client, sessions = app
    pdf = tmp_path / "deck.pdf"
    pdf.write_bytes(b"%PDF-1.4 fake")

    class Service:  # stands in for the Advisor: the route must ask it, with the principal
        asked: list = []

        def download(self, principal, source, scope):
            self.asked.append((principal.user, source, scope))
            return pdf

    ana = Principal(user="ana@acme.com", role="founder", client="acme")
    session_id = sessions.start("ana@acme.com")
    url = routes.file_ticket(Service(), ana, "deck.pdf", "acme", session_id)
    assert client.get(url).status_code == 404, "no cookie: not this session"
    other = sessions.start("ana@acme.com")
    client.cookies.set(COOKIE_NAME, sessions.cookie_value(other))
    assert client.get(url).status_code == 404, "another session of the same user: no"
    client.cookies.set(COOKIE_NAME, sessions.cookie_value(session_id))
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert Service.asked == [("ana@acme.com", "deck.pdf", "acme")]
    sessions.end(session_id)
    assert client.get(url).status_code == 404, "the session ended: the link did too"
    assert client.get("/_advisor/file/made-up").status_code == 404


def test_the_copied_text_has_no_control_escape_or_bidi_characters():
    from advisor.core.models import Answer, Citation
    from interfaces.web.chat import copy_text

    answer = Answer(answer="Pay \x1b]52;c;ZXZpbA==\x07the vendor\u202e [1].\nNext line")
    citation = Citation(n=1, source="plan\u202egpj.md", title="Plan\x1b[31m", scope="acme")
    text = copy_text(answer, [citation])
    assert text == "Pay the vendor [1].\nNext line\n\nSources:\n" + (
        "[1] Plan (Client: acme, plangpj.md)"  # whole escape sequences go, not only their ESC
    )
