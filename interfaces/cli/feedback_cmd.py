"""`cto-advisor feedback export`: thumbs-down answers from the app become eval cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interfaces.cli.base import LOCAL, app, echo, err_console, settings_from_cli

feedback_app = typer.Typer(
    help="Turn feedback given in the app (thumbs up/down, comments) into eval cases."
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def export(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the JSONL here (default: standard output)."),
    ] = None,
) -> None:
    """Write the thumbs-down answers as eval cases (eval dataset JSONL) to review and add."""
    from advisor.service.facade import Advisor

    settings = settings_from_cli()
    lines, written = Advisor(settings).export_feedback(LOCAL, out)
    if written is None:
        for line in lines:
            echo(line)
    if not lines:
        err_console.print(f"no thumbs-down feedback yet in {settings.data_dir / 'feedback.jsonl'}")
    elif written is not None:
        err_console.print(
            f"wrote {len(lines)} eval case(s) to {written}: fill in gold_sources and "
            "must_include (see each item's notes) before adding them to a dataset"
        )
