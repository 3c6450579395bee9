"""`cto-advisor mcp` through the MCP SDK's own client over stdio: the tools run as the user of
the token in ADVISOR_API_TOKEN, and a founder's tools never reach the other client."""

from __future__ import annotations

import json
import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

from advisor.core.settings import Settings
from interfaces.mcp.server import principal_from_env
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.api.conftest import add_accounts, copy_index

FACTS = {"acme": ACME_FACT, "globex": GLOBEX_FACT}
QUESTIONS = {
    "acme": "Which pager does the on-call engineer carry?",
    "globex": "Which pipeline does Globex deploy through on Tuesdays?",
}


@pytest.fixture(scope="module")
def mcp_data(two_clients_index, tmp_path_factory):
    settings = Settings(
        data_dir=copy_index(two_clients_index, tmp_path_factory.mktemp("mcp") / "d")
    )
    return settings, add_accounts(settings)


def params(settings: Settings, token: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-c", "from interfaces.cli import main; main()", "mcp"],
        env={
            "ADVISOR_DATA_DIR": str(settings.data_dir),
            "ADVISOR_API_TOKEN": token,
            "PYTHONPATH": os.environ.get("PYTHONPATH", os.getcwd()),
            "HF_HUB_OFFLINE": "1",
        },
    )


def data(result):
    """A tool result's value: structured content when present, else its text as JSON."""
    if result.structured_content is not None:
        value = result.structured_content
        return value.get("result", value) if isinstance(value, dict) else value
    return json.loads(result.content[0].text)


async def session(server, calls):
    out = []
    async with Client(server, read_timeout_seconds=300) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        for name, args in calls:
            out.append(await client.call_tool(name, args))
    return tools, out


def in_process(settings: Settings, embeddings, token: str):
    """The same server, reached by the same SDK client in process (no model load per test)."""
    from advisor.service.facade import Advisor
    from interfaces.mcp.server import build_server

    principal = principal_from_env(settings, {"ADVISOR_API_TOKEN": token})
    return build_server(Advisor(settings, embeddings=embeddings), principal)


def founder_matrix(server_for, own: str, other: str) -> None:
    calls = [
        ("list_clients", {}),
        ("list_documents", {}),
        ("ask", {"question": QUESTIONS[own]}),
        ("ask", {"question": QUESTIONS[other]}),
        ("search_documents", {"query": QUESTIONS[other], "k": 50}),
        ("ask", {"question": QUESTIONS[other], "client": other}),
        ("search_documents", {"query": QUESTIONS[other], "client": other}),
        ("list_documents", {"client": other}),
    ]
    tools, results = anyio.run(session, server_for(own), calls)
    assert tools == ["ask", "list_clients", "list_documents", "search_documents"]
    clients, docs, mine, theirs, found, *refused = results
    assert data(clients) == [own]
    assert {d["scope"] for d in data(docs)} == {own, "playbook"}
    assert FACTS[own] in data(mine)["answer"]
    assert FACTS[other] not in data(theirs)["answer"]
    assert {p["scope"] for p in data(found)} <= {own, "playbook"}
    for result in refused:
        assert result.is_error and f"may only use client {own!r}" in result.content[0].text
        assert FACTS[other] not in result.content[0].text


@pytest.mark.slow
def test_over_stdio_a_founders_tools_see_only_their_client(mcp_data):
    """`cto-advisor mcp` as an MCP client launches it: a subprocess speaking over stdio."""
    settings, tokens = mcp_data
    founder_matrix(lambda own: params(settings, getattr(tokens, own)), "acme", "globex")


@pytest.mark.parametrize(("own", "other"), [("acme", "globex"), ("globex", "acme")])
def test_a_founders_tools_see_only_their_client(mcp_data, embeddings, own, other):
    settings, tokens = mcp_data
    founder_matrix(lambda o: in_process(settings, embeddings, getattr(tokens, o)), own, other)


def test_the_ctos_tools_see_every_client(mcp_data, embeddings):
    settings, tokens = mcp_data
    calls = [("list_clients", {}), ("ask", {"question": QUESTIONS["globex"], "client": "globex"})]
    server = in_process(settings, embeddings, tokens.cto)
    _, (clients, answer) = anyio.run(session, server, calls)
    assert data(clients) == ["acme", "globex"]
    assert GLOBEX_FACT in data(answer)["answer"] and data(answer)["citations"]


def test_without_a_token_the_server_refuses_once_accounts_exist(mcp_data, tmp_path):
    settings, tokens = mcp_data
    from advisor.core.errors import AccessError, ConfigError

    with pytest.raises(ConfigError, match="ADVISOR_API_TOKEN"):
        principal_from_env(settings, {})
    with pytest.raises(AccessError):
        principal_from_env(settings, {"ADVISOR_API_TOKEN": "cta_wrong"})
    assert principal_from_env(settings, {"ADVISOR_API_TOKEN": tokens.acme}).client == "acme"
    # Single-user mode: no accounts at all, the local CTO (as the CLI acts).
    assert principal_from_env(Settings(data_dir=tmp_path / "empty"), {}).is_cto
