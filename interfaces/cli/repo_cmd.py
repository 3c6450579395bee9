"""`ingest-repo` and `repos`: a client's code repositories as a source."""

from __future__ import annotations

import time

import typer
from rich.markup import escape
from rich.table import Table

from interfaces.cli.base import LOCAL, app, console, settings_from_cli, write_json


@app.command("ingest-repo")
def ingest_repo(
    location: str = typer.Argument(
        ...,
        help="A local git repository, or a clone URL (file://, https://, ssh://, git@host:path).",
    ),
    client: str = typer.Option(..., "--client", "-c", help="The client the repository belongs to."),
    branch: str | None = typer.Option(
        None, "--branch", "-b", help="Branch to read (default: the repository's default branch)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run's report as JSON."),
) -> None:
    """Index a client's code repository: its documentation, stack, who knows what, how they ship.

    The repository is mirrored into the client's area of the data directory (a URL is cloned,
    a local repository is never written to). Re-running reads only new commits.
    """
    from advisor.core.clients import client_name
    from advisor.service.facade import Advisor

    client = client_name(client)
    advisor = Advisor(settings_from_cli())
    if as_json:
        report = advisor.ingest_repo(LOCAL, location, client, branch=branch)
        write_json(report.to_dict())
        return
    with console.status("Reading the repository") as status:
        report = advisor.ingest_repo(
            LOCAL, location, client, branch=branch, progress=lambda m: status.update(escape(m))
        )
    print_repo_report(report)


@app.command("repos")
def repos(
    client: str = typer.Option(
        ..., "--client", "-c", help="The client whose repositories to list."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List a client's indexed repositories and their authors (with emails: you are the CTO)."""
    from advisor.core.clients import client_name
    from advisor.service.facade import Advisor

    found = Advisor(settings_from_cli()).repositories(LOCAL, client_name(client))
    if as_json:
        write_json(found)
        return
    if not found:
        console.print(
            f"No repositories for {client}: add one with "
            f"`cto-advisor ingest-repo PATH_OR_URL --client {client}`.",
            highlight=False,
        )
        return
    for repo in found:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(repo["updated"]))
        table = Table(
            title=f"{repo['name']} ({repo['branch']} at {repo['head'][:7]}, indexed {when})",
            title_justify="left",
        )
        for column in ("author", "emails", "commits", "last commit"):
            table.add_column(column)
        for a in repo["authors"]:
            table.add_row(
                escape(a["name"]), escape(", ".join(a["emails"])), str(a["commits"]),
                time.strftime("%Y-%m-%d", time.gmtime(a["last"])),
            )  # fmt: skip
        console.print(table)


def print_repo_report(report) -> None:
    was = f"{report.previous[:7]} -> " if report.previous and report.previous != report.head else ""
    console.print(
        f"[bold]{escape(report.repository)}[/] ({escape(report.location)}) branch "
        f"{escape(report.branch)} at {was}{report.head[:7]}: {report.new_commits} new commits "
        f"({report.commits} in all), {report.counted_files} of {report.files} files counted",
        highlight=False,
    )
    if report.excluded:
        left = ", ".join(f"{n} {why}" for why, n in sorted(report.excluded.items()))
        console.print(f"left out: {left}", style="dim", highlight=False)
    for path, reason in report.skipped[:20]:
        console.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}", highlight=False)
    console.print(
        f"{len(report.indexed)} documents written ({report.chunks} chunks), {report.unchanged} "
        f"unchanged, {report.removed} removed"
        + (f", {report.redactions} secrets redacted" if report.redactions else "")
        + f"; {report.seconds:.1f}s",
        highlight=False,
    )
