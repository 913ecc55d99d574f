"""Scaling benchmark: per-step cost of the simulator, each heuristic and the policy forward pass
against field side and swarm size, plus memory per field; one field per run, one core.

Run as ``swarmops bench scale`` (or ``python -m env.bench_scale``). Each (side, drones) pair runs an
episode of each scenario from reset with the scenario's heuristic for ``--steps`` steps: the
heuristic's call and the simulator's step (observations included) are timed on the same trajectory,
so their ratio is measured in the same run; the policy forward pass (an MLP of the default
profile's size, as SB3 builds it: policy and value nets, tanh) is timed on the observations of that
episode. Prints a table, writes JSON (bench/results/scale.json) and a plot (docs/img/scaling.png).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from env.bench import _cpu_name, _write_json, parse_ints, pin_one_core, state_bytes

DEFAULT_SIDES = (16, 32, 64, 128, 256, 512)
DEFAULT_DRONES = (1, 4, 16, 64, 128, 256)
TARGET_RATIO = 10.0  # heuristic step <= 10 x simulator step


def _heuristics() -> dict[str, str]:
    """Each scenario's default heuristic (env.scenarios: the bar the policy is measured against)."""
    from env.scenarios import SCENARIOS, get_scenario

    return {name: get_scenario(name).heuristic for name in SCENARIOS}


HEURISTICS = _heuristics()


def _nbytes(obj: Any, seen: set[int] | None = None, depth: int = 0) -> int:
    """Bytes held by numpy arrays, bytes and memoryviews reachable from ``obj``'s attributes and
    dict values (a few levels deep); the simulator itself is not counted."""
    import numpy as np

    from env.core import SwarmSim

    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 4 or isinstance(obj, SwarmSim):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes) if obj.base is None else 0
    if isinstance(obj, (bytes, bytearray)):
        return len(obj)
    if isinstance(obj, memoryview):
        return 0  # a view of simulator memory
    if isinstance(obj, dict):
        return sum(_nbytes(v, seen, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v, seen, depth + 1) for v in obj)
    if hasattr(obj, "__dict__"):
        return sum(_nbytes(v, seen, depth + 1) for v in vars(obj).values())
    return 0


def _policy_net(obs_dim: int, n_actions: int, net_arch: tuple[int, ...]) -> Any:
    """An MLP with SB3's default ActorCritic layout: separate policy and value nets, tanh."""
    import torch
    from torch import nn

    def mlp(out: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        last = obs_dim
        for width in net_arch:
            layers += [nn.Linear(last, width), nn.Tanh()]
            last = width
        return nn.Sequential(*layers, nn.Linear(last, out))

    pi, vf = mlp(n_actions), mlp(1)

    def forward(obs: Any) -> Any:
        with torch.no_grad():
            x = torch.as_tensor(obs)
            return torch.argmax(pi(x), dim=1).numpy(), vf(x)

    return forward


def measure(scenario: str, side: int, drones: int, steps: int, obstacles: float,
            net_arch: tuple[int, ...]) -> dict[str, Any]:
    """One (scenario, side, drones) row: mean ms per step of simulator, heuristic and policy."""
    import numpy as np

    from env.baselines import make_baseline
    from env.config import FieldConfig
    from env.core import SwarmSim

    cfg = FieldConfig(width=side, height=side, n_drones=drones, n_plants=None, plant_density=0.05,
                      obstacle_density=obstacles, max_steps=steps, battery_capacity=4 * side + 200)
    t0 = time.perf_counter()
    sim = SwarmSim(scenario, cfg, 1, seed=1, auto_reset=False)
    reset_s = time.perf_counter() - t0
    heur = make_baseline(HEURISTICS[scenario], sim, 1)
    policy = _policy_net(sim.observe(np.arange(1)).shape[1], sim.scenario.n_actions, net_arch)
    # CPU time of this process (one thread): on a shared machine it shows what the code costs,
    # where wall time also counts the waits for the core.
    clock = time.process_time
    t_sim = t_heur = t_pol = 0.0
    n = 0
    obs = sim.observe(np.arange(1))
    policy(obs)  # first call allocates
    wall = time.perf_counter()
    while not sim.finished.all():
        a = clock()
        act = heur(sim)
        b = clock()
        policy(obs)
        c = clock()
        obs = sim.step(act).obs
        d = clock()
        t_heur += b - a
        t_pol += c - b
        t_sim += d - c
        n += 1
    wall = time.perf_counter() - wall
    book = heur.nav.book
    return {
        "scenario": scenario, "heuristic": HEURISTICS[scenario], "side": side, "drones": drones,
        "steps": n, "reset_s": round(reset_s, 4),
        "sim_ms": round(1000 * t_sim / n, 4), "heuristic_ms": round(1000 * t_heur / n, 4),
        "policy_ms": round(1000 * t_pol / n, 4), "ratio": round(t_heur / t_sim, 2),
        "cpu_share": round((t_sim + t_heur + t_pol) / wall, 3),
        "paths_planned": int(book.planned),
        "sim_state_bytes": state_bytes(sim), "heuristic_bytes": _nbytes(heur),
        "obs_bytes_per_step": int(obs.nbytes),
        "coverage": round(float(sim.coverage()[0]), 4),
        "water_delivered": int(sim.counters["delivered"][0]),
    }


def run_scale(sides: tuple[int, ...] = DEFAULT_SIDES, drones: tuple[int, ...] = DEFAULT_DRONES,
              steps: int = 200, obstacles: float = 0.1, net_arch: tuple[int, ...] = (128, 128),
              out: Path | None = Path("bench/results/scale.json"),
              plot: Path | None = Path("docs/img/scaling.png")) -> dict[str, Any]:
    """Measure every valid (side, drones) pair for both scenarios; print, write JSON and the plot."""
    import os
    import platform

    import numpy as np

    rows, skipped = [], []
    for side in sides:
        for n in drones:
            if n > 0.5 * side * side:  # more drones than half the cells: not a field, a car park
                skipped.append({"side": side, "drones": n, "reason": "more drones than half the cells"})
                continue
            for scenario in HEURISTICS:
                rows.append(measure(scenario, side, n, steps, obstacles, net_arch))
                r = rows[-1]
                print(f"{scenario:8} {side:4}x{side:<4} {n:4} drones: sim {r['sim_ms']:.3f} ms, "
                      f"{r['heuristic']} {r['heuristic_ms']:.3f} ms (x{r['ratio']}), policy "
                      f"{r['policy_ms']:.3f} ms", file=sys.stderr)
    worst = max(rows, key=lambda r: r["ratio"])
    result = {
        "benchmark": "per-step CPU cost against field side and drones, one field, one core",
        "setup": {"steps": steps, "obstacle_density": obstacles, "plant_density": 0.05,
                  "battery_capacity": "4 x side + 200 (every cell within a round trip)",
                  "policy_net_arch": list(net_arch), "fields": 1},
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "cpu": _cpu_name(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "logical_cpus": os.cpu_count()},
        "target": {"heuristic_over_sim": TARGET_RATIO, "worst_ratio": worst["ratio"],
                   "worst_at": {k: worst[k] for k in ("scenario", "side", "drones")},
                   "met": bool(worst["ratio"] <= TARGET_RATIO)},
        "rows": rows, "skipped": skipped,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _print_table(result)
    if out is not None:
        _write_json(result, out)
        print(f"wrote {out}")
    if plot is not None:
        plot_scale(result, plot)
        print(f"wrote {plot}")
    return result


def _print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="swarmops bench scale - CPU ms per step, one field, one core "
                        f"({result['setup']['obstacle_density']:.0%} obstacles)")
    for col in ("side", "drones", "sim recon", HEURISTICS["recon"], "x",
                "sim watering", HEURISTICS["watering"], "x",
                "policy fwd", "state KB/field", "heuristic KB"):
        table.add_column(col, justify="right")
    by = {(r["scenario"], r["side"], r["drones"]): r for r in result["rows"]}
    for (scenario, side, n), rec in by.items():
        if scenario != "recon":
            continue
        wat = by[("watering", side, n)]
        heur_kb = max(rec["heuristic_bytes"], wat["heuristic_bytes"]) / 1024
        state_kb = max(rec["sim_state_bytes"], wat["sim_state_bytes"]) / 1024
        table.add_row(str(side), str(n), f"{rec['sim_ms']:.3f}", f"{rec['heuristic_ms']:.3f}",
                      f"{rec['ratio']:.1f}", f"{wat['sim_ms']:.3f}", f"{wat['heuristic_ms']:.3f}",
                      f"{wat['ratio']:.1f}", f"{rec['policy_ms']:.3f}",
                      f"{state_kb:,.0f}", f"{heur_kb:,.0f}")
    console = Console(width=160)
    console.print(table)
    t = result["target"]
    console.print(f"heuristic step <= x{t['heuristic_over_sim']:.0f} the simulator step: "
                  f"{'met' if t['met'] else 'NOT met'} (worst x{t['worst_ratio']} at {t['worst_at']}); "
                  f"load average {result['machine']['load_average_at_end'][0]} on "
                  f"{result['machine']['logical_cpus']} CPUs")


def plot_scale(result: dict[str, Any], path: Path) -> None:
    """Three panels: ms/step against side (16 drones), against drones (largest side), memory/field."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    rows = result["rows"]
    sides = sorted({r["side"] for r in rows})
    drones = sorted({r["drones"] for r in rows})
    mid = 16 if 16 in drones else drones[len(drones) // 2]
    big = max(sides)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    series = [("recon", "sim_ms", "simulator (recon)", "-"),
              ("watering", "sim_ms", "simulator (watering)", "-"),
              ("recon", "heuristic_ms", HEURISTICS["recon"], "--"),
              ("watering", "heuristic_ms", HEURISTICS["watering"], "--"),
              ("recon", "policy_ms", "policy forward", ":")]
    panels = ((axes[0], "side", "drones", mid, f"against field side, {mid} drones"),
              (axes[1], "drones", "side", big, f"against drones, {big} x {big} field"))
    for ax, key, other, value, title in panels:
        for scenario, col, label, style in series:
            pts = sorted((r[key], r[col]) for r in rows if r["scenario"] == scenario and r[other] == value)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("field side (cells)" if key == "side" else "drones")
        ax.set_ylabel("CPU ms per step")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.set_title(title)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    ax = axes[2]
    for n in drones:
        pts = sorted((r["side"], (r["sim_state_bytes"] + r["heuristic_bytes"]) / 2**20) for r in rows
                     if r["scenario"] == "recon" and r["drones"] == n)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{n} drones")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("field side (cells)")
    ax.set_ylabel("MiB per field")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_title("memory per field (simulator + lawnmower)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.suptitle(f"swarmops bench scale ({result['measured_at']}, one core, load "
                 f"{result['machine']['load_average_at_end'][0]})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """``python -m env.bench_scale``: pins one core, then runs the scaling benchmark."""
    p = argparse.ArgumentParser(prog="python -m env.bench_scale", description=__doc__)
    p.add_argument("--sides", default=",".join(map(str, DEFAULT_SIDES)))
    p.add_argument("--drones", default=",".join(map(str, DEFAULT_DRONES)))
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--obstacles", type=float, default=0.1)
    p.add_argument("--net-arch", default="128,128")
    p.add_argument("--out", default="bench/results/scale.json")
    p.add_argument("--plot", default="docs/img/scaling.png")
    args = p.parse_args(argv)
    cpu = pin_one_core()
    try:
        sides = parse_ints(args.sides, "sides")
        drones = parse_ints(args.drones, "drones")
        arch = parse_ints(args.net_arch, "net-arch")
        if any(not 4 <= s <= 512 for s in sides):
            raise ValueError(f"--sides={args.sides!r} is out of range; allowed: 4..512")
        if any(n > 256 for n in drones):
            raise ValueError(f"--drones={args.drones!r} is out of range; allowed: 1..256")
        if not 1 <= args.steps <= 100_000:
            raise ValueError(f"--steps={args.steps} is out of range; allowed: 1..100000")
        if not 0.0 <= args.obstacles <= 0.4:
            raise ValueError(f"--obstacles={args.obstacles} is out of range; allowed: 0.0..0.4")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(1)
    print(f"pinned to CPU {cpu}, one thread per library", file=sys.stderr)
    run_scale(sides, drones, args.steps, args.obstacles, arch, Path(args.out), Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
