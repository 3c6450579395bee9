"""Revocation reaches a running `cto-advisor mcp` (issue 22, item 5): over stdio, in one session,
the next tool call after `tokens revoke` or `users remove` (real CLI processes) is refused."""

from __future__ import annotations

import os
import subprocess

import anyio
import pytest
from mcp import Client

from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from tests.api.conftest import add_accounts, copy_index
from tests.mcp.test_mcp_server import data, params
from tests.processes import CLI


def cli(*args: str, settings: Settings) -> None:
    env = os.environ | {"ADVISOR_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


async def calls_around(server, change) -> tuple:
    async with Client(server, read_timeout_seconds=300) as client:
        before = await client.call_tool("list_clients", {})
        await anyio.to_thread.run_sync(change)
        after = await client.call_tool("list_clients", {})
    return before, after


@pytest.mark.slow
def test_a_revoked_token_and_a_removed_user_are_refused_on_the_next_call(
    two_clients_index, tmp_path
):
    settings = Settings(data_dir=copy_index(two_clients_index, tmp_path / "d"))
    tokens = add_accounts(settings)
    token_id = next(t.id for t in AccountStore(settings).list_tokens("ana@acme.example"))

    def revoke() -> None:
        cli("tokens", "revoke", token_id, settings=settings)

    before, after = anyio.run(calls_around, params(settings, tokens.acme), revoke)
    assert data(before) == ["acme"] and not before.is_error
    assert after.is_error and "revoked" in after.content[0].text

    def remove() -> None:
        cli("users", "remove", "gus@globex.example", "--yes", settings=settings)

    before, after = anyio.run(calls_around, params(settings, tokens.globex), remove)
    assert data(before) == ["globex"]
    assert after.is_error and "unknown or revoked" in after.content[0].text
