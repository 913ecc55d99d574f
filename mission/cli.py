"""`swarmops mission` (recon -> watering report) and `swarmops serve` (the local web page)."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from swarmops.cliutils import fail
from swarmops.paths import check_output


_POLICY_HELP = ("champion (registry @champion, else the heuristic), heuristic, or a registered model "
                "models:/swarmops-<scenario>-ppo/<version> of the first phase.")
_WATERING_HELP = ("Mission only: the watering phase's policy when it differs from --policy (champion, "
                  "heuristic or models:/swarmops-watering-ppo/<version>).")


def mission(
    width: int = typer.Option(12, help="Field width in cells."),
    height: int = typer.Option(12, help="Field height in cells."),
    drones: int = typer.Option(3, help="Drones in the swarm."),
    plants: int = typer.Option(10, help="Plants hidden in the field."),
    obstacles: float = typer.Option(0.0, help="Obstacle density (fraction of cells, 0..0.4)."),
    seed: int = typer.Option(0, help="Seed of the field layout."),
    max_steps: int = typer.Option(300, help="Step limit of each phase (larger fields need more)."),
    battery: int = typer.Option(200, help="Battery capacity in steps; drones reach about "
                                          "(battery - 3) / 2 "
                                          "steps from the base (raise it for large fields)."),
    policy: str = typer.Option("champion", help=_POLICY_HELP),
    mode: str = typer.Option("mission", help="mission (recon -> watering), recon or watering."),
    watering_policy: str = typer.Option("", help=_WATERING_HELP),
    out: Optional[Path] = typer.Option(None, help="Report folder (new or empty); default runs/missions/..."),
    fps: int = typer.Option(8, min=1, max=60, help="Frames per second of the GIFs."),
) -> None:
    """Recon on a field with unknown plants, watering what it found; report vs the heuristic pair."""
    import logging

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mission.pipeline import run_settings
    from mission.policies import PolicyError
    from mission.report import to_markdown, write_report
    from mission.settings import SettingsError, parse_settings
    from training.paths import runs_root

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        settings = parse_settings({"width": width, "height": height, "drones": drones, "plants": plants,
                                   "obstacles": obstacles, "seed": seed, "max_steps": max_steps,
                                   "battery": battery,
                                   "policy": policy, "mode": mode, "watering_policy": watering_policy})
    except SettingsError as exc:
        flag = "--" + exc.field.replace("_", "-")  # the CLI flag, not the form field (--max-steps)
        fail(f"{flag}: {exc}" if exc.field != "form" else str(exc))
    if out is not None and not out.exists():  # a typed folder must sit in an existing one (never created)
        check_output(out, "--out", kind="dir")
    out = out or runs_root() / "missions" / f"{time.strftime('%Y%m%d-%H%M%S')}-{mode}-seed{seed}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        fail(f"--out {out} exists and is not an empty folder; allowed: a new or empty folder")
    tty = sys.stderr.isatty()
    started, shown = time.monotonic(), [-1.0, ""]
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), transient=True, disable=not tty) as bar:
        task = bar.add_task(mode, total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)
            now = time.monotonic() - started
            if not tty and (message != shown[1] or now - shown[0] >= 2.0):  # logs and pipes: a line
                shown[0], shown[1] = now, message                       # per phase and every 2 s
                typer.echo(f"[{now:6.1f} s] {fraction:4.0%} {message}", err=True)

        try:
            result = run_settings(settings, progress=progress)
        except PolicyError as exc:
            fail(str(exc))
    folder = write_report(result, out, fps=fps)
    typer.echo(to_markdown(result.report))
    typer.echo(f"report: {folder / 'report.md'} (JSON: {folder / 'report.json'})")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind (default loopback: no login)."),
    port: int = typer.Option(8765, min=1, max=65535, help="TCP port."),
) -> None:
    """Start the local web page to set up a field, run a mission and watch it next to the heuristic."""
    import uvicorn

    from mission.web.app import create_app

    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: binding {host}: no authentication on this page; put a proxy in front", err=True)
    typer.echo(f"SwarmOps mission page on http://{host}:{port}/")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add `mission` and `serve` to the swarmops CLI."""
    app.command("mission")(mission)
    app.command("serve")(serve)
