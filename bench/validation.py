"""Models on many fresh fields: median time ratios with 95 % intervals, to judge a target.

The suite (data/scenarios) holds 4 layouts per entry, so its held-out fields with obstacles are 16,
and their median ratio to the lower bound moves by several percent from one set of layouts to the
next (docs/policy.md): too few to say whether a model is under 1.5x. This generates a validation
suite of the same entries of ``--scenario`` (recon, or watering: ratios to greedy's net water per
step, no lower bound) (params.yaml's, with ``--layouts`` layouts each and the seed +
VALIDATION_SEED_OFFSET: fields no recipe was chosen on), runs every MODEL and the heuristics on it
(as ``swarmops evaluate`` does: the model's acting temperature, the battery shield, drones giving
way), and prints per group (all fields; per split, its fields, those at each obstacle density and
those with obstacles: training.evaluate.field_groups, as metrics.json groups them) the median time
ratio to the entry's best heuristic and to the lower bound, each with a bootstrap 95 % interval
(fields resampled within each entry), and writes them as JSON:

    python bench/validation.py runs/RUN/model.zip [more model.zip ...] --layouts 64 \\
        --out bench/results/validation.json

``--suite DIR`` scores an existing suite instead (e.g. data/scenarios: how wide the interval of its
16 held-out fields with obstacles is).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.evaluate import (  # noqa: E402
    evaluate_policies, field_groups, median_interval, policy_callable, time_ratios)
from training.scenarios import generate_suite, load_params, load_suite  # noqa: E402

VALIDATION_SEED_OFFSET = 104729  # added to params.yaml's suite seed: layouts the suite never holds


def summarise_policy(rows: list[dict[str, Any]], policy: str, resamples: int, seed: int) -> dict[str, Any]:
    """Per group (training.evaluate.field_groups): fields, and the median time ratio to the best
    heuristic and to the lower bound with their intervals (None: watering has no lower bound)."""
    table = time_ratios(rows, policy)
    rng = np.random.default_rng(seed)
    return {name: {"fields": int(len(part)),
                   "to_heuristic": median_interval(part, "time_ratio", resamples, rng),
                   "to_lower_bound": median_interval(part, "time_ratio_lb", resamples, rng)}
            for name, part in field_groups(table).items()}


def _args() -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="model.zip files (swarmops train writes them)")
    parser.add_argument("--scenario", choices=("recon", "watering"), default="recon",
                        help="the models' scenario (default recon)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="the suite's params file")
    parser.add_argument("--layouts", type=int, default=64, help="fresh layouts per suite entry (default 64)")
    parser.add_argument("--suite", type=Path, help="score this suite folder instead of fresh layouts")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/validation.json"))
    args = parser.parse_args()
    if not 1 <= args.layouts <= 256:
        parser.error(f"--layouts={args.layouts}: allowed: 1..256")
    if args.resamples < 100:
        parser.error(f"--resamples={args.resamples}: allowed: >= 100")
    for model in args.models:
        if not model.is_file():
            parser.error(f"{model}: no such model file (give the model.zip of a run)")
    return args, parser


def _run(args: argparse.Namespace, policies: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Every policy and the heuristics on the fields: --suite's, else fresh layouts of params' entries
    (in a temporary folder, removed after). Returns the evaluation rows and a line saying which."""
    if args.suite is not None:
        rows, _ = evaluate_policies(load_suite(args.suite), args.scenario, policies,
                                    progress=sys.stderr.isatty())
        return rows, f"suite {args.suite}"
    params = load_params(args.params)
    params = params.model_copy(update={"seed": params.seed + VALIDATION_SEED_OFFSET,
                                       "layouts_per_config": args.layouts, "scenarios": [args.scenario]})
    with tempfile.TemporaryDirectory(prefix="swarmops-validation-") as tmp:
        generate_suite(params, Path(tmp))
        rows, _ = evaluate_policies(load_suite(Path(tmp)), args.scenario, policies,
                                    progress=sys.stderr.isatty())
    return rows, f"{args.layouts} fresh layouts per {args.scenario} entry (suite seed {params.seed})"


def main() -> int:
    args, parser = _args()
    from env.scenarios import SPECS
    from swarmops.errors import domain_error_types, one_line
    from training.registry import load_model

    names = {f"model{i}:{m.parent.name or m.stem}": m for i, m in enumerate(args.models)}
    try:
        policies = {name: policy_callable(load_model(path, args.scenario)) for name, path in names.items()}
        rows, where = _run(args, policies)
    except domain_error_types() as exc:  # a bad suite, params file or model: one line, nothing written
        parser.exit(2, f"{parser.prog}: error: {one_line(exc)}\n")
    heuristics = SPECS[args.scenario].heuristics  # also reported: the best of them on each entry is the bar
    results = {name: summarise_policy(rows, name, args.resamples, seed=i)
               for i, name in enumerate([*policies, *heuristics])}
    print(f"{where}; median [95 % interval]")
    print(f"{'policy':44} {'fields':>6}  {'group':20} {'to best heuristic':>22} {'to lower bound':>22}")
    for name, groups in results.items():
        for group, g in groups.items():
            cells = [f"{g[k]['median']:.3f} [{g[k]['low']:.3f}, {g[k]['high']:.3f}]" if g[k] else "-"
                     for k in ("to_heuristic", "to_lower_bound")]
            print(f"{name:44} {g['fields']:6d}  {group:20} {cells[0]:>22} {cells[1]:>22}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"scenario": args.scenario, "fields": where,
                                    "models": {n: str(p) for n, p in names.items()},
                                    "policies": results}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
