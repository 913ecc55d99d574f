"""Where a whole `swarmops train` run spends its time: the run itself, with timers around SB3's parts.

A whole run is what a user waits for, and it spends time that per-iteration benchmarks miss
(curriculum stages, episode resets under a trained policy, checkpoints, logging). This wraps the
methods named in ``TIMED`` with wall-clock timers, runs ``training.train.train`` once with the
embedded stores in a scratch folder (nothing touches ./runs or a team server), and prints a table of
seconds per part and calls; ``--out`` writes the same as JSON. Nested parts are included in their
parent (env step and buffer add inside collect_rollouts). Works in older trees too: run it with
``PYTHONPATH=<tree>`` from a worktree to compare revisions.

    python bench/whole_run_profile.py --profile default --out bench/results/whole-run-profile.json
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

# (module, class or None, attribute, label); the module is imported before wrapping
TIMED = [
    ("stable_baselines3.ppo.ppo", "PPO", "train", "PPO update"),
    ("stable_baselines3.common.on_policy_algorithm", "OnPolicyAlgorithm", "collect_rollouts", "collection"),
    ("stable_baselines3.common.vec_env.vec_monitor", "VecMonitor", "step_wait", "  env step"),
    ("stable_baselines3.common.buffers", "RolloutBuffer", "add", "  rollout buffer add"),
    ("stable_baselines3.common.callbacks", "BaseCallback", "on_step", "  callback per step"),
    ("training.train", None, "build_env", "build env (per stage)"),
    ("training.train", None, "build_model", "build model"),
    ("training.train", None, "save_checkpoint", "checkpoints"),
]


def _wrap(owner: Any, name: str, label: str, totals: collections.Counter, calls: collections.Counter) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(inner)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start
            calls[label] += 1

    setattr(owner, name, timed)


def main(argv: list[str]) -> int:
    """Run one training with timers; print the table; write JSON to --out when given."""
    import importlib

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="recon")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--out", type=Path, help="JSON file to write")
    args = parser.parse_args(argv)

    totals: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    for module, cls, attr, label in TIMED:
        owner = importlib.import_module(module)
        owner = getattr(owner, cls) if cls else owner
        if hasattr(owner, attr):  # an older tree may lack one of ours: that part reads 0 calls
            _wrap(owner, attr, label, totals, calls)

    from training.config import load_profile
    from training.train import train

    profile = load_profile(args.profile)
    with tempfile.TemporaryDirectory(prefix="swarmops-whole-run-") as scratch:
        os.environ["SWARMOPS_RUNS_DIR"] = scratch
        for key in ("SWARMOPS_DB_URL", "MLFLOW_TRACKING_URI"):  # embedded stores under scratch
            os.environ.pop(key, None)
        start = time.perf_counter()
        result = train(args.scenario, profile, progress=False)
        wall = time.perf_counter() - start

    import training

    parts = {label: {"seconds": round(totals[label], 2), "calls": calls[label]} for _, _, _, label in TIMED}
    report = {"scenario": args.scenario, "profile": args.profile,
              "tree": str(Path(training.__file__).resolve().parents[1]), "agent_steps": result.timesteps,
              "agent_steps_per_s": round(result.agent_steps_per_second),
              "wall_s": round(wall, 1), "load_average": round(os.getloadavg()[0], 2), "parts": parts}
    print(f"{args.scenario} / {args.profile}: {result.timesteps:,} agent-steps, "
          f"{result.agent_steps_per_second:,.0f} agent-steps/s, train() {wall:.1f} s")
    print(f"{'part':<26}{'seconds':>9}{'share':>8}{'calls':>8}")
    for label, part in parts.items():
        print(f"{label:<26}{part['seconds']:>9.1f}{part['seconds'] / wall:>8.0%}{part['calls']:>8}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
