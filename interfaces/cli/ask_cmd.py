"""`cto-advisor ask`: a streamed, cited answer in the terminal, or one JSON object."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from interfaces.cli.base import LOCAL, app, console, err_console, settings_from_cli, write_json


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in plain words."),
    client: str = typer.Option(
        None,
        "--client",
        "-c",
        help="Answer from this client's documents plus the playbooks (default: playbooks only).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (answer, mode, citations) instead of text."
    ),
    offline: bool = typer.Option(
        False, "--offline", help="Ignore a configured LLM for this answer."
    ),
) -> None:
    """Answer QUESTION with numbered sources, or say the documents don't cover it.

    Uses the LLM at OPENAI_BASE_URL when one is set, otherwise quotes the best passages offline.
    """
    from advisor.service.facade import Advisor

    settings = settings_from_cli(mode="offline" if offline else None)
    advisor = Advisor(settings)
    stream = advisor.ask_stream(LOCAL, question, client=client)
    if as_json:
        answer = stream.result()
        if answer.warning:
            err_console.print(f"warning: {answer.warning}", highlight=False)
        write_json(answer.to_json_dict())
        return

    for piece in stream:
        console.out(piece, end="", highlight=False)
        console.file.flush()
    answer = stream.answer
    console.out("")
    if answer.warning:
        err_console.print(f"[yellow]warning:[/] {escape(answer.warning)}", highlight=False)
    if not answer.citations:
        return
    table = Table(title="Sources", show_lines=False, title_justify="left")
    for column in ("n", "scope", "source", "where", "age", "score"):
        table.add_column(column)
    for c in answer.citations:
        where = " > ".join(x for x in (c.title, c.section) if x)
        if c.page:
            where += f", p. {c.page}"
        if c.slide:
            where += f", slide {c.slide}"
        age = c.age_days()
        table.add_row(
            str(c.n), c.scope, escape(c.source), escape(where),
            "" if age is None else f"{age} d", f"{c.score:.3f}",
        )  # fmt: skip
    console.print(table)
