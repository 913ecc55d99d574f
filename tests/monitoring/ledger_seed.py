"""A small but complete run ledger written through training.ledger's own API (as training,
evaluation and the gate write it): finished, failed and running runs of both scenarios with
learning curves, an evaluation of the policy and the heuristic baselines, and gate decisions."""
from __future__ import annotations

import datetime as dt
import math

from training.ledger import Ledger

SCENARIOS = ("recon", "watering")
BASELINE_SCORES = {"random": 0.21, "lawnmower": 0.55, "greedy": 0.61}


def seed_ledger(url: str) -> dict[str, list[str]]:
    """Fill the (migrated) ledger at ``url``; returns the run ids by status."""
    ledger = Ledger(url)
    ids: dict[str, list[str]] = {"finished": [], "failed": [], "running": []}
    start = dt.datetime(2026, 11, 20, 8, 0)
    try:
        plan = [(s, st) for s in SCENARIOS for st in ("finished", "failed")] + [
            ("recon", "finished"), ("recon", "finished"), ("recon", "running")]
        # gate decisions as training.gate records them: the first champion, then promoted / rejected
        decisions = {0: "first", 2: "first", 4: "promoted", 5: "rejected"}
        for i, (scenario, status) in enumerate(plan):
            run_id = f"{scenario}-{i:02d}-{status}"
            ledger.create_run(id=run_id, scenario=scenario, profile="smoke", seed=i, device="cpu",
                              total_timesteps=20_000, started_at=start + dt.timedelta(hours=i))
            steps = 5 if status != "failed" else 2
            for k in range(1, steps + 1):
                progress = k / 5
                ledger.add_metrics(run_id, 4000 * k, {
                    "episode_reward": -20 + 25 * progress + i,
                    "coverage": min(1.0, 0.2 + 0.04 * i + 0.6 * progress),
                    "loss": 0.5 * math.exp(-progress), "agent_steps_per_second": 9000 + 100 * i})
            fields = {"status": status, "timesteps_done": 4000 * steps,
                      "agent_steps_per_second": 9000 + 100 * i}
            if status != "running":
                fields["ended_at"] = start + dt.timedelta(hours=i, minutes=30)
            if status == "failed":
                fields["error"] = "RuntimeError: simulated divergence"
            ledger.update_run(run_id, **fields)
            ids[status].append(run_id)
            if status == "finished":
                rows = [{"scenario_id": f"{scenario}-small", "split": "train", "policy": policy, "seed": seed,
                         "metric": metric, "value": value + 0.01 * seed}
                        for policy, base in {**BASELINE_SCORES, "ppo": 0.70 + 0.02 * i}.items()
                        for seed in range(3)
                        for metric, value in (("score", base), ("coverage", min(1.0, base + 0.2)),
                                              ("time_ratio", 0.6 / base), ("time_ratio_lb", 1 / base),
                                              ("idle_share", 0.2 / base))
                        # a lower bound and the idle share: recon only
                        if metric not in ("time_ratio_lb", "idle_share") or scenario == "recon"]
                ledger.add_evaluation(run_id, suite_hash="suite-v1", rows=rows)
                decision = decisions[i]
                compared = decision != "first"
                diff, low = (0.05, 0.01) if decision == "promoted" else (-0.01, -0.05)
                ledger.add_promotion({"pairs": 3, "test": "paired bootstrap"},
                                     model_name=f"swarmops-{scenario}-ppo", scenario=scenario,
                                     candidate_run_id=run_id, candidate_version=str(i + 1),
                                     champion_run_id=ids["finished"][0] if compared else None,
                                     champion_version="1" if compared else None,
                                     decision=decision, metric="score",
                                     mean_difference=diff if compared else None,
                                     ci_low=low if compared else None,
                                     ci_high=0.09 if compared else None, n_pairs=3 if compared else 0)
    finally:
        ledger.close()
    return ids
