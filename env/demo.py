"""The simulator demo: a heuristic (or random) swarm on one field, metrics table and an animation."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from env.config import FieldConfig


def run_demo(
    scenario: str,
    config: FieldConfig,
    policy: str | Callable[[np.ndarray], np.ndarray],
    out: Path,
    fps: int = 10,
    ansi: bool = False,
    label: str | None = None,
) -> dict[str, Any]:
    """Run one episode, print its metrics, write the animation; returns the metrics.

    ``policy``: a heuristic's name or an ``obs -> actions`` callable (a trained model); ``label`` names
    it in the table's title (default: the policy's name)."""
    from rich.console import Console
    from rich.table import Table

    from env.render import render_ansi, render_rgb, save_animation
    from env.rollout import run_episodes
    from env.scenarios import get_scenario

    get_scenario(scenario)
    frames = []
    last: dict[str, Any] = {}

    def record(sim: Any) -> None:
        frames.append(render_rgb(sim, 0))
        if ansi:
            last["text"] = render_ansi(sim, 0)

    metrics = run_episodes(
        scenario, config, policy, num_fields=1, seed=config.seed, progress=True, on_step=record
    )[0]
    path = save_animation(frames, out, fps=fps)
    console = Console()
    if ansi and "text" in last:
        console.print(last["text"], markup=False, highlight=False)
    table = Table(
        title=f"swarmops demo - {scenario}, {label or policy}, {config.width}x{config.height}, "
        f"{config.n_drones} drones, obstacles {config.obstacle_density}"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    extra = ["collisions", "battery_depletions", "energy", "episode_return"]
    keys = [*get_scenario(scenario).metric_keys, *extra]
    for key in keys:
        val = metrics[key]
        table.add_row(key, f"{val:.3f}" if isinstance(val, float) else str(val))
    console.print(table)
    console.print(f"animation: {path} ({len(frames)} frames)")
    return metrics
