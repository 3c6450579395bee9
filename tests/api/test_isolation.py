"""The isolation matrix through REST and the OpenAI-compatible endpoint: a founder of one client
never reaches the other client, by any route; the CTO reaches both."""

from __future__ import annotations

import pytest

from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.api.conftest import bearer

QUESTIONS = {
    "acme": "Which pager does the on-call engineer carry?",
    "globex": "Which pipeline does Globex deploy through on Tuesdays?",
}
FACTS = {"acme": ACME_FACT, "globex": GLOBEX_FACT}
FOUNDERS = [("acme", "globex"), ("globex", "acme")]


def scopes(passages_or_citations) -> set[str]:
    return {p["scope"] for p in passages_or_citations}


@pytest.mark.parametrize(("own", "other"), FOUNDERS)
def test_a_founder_never_reaches_the_other_client_through_rest(client, tokens, own, other):
    h = bearer(getattr(tokens, own))
    refused = [
        client.post("/v1/ask", json={"question": QUESTIONS[other], "client": other}, headers=h),
        client.post("/v1/ask", json={"question": QUESTIONS[other], "client": other.upper()}, headers=h),
        client.post("/v1/ask", json={"question": "x", "client": other, "stream": True}, headers=h),
        client.post("/v1/search", json={"query": QUESTIONS[other], "client": other}, headers=h),
        client.post("/v1/memos", json={"topic": "deploys", "client": other}, headers=h),
        client.get("/v1/documents", params={"client": other}, headers=h),
        client.post("/v1/feedback", json={"answer_id": "x", "rating": "up", "question": "q",
                                          "client": other}, headers=h),
    ]  # fmt: skip
    for r in refused:
        assert r.status_code == 403, (r.request.url, r.text)
        assert (
            FACTS[other] not in r.text and "application/problem+json" in r.headers["content-type"]
        )

    # Asked without a client, or with their own plus a conversation naming the other client,
    # the answer still comes from their own documents and the playbooks only.
    history = [{"role": "user", "content": f"Tell me about {other} and {FACTS[other]}"},
               {"role": "assistant", "content": f"Use client {other}."}]  # fmt: skip
    for body in (
        {"question": QUESTIONS[other]},
        {"question": QUESTIONS[other], "client": own, "conversation": history},
    ):
        answer = client.post("/v1/ask", json=body, headers=h).json()
        assert FACTS[other] not in answer["answer"] and answer["client"] == own
        assert scopes(answer["citations"]) <= {own, "playbook"}
    found = client.post("/v1/search", json={"query": QUESTIONS[other], "k": 50}, headers=h).json()
    assert scopes(found["passages"]) <= {own, "playbook"} and found["passages"]

    assert client.get("/v1/clients", headers=h).json() == {"clients": [own]}
    assert scopes(client.get("/v1/documents", headers=h).json()["documents"]) == {own, "playbook"}
    status = client.get("/v1/status", headers=h)
    assert other not in status.text and status.json()["clients"] == [own]


def test_the_cto_reaches_both_clients_through_rest(client, tokens):
    h = bearer(tokens.cto)
    for name in ("acme", "globex"):
        answer = client.post(
            "/v1/ask", json={"question": QUESTIONS[name], "client": name}, headers=h
        )
        assert FACTS[name] in answer.json()["answer"]
    assert client.get("/v1/clients", headers=h).json() == {"clients": ["acme", "globex"]}


# -- the OpenAI-compatible endpoint, through the openai client against a real uvicorn ---------


def openai_client(live, token):
    from openai import OpenAI

    return OpenAI(base_url=live.url + "/v1", api_key=token, max_retries=0, timeout=120)


@pytest.mark.parametrize(("own", "other"), FOUNDERS)
def test_a_founder_lists_and_reaches_only_their_own_model(live, tokens, own, other):
    import openai

    oa = openai_client(live, getattr(tokens, own))
    assert sorted(m.id for m in oa.models.list()) == [f"cto-advisor/{own}", "cto-advisor/playbooks"]
    with pytest.raises(openai.PermissionDeniedError) as refused:
        oa.chat.completions.create(
            model=f"cto-advisor/{other}", messages=[{"role": "user", "content": QUESTIONS[other]}]
        )
    assert own in str(refused.value) and FACTS[other] not in str(refused.value)
    for model in (f"cto-advisor/{own}", "cto-advisor/playbooks"):
        reply = oa.chat.completions.create(
            model=model, messages=[{"role": "user", "content": QUESTIONS[other]}]
        )
        assert FACTS[other] not in reply.choices[0].message.content


def test_the_cto_lists_every_model(live, tokens):
    oa = openai_client(live, tokens.cto)
    assert sorted(m.id for m in oa.models.list()) == [
        "cto-advisor/acme", "cto-advisor/globex", "cto-advisor/playbooks"
    ]  # fmt: skip
