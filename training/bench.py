"""`swarmops bench train`: PPO training throughput (collection + update) per profile, and peak memory.

Each profile runs in its own process so that its peak RSS is its own. One warm-up update is not
timed. Writes a table to stdout and JSON to bench/results/train.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_CPU = 5_000
TARGET_GPU = 50_000


def time_iterations(model: Any, rollout_size: int, iterations: int, warm_up: bool = True) -> dict[str, float]:
    """Time ``iterations`` PPO iterations of ``model`` (after one untimed warm-up iteration unless
    ``warm_up`` is False): agent-steps, wall and CPU seconds, and the wall seconds spent collecting
    rollouts and updating. The one timing used by `swarmops bench train`, `swarmops bench sizing`
    and bench/policy_nets.py."""
    from stable_baselines3.common.callbacks import BaseCallback

    collect = {"seconds": 0.0, "t0": 0.0}

    class Timer(BaseCallback):
        def _on_rollout_start(self) -> None:
            collect["t0"] = time.perf_counter()

        def _on_rollout_end(self) -> None:
            collect["seconds"] += time.perf_counter() - collect["t0"]

        def _on_step(self) -> bool:
            return True

    if warm_up:
        model.learn(rollout_size)  # allocations and first-call overheads stay out of the timing
    steps = iterations * rollout_size
    t0, c0 = time.perf_counter(), time.process_time()
    model.learn(steps, callback=Timer(), reset_num_timesteps=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"agent_steps": steps, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "collect_seconds": round(collect["seconds"], 3),
            "update_seconds": round(wall - collect["seconds"], 3)}


def bench_one(profile_name: str, updates: int, scenario: str = "recon") -> dict[str, Any]:
    """Time ``updates`` PPO iterations of one profile (after a warm-up); runs in the current process."""
    import torch

    from training.config import load_profile
    from training.train import build_env, build_model, resolve_device, set_threads

    profile = load_profile(profile_name)
    device = resolve_device(profile.device)
    set_threads(profile)
    warm_up = True
    if device == "cpu" and profile.num_agents > 1024:
        updates, warm_up = 1, False  # a GPU-sized rollout on a CPU: one timed update for the table
    model = build_model(profile, build_env(scenario, profile, 0, profile.seed), device)
    timed = time_iterations(model, profile.rollout_size, updates, warm_up)
    steps, total = timed["agent_steps"], timed["seconds"]
    return {
        "profile": profile_name,
        "scenario": scenario,
        "device": device,
        "num_agents": profile.num_agents,
        "n_steps": profile.ppo.n_steps,
        "net_arch": profile.ppo.net_arch,
        "updates": updates,
        "agent_steps": steps,
        "seconds": total,
        "agent_steps_per_second": round(steps / total, 1),
        "collection_agent_steps_per_second": round(steps / max(timed["collect_seconds"], 1e-9), 1),
        "update_seconds": timed["update_seconds"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None,
        "torch_threads": torch.get_num_threads(),
    }


def run_bench(profiles: list[str], updates: int, out: Path) -> dict[str, Any]:
    """Benchmark each profile in a child process, print a table and write the JSON file."""
    from swarmops.cliutils import table_console
    from rich.table import Table

    from training.config import load_profile

    for name in profiles:
        load_profile(name)  # bad names fail before any work
    results = []
    for name in profiles:
        proc = subprocess.run(
            [sys.executable, "-m", "training.bench", name, str(updates)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise RuntimeError(f"bench of profile {name} failed: {proc.stderr.strip().splitlines()[-1:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    import torch

    doc = {
        "benchmark": "ppo-train",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.cuda.is_available(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "targets": {"cpu_agent_steps_per_second": TARGET_CPU, "gpu_agent_steps_per_second": TARGET_GPU},
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, out)
    table = Table(title="PPO training throughput (collection + update)")
    for col in (
        "profile",
        "device",
        "agents",
        "agent-steps",
        "agent-steps/s",
        "collect only /s",
        "update s",
        "peak RSS MB",
        "peak GPU MB",
        "target",
    ):
        table.add_column(col)
    for r in results:
        target = TARGET_GPU if r["device"] == "cuda" else TARGET_CPU
        ok = "ok" if r["agent_steps_per_second"] >= target else "BELOW"
        if r["device"] == "cpu" and r["num_agents"] > 1024:
            target, ok = 0, "n/a (GPU-sized profile on a CPU)"
        table.add_row(
            r["profile"],
            r["device"],
            str(r["num_agents"]),
            f"{r['agent_steps']:,}",
            f"{r['agent_steps_per_second']:,.0f}",
            f"{r['collection_agent_steps_per_second']:,.0f}",
            f"{r['update_seconds']:.2f}",
            f"{r['peak_rss_mb']:,.0f}",
            "-" if r["peak_gpu_mb"] is None else f"{r['peak_gpu_mb']:,.0f}",
            f"{target:,} {ok}" if target else ok,
        )
    table_console(table).print(table)  # every column, also in a pipe
    if not doc["machine"]["cuda"] and "gpu" in profiles:
        print("no CUDA device here: the gpu profile ran on the CPU (one update) for the table only")
    print(f"wrote {out}")
    return doc


if __name__ == "__main__":  # child process of run_bench: python -m training.bench PROFILE UPDATES
    print(json.dumps(bench_one(sys.argv[1], int(sys.argv[2]))))
