"""`cto-advisor memo "TOPIC"`: a cited recommendation memo as Markdown or DOCX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor.core.errors import ConfigError
from interfaces.cli.base import LOCAL, app, echo, err_console, settings_from_cli


@app.command("memo")
def memo(
    topic: Annotated[str, typer.Argument(help="What to recommend on, in plain words.")],
    client: Annotated[
        str | None,
        typer.Option("--client", "-c", help="Use this client's documents (and the playbooks)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write FILE.md or FILE.docx (default: print Markdown)."),
    ] = None,
) -> None:
    """Draft a recommendation memo with every claim cited.

    Sections: context, recommendation, options considered, risks, next steps. Written by the LLM when one is set, otherwise quoted from the sources.
    """
    if out is not None and out.suffix.lower() not in (".md", ".docx"):
        raise ConfigError(f"--out {out}: use a .md or .docx file name")
    from advisor.service.facade import Advisor

    advisor = Advisor(settings_from_cli())
    result = advisor.memo(LOCAL, topic, client=client)
    if result.warning:
        err_console.print(f"[yellow]warning:[/] {result.warning}", highlight=False)
    if out is None:
        echo(result.to_markdown(), nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".docx":
        out.write_bytes(result.to_docx())
    else:
        out.write_text(result.to_markdown(), encoding="utf-8")
    err_console.print(f"wrote {out} ({len(result.citations)} sources, {result.mode} mode)")
