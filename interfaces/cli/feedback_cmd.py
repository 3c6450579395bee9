"""`cto-advisor feedback export`: thumbs-down answers from the app become eval cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor.service.feedback import write_eval_cases
from interfaces.cli.base import app, err_console, settings_from_cli

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
    settings = settings_from_cli()
    lines, written = write_eval_cases(settings, out)
    if written is None:
        for line in lines:
            typer.echo(line)
    if not lines:
        err_console.print(f"no thumbs-down feedback yet in {settings.data_dir / 'feedback.jsonl'}")
    elif written is not None:
        err_console.print(
            f"wrote {len(lines)} eval case(s) to {written}: fill in gold_sources and "
            "must_include (see each item's notes) before adding them to a dataset"
        )
