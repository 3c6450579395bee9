"""`cto-advisor users ...`: the accounts that may sign in to the app (and hold API tokens)."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from advisor.core.errors import InputError
from advisor.service.accounts import AccountStore
from interfaces.cli.base import LOCAL, app, console, err_console, settings_from_cli

users_app = typer.Typer(
    help="Accounts for the app: a CTO sees every client, a founder only their own.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (for scripts).",
    ),
]


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or a hidden prompt typed twice."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin: standard input is empty; pipe the password in")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to type a password in: pipe it with --password-stdin instead")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The person's email address (their login).")],
    role: Annotated[
        str, typer.Option("--role", "-r", help="cto (every client) or founder (one client).")
    ],
    client: Annotated[
        str | None, typer.Option("--client", "-c", help="A founder's client (required for one).")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account; the password is asked for (hidden), never given as an argument."""
    store = AccountStore(settings_from_cli())
    user = store.add_user(email, role, client, read_password(password_stdin), actor=LOCAL)  # type: ignore[arg-type]
    where = f" for client {user.client}" if user.client else " (every client)"
    err_console.print(f"added {user.email} as {user.role}{where}", highlight=False)


@users_app.command("list")
def list_users() -> None:
    """Every account with its role and client (never a password)."""
    store = AccountStore(settings_from_cli())
    users = store.list_users()
    if not users:
        from advisor.service.sessions import REQUIRED_MARKER

        closed = (store.settings.data_dir / REQUIRED_MARKER).exists()
        err_console.print(
            "no accounts: the app shows nothing until you add one (accounts existed here)"
            if closed
            else "no accounts: the app runs in single-user mode on this machine only",
            "; add one with `cto-advisor users add EMAIL --role cto`",
            sep="",
        )
        return
    table = Table(title="Accounts", title_justify="left")
    for column in ("email", "role", "client", "created"):
        table.add_column(column)
    for u in users:
        created = time.strftime("%Y-%m-%d", time.localtime(u.created_at))
        table.add_row(escape(u.email), u.role, escape(u.client or "(all)"), created)
    console.print(table)


@users_app.command("remove")
def remove(
    email: Annotated[str, typer.Argument(help="The account to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account; its sessions and API tokens stop working at once."""
    store = AccountStore(settings_from_cli())
    user = store.get_user(email)
    if not yes:
        typer.confirm(f"Delete {user.email} ({user.role})?", abort=True)
    store.remove_user(user.email, actor=LOCAL)
    err_console.print(f"removed {user.email}", highlight=False)


@users_app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The account whose password changes.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password; this also unlocks the account and signs it out everywhere."""
    store = AccountStore(settings_from_cli())
    user = store.get_user(email)
    store.set_password(user.email, read_password(password_stdin), actor=LOCAL)
    err_console.print(f"new password set for {user.email}", highlight=False)


@users_app.command("single-user")
def single_user(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Let the app run without sign-in again (only once every account is removed)."""
    from advisor.service.sessions import allow_single_user

    settings = settings_from_cli()
    if not yes:
        typer.confirm(
            "Without accounts the app shows every client to whoever reaches it. Continue?",
            abort=True,
        )
    allow_single_user(settings)
    err_console.print(
        "single-user mode allowed: restart the app; it still refuses addresses others can reach",
        highlight=False,
    )
