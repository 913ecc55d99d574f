"""Decisions before/after a heuristics change: the heuristics of a git revision and of the working
tree on the same fields, in one run. Prints a table and writes JSON (bench/results/heuristics-compare.json).

    python scripts/compare_heuristics.py --ref HEAD~1
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from env import baselines as new  # noqa: E402
from env.config import FieldConfig  # noqa: E402
from env.core import SwarmSim  # noqa: E402

CASES = [  # (scenario, width, height, drones, plants, obstacles, max_steps, fields)
    ("recon", 16, 16, 4, 20, 0.0, 300, 8),
    ("recon", 20, 16, 4, 25, 0.2, 300, 8),
    ("recon", 32, 32, 8, 50, 0.1, 600, 8),
    ("recon", 64, 64, 16, 200, 0.1, 1000, 4),
    ("recon", 64, 64, 16, 200, 0.2, 1000, 4),
    ("recon", 128, 128, 64, 800, 0.1, 1500, 1),
    ("watering", 16, 12, 3, 15, 0.0, 400, 8),
    ("watering", 16, 12, 3, 15, 0.2, 400, 8),
    ("watering", 32, 32, 8, 60, 0.1, 800, 8),
    ("watering", 64, 64, 16, 200, 0.1, 1500, 4),
    ("watering", 128, 128, 64, 800, 0.1, 2000, 1),
]


def _load_ref(rev: str) -> Any:
    text = subprocess.run(["git", "show", f"{rev}:env/baselines.py"], check=True, capture_output=True,
                          text=True).stdout
    path = Path(tempfile.mkdtemp()) / "ref_baselines.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("ref_baselines", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _episode(mod: Any, scenario: str, cfg: FieldConfig, fields: int) -> tuple[list[dict], float, int]:
    sim = SwarmSim(scenario, cfg, fields, seed=3, auto_reset=False)
    ctrl = mod.make_baseline("heuristic", sim, 3)
    out: list[dict] = [{}] * fields
    spent, steps = 0.0, 0
    while not sim.finished.all():
        t0 = time.perf_counter()
        a = ctrl(sim)
        spent += time.perf_counter() - t0
        steps += 1
        res = sim.step(a)
        for f, m in zip(res.done_fields.tolist(), res.metrics):
            out[f] = m
    return out, spent / steps, steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ref", default="HEAD")
    p.add_argument("--out", default="bench/results/heuristics-compare.json")
    args = p.parse_args()
    ref = _load_ref(args.ref)
    rows = []
    print(f"{'case':44} {'metric':16} {'ref':>9} {'new':>9}  {'ref ms/step':>11} {'new ms/step':>11}")
    for scenario, w, h, n, plants, dens, max_steps, fields in CASES:
        cfg = FieldConfig(width=w, height=h, n_drones=n, n_plants=plants, obstacle_density=dens,
                          max_steps=max_steps, tank_capacity=3)
        res = {}
        for name, mod in (("ref", ref), ("new", new)):
            ms, t, steps = _episode(mod, scenario, cfg, fields)
            if scenario == "recon":
                s95 = [m["steps_to_95"] if m["steps_to_95"] is not None else max_steps for m in ms]
                res[name] = {"steps_to_95": float(np.mean(s95)), "ms_per_step": 1000 * t}
            else:
                res[name] = {"water_delivered": float(np.mean([m["water_delivered"] for m in ms])),
                             "steps": float(np.mean([m["steps"] for m in ms])),
                             "water_wasted": float(np.mean([m["water_wasted"] for m in ms])),
                             "ms_per_step": 1000 * t}
            res[name]["collisions"] = float(np.mean([m["collisions"] for m in ms]))
        case = f"{scenario} {w}x{h} {n} drones obst {dens} x{fields}"
        key = "steps_to_95" if scenario == "recon" else "water_delivered"
        print(f"{case:44} {key:16} {res['ref'][key]:9.1f} {res['new'][key]:9.1f}  "
              f"{res['ref']['ms_per_step']:11.2f} {res['new']['ms_per_step']:11.2f}")
        if scenario == "watering":
            print(f"{'':44} {'steps':16} {res['ref']['steps']:9.1f} {res['new']['steps']:9.1f}")
        print(f"{'':44} {'collisions':16} {res['ref']['collisions']:9.1f} {res['new']['collisions']:9.1f}")
        rows.append({"case": case, "scenario": scenario, "width": w, "height": h, "drones": n,
                     "obstacles": dens, "fields": fields, **{k: v for k, v in res.items()}})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"ref": args.ref, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
