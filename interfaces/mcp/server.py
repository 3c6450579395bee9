"""An MCP server over stdio (the official `mcp` SDK's MCPServer, formerly FastMCP).

Its tools run as the user of the API token in ADVISOR_API_TOKEN, so an assistant configured with a
founder's token sees that founder's client and the playbooks, nothing else. The token is resolved
again on every tool call: after `tokens revoke` or `users remove` the next call is refused, and
a role or client change applies at once. What a tool returns is made inert like every output
(`advisor.core.sanitize`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from advisor.core.errors import AdvisorError, ConfigError
from advisor.core.principal import Principal
from advisor.core.sanitize import clean_model
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.facade import Advisor
from advisor.service.sessions import sign_in_required

TOKEN_ENV = "ADVISOR_API_TOKEN"
INSTRUCTIONS = """CTO Advisor answers from a fractional CTO's client documents and playbooks,
citing each source as [n]. Use `list_clients` to find the client names, `ask` for an answer with
citations, `search_documents` for raw passages. Quote the citations when you use an answer."""


def principal_from_env(settings: Settings, environ: dict[str, str] | None = None) -> Principal:
    """The principal of ADVISOR_API_TOKEN; without one, the local CTO if no accounts exist."""
    token = (environ if environ is not None else os.environ).get(TOKEN_ENV, "").strip()
    accounts = AccountStore(settings)
    if token:
        return accounts.principal_for_token(token)
    # Accounts existing now, or ever here (a lost accounts.sqlite must not open MCP up either).
    if sign_in_required(settings, accounts):
        raise ConfigError(
            f"accounts exist, so the MCP server needs a token: set {TOKEN_ENV} to one from "
            "`cto-advisor tokens create EMAIL` in the MCP client's configuration"
        )
    return Principal.local()


def build_server(advisor: Advisor, principal: Principal | Callable[[], Principal]) -> MCPServer:
    """The MCP server whose every tool runs, through the facade, as `principal` (a callable is
    asked again on every call: that is how revocation reaches a running server)."""
    server = MCPServer("cto-advisor", instructions=INSTRUCTIONS)
    who = principal if callable(principal) else (lambda: principal)

    def _tool(call):
        """Runs `call(principal)`; domain errors become tool errors whose text says what to fix
        (the model reads it), and what comes back is made inert."""
        try:
            return clean_model(call(who()))
        except AdvisorError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def list_clients() -> list[str]:
        """The client names you may ask about (pass one as `client` to the other tools)."""
        return _tool(lambda principal: advisor.clients(principal))

    @server.tool()
    def list_documents(client: str | None = None) -> list[dict[str, Any]]:
        """The indexed documents you may see: the playbooks and (optionally one) client's."""

        def call(principal):
            scoped = advisor.scope(principal, client)[0] if client else None
            rows = advisor.documents(principal, scoped)
            return [{k: r.get(k) for k in ("source", "scope", "title", "chunks")} for r in rows]

        return _tool(call)

    @server.tool()
    def search_documents(query: str, client: str | None = None, k: int = 6) -> list[dict[str, Any]]:
        """The passages that best match `query`, from the playbooks and `client`'s documents."""

        def call(principal):
            found = advisor.retrieve(principal, query, client=client, k=max(1, min(k, 50)))
            keep = ("text", "source", "title", "section", "page", "slide", "scope", "score")
            return [p.model_dump(include=set(keep)) for p in found]

        return _tool(call)

    @server.tool()
    def ask(question: str, client: str | None = None) -> dict[str, Any]:
        """A cited answer to `question` for `client` (or an honest 'not in the documents')."""
        return _tool(
            lambda principal: advisor.ask(principal, question, client=client).to_json_dict()
        )

    return server


def serve(settings: Settings | None = None) -> None:
    """Run over stdio until the client disconnects (what `cto-advisor mcp` does)."""
    settings = settings or Settings()
    principal_from_env(settings)  # refuse to start with a bad token, before the client connects
    build_server(Advisor(settings), lambda: principal_from_env(settings)).run("stdio")
