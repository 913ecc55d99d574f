"""Evaluate a policy and every heuristic baseline on the scenario suite (vectorised per scenario).

Outputs (one folder): metrics.json, per_scenario.csv/.md, coverage.csv (for ``dvc plots``),
plots/coverage_vs_steps.png, plots/policy_vs_baselines.png and report.md with ratios to the best
heuristic and to the lower bound.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from training.errors import NotFoundError
from training.scenarios import Suite, entry_layouts

POLICY = "ppo"
# Per-field metrics kept in the ledger and tables (names from env.rollout.run_episodes).
FIELD_METRICS = (
    "coverage",
    "steps",
    "steps_to_95",
    "plants_found",
    "plants_total",
    "water_delivered",
    "water_wasted",
    "collisions",
    "battery_depletions",
    "episode_return",
    "lower_bound_steps",
    "energy",
    "drone_steps_to_95",
    "idle_steps_to_95",
)


@dataclass
class EvaluationReport:
    """Everything an evaluation produced; ``rows`` are the ledger's evaluation_results rows."""

    out_dir: Path
    metrics: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def policy_callable(
    model: Any, deterministic: bool = False, shield: bool = True
) -> Callable[[np.ndarray], np.ndarray]:
    """Batched action function obs[num_envs, D] -> actions[num_envs] of a PPO model.

    Sampled by default: with argmax actions, drones that see the same thing make the same move
    and keep colliding (measured: 4-5x more steps); sampling is seeded by the caller via torch.
    ``shield``: env.shield.battery_shield sends drones home before their battery runs out.
    """
    import torch

    from env.shield import battery_shield

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            actions, _ = model.policy.predict(obs, deterministic=deterministic)
        return battery_shield(obs, actions) if shield else np.asarray(actions)

    return act


PENALTY_FACTOR = 2.0
"""A recon field that never reaches the coverage target counts as PENALTY_FACTOR x its step budget."""
RATIO_CAP = 10.0
"""Per-field time ratios are capped here (a policy that delivers no net water has an infinite one)."""
INTERVAL_RESAMPLES = 2000
"""Bootstrap resamples behind each group's 95 % interval in metrics.json and the report."""


def suite_headline(
    model: Any,
    scenario: str = "recon",
    suite_dir: Path | str = Path("data/scenarios"),
    seed: int = 0,
    split: str | None = None,
    deterministic: bool = False,
) -> float:
    """The suite's headline number for a model: median time ratio to the best heuristic.

    Lower is better; 1.0 = as fast as the best heuristic of each suite entry (recon: steps to 95 %
    coverage; watering: time to deliver the net water that heuristic delivers), capped at RATIO_CAP
    per field.
    ``model``: a stable-baselines3 PPO model or the path of its model.zip; ``split``: "train",
    "held_out" or None for the whole suite. No ledger, MLflow or files are touched (for tuning loops).
    Raises training.registry.IncompatibleModel for a model of another observation layout.
    """
    from training.registry import check_compatible, load_model
    from training.scenarios import load_suite

    if isinstance(model, (str, Path)):
        model = load_model(model, scenario)
    else:
        check_compatible(model, scenario, "in memory")
    suite = load_suite(Path(suite_dir))
    rows, _ = evaluate_policies(
        suite, scenario, {POLICY: policy_callable(model, deterministic)}, seed=seed, progress=False
    )
    metrics = summarise(rows)
    value = metrics.get(f"time_ratio_to_heuristic_{split}" if split else "time_ratio_to_heuristic")
    if value is None:
        raise NotFoundError(f"the suite at {suite_dir} has no {split or ''} {scenario} fields to score")
    return float(value)


def steps_to_target(metrics: dict[str, Any], max_steps: int) -> float:
    """Recon: steps to 95 % coverage, or the fixed penalty when the field never got there."""
    s = metrics.get("steps_to_95")
    if s is None or (isinstance(s, float) and math.isnan(s)) or s <= 0:
        return PENALTY_FACTOR * max_steps
    return float(s)


def net_rate(metrics: dict[str, Any]) -> float:
    """Watering: net water delivered (delivered minus wasted) per step of the episode."""
    net = float(metrics.get("water_delivered", 0)) - float(metrics.get("water_wasted", 0))
    return net / max(1.0, float(metrics.get("steps", 1)))


def field_values(
    scenario: str, m: dict[str, Any], max_steps: int, greedy_rate: float | None
) -> dict[str, float]:
    """Per-field metrics of one episode, including the gate's ``score`` (higher is better).

    recon: score = lower bound / steps to the target (1 = optimal; the reciprocal of the time ratio
    to the lower bound, ``time_ratio_lb``). watering: score = net water per step / the greedy
    heuristic's on the same layout (1 = greedy's pace); ``greedy_rate`` is that reference.
    recon also: ``idle_share``, the share of the drone-steps to the target that newly sensed no cell
    (travel over sensed cells, hovering, waiting): where the time above the lower bound goes.
    """
    values = {k: float(m[k]) for k in FIELD_METRICS if m.get(k) is not None}
    if scenario == "recon":
        steps = steps_to_target(m, max_steps)
        bound = max(1.0, float(m.get("lower_bound_steps", 0)))
        values["steps_to_target"] = steps
        values["time_ratio_lb"] = steps / bound
        values["score"] = bound / steps
        flown = float(m.get("drone_steps_to_95") or 0)
        if flown > 0:  # share of the drone-steps to the target that newly sensed nothing
            values["idle_share"] = float(m.get("idle_steps_to_95", 0)) / flown
    else:
        rate = net_rate(m)
        drawn = float(m.get("water_drawn", 0))
        values["net_delivered"] = float(m.get("water_delivered", 0)) - float(m.get("water_wasted", 0))
        values["net_rate"] = rate
        values["waste_fraction"] = float(m.get("water_wasted", 0)) / drawn if drawn > 0 else 0.0
        values["score"] = rate / greedy_rate if greedy_rate and greedy_rate > 0 else 0.0
    return values


def evaluate_policies(
    suite: Suite, scenario: str, policies: dict[str, Any], seed: int = 0, progress: bool = True
) -> tuple[list[dict[str, Any]], dict[str, dict[str, np.ndarray]]]:
    """Run each policy on every suite entry of ``scenario``: all layouts of an entry in one batch.

    The scenario's heuristics always run (the watering score is relative to greedy on the same
    layout, and the report's ratios to the best heuristic need them). Returns ledger rows
    (scenario_id, split, policy, seed, metric, value) and mean coverage curves per entry and policy.
    """
    import torch

    from env.scenarios import get_scenario

    spec = get_scenario(scenario)
    entries = suite.for_scenario(scenario)
    if not entries:
        raise NotFoundError(f"the suite at {suite.directory} has no {scenario!r} scenarios")
    policies = {**policies, **{h: h for h in spec.heuristics if h not in policies}}
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, np.ndarray]] = {}
    # One thread: inference batches are a few dozen rows, and on a loaded machine torch's thread pool
    # spins (measured: 10 ms per 12-row linear layer at load 10, 40x the single-thread time).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run_entries(entries, scenario, spec, policies, seed, progress, rows, curves)
    finally:
        torch.set_num_threads(threads)
    # Per-field time ratio to the entry's best heuristic, stored too (ledger, gate evidence, dashboards).
    for name in policies:
        ratios = time_ratios(rows, name)
        rows += [
            {
                "scenario_id": r.scenario_id,
                "split": r.split,
                "policy": name,
                "seed": int(r.seed),
                "metric": "time_ratio",
                "value": float(r.time_ratio),
            }
            for r in ratios.itertuples()
            if math.isfinite(r.time_ratio)
        ]
    return rows, curves


def _run_entries(
    entries: list[Any],
    scenario: str,
    spec: Any,
    policies: dict[str, Any],
    seed: int,
    progress: bool,
    rows: list[dict[str, Any]],
    curves: dict[str, dict[str, np.ndarray]],
) -> None:
    """evaluate_policies' loop: every policy on every entry, appending to ``rows`` and ``curves``."""
    import torch
    from rich.progress import Progress

    from env.rollout import run_episodes

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"evaluating {scenario}", total=len(entries) * len(policies))
        for entry in entries:
            cfg, layouts = entry_layouts(entry)
            curves[entry.id] = {}
            results: dict[str, list[dict[str, Any]]] = {}
            for name, policy in policies.items():
                if isinstance(policy, str) and policy not in spec.baselines:
                    bar.advance(task)
                    continue  # a heuristic of the other scenario (e.g. greedy watering on recon)
                torch.manual_seed(entry.seed + seed)  # the PPO policy may sample its actions: seed them
                results[name] = run_episodes(
                    scenario, cfg, policy, num_fields=len(layouts), seed=entry.seed + seed, layouts=layouts
                )
                curves[entry.id][name] = _mean_curve(
                    [m.get("coverage_curve") or [m["coverage"]] for m in results[name]], cfg.max_steps
                )
                bar.advance(task)
            reference = results.get(spec.score_reference) if spec.score_reference else None
            for name, per_field in results.items():
                for i, m in enumerate(per_field):
                    greedy = net_rate(reference[i]) if reference else None
                    values = field_values(scenario, m, cfg.max_steps, greedy)
                    rows += [
                        {
                            "scenario_id": entry.id,
                            "split": entry.split,
                            "policy": name,
                            "seed": i,
                            "metric": k,
                            "value": v,
                        }
                        for k, v in values.items()
                        if math.isfinite(v)
                    ]


def _mean_curve(curves: list[list[float]], max_steps: int) -> np.ndarray:
    out = np.zeros((len(curves), max_steps))
    for i, c in enumerate(curves):
        c = np.asarray(c, dtype=float)[:max_steps]
        out[i, : len(c)] = c
        out[i, len(c):] = c[-1] if len(c) else 0.0
    return out.mean(axis=0)


def obstacle_group(scenario_id: str) -> str:
    """``o0``, ``o10``, ``o20``: the obstacle-density tag of a suite id (``o0`` when it has none)."""
    tail = scenario_id.rsplit("-", 1)[-1]
    return tail if re.fullmatch(r"o\d+", tail) else "o0"


def _wide(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows).pivot_table(
        index=["scenario_id", "split", "policy", "seed"], columns="metric", values="value"
    ).reset_index()


def time_ratios(rows: list[dict[str, Any]], policy: str = POLICY) -> Any:
    """Per field of ``policy``: its time ratio to the best heuristic of that suite entry.

    The best heuristic of an entry is the one with the highest mean score there (fewest steps to
    the target for recon, most net water per step for watering); the per-field ratio is
    heuristic score / policy score = policy steps / heuristic steps on the same layout (recon), or
    the heuristic's net water per step / the policy's (watering: the score is relative to greedy on the
    same layout, so the ratio of scores is that of net water per step), capped at RATIO_CAP. Returns a
    DataFrame (scenario_id, split, group, seed, best_heuristic, time_ratio, time_ratio_lb).
    """
    import pandas as pd

    from env.scenarios import SPECS

    wide = _wide(rows)
    heuristics = {h for s in SPECS.values() for h in s.heuristics}
    out = []
    for sid, entry in wide.groupby("scenario_id"):
        heur = entry[entry["policy"].isin(heuristics)]
        mine = entry[entry["policy"] == policy].set_index("seed")
        if heur.empty or mine.empty:
            continue
        best = str(heur.groupby("policy")["score"].mean().idxmax())
        ref = heur[heur["policy"] == best].set_index("seed")["score"]
        for s, row in mine.iterrows():
            ratio = float(ref.get(s, np.nan)) / max(float(row["score"]), 1e-9)
            out.append(
                {
                    "scenario_id": sid,
                    "split": row["split"],
                    "group": obstacle_group(str(sid)),
                    "seed": s,
                    "best_heuristic": best,
                    "time_ratio": min(RATIO_CAP, ratio),
                    "time_ratio_lb": float(row["time_ratio_lb"]) if "time_ratio_lb" in row else np.nan,
                }
            )
    return pd.DataFrame(out)


def _median(values: Any) -> float | None:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


def median_interval(
    table: Any, column: str, resamples: int = INTERVAL_RESAMPLES, rng: np.random.Generator | None = None
) -> dict[str, float] | None:
    """Median of ``column`` over the table's fields and its bootstrap 95 % interval; None when no
    field has a finite value.

    Each resample draws, within every suite entry, as many fields as it has, so each entry keeps its
    weight (a 64x64 entry cannot crowd out an 8x8 one). With 4 layouts per entry a 16-field group's
    interval is several percent wide: a target inside it is not decided by the suite (bench/validation.py
    judges on many fresh fields). ``rng`` defaults to a fixed seed, so a rerun prints the same interval.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    by_entry = [part[column].to_numpy(dtype=float) for _, part in table.groupby("scenario_id")]
    by_entry = [v[np.isfinite(v)] for v in by_entry]
    by_entry = [v for v in by_entry if v.size]
    if not by_entry:
        return None
    draws = np.concatenate([v[rng.integers(0, v.size, (resamples, v.size))] for v in by_entry], axis=1)
    low, high = np.percentile(np.median(draws, axis=1), [2.5, 97.5])
    return {"median": float(np.median(np.concatenate(by_entry))), "low": float(low), "high": float(high)}


def field_groups(table: Any) -> dict[str, Any]:
    """The groups of fields every judgement reports, by name, from a :func:`time_ratios` table: ``all``;
    per split, its fields (``held_out``), its fields at each obstacle density (``held_out/o20``) and
    all its fields with obstacles (``held_out/obstacles``: the issue's targets are on these). Empty
    groups are left out. One definition for metrics.json, the report and bench/validation.py."""
    groups: dict[str, Any] = {"all": table} if len(table) else {}
    for split in ("train", "held_out"):
        sub = table[table["split"] == split] if len(table) else table
        if not len(sub):
            continue
        groups[split] = sub
        groups.update((f"{split}/{grp}", part) for grp, part in sub.groupby("group"))
        obstacles = sub[sub["group"] != "o0"]
        if len(obstacles):
            groups[f"{split}/obstacles"] = obstacles
    return groups


def _group_ratios(part: Any, rng: np.random.Generator) -> dict[str, Any]:
    """metrics.json's entry for one group of fields: both median time ratios, each with its bootstrap
    95 % interval as ``<key>_low`` / ``<key>_high`` (flat keys: `dvc metrics show` prints them)."""
    out: dict[str, Any] = {}
    keys = {"time_ratio_to_heuristic": "time_ratio", "time_ratio_to_lower_bound": "time_ratio_lb"}
    for key, column in keys.items():
        interval = median_interval(part, column, rng=rng)
        out[key] = interval["median"] if interval else None
        if interval:
            out[f"{key}_low"], out[f"{key}_high"] = interval["low"], interval["high"]
    out["fields"] = int(len(part))
    return out


def summarise(rows: list[dict[str, Any]], policy: str = POLICY) -> dict[str, Any]:
    """metrics.json content: the time ratios first, then per-policy means (overall and per split).

    Headline keys: time_ratio_to_heuristic (median over fields of the policy's time ratio to the
    best heuristic of each entry; lower is better, 1 = parity), its per-split and per-(split,
    obstacle density) versions, time_ratio_to_lower_bound (recon), waste_fraction (watering).
    """
    wide = _wide(rows)
    out: dict[str, Any] = {"policies": {}}
    for name, group in wide.groupby("policy"):
        entry: dict[str, Any] = {
            k: float(group[k].mean())
            for k in (
                "score",
                "coverage",
                "steps_to_target",
                "idle_share",
                "collisions",
                "episode_return",
                "net_delivered",
                "net_rate",
                "waste_fraction",
                "water_delivered",
                "water_wasted",
            )
            if k in group
        }
        if "time_ratio_lb" in group:
            entry["time_ratio_lb"] = _median(group["time_ratio_lb"])
        for split, sub in group.groupby("split"):
            entry[f"score_{split}"] = float(sub["score"].mean())
        out["policies"][str(name)] = entry
    if policy not in out["policies"]:
        return out
    mine = out["policies"][policy]
    ratios = time_ratios(rows, policy)
    out["policy"] = policy
    out["score"] = mine["score"]
    out["time_ratio_to_heuristic"] = _median(ratios["time_ratio"]) if len(ratios) else None
    out["time_ratio_to_lower_bound"] = _median(ratios["time_ratio_lb"]) if len(ratios) else None
    out["best_heuristic"] = ratios["best_heuristic"].mode().iat[0] if len(ratios) else None
    parts = field_groups(ratios)
    for split in ("train", "held_out"):
        if f"score_{split}" in mine:
            out[f"score_{split}"] = mine[f"score_{split}"]
        if split in parts:
            out[f"time_ratio_to_heuristic_{split}"] = _median(parts[split]["time_ratio"])
            out[f"time_ratio_to_lower_bound_{split}"] = _median(parts[split]["time_ratio_lb"])
    rng = np.random.default_rng(0)  # fixed: the same rows give the same intervals
    # metrics.json's groups: the (split, density) ones (the splits' own medians are the keys above)
    out["groups"] = {name: _group_ratios(part, rng) for name, part in parts.items() if "/" in name}
    rnd = out["policies"].get("random", {}).get("score")
    # watering: random wastes more than it delivers (a negative score): no meaningful ratio then
    out["ratio_to_random"] = mine["score"] / rnd if rnd and rnd > 0 else None
    if "waste_fraction" in mine:
        out["waste_fraction"] = mine["waste_fraction"]
        out["net_ratio_to_greedy"] = _median(wide[wide["policy"] == policy]["score"])
    return out


def per_scenario_table(rows: list[dict[str, Any]]) -> Any:
    """DataFrame: one row per (scenario_id, policy) with mean metrics over seeds."""
    import pandas as pd

    df = pd.DataFrame(rows)
    table = df.pivot_table(
        index=["scenario_id", "split", "policy"], columns="metric", values="value", aggfunc="mean"
    ).reset_index()
    keep = [
        "scenario_id",
        "split",
        "policy",
        "score",
        "steps_to_target",
        "time_ratio_lb",
        "idle_share",
        "coverage",
        "steps",
        "net_rate",
        "water_delivered",
        "water_wasted",
        "waste_fraction",
        "collisions",
    ]
    if "net_rate" not in table.columns:  # recon: no water columns
        keep = [c for c in keep if not c.startswith("water")]
    return table[[c for c in keep if c in table.columns]].round(4)


def time_ratio_table(rows: list[dict[str, Any]], policy: str = POLICY) -> Any:
    """DataFrame: per suite entry, the policy's median time ratio to its best heuristic and to the
    lower bound (recon), with the heuristic's name; the report's leading table."""
    ratios = time_ratios(rows, policy)
    if not len(ratios):
        return ratios
    return (
        ratios.groupby(["scenario_id", "split", "best_heuristic"])[["time_ratio", "time_ratio_lb"]]
        .median()
        .reset_index()
        .round(3)
    )


def write_outputs(
    out_dir: Path,
    scenario: str,
    rows: list[dict[str, Any]],
    curves: dict[str, dict[str, np.ndarray]],
    title: str,
) -> dict[str, Any]:
    """Write metrics.json, tables, coverage.csv, plots and report.md; returns the metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    metrics = summarise(rows)
    metrics["scenario"] = scenario
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    table = per_scenario_table(rows)
    table.to_csv(out_dir / "per_scenario.csv", index=False)
    (out_dir / "per_scenario.md").write_text(_markdown_table(table) + "\n")

    # coverage.csv: mean coverage per step over the whole suite, one column per policy (dvc plots).
    policies = sorted({p for per in curves.values() for p in per})
    length = min(len(c) for per in curves.values() for c in per.values())
    mean_curves = {
        p: np.mean([per[p][:length] for per in curves.values() if p in per], axis=0) for p in policies
    }
    lines = ["step," + ",".join(policies)]
    stride = max(1, length // 100)
    lines += [
        f"{t}," + ",".join(f"{mean_curves[p][t]:.4f}" for p in policies) for t in range(0, length, stride)
    ]
    (out_dir / "coverage.csv").write_text("\n".join(lines) + "\n")

    n = len(curves)
    cols = min(3, n)
    fig, axes = plt.subplots(
        (n + cols - 1) // cols, cols, figsize=(4.5 * cols, 3.2 * ((n + cols - 1) // cols)), squeeze=False
    )
    for ax, (sid, per) in zip(axes.flat, sorted(curves.items())):
        for p in policies:
            if p in per:
                ax.plot(per[p], label=p, linewidth=2.2 if p == POLICY else 1.2)
        ax.set_title(sid, fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("coverage")
        ax.set_ylim(0, 1.02)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"{title}: coverage vs steps")
    fig.tight_layout()
    fig.savefig(out_dir / "plots" / "coverage_vs_steps.png", dpi=90)
    plt.close(fig)

    scores = table.pivot(index="scenario_id", columns="policy", values="score")
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(scores)), 3.8))
    width = 0.8 / max(1, len(scores.columns))
    for j, p in enumerate(scores.columns):
        ax.bar(np.arange(len(scores)) + j * width, scores[p].values, width, label=p)
    ax.set_xticks(np.arange(len(scores)) + 0.4 - width / 2)
    ax.set_xticklabels(scores.index, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("gate score (higher is better)")
    ax.set_title(f"{title}: policy vs baselines")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "plots" / "policy_vs_baselines.png", dpi=90)
    plt.close(fig)

    ratios = time_ratio_table(rows)
    ratios.to_csv(out_dir / "time_ratios.csv", index=False)
    (out_dir / "report.md").write_text(render_report(title, scenario, metrics, table, ratios))
    return metrics


def _markdown_table(df: Any) -> str:
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([header, sep, *body])


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _fmt_interval(group: dict[str, Any], key: str) -> str:
    """``1.475 [1.425, 1.505]``: a group's median ratio and its 95 % interval (when it has one)."""
    if group.get(f"{key}_low") is None:
        return _fmt(group.get(key))
    return f"{_fmt(group.get(key))} [{_fmt(group[f'{key}_low'])}, {_fmt(group[f'{key}_high'])}]"


def render_report(title: str, scenario: str, metrics: dict[str, Any], table: Any, ratios: Any = None) -> str:
    """The Markdown evaluation report: time ratios first (per split, obstacle density and entry)."""
    if scenario == "recon":
        what = (
            "steps to 95 % coverage, relative to the best heuristic on the same layout and to the lower "
            f"bound (a field that never gets there counts as {PENALTY_FACTOR:g}x its step budget)"
        )
    else:
        what = (
            "the best heuristic's net water per step (delivered minus wasted) divided by the policy's on "
            "the same layout: the time the policy needs to deliver what that heuristic delivers"
        )
    lines = [
        f"# Evaluation: {title}",
        "",
        f"Scenario: **{scenario}**. Time ratio (lower is better, 1 = the best heuristic): {what}. "
        "Medians over fields.",
        "",
        f"- **time ratio to the best heuristic: {_fmt(metrics.get('time_ratio_to_heuristic'))}** "
        f"(train {_fmt(metrics.get('time_ratio_to_heuristic_train'))}, held-out "
        f"{_fmt(metrics.get('time_ratio_to_heuristic_held_out'))})",
    ]
    if scenario == "recon":
        lines.append(
            f"- **time ratio to the lower bound: {_fmt(metrics.get('time_ratio_to_lower_bound'))}** "
            f"(train {_fmt(metrics.get('time_ratio_to_lower_bound_train'))}, held-out "
            f"{_fmt(metrics.get('time_ratio_to_lower_bound_held_out'))})"
        )
    else:
        lines.append(
            f"- net water delivered vs greedy: {_fmt(metrics.get('net_ratio_to_greedy'))}; waste "
            f"{_fmt(metrics.get('waste_fraction'))} of the water drawn"
        )
    lines += [
        f"- gate score (mean per-field score, higher is better): {_fmt(metrics.get('score'))}; "
        f"ratio to random {_fmt(metrics.get('ratio_to_random'))}",
        "",
        "Per group of fields: the median and, in brackets, its bootstrap 95 % interval (fields resampled "
        "within each suite entry). A target inside the interval is not decided by this suite's fields: "
        "`python bench/validation.py MODEL` judges it on many fresh ones.",
        "",
        "| split / obstacle density (obstacles: 10 % and 20 %) | time ratio to best heuristic "
        "| time ratio to lower bound | fields |",
        "|---|---|---|---|",
    ]
    for group, g in sorted(metrics.get("groups", {}).items()):
        lines.append(
            f"| {group} | {_fmt_interval(g, 'time_ratio_to_heuristic')} | "
            f"{_fmt_interval(g, 'time_ratio_to_lower_bound')} | {g.get('fields')} |"
        )
    lines += [
        "",
        "| policy | score | score (train) | score (held-out) | median steps / lower bound "
        "| idle drone-steps to target | collisions |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in sorted(metrics["policies"].items()):
        lines.append(
            f"| {name} | {_fmt(m.get('score'))} | {_fmt(m.get('score_train'))} | "
            f"{_fmt(m.get('score_held_out'))} | {_fmt(m.get('time_ratio_lb'))} | "
            f"{_fmt(m.get('idle_share'))} | {_fmt(m.get('collisions'))} |"
        )
    if ratios is not None and len(ratios):
        lines += ["", "## Time ratio per suite entry (median over seeds)", "", _markdown_table(ratios)]
    lines += [
        "",
        "## Per suite entry and policy (mean over seeds)",
        "",
        _markdown_table(table),
        "",
        "![coverage vs steps](plots/coverage_vs_steps.png)",
        "",
        "![policy vs baselines](plots/policy_vs_baselines.png)",
        "",
    ]
    return "\n".join(lines)
