"""The question-length limit the app shows (ADVISOR_MAX_QUESTION_CHARS) holds in the API too."""

from __future__ import annotations

from tests.api.conftest import bearer
from tests.api.test_rest import assert_problem

LIMIT = 2000  # the default


def test_a_question_over_the_limit_is_422_saying_the_limit(client, tokens):
    long = "Who carries the pager? " + "x" * LIMIT
    for stream in (False, True):
        r = client.post(
            "/v1/ask", json={"question": long, "stream": stream}, headers=bearer(tokens.cto)
        )
        assert_problem(r, 422, f"{len(long):,} characters", "2,000", "ADVISOR_MAX_QUESTION_CHARS")
    for stream in (False, True):
        r = client.post(
            "/v1/chat/completions",
            json={"model": "cto-advisor/acme", "stream": stream,
                  "messages": [{"role": "user", "content": long}]},
            headers=bearer(tokens.acme),
        )  # fmt: skip
        assert r.status_code == 422 and "2,000" in r.json()["detail"], r.text


def test_a_question_at_the_limit_is_answered(client, tokens):
    at_limit = ("How big should a pull request be? " * 100)[:LIMIT]
    r = client.post("/v1/ask", json={"question": at_limit}, headers=bearer(tokens.cto))
    assert r.status_code == 200, r.text
