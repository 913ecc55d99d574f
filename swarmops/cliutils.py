"""Helpers shared by the areas' command modules (env.cli, training.cli, mission.cli, monitoring.cli)."""
from __future__ import annotations

import csv
import io
import json
from enum import Enum
from typing import Any, Iterable, NoReturn, Sequence

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


class OutputFormat(str, Enum):
    """How a command prints a table: ``table`` for people, ``csv``/``json`` for programs."""

    table = "table"
    csv = "csv"
    json = "json"


FORMAT_HELP = "table (every column kept, also in a pipe) | csv | json"


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: OutputFormat) -> None:
    """Print ``rows`` under ``columns`` on stdout in ``fmt``.

    ``table`` never squeezes: rich would fit the table to 80 columns when stdout is a pipe, so the
    console is given the table's natural width there. ``csv`` and ``json`` carry raw values (None as
    empty / null) and no title.
    """
    rows = [list(r) for r in rows]
    if fmt == OutputFormat.json:
        typer.echo(json.dumps([dict(zip(columns, r)) for r in rows], indent=1, default=str))
        return
    if fmt == OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in r] for r in rows)
        typer.echo(buf.getvalue().rstrip("\n"))
        return
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, no_wrap=True)
    for r in rows:
        table.add_row(*[_cell(v) for v in r])
    table_console(table).print(table)


def table_console(table: Any) -> Any:
    """A rich Console for printing ``table``: the terminal's on a terminal; in a pipe or a file (where
    rich would fold every table to 80 columns) one as wide as the table needs."""
    from rich.console import Console

    console = Console()
    if console.is_terminal:
        return console
    natural = Console(width=100_000).measure(table).maximum
    return Console(width=max(80, natural))


def _cell(value: Any) -> str:
    """A table cell: thousands separators for numbers, '-' for a missing value."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3g}"
    return str(value)
