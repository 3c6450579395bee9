"""`cto-advisor assess` and `cto-advisor checklist draft`: the practice health check of a client."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from advisor.core.errors import ConfigError
from interfaces.cli.base import (
    LOCAL,
    app,
    console,
    echo,
    err_console,
    settings_from_cli,
    write_json,
)

_STYLE = {"evidenced": "green", "partial": "yellow", "missing": "dim", "contradicted": "red"}
_FORMATS = (".md", ".docx", ".csv")

checklist_app = typer.Typer(help="The CTO's practice checklist used by `assess`.")
app.add_typer(checklist_app, name="checklist")


@app.command("assess")
def assess(
    client: Annotated[str, typer.Option("--client", "-c", help="The client to assess.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write report.md, report.docx or report.csv."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the assessment as JSON.")] = False,
    checklist: Annotated[
        Path | None,
        typer.Option("--checklist", help="Checklist YAML (default: ADVISOR_CHECKLIST)."),
    ] = None,
) -> None:
    """Check a client's documents against your practice checklist, with cited verdicts."""
    from advisor.service.facade import Advisor

    if out is not None and out.suffix.lower() not in _FORMATS:
        raise ConfigError(f"--out {out}: use a {', '.join(_FORMATS)} file name")
    result = Advisor(settings_from_cli(checklist=checklist)).assess(LOCAL, client)
    if result.warning:
        err_console.print(f"[yellow]warning:[/] {escape(result.warning)}", highlight=False)
    if as_json:
        write_json(result.to_json_dict())
    elif out is None:
        _print(result)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".docx":
            out.write_bytes(result.to_docx())
        else:
            out.write_text(result.to_csv() if suffix == ".csv" else result.to_markdown(), "utf-8")
        err_console.print(f"wrote {out} ({len(result.verdicts)} practices)", highlight=False)


def _print(result) -> None:
    table = Table(title=f"Practice assessment: {escape(result.client)}", show_lines=False)
    for column in ("area", "practice", "verdict", "sources", "reason"):
        table.add_column(column, overflow="fold")
    for v in result.verdicts:
        refs = ([f"[{v.playbook}]"] if v.playbook else []) + [f"[{m}]" for m in v.evidence]
        style = _STYLE[v.verdict]
        table.add_row(
            escape(v.area), escape(v.practice), f"[{style}]{v.verdict}[/]",
            escape(" ".join(refs)), escape(v.reason),
        )  # fmt: skip
    console.print(table)
    for c in result.conflicts:
        console.print(f"[yellow]conflict:[/] {escape(c.describe())}", highlight=False)
    sources = Table(title="Sources", show_lines=False)
    for column in ("n", "scope", "source", "where"):
        sources.add_column(column, overflow="fold")
    for c in result.citations:
        where = " > ".join(x for x in (c.title, c.section) if x)
        sources.add_row(str(c.n), c.scope, escape(c.source), escape(where))
    console.print(sources)


@checklist_app.command("draft")
def draft(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the YAML here (default: print).")
    ] = None,
) -> None:
    """Propose a checklist from the indexed playbooks' sections, for you to edit."""
    from advisor.service.facade import Advisor

    text = Advisor(settings_from_cli()).draft_checklist(LOCAL)
    if out is None:
        echo(text, nl=False)
        return
    if out.exists():
        raise ConfigError(f"{out} exists: choose another --out, or move it away first")
    out.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {out}: edit it, then point ADVISOR_CHECKLIST at it", highlight=False)
