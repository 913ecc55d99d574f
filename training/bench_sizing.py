"""`swarmops bench sizing`: training agent-steps/s against VecEnv rows and PPO batch size.

Every (rows, batch) configuration of a profile gets its own PPO model (one curriculum stage), all
alive at once, and the timed updates are interleaved round-robin: each round times one full PPO
iteration (collection + update) of every configuration, so a neighbour's load on this shared
machine hits all configurations alike and the ratios stay meaningful. The median over rounds is
reported, with the ratio to the profile's own (rows, batch). Prints a table, writes JSON.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_ROWS = (128, 256, 512, 1024)
DEFAULT_BATCHES = (2048, 4096, 8192)


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


def run_sizing(profile_name: str = "default", rows: tuple[int, ...] = DEFAULT_ROWS,
               batches: tuple[int, ...] = DEFAULT_BATCHES, rounds: int = 3, stage: int = -1,
               scenario: str = "recon",
               out: Path | None = Path("bench/results/sizing.json")) -> dict[str, Any]:
    """Measure, print the table and write the JSON; returns the result dict."""
    import torch

    from training.config import ProfileError, load_profile
    from training.train import build_env, build_model, resolve_device, set_threads

    base = load_profile(profile_name, scenario=scenario)
    stage_index = stage % len(base.curriculum)
    configs = _configs(profile_name, rows, batches, scenario)
    if not configs:
        raise ProfileError(f"no (rows, batch) combination is valid for profile {profile_name}")
    set_threads(base)
    device = resolve_device(base.device)
    models = []
    for r, b, prof in configs:
        model = build_model(prof, build_env(scenario, prof, stage_index, prof.seed), device)
        model.learn(prof.rollout_size)  # warm-up: allocations and first calls stay out of the timing
        models.append(model)
        print(f"built and warmed up: rows {r}, batch {b}", file=sys.stderr, flush=True)
    times: list[list[float]] = [[] for _ in configs]
    cpu: list[list[float]] = [[] for _ in configs]  # process CPU seconds (all torch threads)
    load = []
    for k in range(rounds):
        for i, ((r, b, prof), model) in enumerate(zip(configs, models)):
            t0, c0 = time.perf_counter(), time.process_time()
            model.learn(prof.rollout_size, reset_num_timesteps=False)
            times[i].append(time.perf_counter() - t0)
            cpu[i].append(time.process_time() - c0)
            print(f"round {k + 1}/{rounds}: rows {r}, batch {b}: {prof.rollout_size / times[i][-1]:,.0f} "
                  "agent-steps/s", file=sys.stderr, flush=True)
        load.append(os.getloadavg()[0])
    rows_out = []
    for (r, b, prof), ts, cs in zip(configs, times, cpu):
        med = statistics.median(ts)
        rows_out.append({"rows": r, "batch_size": b, "n_steps": prof.ppo.n_steps,
                         "rollout": prof.rollout_size, "minibatches_per_epoch": prof.rollout_size // b,
                         "seconds_per_update": [round(t, 3) for t in ts],
                         "cpu_seconds_per_update": [round(t, 3) for t in cs],
                         "agent_steps_per_s": round(prof.rollout_size / med, 1),
                         "agent_steps_per_cpu_s": round(prof.rollout_size / statistics.median(cs), 1)})
    own = (base.num_agents, base.ppo.batch_size)
    ref = next((x for x in rows_out if (x["rows"], x["batch_size"]) == own), None)
    for x in rows_out:
        x["ratio_to_profile"] = round(x["agent_steps_per_s"] / ref["agent_steps_per_s"], 2) if ref else None
        x["cpu_ratio_to_profile"] = (round(x["agent_steps_per_cpu_s"] / ref["agent_steps_per_cpu_s"], 2)
                                     if ref else None)
    st = base.curriculum[stage_index]
    doc = {
        "benchmark": "ppo-sizing: agent-steps/s (collection + update) against VecEnv rows and batch size",
        "profile": profile_name, "scenario": scenario,
        "profile_rows": base.num_agents, "profile_batch_size": base.ppo.batch_size,
        "stage": {"index": stage_index, "width": st.width, "height": st.height, "n_drones": st.n_drones},
        "net_arch": base.ppo.net_arch, "n_epochs": base.ppo.n_epochs, "device": device,
        "torch_threads": torch.get_num_threads(), "rounds": rounds,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
                    "load_average_during": [round(x, 2) for x in load]},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": rows_out,
    }
    _print(doc)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        os.replace(tmp, out)
        print(f"wrote {out}")
    return doc


def _print(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    st = doc["stage"]
    table = Table(title=f"PPO throughput of profile {doc['profile']} against rows and batch "
                        f"({st['width']}x{st['height']}, {st['n_drones']} drones, {doc['device']}, "
                        f"{doc['torch_threads']} torch threads, median of {doc['rounds']} "
                        "interleaved rounds)")
    for col in ("rows", "batch", "rollout", "minibatches/epoch", "agent-steps/s", "x profile",
                "per CPU-s", "x profile (CPU)"):
        table.add_column(col, justify="right")
    for x in doc["results"]:
        own = (x["rows"], x["batch_size"]) == (doc["profile_rows"], doc["profile_batch_size"])
        table.add_row(str(x["rows"]), str(x["batch_size"]), f"{x['rollout']:,}",
                      str(x["minibatches_per_epoch"]), f"{x['agent_steps_per_s']:,.0f}",
                      f"{x['ratio_to_profile'] or 0:.2f}{' (profile)' if own else ''}",
                      f"{x['agent_steps_per_cpu_s']:,.0f}", f"{x['cpu_ratio_to_profile'] or 0:.2f}")
    console = Console(width=160)
    console.print(table)
    console.print(f"load average during the rounds: {doc['machine']['load_average_during']} on "
                  f"{doc['machine']['cpus']} CPUs")
