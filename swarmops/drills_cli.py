"""`swarmops drills`: run the reliability drills (swarmops/drills.py) and print their table."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from swarmops.cliutils import fail


def register(app: typer.Typer) -> None:
    """Add the `drills` command to the `swarmops` app."""

    @app.command()
    def drills(
        only: Optional[List[str]] = typer.Option(None, "--only", help="run only this drill (repeatable)"),
        out: Path = typer.Option(Path("reports/drills.json"), help="write the drill table here as JSON"),
        scale: float = typer.Option(1.0, min=0.01, max=1.0,
                                    help="size of the load drills (1.0: 8 x 1,000 ledger writes)"),
        sabotage: Optional[List[str]] = typer.Option(
            None, help="break this drill's guarantee on purpose, to see the drill fail"),
    ) -> None:
        """Inject faults into a throw-away stack (own PostgreSQL, own run folder) and check nothing is lost.

        Exit 1 when any drill fails. Touches no ledger, MLflow store or environment of yours.
        """
        from rich.console import Console
        from rich.table import Table

        from swarmops.drills import DRILLS, results_json, run_drills
        from swarmops.pgtemp import PostgresUnavailable

        names = list(only or DRILLS)
        for name in [*names, *(sabotage or [])]:
            if name not in DRILLS:
                fail(f"unknown drill {name!r}; allowed: {', '.join(DRILLS)}")
        if not out.parent.is_dir():
            fail(f"--out {out}: folder {out.parent} does not exist")
        console = Console(stderr=True)
        console.print(f"drills: {', '.join(names)} (a fresh PostgreSQL server and run folder; "
                      f"a few minutes)")
        try:
            results = run_drills(names, frozenset(sabotage or ()), scale,
                                 on_result=lambda r: console.print(
                                     f"  {r.drill}: {'PASS' if r.passed else 'FAIL'}"))
        except PostgresUnavailable as exc:
            fail(str(exc))
        table = Table(title="reliability drills")
        for column in ("drill", "what was done", "what was checked", "result", "figures"):
            table.add_column(column, overflow="fold")
        for r in results:
            figures = ", ".join(f"{k} {v}" for k, v in r.figures.items())
            table.add_row(r.drill, r.done, r.checked, "PASS" if r.passed else f"FAIL: {r.detail}", figures)
        Console(width=160).print(table)
        out.write_text(results_json(results))
        print(f"{sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} failed "
              f"(JSON: {out})")
        if not all(r.passed for r in results):
            raise typer.Exit(1)
