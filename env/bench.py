"""Simulator benchmark: agent-steps/s of the vectorised step (observations and auto-resets included)
on one core, side by side with the plain per-drone Python implementation, measured in the same run.

Run as ``swarmops bench env`` (or ``python -m env.bench``). It pins itself to one CPU and one thread
per library before numpy is loaded, prints a table and writes JSON (default bench/results/env.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
DEFAULT_BATCHES = (1, 4, 16, 64, 256, 1024, 4096)
DEFAULT_PLAIN_BATCHES = (1, 4, 16)
TARGET_AGENT_STEPS = 500_000
TARGET_SPEEDUP = 30.0


def pin_one_core() -> int | None:
    """Restrict this process to one CPU and one thread per numeric library; returns the CPU."""
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return cpu
    return None


def state_bytes(sim: Any) -> int:
    """Bytes of simulator state (maps, drone arrays, counters) held by ``sim``."""
    arrays = [
        sim.packed,
        sim.need,
        sim.hidden,
        sim.dist,
        sim.scratch,
        sim.cell,
        sim.battery,
        sim.tank,
        sim.active,
        sim.on_trip,
        sim.trip_delivered,
        sim.coarse_rem,
        sim.coarse_tot,
        sim.ret,
        *([sim.far_blocked] if hasattr(sim, "far_blocked") else []),
        *sim.counters.values(),
        # watering's plan (layout v8): the drones' distance maps from their stops, B x N x cells int32
        *([sim._ways] if getattr(sim, "_ways", None) is not None else []),
    ]
    return int(sum(a.nbytes for a in arrays))


# env modules whose revision travels with env/core.py in --ref (the step's own kernels); the rest of
# env (config, layouts, scenarios) comes from the working tree
_REF_MODULES = ("waves",)


def load_ref_sim(rev: str) -> Any:
    """SwarmSim of ``env/core.py`` (and its kernels, ``_REF_MODULES``) at git revision ``rev``, the rest
    of env from the working tree, to time it against the working tree's in the same run."""
    import importlib.util
    import subprocess

    def show(name: str) -> str | None:
        try:
            return subprocess.run(["git", "show", f"{rev}:env/{name}.py"], check=True, capture_output=True,
                                  text=True, cwd=Path(__file__).resolve().parent.parent).stdout
        except (subprocess.CalledProcessError, OSError):
            return None

    def load(name: str, text: str) -> Any:
        path = Path(tempfile.mkdtemp()) / f"ref_{name}.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(f"env._ref_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
        spec.loader.exec_module(mod)
        return mod

    core = show("core")
    if core is None:
        raise ValueError(f"--ref={rev!r} has no env/core.py; allowed: a git revision of this repository")
    for name in _REF_MODULES:
        text = show(name)
        if text is not None:
            load(name, text)
            core = core.replace(f"from env.{name} import", f"from env._ref_{name} import")
    return load("core", core).SwarmSim


def _same_observations(sim_a: Any, sim_b: Any, actions: list) -> bool:
    """Both simulators give bit-identical observations and rewards on ``actions`` (then reset)."""
    same = True
    for a in actions:
        ra, rb = sim_a.step(a), sim_b.step(a)
        same &= ra.obs.tobytes() == rb.obs.tobytes() and ra.rewards.tobytes() == rb.rewards.tobytes()
    sim_a.reset(), sim_b.reset()
    return bool(same)


def _measure(step: Any, actions: list, min_time: float, min_steps: int) -> tuple[int, float, float]:
    """Step until both ``min_time`` seconds and ``min_steps`` steps have passed.

    Returns (steps, wall seconds, CPU seconds of this process). On a shared machine the CPU time
    shows what the code costs; the wall time also includes waiting for the core.
    """
    for a in actions[:2]:  # warm-up
        step(a)
    n, start, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        step(actions[n % len(actions)])
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and n >= min_steps:
            return n, elapsed, time.process_time() - cpu0


def run_bench(
    batches: tuple[int, ...] = DEFAULT_BATCHES,
    plain_batches: tuple[int, ...] = DEFAULT_PLAIN_BATCHES,
    densities: tuple[float, ...] = (0.0, 0.2),
    width: int = 64,
    height: int = 64,
    n_drones: int = 8,
    scenario: str = "recon",
    min_time: float = 1.0,
    min_steps: int = 5,
    repeats: int = 3,
    out: Path | None = Path("bench/results/env.json"),
    progress: bool = True,
    ref: str | None = None,
) -> dict[str, Any]:
    """Measure, print the table, write the JSON; returns the result dict."""
    import numpy as np

    from env.config import FieldConfig
    from env.core import SwarmSim
    from env.reference import PlainSwarm

    sims: dict[str, Any] = {"vectorised": SwarmSim}
    if ref is not None:
        sims[f"vectorised@{ref}"] = load_ref_sim(ref)
    rows: list[dict[str, Any]] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=len(densities) * (len(sims) * len(batches) + len(plain_batches)),
            desc="bench env",
            unit="run",
            file=sys.stderr,
        )
    for dens in densities:
        cfg = FieldConfig(
            width=width,
            height=height,
            n_drones=n_drones,
            n_plants=int(0.05 * width * height),
            obstacle_density=dens,
        )
        from env.scenarios import get_scenario

        rng = np.random.default_rng(0)
        n_act = get_scenario(scenario).n_actions
        groups = [(tuple(sims), b) for b in batches] + [(("plain",), b) for b in plain_batches]
        for kinds, b in groups:
            acts = [rng.integers(0, n_act, b * n_drones) for _ in range(16)]
            built, setup = {}, {}
            for kind in kinds:
                t0 = time.perf_counter()
                built[kind] = (PlainSwarm(scenario, cfg, b, 1) if kind == "plain"
                               else sims[kind](scenario, cfg, b, seed=1))
                setup[kind] = time.perf_counter() - t0
            same = _same_observations(*built.values(), acts[:8]) if len(kinds) == 2 else None
            # Best of ``repeats`` trials (as timeit does): on a shared machine the slower trials
            # measure the neighbours, not this code. Implementations alternate trial by trial, so the
            # load falls on both alike. Every trial is kept in the JSON.
            trials: dict[str, list] = {kind: [] for kind in kinds}
            for _ in range(repeats):
                for kind in kinds:
                    trials[kind].append(_measure(built[kind].step, acts, min_time, min_steps))
            for kind in kinds:
                rows.append(_row(kind, dens, b, n_drones, trials[kind], setup[kind], built[kind], same))
                if bar is not None:
                    bar.update(1)
            del built
    if bar is not None:
        bar.close()
    result = _summarise(
        rows, densities, dict(width=width, height=height, n_drones=n_drones, scenario=scenario)
    )
    _print_table(result)
    if out is not None:
        _write_json(result, out)
    return result


def _row(kind: str, dens: float, b: int, n_drones: int, trials: list, setup: float, sim: Any,
         same: bool | None) -> dict[str, Any]:
    """One table row from the trials of one implementation and batch."""
    agents = b * n_drones
    steps, elapsed, cpu = max(trials, key=lambda t: t[0] / t[1])
    return {
        "obstacle_density": dens,
        "implementation": kind,
        "fields": b,
        "drones": agents,
        "steps": steps,
        "seconds": round(elapsed, 4),
        "agent_steps_per_s": round(steps * agents / elapsed, 1),
        "agent_steps_per_cpu_s": round(max(t[0] * agents / max(t[2], 1e-9) for t in trials), 1),
        "cpu_share": round(cpu / elapsed, 3),
        "ms_per_step": round(1000 * elapsed / steps, 3),
        "trials_agent_steps_per_s": [round(t[0] * agents / t[1], 1) for t in trials],
        "setup_s": round(setup, 3),
        "state_bytes_per_field": state_bytes(sim) // b if kind != "plain" else None,
        "observations_identical_to_ref": same,
    }


def _summarise(
    rows: list[dict[str, Any]], densities: tuple[float, ...], setup: dict[str, Any]
) -> dict[str, Any]:
    import numpy as np

    summary = {}
    for dens in densities:
        vec = [r for r in rows if r["obstacle_density"] == dens and r["implementation"] == "vectorised"]
        plain = [r for r in rows if r["obstacle_density"] == dens and r["implementation"] == "plain"]
        best = max(vec, key=lambda r: r["agent_steps_per_s"])
        best_cpu = max(vec, key=lambda r: r["agent_steps_per_cpu_s"])
        plain_best = max(r["agent_steps_per_s"] for r in plain) if plain else None
        plain_cpu = max(r["agent_steps_per_cpu_s"] for r in plain) if plain else None
        summary[str(dens)] = {
            "best_fields": best["fields"],
            "best_agent_steps_per_s": best["agent_steps_per_s"],
            "plain_agent_steps_per_s": plain_best,
            "speedup_vs_plain": round(best["agent_steps_per_s"] / plain_best, 1) if plain_best else None,
            "best_fields_cpu": best_cpu["fields"],
            "best_agent_steps_per_cpu_s": best_cpu["agent_steps_per_cpu_s"],
            "plain_agent_steps_per_cpu_s": plain_cpu,
            "speedup_vs_plain_cpu": (round(best_cpu["agent_steps_per_cpu_s"] / plain_cpu, 1)
                                     if plain_cpu else None),
            "state_bytes_per_field": best["state_bytes_per_field"],
        }
        ref = [r for r in rows if r["obstacle_density"] == dens and "@" in r["implementation"]]
        if ref:
            ref_best = max(ref, key=lambda r: r["agent_steps_per_cpu_s"])
            summary[str(dens)].update({
                "ref": ref_best["implementation"].split("@", 1)[1],
                "ref_best_agent_steps_per_cpu_s": ref_best["agent_steps_per_cpu_s"],
                "speedup_vs_ref_cpu": round(best_cpu["agent_steps_per_cpu_s"]
                                            / ref_best["agent_steps_per_cpu_s"], 2),
                "observations_identical_to_ref": all(r["observations_identical_to_ref"] for r in ref),
            })
    base = summary[str(densities[0])]
    for dens in densities[1:]:
        s = summary[str(dens)]
        s["obstacle_cost"] = round(1.0 - s["best_agent_steps_per_s"] / base["best_agent_steps_per_s"], 3)
        s["obstacle_cost_cpu"] = round(
            1.0 - s["best_agent_steps_per_cpu_s"] / base["best_agent_steps_per_cpu_s"], 3
        )
    return {
        "benchmark": "env step with observations (auto-reset included), one core, best of repeated trials",
        "setup": setup,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpu": _cpu_name(),
            "pinned_cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "threads": {v: os.environ.get(v) for v in _THREAD_VARS},
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "logical_cpus": os.cpu_count(),
        },
        "targets": {
            "agent_steps_per_s": TARGET_AGENT_STEPS,
            "speedup_vs_plain": TARGET_SPEEDUP,
            "met": bool(
                base["best_agent_steps_per_s"] >= TARGET_AGENT_STEPS
                and (base["speedup_vs_plain"] or 0) >= TARGET_SPEEDUP
            ),
        },
        "summary": summary,
        "rows": rows,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _print_table(result: dict[str, Any]) -> None:
    from swarmops.cliutils import table_console
    from rich.table import Table

    table = Table(
        title=f"swarmops bench env - {result['setup']['width']}x{result['setup']['height']}, "
        f"{result['setup']['n_drones']} drones/field, one core"
    )
    cols = ("obstacles", "impl", "fields", "agent-steps/s (wall)", "per CPU-s", "CPU share", "ms/step",
            "state B/field")
    for col in cols:
        table.add_column(col, justify="right")
    for r in result["rows"]:
        table.add_row(
            f"{r['obstacle_density']:.2f}",
            r["implementation"],
            str(r["fields"]),
            f"{r['agent_steps_per_s']:,.0f}",
            f"{r['agent_steps_per_cpu_s']:,.0f}",
            f"{r['cpu_share']:.0%}",
            f"{r['ms_per_step']:.2f}",
            f"{r['state_bytes_per_field']:,}" if r["state_bytes_per_field"] else "-",
        )
    console = table_console(table)  # every column, also in a pipe
    console.print(table)
    for dens, s in result["summary"].items():
        extra = f", obstacle cost {s['obstacle_cost']:.1%} (CPU {s['obstacle_cost_cpu']:.1%})" \
            if "obstacle_cost" in s else ""
        console.print(
            f"obstacles {dens}: best {s['best_agent_steps_per_s']:,.0f} agent-steps/s wall at "
            f"{s['best_fields']} fields ({s['best_agent_steps_per_cpu_s']:,.0f} per CPU-second); plain "
            f"{s['plain_agent_steps_per_s']:,.0f}; speed-up x{s['speedup_vs_plain']} "
            f"(CPU x{s['speedup_vs_plain_cpu']}){extra}"
        )
        if "ref" in s:
            console.print(
                f"obstacles {dens}: {s['ref']} best "
                f"{s['ref_best_agent_steps_per_cpu_s']:,.0f} per CPU-second; "
                f"working tree x{s['speedup_vs_ref_cpu']}; observations bit-identical: "
                f"{'yes' if s['observations_identical_to_ref'] else 'NO'}"
            )
    load = result["machine"]["load_average_at_end"]
    console.print(
        f"targets (>= {TARGET_AGENT_STEPS:,} agent-steps/s and >= x{TARGET_SPEEDUP:.0f}, wall clock): "
        f"{'met' if result['targets']['met'] else 'NOT met'}; load average {load[0]} on "
        f"{result['machine']['logical_cpus']} CPUs"
    )


def _write_json(result: dict[str, Any], out: Path) -> None:
    """Atomic write: a failed run leaves the previous results untouched."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)


def parse_ints(text: str, name: str) -> tuple[int, ...]:
    """'1,4,16' -> (1, 4, 16); a bad value raises ValueError naming the option."""
    try:
        vals = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(
            f"--{name}={text!r} is invalid; allowed: comma-separated integers 1..65536"
        ) from None
    if not vals or any(not 1 <= v <= 65536 for v in vals):
        raise ValueError(f"--{name}={text!r} is invalid; allowed: comma-separated integers 1..65536")
    return vals


def main(argv: list[str] | None = None) -> int:
    """``python -m env.bench``: pins one core, then runs the benchmark."""
    p = argparse.ArgumentParser(prog="python -m env.bench", description=__doc__)
    p.add_argument("--batches", default=",".join(map(str, DEFAULT_BATCHES)))
    p.add_argument("--plain-batches", default=",".join(map(str, DEFAULT_PLAIN_BATCHES)))
    p.add_argument("--densities", default="0.0,0.2")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--drones", type=int, default=8)
    p.add_argument("--scenario", default="recon")
    p.add_argument("--min-time", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="bench/results/env.json")
    p.add_argument("--ref", default=None, help="git revision whose env/core.py is timed alongside")
    args = p.parse_args(argv)
    cpu = pin_one_core()
    try:
        batches = parse_ints(args.batches, "batches")
        plain = parse_ints(args.plain_batches, "plain-batches")
        densities = tuple(float(v) for v in args.densities.split(","))
        from env.config import FieldConfig
        from env.scenarios import get_scenario

        get_scenario(args.scenario)
        for d in densities:
            FieldConfig(
                width=args.size,
                height=args.size,
                n_drones=args.drones,
                obstacle_density=d,
                n_plants=int(0.05 * args.size * args.size),
            )
        if not 1 <= args.repeats <= 20:
            raise ValueError(f"--repeats={args.repeats} is out of range; allowed: 1..20")
        if not 0.0 < args.min_time <= 60.0:
            raise ValueError(f"--min-time={args.min_time} is out of range; allowed: (0, 60]")
        if args.ref is not None:
            load_ref_sim(args.ref)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"pinned to CPU {cpu}, one thread per library", file=sys.stderr)
    run_bench(
        batches,
        plain,
        densities,
        args.size,
        args.size,
        args.drones,
        args.scenario,
        args.min_time,
        repeats=args.repeats,
        out=Path(args.out),
        ref=args.ref,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
