"""`ingest`, `status` and `reset`: filling, inspecting and emptying the index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from advisor.core.sanitize import one_line
from interfaces.cli.base import LOCAL, app, console, err_console, settings_from_cli, write_json

_STYLE = {
    "indexed": "green",
    "unchanged": "dim",
    "removed": "yellow",
    "skipped": "yellow",
    "failed": "red",
}
_MAX_ROWS = 40


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and/or folders to index.")],
    client: str | None = typer.Option(
        None,
        "--client",
        "-c",
        help="Index as this client's documents (letters, digits, - and _; case-insensitive). "
        "Without it they are playbooks, visible to every client.",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 if any file failed (the others are still indexed)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run's report as JSON."),
) -> None:
    """Index files and folders: parse, chunk, embed, store.

    Re-running skips unchanged files, replaces changed ones and drops deleted ones; a file that cannot be read is reported with a reason while the others are indexed.
    """
    from advisor.core.clients import client_name
    from advisor.service.facade import Advisor

    if client is not None:
        client = client_name(client)  # fail fast on a bad name, before opening anything
    advisor = Advisor(settings_from_cli())
    if as_json:
        report = advisor.ingest(LOCAL, paths, client=client)
        write_json(report.to_dict())
        raise typer.Exit(report.exit_code(strict))

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Ingesting", total=None, current="")

        def progress(done: int, total: int, source: str) -> None:
            bar.update(task, completed=done, total=total, current=source[-50:])

        report = advisor.ingest(LOCAL, paths, client=client, progress=progress)
    _print_summary(report)
    code = report.exit_code(strict)
    if code and report.nothing_indexed:
        err_console.print("nothing could be indexed: see the reasons above")
    elif code:
        err_console.print("some files failed (--strict): see the reasons above")
    raise typer.Exit(code)


def _print_summary(report) -> None:
    notable = [f for f in report.files if f.status != "unchanged"]
    if notable:
        table = Table(title="Files", show_lines=False, expand=False)
        table.add_column("status")
        table.add_column("source", overflow="fold")
        table.add_column("chunks", justify="right")
        table.add_column("reason", overflow="fold")
        order = {"failed": 0, "skipped": 1, "removed": 2, "indexed": 3}
        notable.sort(key=lambda f: (order.get(f.status, 9), f.scope, f.source))
        for f in notable[:_MAX_ROWS]:
            style = _STYLE[f.status]
            chunks = str(f.chunks) if f.status == "indexed" else ""
            table.add_row(
                f"[{style}]{f.status}[/]",
                escape(one_line(f.source)),
                chunks,
                escape(one_line(f.reason)),
            )
        if len(notable) > _MAX_ROWS:
            table.caption = f"... and {len(notable) - _MAX_ROWS} more"
        console.print(table)
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    counts = report.counts
    parts = [f"[{_STYLE[s]}]{n} {s}[/]" for s, n in counts.items()]
    console.print(
        ", ".join(parts)
        + f"; {report.chunks} chunks written in {report.seconds:.1f}s"
        + (f"; {report.recovered} interrupted file(s) recovered" if report.recovered else ""),
        highlight=False,
    )


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Show what is indexed: documents and chunks per client, the embedding model, the store."""
    from advisor.service.facade import Advisor

    info = Advisor(settings_from_cli()).status(LOCAL)  # reads the index; never loads the model
    if as_json:
        write_json(info)
        return
    summary = Table(show_header=False, box=None)
    summary.add_row("documents", str(info["documents"]))
    summary.add_row("chunks", str(info["chunks"]))
    summary.add_row("clients", ", ".join(info["clients"]) or "(none)")
    summary.add_row("embedding model", info["embedding_model"])
    summary.add_row("store", str(info.get("store", "")))
    summary.add_row("data directory", info["data_dir"])
    summary.add_row("answers go to", info["answers_go_to"])
    if info.get("dotenv"):
        summary.add_row(
            "settings from .env",
            f"[yellow]{escape(info['dotenv']['path'])} sets "
            f"{', '.join(info['dotenv']['settings'])}[/]",
        )
    console.print(summary)
    for warning in info.get("warnings") or []:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if info["sources"]:
        table = Table(title="Sources")
        table.add_column("scope")
        table.add_column("source", overflow="fold")
        table.add_column("chunks", justify="right")
        table.add_column("pages", justify="right")
        table.add_column("redacted", justify="right")
        for row in info["sources"]:
            pages = "" if row["pages"] is None else str(row["pages"])
            redacted = str(row.get("redactions") or "")
            table.add_row(
                row["scope"], escape(one_line(row["source"])), str(row["chunks"]), pages, redacted
            )
        console.print(table)
    else:
        console.print("The index is empty: add documents with `cto-advisor ingest PATH`.")


@app.command()
def reset(
    yes: bool = typer.Option(
        False, "--yes", help="Confirm: without it, reset only says what it would delete."
    ),
) -> None:
    """Delete the index, the ingest manifest and the caches derived from them.

    Your documents on disk are not touched; ingest them again afterwards.
    """
    from advisor.core.store import describe
    from advisor.service.facade import Advisor

    settings = settings_from_cli()
    if not yes:
        err_console.print(
            f"this deletes the index ({describe(settings)}), the manifest "
            f"({settings.manifest_path}) and the caches derived from them: re-run with "
            "`cto-advisor reset --yes` to confirm",
            highlight=False,
        )
        raise typer.Exit(1)
    where = Advisor(settings).reset(LOCAL)
    console.print(f"Deleted the index ({where}), the manifest and derived caches.", highlight=False)


@app.command()
def rebuild(
    yes: bool = typer.Option(False, "--yes", help="Confirm: without it, rebuild only explains."),
) -> None:
    """Rebuild a damaged index from your documents: the old index and manifest are kept beside
    (renamed), then every folder, file and repository indexed before is ingested again under
    its client."""
    from advisor.service.facade import Advisor

    settings = settings_from_cli()
    if not yes:
        err_console.print(
            f"this sets the index in {settings.data_dir.resolve()} aside (renamed, not deleted) "
            "and ingests again every folder and file it listed: re-run with "
            "`cto-advisor rebuild --yes` to confirm",
            highlight=False,
        )
        raise typer.Exit(1)
    from interfaces.cli.repo_cmd import print_repo_report

    done = Advisor(settings).rebuild(LOCAL)
    for line in done["kept"]:
        console.print(line, highlight=False)
    for report in done["reports"]:
        _print_summary(report)
    for report in done["repositories"]:
        print_repo_report(report)
    if done["missing"]:
        err_console.print(
            f"[yellow]not found any more, so not indexed:[/] {escape(', '.join(done['missing']))}",
            highlight=False,
        )
    console.print(f"Rebuilt the index from {done['from']}.", highlight=False)


@app.command()
def forget(
    client: str = typer.Option(..., "--client", "-c", help="The client whose data to remove."),
    yes: bool = typer.Option(False, "--yes", help="Confirm removing everything of the client."),
) -> None:
    """Remove every chunk, manifest row, cache, upload, feedback entry and chat of one client."""
    from advisor.core.clients import client_name
    from advisor.service.facade import Advisor

    client = client_name(client)
    settings = settings_from_cli()
    if not yes:
        err_console.print(
            f"this removes everything held about client {client!r} from "
            f"{settings.data_dir.resolve()} (their documents on disk are not touched): re-run "
            f"with `cto-advisor forget --client {client} --yes` to confirm",
            highlight=False,
        )
        raise typer.Exit(1)
    gone = Advisor(settings).forget(LOCAL, client)
    console.print(
        f"Forgot client {client!r}: {gone['chunks']} chunks from {gone['files']} files, "
        f"{gone['uploads']} uploads, {gone['feedback']} feedback entries, "
        f"{gone.get('repositories', 0)} repositories, {gone['chats']} chats.",
        highlight=False,
    )
