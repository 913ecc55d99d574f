"""The `swarmops` command line: one Typer app, each area registers its own sub-commands.

Each area module exposes ``register(app)`` and keeps heavy imports (torch, mlflow, ...)
inside the command bodies so that ``swarmops --help`` stays fast.
"""
from __future__ import annotations

import importlib
import sys

import typer

try:  # typer >= 0.24 vendors its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer on plain click
    from click import exceptions as click_exc

app = typer.Typer(
    name="swarmops",
    help="Train, evaluate and operate drone-swarm PPO policies for precision agriculture.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that contribute commands; a module that does not exist yet is skipped.
_COMMAND_MODULES = ("env.cli", "training.cli", "mission.cli", "monitoring.cli", "swarmops.drills_cli")


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point: usage errors become one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    except click_exc.ClickException as exc:
        where = exc.ctx.command_path if getattr(exc, "ctx", None) else "swarmops"
        message = " ".join(exc.format_message().split())  # one line, whatever click wrapped
        typer.echo(f"{where}: error: {message}", err=True)
        sys.exit(exc.exit_code)
    except click_exc.Abort:
        typer.echo("swarmops: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
