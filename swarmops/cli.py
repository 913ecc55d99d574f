"""The `swarmops` command line: one Typer app, each area registers its own sub-commands.

Each area module exposes ``register(app)`` and keeps heavy imports (torch, mlflow, ...)
inside the command bodies so that ``swarmops --help`` stays fast. :func:`guarded` is the one error
boundary of every command (see swarmops.errors): domain errors are one line with exit code 2, an
unexpected exception keeps its traceback and says how to report it; :func:`run` turns usage errors
(bad flags) into one line too.
"""
from __future__ import annotations

import functools
import importlib
import sys
from typing import Any, Callable, Iterator, Optional, Sequence

import typer

from swarmops.errors import (
    EXIT_BUG,
    EXIT_SIGINT,
    EXIT_USAGE,
    domain_error_types,
    one_line,
    report_bug,
)


def version_string() -> str:
    """``swarmops X.Y.Z`` with the installed distribution's version (the source's when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"swarmops {version('swarmops')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        from swarmops import __version__

        return f"swarmops {__version__}"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(version_string())
        raise typer.Exit(0)


app = typer.Typer(
    name="swarmops",
    help="Train, evaluate and operate drone-swarm PPO policies for precision agriculture.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion [bash|zsh|fish|powershell]
    pretty_exceptions_enable=False,
    epilog="Exit codes: 0 success, 1 the command said no (gate rejected), 2 bad input or unreachable "
    "service (one line on stderr), 70 a bug (traceback), 130/143 interrupted. Docs: docs/cli.md",
)


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Options of `swarmops` itself (the commands' help is the app's)."""


# Modules that contribute commands; a module that does not exist yet is skipped.
_COMMAND_MODULES = ("env.cli", "training.cli", "mission.cli", "monitoring.cli", "swarmops.drills_cli")


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """The error boundary around one command body: a domain error (swarmops.errors) becomes one line
    on stderr and its exit code (2); any other exception is a bug: full traceback, how to report it,
    exit 70. typer.Exit and usage errors pass through untouched."""
    if getattr(func, "__swarmops_guarded__", False):
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the boundary: sort the user's errors from bugs
            if isinstance(exc, domain_error_types()):
                typer.echo(f"error: {one_line(exc)}", err=True)
                raise typer.Exit(int(getattr(exc, "exit_code", EXIT_USAGE))) from None
            report_bug(exc)
            raise typer.Exit(EXIT_BUG) from None

    wrapper.__swarmops_guarded__ = True  # type: ignore[attr-defined]
    return wrapper


def command_infos(typer_app: typer.Typer) -> Iterator[Any]:
    """Every registered command (typer's CommandInfo) of ``typer_app`` and of its groups, with a body."""
    for info in typer_app.registered_commands:
        if info.callback is not None:
            yield info
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            yield from command_infos(group.typer_instance)


def _guard_commands(typer_app: typer.Typer) -> None:
    """Put every command of ``typer_app`` and of its groups behind :func:`guarded`."""
    for info in command_infos(typer_app):
        info.callback = guarded(info.callback)


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)
    _guard_commands(app)  # one boundary for every area's commands, also under typer's CliRunner


_register_all()


def _usage_error(exc: typer.TyperException) -> int:
    """Print a usage error (bad flag, missing argument, unknown command) as one line; return its code."""
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message() or ""
    # A group called without a command: typer (rich) has already printed its help while building
    # the exception, whose message is then empty. Matched by name: the class is not public API.
    if type(exc).__name__ == "NoArgsIsHelpError":
        if message.strip():
            typer.echo(message, err=True)
    else:
        where = ctx.command_path if ctx is not None else "swarmops"
        typer.echo(f"{where}: error: {' '.join(message.split())}", err=True)
    return int(getattr(exc, "exit_code", EXIT_USAGE))


def run(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI on ``argv`` (default: sys.argv[1:]) and return the exit code; never raises."""
    try:
        code = app(args=list(argv) if argv is not None else None, prog_name="swarmops", standalone_mode=False)
    except typer.Exit as exc:  # raised outside the command bodies (e.g. --version)
        return int(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors (typer's own copy of click)
        return _usage_error(exc)
    except typer.Abort:
        typer.echo("swarmops: aborted", err=True)
        return EXIT_SIGINT
    except KeyboardInterrupt:
        typer.echo("swarmops: interrupted", err=True)
        return EXIT_SIGINT
    except Exception as exc:  # noqa: BLE001 - outside any command body (registration, completion)
        report_bug(exc)
        return EXIT_BUG
    return code if isinstance(code, int) else 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
