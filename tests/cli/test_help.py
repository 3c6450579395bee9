"""`cto-advisor --help` is where a newcomer starts: every command and option explains itself."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from interfaces.cli import _register
from interfaces.cli.base import app

_register()
runner = CliRunner()


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()):
    for info in group.registered_commands:
        yield (*prefix, info.name or info.callback.__name__), info
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, (*prefix, sub.name))


def test_the_overview_names_every_command_and_how_to_start():
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for path, _ in _commands(app):
        assert path[0] in result.stdout
    assert "ingest FOLDER --client NAME" in result.stdout and "OPENAI_BASE_URL" in result.stdout


def test_every_command_and_option_has_a_help_text():
    click_app = typer.main.get_command(app)
    missing = []
    for path, _ in _commands(app):
        command = click_app
        for name in path:
            command = command.commands[name]
        if not (command.help or "").strip():
            missing.append(" ".join(path))
        missing += [
            f"{' '.join(path)} {param.opts[0] if param.opts else param.name}"
            for param in command.params
            if not (getattr(param, "help", None) or "").strip()
        ]

    assert not missing, f"no help text: {missing}"
