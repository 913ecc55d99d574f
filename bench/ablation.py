"""Policy ablations on the scenario suite: one short training per variant, time ratios per split.

Each variant trains the recon (or, with --scenario watering, the watering) policy with the real
trainer (training.train.train, a throw-away ledger/MLflow store under a temporary folder) and is
scored with the evaluation's own code (training.evaluate): median time ratio to the best heuristic
and to the lower bound, per split and for the held-out fields at the held-out obstacle density.
Prints a Markdown table (docs/policy.md keeps it) and writes bench/results/ablation.json.

    nice -n 10 .venv/bin/python bench/ablation.py [--profile smoke] [--variants base,no_far,...]
        [--seeds 0,1] [--scenario recon|watering] [--out bench/results/ablation.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from env.core import OBS_LAYOUT_VERSION

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _patched(owner: Any, attr: str, replacement: Any) -> Iterator[None]:
    """``owner.attr`` replaced for the duration (a variant's change to the simulator or the policy)."""
    original = getattr(owner, attr)
    setattr(owner, attr, replacement)
    try:
        yield
    finally:
        setattr(owner, attr, original)


def _no_far_field() -> Any:
    """The observation without the far-field maps (zeros): obs layout v1 plus constant columns."""
    from env.core import FAR_FEATURES, SwarmSim

    def zeros(self: Any, fields: np.ndarray, *_: Any) -> np.ndarray:
        return np.zeros((len(fields) * self.N, FAR_FEATURES), dtype=np.float32)

    return _patched(SwarmSim, "_far_field", zeros)


def _no_compass() -> Any:
    """The observation without the frontier compass (zeros)."""
    from env.core import COMPASS_FEATURES, SwarmSim

    def zeros(self: Any, fields: np.ndarray, *_: Any) -> np.ndarray:
        return np.zeros((len(fields) * self.N, COMPASS_FEATURES), dtype=np.float32)

    return _patched(SwarmSim, "_compass", zeros)


def _no_ids() -> Any:
    """The observation without the identity features (zeros): identical drones look identical."""
    from env.core import COMPASS_FEATURES, ID_FEATURES, OBS_DIM, SwarmSim

    original = SwarmSim.observe
    first = OBS_DIM - COMPASS_FEATURES - ID_FEATURES  # the compass follows the identity features

    def observe(self: Any, fields: np.ndarray) -> np.ndarray:
        obs = original(self, fields)
        obs[:, first:first + ID_FEATURES] = 0.0
        return obs

    return _patched(SwarmSim, "observe", observe)


@contextlib.contextmanager
def _both(first: Any, second: Any) -> Iterator[None]:
    """Two variants' changes at once."""
    with first, second:
        yield


def _no_home_compass() -> Any:
    """Watering: the compass of an empty-tank drone points at the nearest needy plant (layout v4)."""
    from env.core import SwarmSim

    return _patched(SwarmSim, "_homebound", lambda self, fields, here: np.zeros(len(here), dtype=bool))


def _no_regions() -> Any:
    """No drone owns a region: every compass leads to the nearest work (layout v4's compass)."""
    from env.core import SwarmSim

    return _patched(SwarmSim, "OWN_REGIONS", ())


def _no_plan() -> Any:
    """Watering: drones fly no plan; the compass leads to their region's nearest plant (layout v7)."""
    from env.core import SwarmSim

    return _patched(SwarmSim, "PLANNED_WORK", ())


def _nearest_regions() -> Any:
    """Recon: a drone's region is the cells nearest to it, not its sector around the base (layout v6)."""
    from env.core import SwarmSim

    return _patched(SwarmSim, "SECTOR_REGIONS", ())


def _no_release_mask() -> Any:
    """Watering: releases are never masked (only blocked moves are)."""
    import torch as th

    import training.policy

    return _patched(training.policy, "useless_releases",
                    lambda obs: th.zeros(obs.shape[0], dtype=th.bool, device=obs.device))


def _no_home_mask() -> Any:
    """Watering: an empty tank's drone may take any action on its way home (not only the compass's)."""
    import torch as th

    import training.policy

    return _patched(training.policy, "detours_home",
                    lambda obs, n: th.zeros((obs.shape[0], n), dtype=th.bool, device=obs.device))


# name -> (description, context manager factory, profile overrides); every variant is scored with
# sampled actions + the battery shield, without the shield, and with deterministic (argmax) acting.
VARIANTS: dict[str, tuple[str, Callable[[], Any], list[str]]] = {
    "base": (f"obs v{OBS_LAYOUT_VERSION} (7x7 window + far field + ids + frontier compass)",
             contextlib.nullcontext, []),
    "no_mask": ("without masking moves into blocked cells (training.policy)", contextlib.nullcontext,
                ["ppo.mask_blocked_moves=false"]),
    "no_compass": ("without the frontier compass", _no_compass, []),
    "no_far": ("without the far-field maps", _no_far_field, []),
    "no_ids": ("without the identity features", _no_ids, []),
    "nearest_regions": ("recon: regions of the cells nearest each drone (v6), not sectors", _nearest_regions,
                        []),
    "no_plan": ("watering: no plan; the compass leads to the region's nearest plant (v7)", _no_plan, []),
    "no_home_compass": ("watering: the compass ignores an empty tank (v4)", _no_home_compass, []),
    "no_release_mask": ("watering: releases not masked", _no_release_mask, []),
    "no_home_mask": ("watering: an empty tank's detours from the way home not masked", _no_home_mask, []),
    "no_regions": ("drones not led to their own region first (v4's compass; watering: with no_plan)",
                   _no_regions, []),
    "v4_watering": ("watering as in layout v4: none of the five above",
                    lambda: _both(_both(_both(_no_home_compass(), _no_home_mask()),
                                        _both(_no_release_mask(), _no_regions())), _no_plan()), []),
    "big_stage": (
        "curriculum + a 24x24/4-drone stage with obstacles (battery and travel matter there)",
        contextlib.nullcontext,
        [
            "curriculum=[{width: 8, height: 8, n_drones: 2, share: 0.3, obstacle_density: 0.0},"
            " {width: 12, height: 12, n_drones: 4, share: 0.4, obstacle_density: 0.1},"
            " {width: 24, height: 24, n_drones: 4, share: 0.3, obstacle_density: 0.1}]"
        ],
    ),
}


def run_variant(name: str, profile_name: str, suite_dir: Path, seed: int | None = None,
                scenario: str = "recon", extra: list[str] | None = None) -> list[dict[str, Any]]:
    """Train one variant (with the profile's seed, or ``seed``) and score it on the suite (three ways of
    acting, four when the profile's acting temperature is not 1); one table row each."""
    from training.config import load_profile
    from training.evaluate import POLICY, evaluate_policies, policy_callable, summarise
    from training.ledger import Ledger
    from training.scenarios import load_suite
    from training.train import train

    description, context, overrides = VARIANTS[name]
    seed_override = [] if seed is None else [f"seed={seed}"]
    profile = load_profile(profile_name, overrides=overrides + (extra or []) + seed_override,
                           scenario=scenario)
    with context():
        t0 = time.perf_counter()
        result = train(scenario, profile, ledger=Ledger(), progress=False,
                       run_id=f"ablation-{name}-s{profile.seed}")
        train_s = time.perf_counter() - t0
        from stable_baselines3 import PPO

        model = PPO.load(result.model_path, device="cpu")
        out = []
        # the model's own acting temperature (ppo.acting_temperature); sampled at 1 as well when it differs
        own = getattr(model.policy, "acting_temperature", 1.0)
        modes = [(False, True, own)] + ([(False, True, 1.0)] if own != 1.0 else []) \
            + [(False, False, own), (True, True, own)]
        for deterministic, shield, temperature in modes:
            if hasattr(model.policy, "acting_temperature"):
                model.policy.acting_temperature = temperature
            policy = {POLICY: policy_callable(model, deterministic, shield)}
            rows, _ = evaluate_policies(load_suite(suite_dir), scenario, policy, progress=False)
            acting = ("argmax" if deterministic else "sampled") + \
                (f" at T={temperature:g}" if temperature != 1.0 and not deterministic else "") + \
                (" + shield" if shield else "")
            out.append(_row(name, description, acting, profile_name, profile.seed, result, train_s,
                            summarise(rows)))
    return out


def _row(name: str, description: str, acting: str, profile_name: str, seed: int, result: Any,
         train_s: float, m: dict[str, Any]) -> dict[str, Any]:
    from training.evaluate import POLICY

    held_o20 = m.get("groups", {}).get("held_out/o20", {})
    return {
        "variant": name,
        "seed": seed,
        "change": description,
        "acting": acting,
        "profile": profile_name,
        "agent_steps": result.timesteps,
        "agent_steps_per_s": round(result.agent_steps_per_second),
        "train_s": round(train_s, 1),
        "time_ratio": m.get("time_ratio_to_heuristic"),
        "time_ratio_train": m.get("time_ratio_to_heuristic_train"),
        "time_ratio_held_out": m.get("time_ratio_to_heuristic_held_out"),
        "time_ratio_held_out_o20": held_o20.get("time_ratio_to_heuristic"),
        "lower_bound_ratio_held_out_o20": held_o20.get("time_ratio_to_lower_bound"),
        "collisions": m["policies"][POLICY].get("collisions"),
        # watering only: the policy's net water per step / greedy's (median), and its waste
        "net_ratio_to_greedy": m.get("net_ratio_to_greedy"),
        "waste_fraction": m.get("waste_fraction"),
    }


def main() -> None:
    """Run the chosen variants one after another; print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    parser.add_argument("--scenario", default="recon", choices=("recon", "watering"))
    parser.add_argument("--seeds", default="", help="comma list of training seeds (default: the profile's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="profile override for every variant (as swarmops train --set), repeatable")
    parser.add_argument("--suite", type=Path, default=ROOT / "data" / "scenarios")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ablation.json")
    args = parser.parse_args()
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; allowed: {', '.join(VARIANTS)}")
    scratch = Path(tempfile.mkdtemp(prefix="swarmops-ablation-"))  # throw-away ledger and MLflow store
    os.environ.update(
        SWARMOPS_DB_URL=f"sqlite:///{scratch / 'ledger.db'}",
        MLFLOW_TRACKING_URI=f"sqlite:///{scratch / 'mlflow.db'}",
        SWARMOPS_RUNS_DIR=str(scratch / "runs"),
    )
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s] or [None]
    except ValueError:
        parser.error(f"--seeds {args.seeds!r}: expected a comma list of integers")
    rows = []
    for name, seed in ((n, s) for n in names for s in seeds):
        for row in run_variant(name, args.profile, args.suite, seed, args.scenario, args.set):
            rows.append(row)
            print(json.dumps(row), flush=True)
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"profile": args.profile, "scenario": args.scenario, "set": args.set,
                                    "rows": rows},
                                   indent=1) + "\n")


if __name__ == "__main__":
    main()
