"""Time PPO collection and update for alternative policy nets at one stage of the `default` profile.

The PPO update is matmul-bound on a CPU, so the nets' size sets most of the training speed. Each
variant builds the profile's model with different ``policy_kwargs`` (everything else as the profile
says), runs one warm-up iteration, then times ``--iterations`` iterations, splitting the time into
collection and update (``training.bench.time_iterations``). Variants alternate within a round and the
order is reversed every other round, so the machine's other load falls on all of them alike. Prints
one JSON line per measurement, then a table of medians, and writes both to ``--out``:

    python bench/policy_nets.py --stage 3 --iterations 3 --rounds 2
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

ROOT = Path(__file__).resolve().parents[1]


class SharedFirstLayer(BaseFeaturesExtractor):
    """One tanh layer shared by actor and critic (SB3 >= 1.8 has no shared layers in net_arch)."""

    def __init__(self, space: Any, width: int = 128) -> None:
        super().__init__(space, width)
        self.net = th.nn.Sequential(th.nn.Linear(space.shape[0], width), th.nn.Tanh())

    def forward(self, obs: th.Tensor) -> th.Tensor:
        return self.net(obs)


_SHARED = {"features_extractor_class": SharedFirstLayer, "share_features_extractor": True}
VARIANTS: dict[str, dict[str, Any]] = {
    "128x2 (before)": {"net_arch": [128, 128]},
    "critic 64x2": {"net_arch": {"pi": [128, 128], "vf": [64, 64]}},
    "shared 128 + heads 128": {"net_arch": {"pi": [128], "vf": [128]}, **_SHARED},
    "shared 128 + pi 128, vf 64": {"net_arch": {"pi": [128], "vf": [64]}, **_SHARED},
    "64x2 (shipped)": {"net_arch": [64, 64]},
}


def measure(name: str, stage: int, iterations: int) -> dict[str, Any]:
    """One fresh model of variant ``name``: seconds of collection and of update over the timed iterations."""
    from training.bench import time_iterations
    from training.config import load_profile
    from training.train import build_env, build_model

    profile = load_profile("default")
    model = build_model(profile, build_env("recon", profile, stage, profile.seed), "cpu", VARIANTS[name])
    timed = time_iterations(model, profile.rollout_size, iterations)
    return {"variant": name, "parameters": sum(t.numel() for t in model.policy.parameters()),
            "collect_s": timed["collect_seconds"], "update_s": timed["update_seconds"],
            "wall_s": timed["seconds"], "agent_steps_per_s": round(timed["agent_steps"] / timed["seconds"])}


def main(argv: list[str] | None = None) -> int:
    """Alternated rounds over VARIANTS; JSON lines and a median table on stdout, JSON to --out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", type=int, default=3, help="curriculum stage of the default profile")
    parser.add_argument("--iterations", type=int, default=3, help="timed PPO iterations per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "policy-nets.json")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.rounds < 1:
        parser.error("--iterations and --rounds must be at least 1")
    names = list(VARIANTS)
    rows = []
    for round_no in range(args.rounds):
        for name in names if round_no % 2 == 0 else names[::-1]:
            row = {"round": round_no, "stage": args.stage, **measure(name, args.stage, args.iterations)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    medians = []
    for name in names:
        mine = [r for r in rows if r["variant"] == name]
        medians.append({"variant": name, "parameters": mine[0]["parameters"],
                        **{k: statistics.median(r[k] for r in mine)
                           for k in ("collect_s", "update_s", "agent_steps_per_s")}})
    print("| nets | parameters | collection s | update s | agent-steps/s |\n|---|---:|---:|---:|---:|")
    for m in medians:
        print(f"| {m['variant']} | {m['parameters']:,} | {m['collect_s']:.2f} | {m['update_s']:.2f} "
              f"| {m['agent_steps_per_s']:,.0f} |")
    args.out.write_text(json.dumps({"stage": args.stage, "iterations": args.iterations, "rows": rows,
                                    "medians": medians}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
