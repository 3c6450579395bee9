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


@app.command()
def audit(
    client: Annotated[str | None, typer.Option("--client", "-c", help="Only this client.")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only from this date on (YYYY-MM-DD, UTC).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the audit log (logins, questions and their sources, exports, uploads, changes)."""
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
