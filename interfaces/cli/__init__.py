"""`cto-advisor`: one console script, subcommands grouped by what they act on."""

from __future__ import annotations

import sys

from advisor.core.errors import AdvisorError
from interfaces.cli.base import app, err_console


def _register() -> None:
    # Each module adds its commands to `app` on import.
    from interfaces.cli import ask_cmd, ingest_cmd, serve_cmd, tokens_cmd  # noqa: F401

    for optional in (
        "eval_cmd",
        "feedback_cmd",
        "memo_cmd",
        "assess_cmd",
        "users_cmd",
        "audit_cmd",
        "repo_cmd",
    ):
        try:
            __import__(f"interfaces.cli.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"interfaces.cli.{optional}":
                raise


def main() -> None:
    """Entry point: domain errors become one readable line and exit code 2."""
    _register()
    try:
        app()
    except AdvisorError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing half-written is kept; re-run to finish")
        sys.exit(130)
