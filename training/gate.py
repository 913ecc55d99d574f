"""The promotion gate: is the candidate better than @champion over the suite x seeds?

Paired differences of the per-field score (same scenario file, same layout seed) are bootstrapped;
the candidate is promoted only when the lower end of the confidence interval of the mean difference
is above ``min_delta``. The score is time-based (training.evaluate.field_values): recon, lower
bound / steps to 95 % coverage (a field that never gets there counts as twice its step budget);
watering, net water delivered per step relative to greedy on the same layout. Higher is better.
The decision and its evidence go to the ledger's ``promotions`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.errors import NotFoundError
from training.ledger import Ledger, Run


@dataclass
class GateDecision:
    """Outcome of one gate run."""

    decision: str  # promoted | first | rejected
    candidate_run: str
    candidate_version: str
    champion_run: str | None = None
    champion_version: str | None = None
    mean_difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_pairs: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when the candidate became (or already was the first) champion."""
        return self.decision in ("promoted", "first")

    def summary(self) -> str:
        """One human-readable line."""
        if self.decision == "first":
            why = self.evidence.get("reason", "no @champion")
            return f"{why}: version {self.candidate_version} ({self.candidate_run}) becomes @champion"
        verdict = "PROMOTED to @champion" if self.passed else "REJECTED (not better than @champion)"
        return (
            f"candidate v{self.candidate_version} ({self.candidate_run}) vs "
            f"champion v{self.champion_version} "
            f"({self.champion_run}): mean score difference {self.mean_difference:+.4f}, "
            f"95% CI [{self.ci_low:+.4f}, {self.ci_high:+.4f}] over {self.n_pairs} pairs{self._seeds()} -> "
            f"{verdict}"
        )

    def _seeds(self) -> str:
        """' (seed means: 3 vs 1 training seeds)' when a side is a seed group, else ''."""
        cand = len(self.evidence.get("candidate_seed_runs", []))
        champ = len(self.evidence.get("champion_seed_runs", []))
        return f" (seed means: {cand} vs {champ} training seeds)" if max(cand, champ) > 1 else ""


def bootstrap_ci(
    diffs: np.ndarray, n_boot: int = 5000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``diffs`` and its percentile bootstrap (1 - alpha) confidence interval."""
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0:
        raise ValueError("no paired results to compare")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diffs.size, size=(n_boot, diffs.size))
    means = diffs[idx].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(diffs.mean()), float(low), float(high)


def paired_scores(
    ledger: Ledger, run_a: str, run_b: str, suite_hash: str, metric: str = "score"
) -> tuple[list[tuple[str, int]], np.ndarray, np.ndarray]:
    """(scenario_id, seed) keys both runs were evaluated on, with each run's PPO value."""

    def values(run_id: str) -> dict[tuple[str, int], float]:
        return {
            (r.scenario_id, r.seed): r.value
            for r in ledger.evaluation(run_id, suite_hash)
            if r.policy == "ppo" and r.metric == metric
        }

    a, b = values(run_a), values(run_b)
    keys = sorted(set(a) & set(b))
    return keys, np.array([a[k] for k in keys]), np.array([b[k] for k in keys])


def paired_seed_means(
    ledger: Ledger, runs_a: list[str], runs_b: list[str], suite_hash: str, metric: str = "score"
) -> tuple[list[tuple[str, int]], np.ndarray, np.ndarray]:
    """Like :func:`paired_scores` for two seed groups: each side's value on a (scenario_id, layout
    seed) key is the mean over its training seeds (runs), over the keys every run was evaluated on.

    Averaging the seeds first keeps the pairs independent of how many seeds each side trained; a
    one-run group gives exactly paired_scores.
    """

    def means(run_ids: list[str]) -> dict[tuple[str, int], float]:
        per_run = []
        for run_id in run_ids:
            per_run.append({
                (r.scenario_id, r.seed): r.value
                for r in ledger.evaluation(run_id, suite_hash)
                if r.policy == "ppo" and r.metric == metric
            })
        common = set.intersection(*(set(v) for v in per_run)) if per_run else set()
        return {k: float(np.mean([v[k] for v in per_run])) for k in common}

    a, b = means(runs_a), means(runs_b)
    keys = sorted(set(a) & set(b))
    return keys, np.array([a[k] for k in keys]), np.array([b[k] for k in keys])


def decide(
    ledger: Ledger,
    candidate: Run,
    candidate_version: str,
    champion: Run | None,
    champion_version: str | None,
    suite_hash: str,
    model_name: str,
    min_delta: float = 0.0,
    n_boot: int = 5000,
    alpha: float = 0.05,
    metric: str = "score",
    stale_champion: str | None = None,
    candidate_runs: list[str] | None = None,
    champion_runs: list[str] | None = None,
) -> GateDecision:
    """Compare the evaluated candidate with the evaluated champion and record the decision.

    Aliases are not touched here (see training.workflow.gate); this is the statistics + ledger part.
    ``candidate_runs`` / ``champion_runs``: the seed groups (runs of one recipe, one per training
    seed) whose per-key means are compared; default: the single run.
    """
    if champion is None:
        result = GateDecision(
            "first",
            candidate.id,
            candidate_version,
            champion_version=champion_version,
            evidence={
                "reason": f"@champion is unusable ({stale_champion})" if stale_champion else "no @champion",
                "suite_hash": suite_hash,
            },
        )
    elif champion.id == candidate.id:
        result = GateDecision(
            "rejected",
            candidate.id,
            candidate_version,
            champion.id,
            champion_version,
            0.0,
            0.0,
            0.0,
            0,
            {"reason": "candidate is already @champion", "suite_hash": suite_hash},
        )
    else:
        cand_runs, champ_runs = candidate_runs or [candidate.id], champion_runs or [champion.id]
        keys, cand, champ = paired_seed_means(ledger, cand_runs, champ_runs, suite_hash, metric)
        if not keys:
            raise NotFoundError(
                f"runs {candidate.id} and {champion.id} share no evaluation on suite {suite_hash}"
            )
        mean, low, high = bootstrap_ci(cand - champ, n_boot=n_boot, alpha=alpha)
        promoted = low > min_delta
        evidence = {
            "suite_hash": suite_hash,
            "metric": metric,
            "alpha": alpha,
            "n_boot": n_boot,
            "min_delta": min_delta,
            "candidate_seed_runs": cand_runs,
            "champion_seed_runs": champ_runs,
            "candidate_mean": float(cand.mean()),
            "champion_mean": float(champ.mean()),
            "pairs": [
                {"scenario_id": k[0], "seed": k[1], "candidate": float(c), "champion": float(h)}
                for k, c, h in zip(keys, cand, champ)
            ],
        }
        result = GateDecision(
            "promoted" if promoted else "rejected",
            candidate.id,
            candidate_version,
            champion.id,
            champion_version,
            mean,
            low,
            high,
            len(keys),
            evidence,
        )
    ledger.add_promotion(
        result.evidence,
        model_name=model_name,
        scenario=candidate.scenario,
        candidate_run_id=candidate.id,
        candidate_version=candidate_version,
        champion_run_id=result.champion_run,
        champion_version=result.champion_version,
        decision=result.decision,
        metric=metric,
        mean_difference=result.mean_difference,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        n_pairs=result.n_pairs,
    )
    return result
