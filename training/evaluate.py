"""Evaluate a policy and every heuristic baseline on the scenario suite (vectorised per scenario).

Outputs (one folder): metrics.json, per_scenario.csv/.md, coverage.csv (for ``dvc plots``),
plots/coverage_vs_steps.png, plots/policy_vs_baselines.png and report.md with ratios to the best
heuristic and to the lower bound.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from training.errors import NotFoundError
from training.scenarios import ScenarioFile, Suite, entry_layouts

BASELINES = ("random", "lawnmower", "greedy")  # env.baselines.BASELINES; each scenario supports some
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
)


@dataclass
class EvaluationReport:
    """Everything an evaluation produced; ``rows`` are the ledger's evaluation_results rows."""

    out_dir: Path
    metrics: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def policy_callable(model: Any, deterministic: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Batched action function obs[num_envs, D] -> actions[num_envs] of a PPO model.

    Sampled by default: with argmax actions, drones that see the same thing make the same move
    and keep colliding (measured: 4-5x more steps); sampling is seeded by the caller via torch.
    """
    import torch

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            actions, _ = model.policy.predict(obs, deterministic=deterministic)
        return np.asarray(actions)

    return act


def total_need(entry: ScenarioFile) -> np.ndarray:
    """Water units each layout needs in total (for the watering score)."""
    return np.array([max(1, sum(lay.needs)) for lay in entry.layouts], dtype=float)


def score(scenario: str, metrics: dict[str, Any], need: float, max_steps: int) -> float:
    """The gate's higher-is-better score of one field.

    recon: area under the coverage curve (mean coverage over the step budget), so finishing the
    same coverage sooner scores higher. watering: fraction of the total water need delivered,
    minus the wasted fraction, times a speed factor.
    """
    curve = np.asarray(metrics.get("coverage_curve") or [metrics["coverage"]], dtype=float)
    if scenario == "recon":
        padded = np.concatenate(
            [curve, np.full(max(0, max_steps - len(curve)), curve[-1] if len(curve) else 0)]
        )
        return float(padded[:max_steps].mean())
    delivered = float(metrics.get("water_delivered", 0.0)) / need
    wasted = float(metrics.get("water_wasted", 0.0)) / need
    speed = 1.0 - 0.5 * float(metrics.get("steps", max_steps)) / max_steps
    return float(max(0.0, delivered - wasted) * speed)


def _steps_for_bound(scenario: str, m: dict[str, Any], max_steps: int) -> float:
    if scenario == "recon":
        s = m.get("steps_to_95")
        return (
            float(s)
            if s is not None and not (isinstance(s, float) and math.isnan(s)) and s > 0
            else float(max_steps)
        )
    return float(max(1, m.get("steps", max_steps)))


def evaluate_policies(
    suite: Suite, scenario: str, policies: dict[str, Any], seed: int = 0, progress: bool = True
) -> tuple[list[dict[str, Any]], dict[str, dict[str, np.ndarray]]]:
    """Run each policy on every suite entry of ``scenario``: all layouts of an entry in one batch.

    Returns ledger rows (scenario_id, split, policy, seed, metric, value) and mean coverage curves
    per entry and policy.
    """
    import torch
    from rich.progress import Progress

    from env.config import ConfigError
    from env.rollout import run_episodes

    entries = suite.for_scenario(scenario)
    if not entries:
        raise NotFoundError(f"the suite at {suite.directory} has no {scenario!r} scenarios")
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, np.ndarray]] = {}
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"evaluating {scenario}", total=len(entries) * len(policies))
        for entry in entries:
            cfg, layouts = entry_layouts(entry)
            need = total_need(entry)
            curves[entry.id] = {}
            for name, policy in policies.items():
                torch.manual_seed(entry.seed + seed)  # the PPO policy samples its actions: seed them
                try:
                    results = run_episodes(
                        scenario,
                        cfg,
                        policy,
                        num_fields=len(layouts),
                        seed=entry.seed + seed,
                        layouts=layouts,
                    )
                except ConfigError as exc:
                    if isinstance(policy, str) and "is for scenario" in str(exc):
                        bar.advance(task)
                        continue  # a heuristic of the other scenario (e.g. greedy watering on recon)
                    raise
                for i, m in enumerate(results):
                    values = {k: float(m[k]) for k in FIELD_METRICS if m.get(k) is not None}
                    values["score"] = score(scenario, m, need[i], cfg.max_steps)
                    values["lower_bound_ratio"] = float(m.get("lower_bound_steps", 0)) / _steps_for_bound(
                        scenario, m, cfg.max_steps
                    )
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
                curves[entry.id][name] = _mean_curve(
                    [m.get("coverage_curve") or [m["coverage"]] for m in results], cfg.max_steps
                )
                bar.advance(task)
    return rows, curves


def _mean_curve(curves: list[list[float]], max_steps: int) -> np.ndarray:
    out = np.zeros((len(curves), max_steps))
    for i, c in enumerate(curves):
        c = np.asarray(c, dtype=float)[:max_steps]
        out[i, : len(c)] = c
        out[i, len(c):] = c[-1] if len(c) else 0.0
    return out.mean(axis=0)


def summarise(rows: list[dict[str, Any]], policy: str = POLICY) -> dict[str, Any]:
    """metrics.json content: per-policy means (overall and per split) and the policy's ratios."""
    import pandas as pd

    df = pd.DataFrame(rows)
    out: dict[str, Any] = {"policies": {}}
    wide = df.pivot_table(
        index=["scenario_id", "split", "policy", "seed"], columns="metric", values="value"
    ).reset_index()
    for name, group in wide.groupby("policy"):
        entry: dict[str, Any] = {
            k: float(group[k].mean())
            for k in ("score", "coverage", "lower_bound_ratio", "collisions", "episode_return")
            if k in group
        }
        for split, sub in group.groupby("split"):
            entry[f"score_{split}"] = float(sub["score"].mean())
        out["policies"][str(name)] = entry
    if policy in out["policies"]:
        heur = {b: out["policies"][b]["score"] for b in BASELINES if b in out["policies"] and b != "random"}
        best_name = max(heur, key=heur.get) if heur else None
        mine = out["policies"][policy]
        out["policy"] = policy
        out["score"] = mine["score"]
        out["best_heuristic"] = best_name
        out["ratio_to_heuristic"] = mine["score"] / heur[best_name] if best_name and heur[best_name] else None
        out["ratio_to_random"] = (
            mine["score"] / out["policies"]["random"]["score"]
            if out["policies"].get("random", {}).get("score")
            else None
        )
        out["ratio_to_lower_bound"] = mine.get("lower_bound_ratio")
        for split in ("train", "held_out"):
            if f"score_{split}" in mine:
                out[f"score_{split}"] = mine[f"score_{split}"]
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
        "coverage",
        "steps",
        "steps_to_95",
        "lower_bound_ratio",
        "water_delivered",
        "water_wasted",
        "collisions",
        "episode_return",
    ]
    return table[[c for c in keep if c in table.columns]].round(4)


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
    ax.set_ylabel("score (higher is better)")
    ax.set_title(f"{title}: policy vs baselines")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "plots" / "policy_vs_baselines.png", dpi=90)
    plt.close(fig)

    (out_dir / "report.md").write_text(render_report(title, scenario, metrics, table))
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


def render_report(title: str, scenario: str, metrics: dict[str, Any], table: Any) -> str:
    """The Markdown evaluation report."""
    lines = [
        f"# Evaluation: {title}",
        "",
        f"Scenario: **{scenario}**. Score: "
        + (
            "area under the coverage curve"
            if scenario == "recon"
            else "delivered minus wasted water " "fraction, times a speed factor"
        )
        + " (higher is better).",
        "",
        "| policy | score | score (train sizes) | score (held-out sizes) | lower-bound ratio | collisions |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in sorted(metrics["policies"].items()):
        lines.append(
            f"| {name} | {_fmt(m.get('score'))} | {_fmt(m.get('score_train'))} | "
            f"{_fmt(m.get('score_held_out'))} | {_fmt(m.get('lower_bound_ratio'))} | "
            f"{_fmt(m.get('collisions'))} |"
        )
    lines += [
        "",
        f"- ratio to the best heuristic ({metrics.get('best_heuristic')}): "
        f"**{_fmt(metrics.get('ratio_to_heuristic'))}**",
        f"- ratio to random: {_fmt(metrics.get('ratio_to_random'))}",
        f"- ratio to the lower bound (lower-bound steps / steps, 1 = optimal): "
        f"**{_fmt(metrics.get('ratio_to_lower_bound'))}**",
        "",
        "## Per scenario (mean over seeds)",
        "",
        _markdown_table(table),
        "",
        "![coverage vs steps](plots/coverage_vs_steps.png)",
        "",
        "![policy vs baselines](plots/policy_vs_baselines.png)",
        "",
    ]
    return "\n".join(lines)
