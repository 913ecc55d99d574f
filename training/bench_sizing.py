"""`swarmops bench sizing`: training agent-steps/s against VecEnv rows and PPO batch size.

Each measurement is a fresh process holding one PPO model (one curriculum stage of the profile):
it builds the model, runs one warm-up PPO iteration (allocations, first calls), then times
``--iterations`` full iterations (collection + update). Configurations alternate within a round
(the order is reversed every other round), so a neighbour's load on this shared machine falls on
every configuration alike. (An earlier version kept all models alive in one process and timed
them round-robin; its figures contradicted each other.) The median over rounds is reported, with
the ratio to the profile's own (rows, batch) and the knee: the smallest configuration within
KNEE_SHARE of the fastest. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_ROWS = (128, 256, 512, 1024)
DEFAULT_BATCHES = (2048, 4096, 8192)
KNEE_SHARE = 0.9  # the knee: the fewest rows (then smallest batch) reaching 90 % of the best median
ROOT = Path(__file__).resolve().parent.parent


def _configs(profile_name: str, rows: tuple[int, ...], batches: tuple[int, ...],
             scenario: str) -> list[tuple[int, int, Any]]:
    """(rows, batch, profile) for every combination the profile's rules allow."""
    from training.config import ProfileError, load_profile

    out = []
    for r in rows:
        for b in batches:
            try:
                sets = [f"num_agents={r}", f"ppo.batch_size={b}"]
                prof = load_profile(profile_name, sets, scenario=scenario)
            except ProfileError:
                continue  # batch does not divide rows x n_steps, or rows not divisible by drones
            out.append((r, b, prof))
    return out


def measure_one(profile_name: str, rows: int, batch: int, stage: int, scenario: str,
                iterations: int) -> dict[str, Any]:
    """In this process: build one model, warm it up, time ``iterations`` PPO iterations."""
    from training.bench import time_iterations
    from training.config import load_profile
    from training.train import build_env, build_model, resolve_device, set_threads

    prof = load_profile(profile_name, [f"num_agents={rows}", f"ppo.batch_size={batch}"], scenario=scenario)
    stage_index = stage % len(prof.curriculum)
    set_threads(prof)
    model = build_model(prof, build_env(scenario, prof, stage_index, prof.seed), resolve_device(prof.device))
    timed = time_iterations(model, prof.rollout_size, iterations)
    import torch

    return {"rows": rows, "batch_size": batch, "agent_steps": timed["agent_steps"],
            "seconds": timed["seconds"], "cpu_seconds": timed["cpu_seconds"],
            "torch_threads": torch.get_num_threads(),
            "load_average": round(os.getloadavg()[0], 2), "pid": os.getpid()}


def _spawn(profile_name: str, rows: int, batch: int, stage: int, scenario: str, iterations: int) -> dict:
    """One measurement in a fresh process (this checkout first on PYTHONPATH)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "training.bench_sizing", "--profile", profile_name, "--rows", str(rows),
           "--batch", str(batch), "--stage", str(stage), "--scenario", scenario,
           "--iterations", str(iterations)]
    env = dict(os.environ, PYTHONPATH=path)
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"sizing measurement rows {rows}, batch {batch} failed: {tail}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_sizing(profile_name: str = "default", rows: tuple[int, ...] = DEFAULT_ROWS,
               batches: tuple[int, ...] = DEFAULT_BATCHES, rounds: int = 3, stage: int = -1,
               scenario: str = "recon", out: Path | None = Path("bench/results/sizing.json"),
               iterations: int = 3) -> dict[str, Any]:
    """Measure (one process per configuration and round), print the table, write the JSON."""
    from training.config import ProfileError, load_profile

    base = load_profile(profile_name, scenario=scenario)
    stage_index = stage % len(base.curriculum)
    configs = _configs(profile_name, rows, batches, scenario)
    if not configs:
        raise ProfileError(f"no (rows, batch) combination is valid for profile {profile_name}")
    runs: dict[tuple[int, int], list[dict]] = {(r, b): [] for r, b, _ in configs}
    doc: dict[str, Any] = {}
    for k in range(rounds):
        order = configs if k % 2 == 0 else configs[::-1]
        for r, b, _ in order:
            run = _spawn(profile_name, r, b, stage_index, scenario, iterations)
            runs[(r, b)].append(run)
            print(f"round {k + 1}/{rounds}: rows {r}, batch {b}: {run['agent_steps'] / run['seconds']:,.0f} "
                  f"agent-steps/s (load {run['load_average']})", file=sys.stderr, flush=True)
        # Written after every round: a long run stopped early keeps the rounds it finished.
        doc = _summary(profile_name, scenario, base, stage_index, configs, runs, k + 1, iterations)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=2) + "\n")
            os.replace(tmp, out)
    _print(doc)
    if out is not None:
        print(f"wrote {out}")
    return doc


def _summary(profile_name: str, scenario: str, base: Any, stage_index: int, configs: list,
             runs: dict[tuple[int, int], list[dict]], rounds: int, iterations: int) -> dict[str, Any]:
    """The JSON document of the runs so far: medians, ratios to the profile, the knee."""
    rows_out = []
    for r, b, prof in configs:
        rs = runs[(r, b)]
        rows_out.append({"rows": r, "batch_size": b, "n_steps": prof.ppo.n_steps,
                         "rollout": prof.rollout_size, "minibatches_per_epoch": prof.rollout_size // b,
                         "runs": rs,
                         "agent_steps_per_s_runs": [round(x["agent_steps"] / x["seconds"], 1) for x in rs],
                         "agent_steps_per_s": round(statistics.median(
                             x["agent_steps"] / x["seconds"] for x in rs), 1),
                         "agent_steps_per_cpu_s": round(statistics.median(
                             x["agent_steps"] / x["cpu_seconds"] for x in rs), 1)})
    own = (base.num_agents, base.ppo.batch_size)
    ref = next((x for x in rows_out if (x["rows"], x["batch_size"]) == own), None)
    for x in rows_out:
        x["ratio_to_profile"] = round(x["agent_steps_per_s"] / ref["agent_steps_per_s"], 2) if ref else None
        x["cpu_ratio_to_profile"] = (round(x["agent_steps_per_cpu_s"] / ref["agent_steps_per_cpu_s"], 2)
                                     if ref else None)
    best = max(x["agent_steps_per_s"] for x in rows_out)
    knee = min((x for x in rows_out if x["agent_steps_per_s"] >= KNEE_SHARE * best),
               key=lambda x: (x["rows"], x["batch_size"]))
    st = base.curriculum[stage_index]
    return {
        "benchmark": "ppo-sizing: agent-steps/s (collection + update) against VecEnv rows and batch size, "
                     "one process per configuration and round, configurations alternated",
        "profile": profile_name, "scenario": scenario,
        "profile_rows": base.num_agents, "profile_batch_size": base.ppo.batch_size,
        "stage": {"index": stage_index, "width": st.width, "height": st.height, "n_drones": st.n_drones},
        "net_arch": base.ppo.net_arch, "n_epochs": base.ppo.n_epochs, "device": "cpu",
        "torch_threads": rows_out[0]["runs"][0]["torch_threads"], "rounds": rounds,
        "iterations_per_run": iterations,
        "knee": {"rows": knee["rows"], "batch_size": knee["batch_size"], "share_of_best": KNEE_SHARE},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_during": [x["load_average"] for r in rows_out for x in r["runs"]]},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": rows_out,
    }


def _print(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    st = doc["stage"]
    table = Table(title=f"PPO throughput of profile {doc['profile']} against rows and batch "
                        f"({st['width']}x{st['height']}, {st['n_drones']} drones, {doc['device']}, "
                        f"{doc['torch_threads']} torch threads, median of {doc['rounds']} "
                        "alternated rounds, one process each)")
    for col in ("rows", "batch", "rollout", "minibatches/epoch", "agent-steps/s (median)", "runs",
                "x profile", "per CPU-s", "x profile (CPU)"):
        table.add_column(col, justify="right")
    knee = (doc["knee"]["rows"], doc["knee"]["batch_size"])
    for x in doc["results"]:
        key = (x["rows"], x["batch_size"])
        mark = (" (profile)" if key == (doc["profile_rows"], doc["profile_batch_size"]) else "") + \
            (" (knee)" if key == knee else "")
        table.add_row(str(x["rows"]), str(x["batch_size"]), f"{x['rollout']:,}",
                      str(x["minibatches_per_epoch"]), f"{x['agent_steps_per_s']:,.0f}",
                      " / ".join(f"{v / 1000:.1f}k" for v in x["agent_steps_per_s_runs"]),
                      f"{x['ratio_to_profile'] or 0:.2f}{mark}",
                      f"{x['agent_steps_per_cpu_s']:,.0f}", f"{x['cpu_ratio_to_profile'] or 0:.2f}")
    console = Console(width=160)
    console.print(table)
    console.print(f"load average during the rounds: {doc['machine']['load_average_during']} on "
                  f"{doc['machine']['cpus']} CPUs")


def main(argv: list[str] | None = None) -> int:
    """One measurement (the child process of run_sizing): prints one JSON line."""
    p = argparse.ArgumentParser(prog="python -m training.bench_sizing", description=measure_one.__doc__)
    p.add_argument("--profile", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--stage", type=int, default=-1)
    p.add_argument("--scenario", default="recon")
    p.add_argument("--iterations", type=int, default=3)
    a = p.parse_args(argv)
    print(json.dumps(measure_one(a.profile, a.rows, a.batch, a.stage, a.scenario, a.iterations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
