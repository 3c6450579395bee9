"""The Typer app shared by the subcommand modules, and helpers for the edge."""

from __future__ import annotations

import typer
from rich.console import Console

from advisor.core.principal import Principal
from advisor.core.settings import Settings, get_settings

app = typer.Typer(
    name="cto-advisor",
    help=(
        "CTO Advisor: cited answers over client documents and CTO playbooks, offline by default."
        "\n\nStart with `cto-advisor ingest FOLDER --client NAME` (a client's documents) and "
        "`cto-advisor ingest FOLDER` (your playbooks), then `cto-advisor ask QUESTION --client NAME`."
    ),
    epilog=(
        "The index lives in $ADVISOR_DATA_DIR (default data/.advisor); `status` shows it. Answers "
        "are extractive and offline unless OPENAI_BASE_URL (an OpenAI-compatible endpoint) is set. "
        "A question for one client never sees another client's documents."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
# The CLI runs on the CTO's own machine, with access to the data directory: it acts as the CTO.
LOCAL = Principal.local()
err_console = Console(stderr=True)


def settings_from_cli(**overrides) -> Settings:
    """Settings from the environment, with the non-None CLI flags applied on top."""
    return get_settings(**{k: v for k, v in overrides.items() if v is not None})
