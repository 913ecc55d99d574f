"""`swarmops bench tune`: trials per hour of `swarmops tune` with 1 and with 2 local workers.

A tiny search (16-row VecEnv, a few thousand agent-steps per trial, one small suite file, no
pruning so every trial does the same work) on the embedded SQLite storage, in a throw-away runs
dir. Each setting is the real command (`swarmops tune --workers K`), timed end to end, so process
start-up and storage contention count. Settings alternate (1, 2, 2, 1, ...) so that a change in
machine load hits both; the ratio of the means is the figure to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PROFILE = {
    "description": "tiny profile of the tune benchmark",
    "seed": 0, "device": "cpu", "total_timesteps": 4096, "num_agents": 16, "checkpoint_every": 4096,
    "torch_threads": 1,
    "curriculum": [{"width": 8, "height": 8, "n_drones": 2, "share": 1.0}],
    "ppo": {"learning_rate": 0.001, "n_steps": 32, "batch_size": 256, "n_epochs": 1, "net_arch": [16]},
    "episode_gif": False,
}
SUITE = {"scenarios": {"version": "v1", "seed": 7, "layouts_per_config": 2, "scenarios": ["recon"],
                       "field": {}, "configs": [{"split": "train", "width": 8, "height": 8, "n_drones": 2}]}}


def _space(trials: int, steps: int) -> dict[str, Any]:
    return {
        "trial": {"total_timesteps": steps, "eval_every": steps // 2, "suite_entries": 1},
        "pruner": "median",
        "startup_trials": trials,  # no pruning: every trial trains its whole budget
        "params": {"ppo.learning_rate": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True}},
    }


def _one(root: Path, workers: int, trials: int, index: int) -> dict[str, Any]:
    home = root / f"runs-{workers}-{index}"
    env = {**os.environ, "SWARMOPS_RUNS_DIR": str(home), "PYTHONUNBUFFERED": "1"}
    for var in ("SWARMOPS_TUNE_STORAGE", "MLFLOW_TRACKING_URI", "SWARMOPS_DB_URL"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "swarmops", "tune", "--scenario", "recon", "--trials", str(trials),
           "--workers", str(workers), "--profile", str(root / "tiny.yaml"),
           "--space", str(root / "space.yaml"),
           "--suite", str(root / "suite"), "--study", "bench", "--no-report"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"tune with {workers} worker(s) failed: {proc.stderr.strip().splitlines()[-1:]}")
    import optuna

    study = optuna.load_study(study_name="bench", storage=f"sqlite:///{home / 'optuna.db'}")
    finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    return {"workers": workers, "trials": finished, "seconds": round(seconds, 2),
            "trials_per_hour": round(finished / seconds * 3600, 1)}


def run_tune_bench(trials: int, steps: int, repeats: int, out: Path) -> dict[str, Any]:
    """Time `swarmops tune` with 1 and 2 workers (alternating, ``repeats`` each); table + JSON."""
    from rich.console import Console
    from rich.table import Table

    from training.scenarios import generate_suite, load_params

    with tempfile.TemporaryDirectory(prefix="swarmops-tune-bench-") as tmp:
        root = Path(tmp)
        (root / "tiny.yaml").write_text(yaml.safe_dump(PROFILE))
        (root / "space.yaml").write_text(yaml.safe_dump(_space(trials, steps)))
        (root / "params.yaml").write_text(yaml.safe_dump(SUITE))
        generate_suite(load_params(root / "params.yaml"), root / "suite")
        order = [w for i in range(repeats) for w in ((1, 2) if i % 2 == 0 else (2, 1))]
        runs = [_one(root, w, trials, i) for i, w in enumerate(order)]
    mean = {w: sum(r["trials_per_hour"] for r in runs if r["workers"] == w) / repeats for w in (1, 2)}
    doc = {
        "benchmark": "tune-trials-per-hour",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                    "gpu": "none lent (CPU only)"},
        "search": {"trials": trials, "agent_steps_per_trial": steps, "pruning": "off", "storage": "sqlite",
                   "profile": PROFILE["ppo"], "num_agents": PROFILE["num_agents"]},
        "runs": runs,
        "mean_trials_per_hour": {str(w): round(v, 1) for w, v in mean.items()},
        "ratio_2_to_1_workers": round(mean[2] / mean[1], 3),
    }
    table = Table(title=f"swarmops tune: trials/hour, {trials} trials of {steps:,} agent-steps")
    for col in ("workers", "trials", "seconds", "trials/hour"):
        table.add_column(col, justify="right")
    for r in runs:
        table.add_row(str(r["workers"]), str(r["trials"]), f"{r['seconds']:.1f}",
                      f"{r['trials_per_hour']:.0f}")
    Console(width=120).print(table)
    print(f"mean trials/hour: 1 worker {mean[1]:.0f}, 2 workers {mean[2]:.0f}; ratio 2/1 = "
          f"{doc['ratio_2_to_1_workers']:.2f} ({os.cpu_count()} CPUs, "
          f"load {doc['machine']['load_average_1m']})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return doc
