"""The `swarmops` command line: one Typer app, each area registers its own sub-commands.

Each area module exposes ``register(app)`` and keeps heavy imports (torch, mlflow, ...)
inside the command bodies so that ``swarmops --help`` stays fast.
"""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="swarmops",
    help="Train, evaluate and operate drone-swarm PPO policies for precision agriculture.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that contribute commands; a module that does not exist yet is skipped.
_COMMAND_MODULES = ("env.cli", "training.cli", "mission.cli", "monitoring.cli")


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
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
