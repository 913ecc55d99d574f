"""Helpers shared by the areas' command modules (env.cli, training.cli, mission.cli, monitoring.cli)."""
from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear line on stderr and exit with ``code`` (2: bad input, the usage-error status)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def command_group(app: typer.Typer, name: str, help: str) -> typer.Typer:
    """The sub-command group ``name`` of ``app``, created on first use, so that several areas can add
    commands to one group (env and training both add to `swarmops bench`)."""
    for group in app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            return group.typer_instance
    sub = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub
