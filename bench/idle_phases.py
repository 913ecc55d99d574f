"""Where the sector sweep's idle drone-steps fall: its idle share per coverage phase of each recon entry.

A drone-step is idle when it newly senses no cell (the simulator's ``idle_steps_to_95``). The lower
bound (env/bounds.py) lets every drone sense a full sensor side at every step once cells are in reach,
so the idle share is most of the gap between the sweep's steps to 95 % and the bound
(docs/policy.md, "Where the time above the lower bound goes"). This splits it by the field's coverage
when the step began (0-25 %, 25-50 %, 50-75 %, 75-90 %, 90-95 %), on fresh layouts of every recon entry
of the suite (``--fields`` per entry, a seed the suite never used), and prints a table of the idle
share and each phase's part of the drone-steps, and writes it as JSON:

    python bench/idle_phases.py --out bench/results/idle-phases.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sweep_gains import VALIDATION_SEED_OFFSET, suite_args  # noqa: E402
from env.core import SwarmSim  # noqa: E402
from env.sectors import Sectors  # noqa: E402
from training.scenarios import entry_layouts, load_suite  # noqa: E402

PHASES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.95)  # coverage at which each phase starts; the last one ends


def idle_by_phase(cfg: Any, fields: int, seed: int) -> dict[str, Any]:
    """Idle and all drone-steps until 95 % per coverage phase, summed over ``fields`` sweep episodes."""
    sim = SwarmSim("recon", cfg, fields, seed=seed, auto_reset=False)
    policy = Sectors(sim, seed)
    idle, steps = np.zeros(len(PHASES) - 1), np.zeros(len(PHASES) - 1)
    while not sim.finished.all():
        phase = np.clip(np.searchsorted(PHASES, sim.coverage(), side="right") - 1, 0, len(PHASES) - 2)
        idle0, steps0 = sim.counters["idle_steps_to_95"].copy(), sim.counters["drone_steps_to_95"].copy()
        sim.step(policy(sim))
        # the counters stop at 95 %: a field past it adds nothing
        np.add.at(idle, phase, sim.counters["idle_steps_to_95"] - idle0)
        np.add.at(steps, phase, sim.counters["drone_steps_to_95"] - steps0)
    return {"idle_share": (idle / np.maximum(steps, 1)).round(3).tolist(),
            "step_share": (steps / max(steps.sum(), 1)).round(3).tolist(),
            "idle_share_all": round(float(idle.sum() / max(steps.sum(), 1)), 3)}


def main() -> int:
    args = suite_args(__doc__.splitlines()[0], "bench/results/idle-phases.json")
    names = [f"{a:.0%}-{b:.0%}" for a, b in zip(PHASES, PHASES[1:])]
    print(f"{'entry':30} {'all':>5}  " + "  ".join(f"{n:>14}" for n in names))
    print(f"{'':30} {'idle':>5}  " + "  ".join(f"{'idle (steps)':>14}" for _ in names))
    rows = []
    for entry in load_suite(args.suite).for_scenario("recon"):
        cfg, _ = entry_layouts(entry)
        row = {"entry": entry.id, "fields": args.fields,
               **idle_by_phase(cfg, args.fields, entry.seed + VALIDATION_SEED_OFFSET)}
        rows.append(row)
        cells = [f"{i:.2f} ({s:.2f})" for i, s in zip(row["idle_share"], row["step_share"])]
        print(f"{entry.id.removeprefix('recon-'):30} {row['idle_share_all']:5.2f}  "
              + "  ".join(f"{c:>14}" for c in cells))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"phases": names, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
