"""Candidate vs @champion metrics: the comparison table of the merge-request note, and OpenMetrics text.

Input is training's evaluation ``metrics.json`` (training/evaluate.py): top-level summary numbers
(score, ratios) and per-policy means under ``policies.ppo``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci.errors import CIError

#: Metrics shown in the note, in order, with their good direction (+1 higher is better, -1 lower).
#: The time ratios lead (training/evaluate.py: steps to the target relative to the best heuristic and
#: to the lower bound, medians over fields; lower is better); the gate's score follows.
DIRECTIONS: dict[str, int] = {
    "time_ratio_to_heuristic": -1,
    "time_ratio_to_heuristic_held_out": -1,
    "time_ratio_to_heuristic_train": -1,
    "time_ratio_to_lower_bound": -1,
    "time_ratio_to_lower_bound_held_out": -1,
    "net_ratio_to_greedy": +1,
    "waste_fraction": -1,
    "score": +1,
    "score_held_out": +1,
    "ratio_to_random": +1,
    "coverage": +1,
    "collisions": -1,
}
# Differences smaller than this (relative to the champion's magnitude) count as unchanged.
REL_TOLERANCE = 1e-3
MARKS = {"improved": "✅ improved", "worse": "❌ worse", "same": "➖ same", "new": "🆕 new"}


@dataclass
class Comparison:
    """One metric of the candidate next to the champion's."""

    metric: str
    candidate: float
    champion: float | None
    verdict: str  # improved | worse | same | new

    @property
    def delta(self) -> float | None:
        """candidate - champion, or None without a champion value."""
        return None if self.champion is None else self.candidate - self.champion


def load_metrics(path: Path) -> dict[str, float]:
    """The comparable numbers of one evaluation metrics.json; CIError when it is missing or malformed."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CIError(f"metrics file {path} does not exist (run `make evaluate` first)") from None
    except ValueError as exc:
        raise CIError(f"metrics file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CIError(f"metrics file {path} must hold a JSON object, got {type(data).__name__}")
    flat: dict[str, Any] = {**(data.get("policies", {}).get(data.get("policy", "ppo"), {})), **data}
    values = {k: float(flat[k]) for k in DIRECTIONS
              if isinstance(flat.get(k), (int, float)) and math.isfinite(flat[k])}
    if "score" not in values:
        raise CIError(f"metrics file {path} has no numeric 'score' (allowed keys: {', '.join(DIRECTIONS)})")
    return values


def compare(candidate: dict[str, float], champion: dict[str, float] | None) -> list[Comparison]:
    """Candidate metrics against the champion's, each marked improved / worse / same / new."""
    rows = []
    for metric, direction in DIRECTIONS.items():
        if metric not in candidate:
            continue
        mine, theirs = candidate[metric], (champion or {}).get(metric)
        if theirs is None:
            verdict = "new"
        elif abs(mine - theirs) <= REL_TOLERANCE * max(1.0, abs(theirs)):
            verdict = "same"
        else:
            verdict = "improved" if (mine - theirs) * direction > 0 else "worse"
        rows.append(Comparison(metric, mine, theirs, verdict))
    return rows


def markdown_table(rows: list[Comparison]) -> str:
    """GitLab-flavoured Markdown table of a comparison."""
    lines = ["| metric | candidate | @champion | Δ | |", "|---|---:|---:|---:|---|"]
    for r in rows:
        champion = "–" if r.champion is None else f"{r.champion:.4f}"
        delta = "–" if r.delta is None else f"{r.delta:+.4f}"
        lines.append(f"| {r.metric} | {r.candidate:.4f} | {champion} | {delta} | {MARKS[r.verdict]} |")
    return "\n".join(lines)


def openmetrics(values: dict[str, float], prefix: str = "swarmops_eval_") -> str:
    """``name value`` lines for GitLab's metrics report (artifacts:reports:metrics)."""
    return "".join(f"{prefix}{k} {v:.6g}\n" for k, v in sorted(values.items()))
