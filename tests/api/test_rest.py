"""The REST API through FastAPI's TestClient: contracts, streaming, uploads, and errors that
say what to fix."""

from __future__ import annotations

import io
import json

import pytest

from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from advisor.service.feedback import FeedbackStore
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.api.conftest import add_accounts, bearer, copy_index

PAGER = "Which pager does our on-call engineer carry?"


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def assert_problem(response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    for word in words:
        assert word in problem["detail"]
    return problem


def test_healthz_needs_no_token(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ask_returns_a_cited_answer_with_an_id(client, tokens):
    r = client.post(
        "/v1/ask", json={"question": PAGER, "client": "acme"}, headers=bearer(tokens.cto)
    )
    body = r.json()
    assert r.status_code == 200 and set(body) == {
        "id", "answer", "abstained", "mode", "client", "citations", "conflicts", "stale"
    }  # fmt: skip
    assert ACME_FACT in body["answer"] and body["client"] == "acme" and len(body["id"]) == 32
    assert (
        body["citations"][0]["source"] == "on-call.md" and body["citations"][0]["scope"] == "acme"
    )


def test_ask_streams_deltas_then_citations_then_done(client, tokens):
    r = client.post(
        "/v1/ask",
        json={"question": PAGER, "client": "acme", "stream": True},
        headers=bearer(tokens.acme),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"delta"}
    text = "".join(data["text"] for name, data in events if name == "delta")
    done = events[-1][1]
    assert text == done["answer"] and ACME_FACT in text
    assert events[-2][1]["citations"] == done["citations"] != []


def test_a_follow_up_uses_the_conversation(client, tokens):
    conversation = [
        {"role": "user", "content": "How does Globex deploy?"},
        {"role": "assistant", "content": f"Through the {GLOBEX_FACT} pipeline, on Tuesdays."},
    ]
    r = client.post(
        "/v1/ask",
        json={"question": "Who approves it?", "client": "globex", "conversation": conversation},
        headers=bearer(tokens.globex),
    )
    assert r.status_code == 200
    assert "head of engineering" in r.json()["answer"]


def test_search_returns_passages_only(client, tokens):
    r = client.post(
        "/v1/search", json={"query": "deploy days", "client": "globex", "k": 3},
        headers=bearer(tokens.cto),
    )  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and set(body) == {"client", "passages"}
    assert 1 <= len(body["passages"]) <= 3
    assert body["passages"][0]["source"] == "release.md"
    assert {p["scope"] for p in body["passages"]} <= {"globex", "playbook"}


def test_a_memo_comes_as_markdown_or_docx(client, tokens):
    md = client.post(
        "/v1/memos", json={"topic": "on-call rotation size", "client": "acme"},
        headers=bearer(tokens.acme),
    )  # fmt: skip
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Recommendation memo") and "## Sources" in md.text
    assert 'filename="memo-on-call-rotation-size.md"' in md.headers["content-disposition"]
    docx = client.post(
        "/v1/memos",
        json={"topic": "on-call rotation size", "client": "acme", "format": "docx"},
        headers=bearer(tokens.acme),
    )
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "Recommendation memo: On-call rotation size" in text and ACME_FACT in text


def test_clients_status_and_documents_follow_the_token(client, tokens):
    assert client.get("/v1/clients", headers=bearer(tokens.cto)).json() == {
        "clients": ["acme", "globex"]
    }
    status = client.get("/v1/status", headers=bearer(tokens.cto)).json()
    assert status["clients"] == ["acme", "globex"] and status["data_dir"]
    founder = client.get("/v1/status", headers=bearer(tokens.acme)).json()
    assert founder["clients"] == ["acme"] and founder["data_dir"] == "" == founder["store"]
    docs = client.get("/v1/documents", params={"client": "acme"}, headers=bearer(tokens.cto))
    assert {d["scope"] for d in docs.json()["documents"]} == {"acme", "playbook"}


def test_feedback_is_kept_under_the_callers_client(client, tokens, api_data):
    asked = client.post(
        "/v1/ask", json={"question": "How do we deploy?"}, headers=bearer(tokens.globex)
    )
    answer_id = asked.json()["id"]
    body = {"answer_id": answer_id, "rating": "down", "comment": "missed release.md",
            "question": "How do we deploy?", "sources": ["release.md"]}  # fmt: skip
    r = client.post("/v1/feedback", json=body, headers=bearer(tokens.globex))
    assert r.status_code == 201 and r.json() == {
        "answer_id": answer_id,
        "rating": "down",
        "client": "globex",
    }
    stored = FeedbackStore(api_data[0]).latest()[("gus@globex.example", answer_id)]
    assert stored.client == "globex" and stored.comment == "missed release.md"
    # Another user who learns the id can neither rate nor overwrite it (issue 22, item 6).
    for token in (tokens.acme, tokens.cto):
        other = client.post("/v1/feedback", json=body | {"rating": "up"}, headers=bearer(token))
        assert other.status_code == 404, other.text
    assert FeedbackStore(api_data[0]).latest()[("gus@globex.example", answer_id)].rating == "down"


# -- errors -----------------------------------------------------------------------------------


def test_no_token_is_401_with_the_fix(client):
    r = client.get("/v1/clients")
    assert_problem(r, 401, "tokens create")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_or_revoked_token_is_401(client, api_data):
    from advisor.service.accounts import AccountStore

    store = AccountStore(api_data[0])
    token = store.create_token("ana@acme.example", "to-revoke")
    assert client.get("/v1/clients", headers=bearer(token)).status_code == 200
    store.revoke_token(next(t.id for t in store.list_tokens() if t.name == "to-revoke"))
    assert_problem(client.get("/v1/clients", headers=bearer(token)), 401, "revoked")
    assert_problem(client.get("/v1/clients", headers=bearer("cta_made-up")), 401, "unknown")


def test_invalid_input_names_the_field(client, tokens):
    problem = assert_problem(
        client.post("/v1/ask", json={"question": "   "}, headers=bearer(tokens.cto)),
        422,
        "question",
    )
    assert problem["errors"] == [
        {"loc": "body.question", "msg": "must contain some text, not only spaces"}
    ]
    assert_problem(
        client.post("/v1/ask", json={"question": "x", "tone": "rude"}, headers=bearer(tokens.cto)),
        422,
        "tone",
    )


def test_an_unknown_client_is_404_listing_the_known_ones(client, tokens):
    r = client.post(
        "/v1/ask", json={"question": PAGER, "client": "initech"}, headers=bearer(tokens.cto)
    )
    assert_problem(r, 404, "initech", "acme, globex")


def test_a_bad_client_name_is_422_with_the_rule(client, tokens):
    r = client.post(
        "/v1/search", json={"query": "x", "client": "../etc"}, headers=bearer(tokens.cto)
    )
    problem = assert_problem(r, 422, "body.client", "letters, digits")
    assert problem["errors"][0]["loc"] == "body.client"
    r = client.get("/v1/documents", params={"client": "a b"}, headers=bearer(tokens.cto))
    assert_problem(r, 422, "query.client", "letters, digits")


def test_an_unknown_route_or_method_is_a_problem_document(client):
    assert_problem(client.get("/v1/nothing-here"), 404, "/openapi.json")
    assert_problem(client.get("/v1/ask"), 405, "GET")


def test_a_body_over_the_limit_is_413_and_nothing_is_read(client, tokens):
    huge = json.dumps({"question": "x" * 300_000}).encode()
    r = client.post(
        "/v1/ask", content=huge, headers=bearer(tokens.cto) | {"content-type": "application/json"}
    )
    assert_problem(r, 413, "ADVISOR_API_MAX_BODY_KB")


def _app(advisor, **api):
    from fastapi.testclient import TestClient

    from interfaces.api.app import create_app
    from interfaces.api.config import ApiSettings

    return TestClient(create_app(advisor=advisor, api=ApiSettings(**api)))


def test_the_rate_limit_is_per_token_and_says_when_to_retry(advisor, tokens):
    with _app(advisor, rate_limit=3) as limited:
        codes = [
            limited.get("/v1/clients", headers=bearer(tokens.acme)).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        r = limited.get("/v1/clients", headers=bearer(tokens.acme))
        assert_problem(r, 429, "ADVISOR_API_RATE_LIMIT")
        assert int(r.headers["retry-after"]) >= 1
        # Another token has its own budget.
        assert limited.get("/v1/clients", headers=bearer(tokens.globex)).status_code == 200


def test_a_request_over_the_timeout_is_504(advisor, tokens):
    with _app(advisor, timeout=0.001) as hurried:
        r = hurried.post(
            "/v1/ask", json={"question": PAGER, "client": "acme"}, headers=bearer(tokens.cto)
        )
        assert_problem(r, 504, "ADVISOR_API_TIMEOUT")


# -- uploads (each test gets its own index copy: uploads change it) ---------------------------


@pytest.fixture
def upload_api(two_clients_index, tmp_path, embeddings):
    from fastapi.testclient import TestClient

    from interfaces.api.app import create_app
    from interfaces.api.config import ApiSettings

    settings = Settings(data_dir=copy_index(two_clients_index, tmp_path / "data"))
    tokens = add_accounts(settings)
    advisor = Advisor(settings, embeddings=embeddings)
    with TestClient(create_app(advisor=advisor, api=ApiSettings(max_upload_mb=1))) as c:
        yield c, tokens, advisor


NOTE = (
    b"# Incident review\n\nAcme's incident reviews happen every Thursday in the Lighthouse room.\n"
)


def test_a_founder_uploads_into_their_own_client_with_a_result_per_file(upload_api):
    client, tokens, advisor = upload_api
    r = client.post(
        "/v1/documents",
        files=[("files", ("incidents.md", NOTE, "text/markdown")),
               ("files", ("run.exe", b"MZ", "application/octet-stream")),
               ("files", ("../../globex/evil.md", NOTE, "text/markdown"))],
        headers=bearer(tokens.acme),
    )  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["client"] == "acme"
    assert [(x["name"], x["status"]) for x in body["results"]] == [
        ("incidents.md", "indexed"), ("run.exe", "refused"), ("../../globex/evil.md", "refused")
    ]  # fmt: skip
    assert "unsupported file type" in body["results"][1]["reason"]
    assert "path" in body["results"][2]["reason"]
    assert {r["scope"] for r in advisor.store.source_stats() if r["source"] == "evil.md"} == set()
    answer = client.post(
        "/v1/ask", json={"question": "When are incident reviews?"}, headers=bearer(tokens.acme)
    ).json()
    assert "Lighthouse" in answer["answer"]


def test_a_founder_cannot_upload_to_another_client_or_the_playbooks(upload_api):
    client, tokens, advisor = upload_api
    before = advisor.store.source_stats()
    r = client.post(
        "/v1/documents",
        data={"client": "globex"},
        files=[("files", ("incidents.md", NOTE, "text/markdown"))],
        headers=bearer(tokens.acme),
    )
    assert_problem(r, 403, "acme")
    assert advisor.store.source_stats() == before


def test_an_upload_over_the_limit_is_413(upload_api):
    client, tokens, _ = upload_api
    big = b"word " * (300 * 1024)  # 1.5 MB, over the 1 MB set for this app
    r = client.post(
        "/v1/documents", files=[("files", ("big.md", big, "text/markdown"))],
        headers=bearer(tokens.cto),
    )  # fmt: skip
    assert_problem(r, 413, "ADVISOR_API_MAX_UPLOAD_MB")
