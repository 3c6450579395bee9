"""The Typer app shared by the subcommand modules, and helpers for the edge."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console, ConsoleOptions, RenderableType, RenderHook, RenderResult
from rich.segment import Segment

from advisor.core.principal import Principal
from advisor.core.sanitize import json_text, plain
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


class _Inert:
    """A renderable whose text has no terminal escapes, control or bidi characters left: file
    names, titles, document text and model replies cannot retitle the window, write the
    clipboard, hide a link or reorder what is shown. Rich's own styling is added afterwards."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.renderable, options):
            if segment.control:
                yield segment
            else:
                yield Segment(plain(segment.text), segment.style)


class _InertHook(RenderHook):
    def process_renderables(self, renderables: list[RenderableType]) -> list[RenderableType]:
        return [_Inert(r) for r in renderables]


def _console(**kwargs: Any) -> Console:
    made = Console(**kwargs)
    made.push_render_hook(_InertHook())
    return made


console = _console()
# The CLI runs on the CTO's own machine, with access to the data directory: it acts as the CTO.
LOCAL = Principal.local()
err_console = _console(stderr=True)


def write_json(data: Any) -> None:
    """JSON on standard output, its strings intact but unable to act on a terminal."""
    sys.stdout.write(json_text(data, indent=2) + "\n")


def echo(text: str, nl: bool = True) -> None:
    """Plain text (Markdown, YAML) on standard output, made inert for a terminal."""
    typer.echo(plain(text), nl=nl)


def settings_from_cli(**overrides) -> Settings:
    """Settings from the environment, with the non-None CLI flags applied on top."""
    return get_settings(**{k: v for k, v in overrides.items() if v is not None})
