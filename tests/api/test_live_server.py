"""The REST API through a real uvicorn on loopback, as another tool would call it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.advisor.corpus import ACME_FACT
from tests.api.conftest import bearer


def test_events_stream_over_a_real_connection(live, tokens):
    events = []
    with (
        httpx.Client(base_url=live.url, timeout=120) as http,
        http.stream(
            "POST",
            "/v1/ask",
            json={"question": "Which pager does the on-call engineer carry?", "stream": True},
            headers=bearer(tokens.acme),
        ) as r,
    ):
        assert r.status_code == 200
        name = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    assert [n for n, _ in events][-2:] == ["citations", "done"]
    assert ACME_FACT in events[-1][1]["answer"]


def test_concurrent_callers_each_get_their_own_clients_answer(live, tokens):
    def ask(token: str) -> dict:
        r = httpx.post(
            live.url + "/v1/ask",
            json={"question": "Who is on call and how many engineers are in the rotation?"},
            headers=bearer(token),
            timeout=120,
        )
        return r.json()

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(ask, [tokens.acme, tokens.globex] * 3))
    for i, answer in enumerate(answers):
        own = "acme" if i % 2 == 0 else "globex"
        assert answer["client"] == own
        assert {c["scope"] for c in answer["citations"]} <= {own, "playbook"}


def test_the_openapi_document_is_served(live):
    doc = httpx.get(live.url + "/openapi.json").json()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/chat/completions" in doc["paths"]
