"""`cto-advisor audit`: who signed in, asked, exported, uploaded or changed what."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from advisor.core.errors import InputError
from advisor.service.audit import AuditLog, as_json_lines
from interfaces.cli.base import app, console, echo, err_console, settings_from_cli


def _summary(detail: dict) -> str:
    parts = []
    for key, value in detail.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        parts.append(f"{key}={value}")
    return "; ".join(parts)


audit_app = typer.Typer(
    help="The audit log: who signed in, asked, exported, uploaded or changed what.",
    invoke_without_command=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.callback()
def audit(
    ctx: typer.Context,
    client: Annotated[str | None, typer.Option("--client", "-c", help="Only this client.")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only from this date on (YYYY-MM-DD, UTC).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the audit log (logins, questions and their sources, exports, uploads, changes)."""
    if ctx.invoked_subcommand is not None:
        return
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).date()
        except ValueError:
            raise InputError(f"--since {since!r} is not a date: use YYYY-MM-DD") from None
    log = AuditLog(settings_from_cli())
    events = log.events(client=client, user=user, since=start)
    if as_json:
        for line in as_json_lines(events):
            echo(line)
        return
    if not events:
        err_console.print(f"no audit events match in {log.path}")
        return
    table = Table(title=f"Audit ({len(events)} events)", title_justify="left")
    for column in ("when (UTC)", "user", "role", "event", "client", "detail"):
        table.add_column(column)
    for e in events:
        table.add_row(
            e.when,
            escape(e.user),
            e.role or "",
            e.event,
            escape(e.client or ""),
            escape(_summary(e.detail)),
        )
    console.print(table)


@audit_app.command("verify")
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(help="A head hash noted earlier: it must still be in the log."),
    ] = None,
) -> None:
    """Check that no event was changed, removed, inserted or reordered (the hash chain).

    Prints the head hash: note it somewhere else, and a later `verify --expect-head HASH` also
    detects events cut from the end.
    """
    log = AuditLog(settings_from_cli())
    count, problems = log.verify()
    if expect_head and expect_head not in {e.hash for e in log.events()}:
        problems.append(f"the head {expect_head[:16]}... noted earlier is no longer in the log")
    for problem in problems:
        err_console.print(f"[red]tampered:[/] {escape(problem)}", highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{count} events, chain intact; head {log.head()}", highlight=False)
