"""`swarmops demo` and `swarmops bench env`. Heavy imports stay inside the command bodies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from swarmops.cliutils import command_group, fail
from swarmops.paths import check_output

DEMO_OUT = Path("artifacts/demo/demo.gif")


def _policy_help() -> str:
    """'heuristic (each scenario's default), then every scenario's heuristics, or random' (env.scenarios:
    light, unlike env.baselines)."""
    from env.scenarios import SCENARIOS, get_scenario

    scenarios = [get_scenario(name) for name in SCENARIOS]
    defaults = " / ".join(s.heuristics[0] for s in scenarios)
    every = [h for s in scenarios for h in s.heuristics]
    return f"heuristic ({defaults}), {', '.join(every)} or random"


def _model_policy(path: Path, scenario: str, seed: int) -> Callable[[Any], Any]:
    """The ``obs -> actions`` of the model saved at ``path`` (checked against the simulator), acting
    as evaluation does; torch is seeded so a demo is reproducible. A bad model is one line."""
    import torch

    from env.scenarios import get_scenario
    from swarmops.errors import SwarmOpsError
    from training.errors import CheckpointError
    from training.evaluate import policy_callable
    from training.registry import load_model

    get_scenario(scenario)  # an unknown scenario is named before the model is read
    try:
        model = load_model(path, scenario)
    except (SwarmOpsError, CheckpointError) as exc:  # not found, unreadable, another layout or scenario
        fail(f"--model: {exc}")
    torch.manual_seed(seed)
    return policy_callable(model)


def register(app: typer.Typer) -> None:
    """Add `demo` and `bench env` to the swarmops CLI."""

    @app.command("demo")
    def demo(
        scenario: str = typer.Option("recon", help="recon or watering"),
        policy: str = typer.Option("heuristic", help=_policy_help()),
        model: Optional[Path] = typer.Option(
            None, help="a trained model.zip to fly instead of a heuristic (e.g. models/recon/model.zip), "
            "acting as evaluation does: sampled, battery shield"
        ),
        width: int = typer.Option(32, help="field width in cells (4..512)"),
        height: int = typer.Option(24, help="field height in cells (4..512)"),
        drones: int = typer.Option(6, help="number of drones (1..256)"),
        plants: Optional[int] = typer.Option(40, help="number of plants (or use --plant-density)"),
        plant_density: Optional[float] = typer.Option(
            None, help="fraction of free cells with a plant; " "overrides --plants"
        ),
        sensor_radius: int = typer.Option(1, help="sensor half-width in cells (0..3)"),
        tank_capacity: int = typer.Option(4, help="water units per tank (1..1000)"),
        max_water_need: int = typer.Option(3, help="each plant needs 1..N units (1..7)"),
        battery_capacity: int = typer.Option(200, help="battery units, one per step away from base"),
        recharge_rate: int = typer.Option(50, help="battery units recharged per step at the base"),
        max_steps: int = typer.Option(400, help="episode step limit"),
        obstacle_density: float = typer.Option(0.1, help="fraction of cells with obstacles (0..0.4)"),
        obstacles_block_sensor: bool = typer.Option(
            False, help="obstacles block the sensor's line of sight"
        ),
        coverage_target: float = typer.Option(0.95, help="recon ends at this covered fraction (0..1]"),
        seed: int = typer.Option(0, help="random seed (>= 0)"),
        out: Path = typer.Option(DEMO_OUT, help="animation to write (.gif or .mp4)"),
        fps: int = typer.Option(10, help="animation frames per second (1..60)"),
        ansi: bool = typer.Option(False, help="also print the last frame as text"),
    ) -> None:
        """Run a heuristic (or a trained model's) swarm on one field, print its metrics and write an
        animation."""
        from env.config import ConfigError, FieldConfig
        from env.render import ANIMATION_SUFFIXES

        if out.suffix.lower() not in ANIMATION_SUFFIXES:
            fail(f"--out {str(out)!r} has suffix {out.suffix or '(none)'!r}; allowed: .gif, .mp4")
        if not 1 <= fps <= 60:
            fail(f"--fps={fps} is out of range; allowed: 1..60")
        check_output(out, "--out", default=DEMO_OUT)  # a mistyped folder is refused, not created
        try:
            cfg = FieldConfig(
                width=width,
                height=height,
                n_drones=drones,
                n_plants=None if plant_density is not None else plants,
                plant_density=plant_density,
                sensor_radius=sensor_radius,
                tank_capacity=tank_capacity,
                max_water_need=max_water_need,
                battery_capacity=battery_capacity,
                recharge_rate=recharge_rate,
                max_steps=max_steps,
                obstacle_density=obstacle_density,
                obstacles_block_sensor=obstacles_block_sensor,
                coverage_target=coverage_target,
                seed=seed,
            )
            from env.demo import run_demo

            if model is None:
                run_demo(scenario, cfg, policy, out, fps=fps, ansi=ansi)
            else:
                if policy != "heuristic":
                    fail(f"--policy {policy!r} and --model {model}: give one of them")
                act = _model_policy(model, scenario, seed)
                run_demo(scenario, cfg, act, out, fps=fps, ansi=ansi, label=f"model {model}")
        except ConfigError as exc:
            fail(_as_flag(str(exc)))

    bench = command_group(app, "bench", "Benchmarks (print a table, write JSON under bench/results).")

    @bench.command("env")
    def bench_env(
        batches: str = typer.Option("1,4,16,64,256,1024,4096", help="fields per batch, comma-separated"),
        plain_batches: str = typer.Option("1,4,16", help="fields for the plain Python loop"),
        densities: str = typer.Option("0.0,0.2", help="obstacle densities to run (first = baseline)"),
        size: int = typer.Option(64, help="field width = height"),
        drones: int = typer.Option(8, help="drones per field"),
        scenario: str = typer.Option("recon", help="recon or watering"),
        min_time: float = typer.Option(1.0, help="seconds per trial (at least 5 steps)"),
        repeats: int = typer.Option(3, help="trials per row; the best one is reported (1..20)"),
        out: Path = typer.Option(Path("bench/results/env.json"), help="JSON output"),
        ref: str = typer.Option("", help="git revision whose simulator is timed alongside (before/after)"),
    ) -> None:
        """Agent-steps/s of the vectorised step (one core) vs the plain per-drone Python loop."""
        # A fresh process so the one-thread settings apply before numpy loads, pinned to one CPU.
        cmd = [
            sys.executable,
            "-m",
            "env.bench",
            "--batches",
            batches,
            "--plain-batches",
            plain_batches,
            "--densities",
            densities,
            "--size",
            str(size),
            "--drones",
            str(drones),
            "--scenario",
            scenario,
            "--min-time",
            str(min_time),
            "--repeats",
            str(repeats),
            "--out",
            str(out),
            *(["--ref", ref] if ref else []),
        ]
        raise typer.Exit(code=subprocess.call(cmd, env=_child_env()))

    @bench.command("scale")
    def bench_scale(
        sides: str = typer.Option("16,32,64,128,256,512", help="field sides (width = height)"),
        drones: str = typer.Option("1,4,16,64,128,256", help="drones per field, comma-separated"),
        steps: int = typer.Option(200, help="steps per episode measured (from reset)"),
        obstacles: float = typer.Option(0.1, help="obstacle density"),
        out: Path = typer.Option(Path("bench/results/scale.json"), help="JSON output"),
        plot: Path = typer.Option(Path("docs/img/scaling.png"), help="PNG plot"),
    ) -> None:
        """Per-step cost of simulator, heuristics and policy forward against field side and drones."""
        cmd = [sys.executable, "-m", "env.bench_scale", "--sides", sides, "--drones", drones, "--steps",
               str(steps), "--obstacles", str(obstacles), "--out", str(out), "--plot", str(plot)]
        raise typer.Exit(code=subprocess.call(cmd, env=_child_env()))


def _child_env() -> dict[str, str]:
    """The environment of a benchmark child process: this checkout first on PYTHONPATH."""
    root = str(Path(__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))


def _as_flag(message: str) -> str:
    """Name CLI flags rather than config fields in error messages (n_drones -> --drones)."""
    names = {"n_drones": "--drones", "n_plants": "--plants"}
    head, sep, rest = message.partition("=")
    if sep and " " not in head:
        return f"{names.get(head, '--' + head.replace('_', '-'))}={rest}"
    return message
