"""The sector sweep's tie break, measured: plain new cells against hemmed new cells, on the same fields.

Of the moves its compass shows, a sweep drone takes the one that newly senses the most; with
``Sectors.hemmed`` each new cell counts 1 + its eight neighbours with nothing left to sense
(env.core.SwarmSim.move_gains). Both rules run on every recon entry of the suite (its own layouts)
and on a validation set the suite never saw (``--fields`` fresh layouts per entry, another seed),
in one process. Prints a table of mean steps to 95 % coverage, the ratio to the lower bound and the
idle share per entry, and writes it as JSON:

    python bench/sweep_gains.py --out bench/results/sweep-hemmed.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from env.core import SwarmSim  # noqa: E402
from env.sectors import Sectors  # noqa: E402
from training.evaluate import field_values  # noqa: E402
from training.scenarios import DEFAULT_SUITE_DIR, entry_layouts, load_suite  # noqa: E402

VALIDATION_SEED_OFFSET = 7919  # fresh layouts: each entry's seed + this, never the suite's own


def sweep(cfg: Any, fields: int, seed: int, layouts: list | None, hemmed: bool) -> list[dict[str, Any]]:
    """One episode of the sector sweep (``hemmed`` tie break or plain) on each field; their metrics."""
    sim = SwarmSim("recon", cfg, fields, seed=seed, layouts=layouts, auto_reset=False)
    policy = Sectors(sim, seed)
    policy.hemmed = hemmed
    out: list[dict[str, Any]] = [{}] * fields
    while not sim.finished.all():
        result = sim.step(policy(sim))
        for f, m in zip(result.done_fields.tolist(), result.metrics):
            out[f] = m
    return out


def summary(metrics: list[dict[str, Any]], max_steps: int) -> dict[str, float]:
    """Means over the fields of the evaluation's own per-field figures (training.evaluate.field_values):
    steps to 95 % (with its penalty where never), steps / lower bound, idle share."""
    fields = [field_values("recon", m, max_steps, None) for m in metrics]
    return {name: float(np.mean([f.get(key, 0.0) for f in fields]))
            for name, key in (("steps_to_95", "steps_to_target"), ("bound_ratio", "time_ratio_lb"),
                              ("idle_share", "idle_share"))}


def suite_args(description: str, out: str) -> argparse.Namespace:
    """The sweep benchmarks' command line: --suite, --fields (fresh layouts per entry, >= 1), --out."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE_DIR)
    parser.add_argument("--fields", type=int, default=16, help="fresh layouts per entry (default 16)")
    parser.add_argument("--out", type=Path, default=Path(out))
    args = parser.parse_args()
    if args.fields < 1:
        parser.error(f"--fields={args.fields}: allowed: >= 1")
    return args


def main() -> int:
    args = suite_args(__doc__.splitlines()[0], "bench/results/sweep-hemmed.json")
    rows = []
    print(f"{'set':10} {'entry':32} {'plain steps':>11} {'hemmed':>8} {'ratio':>6} "
          f"{'plain / LB':>10} {'hemmed / LB':>11} {'idle plain':>10} {'idle hemmed':>11}")
    for entry in load_suite(args.suite).for_scenario("recon"):
        cfg, layouts = entry_layouts(entry)
        for name, fields, seed, given in (
            ("suite", len(layouts), entry.seed, layouts),
            ("validation", args.fields, entry.seed + VALIDATION_SEED_OFFSET, None),
        ):
            plain, hemmed = (summary(sweep(cfg, fields, seed, given, h), cfg.max_steps)
                             for h in (False, True))
            row = {"set": name, "entry": entry.id, "fields": fields, "plain": plain, "hemmed": hemmed,
                   "steps_ratio": hemmed["steps_to_95"] / plain["steps_to_95"]}
            rows.append(row)
            print(f"{name:10} {entry.id.removeprefix('recon-'):32} {plain['steps_to_95']:11.2f} "
                  f"{hemmed['steps_to_95']:8.2f} {row['steps_ratio']:6.3f} {plain['bound_ratio']:10.3f} "
                  f"{hemmed['bound_ratio']:11.3f} {plain['idle_share']:10.3f} {hemmed['idle_share']:11.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
