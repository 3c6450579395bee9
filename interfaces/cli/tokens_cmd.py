"""`cto-advisor tokens create|list|revoke`: API tokens for the REST, OpenAI-compatible and MCP
interfaces. A token acts as its user (role and client); only its hash is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from advisor.service.accounts import AccountStore
from interfaces.cli.base import app, console, err_console, settings_from_cli

tokens_app = typer.Typer(help="API tokens (each acts as one user, with that user's access).")
app.add_typer(tokens_app, name="tokens")


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "never"


@tokens_app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[
        str, typer.Option("--name", "-n", help="What the token is for (e.g. slack-bot).")
    ] = "default",
) -> None:
    """Create a token for EMAIL and print it once: it cannot be shown again."""
    store = AccountStore(settings_from_cli())
    token = store.create_token(email, name)
    typer.echo(token)
    err_console.print(
        f"token {name!r} for {email}: copy it now, it is not stored and cannot be shown again "
        "(use it as `Authorization: Bearer <token>`, or ADVISOR_API_TOKEN for `cto-advisor mcp`)",
        highlight=False,
    )


@tokens_app.command("list")
def list_(
    email: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
) -> None:
    """List tokens (never their secret): id, user, name, created, last used, revoked."""
    rows = AccountStore(settings_from_cli()).list_tokens(email)
    if not rows:
        err_console.print("no tokens yet: create one with `cto-advisor tokens create EMAIL`")
        return
    table = Table(title="API tokens", title_justify="left")
    for column in ("id", "user", "name", "created", "last used", "state"):
        table.add_column(column)
    for t in rows:
        state = "revoked" if t.revoked else "active"
        table.add_row(t.id, t.email, t.name, _when(t.created_at), _when(t.last_used), state)
    console.print(table)


@tokens_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="The id shown by `tokens list`.")]) -> None:
    """Revoke a token: the next request made with it is refused."""
    AccountStore(settings_from_cli()).revoke_token(token_id)
    err_console.print(f"revoked token {token_id}")
