"""The SQL of the training dashboard, shared by its Grafana panels (PostgreSQL datasource) and the
static matplotlib rendering (`swarmops report dashboard`), so both always show the same numbers.

Plain SQL that runs unchanged on PostgreSQL and on the embedded SQLite ledger (no Grafana macros,
no dialect functions); tables and columns are those of training/ledger.py.
"""
from __future__ import annotations

from dataclasses import dataclass

# Learning curves show the most recent runs only: older ones clutter the plot.
RECENT_RUNS = 10


@dataclass(frozen=True)
class LedgerQuery:
    """One panel's query: ``sql`` returns ``columns`` in this order."""

    title: str
    sql: str
    columns: tuple[str, ...]


def _curve(metric: str, title: str) -> LedgerQuery:
    return LedgerQuery(
        title=title,
        sql=f"""
SELECT m.recorded_at AS time, m.step AS step, m.run_id AS run_id, r.scenario AS scenario,
       m.run_id || ' ' || r.scenario AS metric, m.value AS value
FROM training_metrics m JOIN runs r ON r.id = m.run_id
WHERE m.name = '{metric}'
  AND m.run_id IN (SELECT id FROM runs ORDER BY started_at DESC LIMIT {RECENT_RUNS})
ORDER BY m.run_id, m.step""".strip(),
        columns=("time", "step", "run_id", "scenario", "metric", "value"))


def _latest_evaluation(metric: str, title: str) -> LedgerQuery:
    """Per scenario, the latest evaluation's per-field ``metric``: mean, min and max per policy."""
    return LedgerQuery(
        title=title,
        sql=f"""
SELECT r.scenario AS scenario, e.run_id AS run_id, e.policy AS policy, AVG(e.value) AS mean_{metric},
       MIN(e.value) AS min_{metric}, MAX(e.value) AS max_{metric}, COUNT(*) AS fields
FROM evaluation_results e JOIN runs r ON r.id = e.run_id
WHERE e.metric = '{metric}'
  AND e.recorded_at = (SELECT MAX(e2.recorded_at)
                       FROM evaluation_results e2 JOIN runs r2 ON r2.id = e2.run_id
                       WHERE r2.scenario = r.scenario AND e2.metric = '{metric}')
GROUP BY r.scenario, e.run_id, e.policy
ORDER BY r.scenario, mean_{metric}""".strip(),
        columns=("scenario", "run_id", "policy", f"mean_{metric}", f"min_{metric}", f"max_{metric}",
                 "fields"))


QUERIES: dict[str, LedgerQuery] = {
    "runs": LedgerQuery(
        title="Recent runs",
        sql="""
SELECT id AS run_id, scenario, profile, status, started_at, ended_at, timesteps_done, total_timesteps,
       agent_steps_per_second, model_version
FROM runs ORDER BY started_at DESC LIMIT 50""".strip(),
        columns=("run_id", "scenario", "profile", "status", "started_at", "ended_at", "timesteps_done",
                 "total_timesteps", "agent_steps_per_second", "model_version")),
    "run_status": LedgerQuery(
        title="Runs by scenario and status",
        sql="""
SELECT scenario, status, COUNT(*) AS runs FROM runs
GROUP BY scenario, status ORDER BY scenario, status""".strip(),
        columns=("scenario", "status", "runs")),
    "reward_curves": _curve("episode_reward", "Learning curves: mean episode reward"),
    "coverage_curves": _curve("coverage", "Learning curves: coverage"),
    "throughput": LedgerQuery(
        title="Training throughput (agent-steps/s)",
        sql="""
SELECT started_at AS time, scenario AS metric, agent_steps_per_second AS value
FROM runs WHERE agent_steps_per_second IS NOT NULL ORDER BY started_at""".strip(),
        columns=("time", "metric", "value")),
    # the latest evaluation of each scenario: the trained policy (ppo) next to every baseline, as the
    # per-field time ratio to the best heuristic of each suite entry (1 = parity, lower is better)
    "evaluation_vs_baselines": _latest_evaluation(
        "time_ratio", "Evaluation: time ratio to the best heuristic (latest per scenario; lower is better)"),
    # recon only: steps to the coverage target / the fewest any swarm needs (env/bounds.py; 1 = optimal)
    "evaluation_vs_lower_bound": _latest_evaluation(
        "time_ratio_lb",
        "Evaluation, recon: time ratio to the lower bound (latest; 1 = optimal, lower is better)"),
    # recon only: the share of the drone-steps to the coverage target that newly sensed no cell (travel
    # over sensed ground, hovering, waiting): where the time above the lower bound goes
    "evaluation_idle_share": _latest_evaluation(
        "idle_share",
        "Evaluation, recon: idle share of drone-steps (latest; sensed nothing new, lower is better)"),
    "promotions": LedgerQuery(
        title="Promotion history (gate decisions)",
        sql="""
SELECT decided_at AS time, scenario, model_name, candidate_run_id, candidate_version, champion_version,
       decision, metric, mean_difference, ci_low, ci_high, n_pairs
FROM promotions ORDER BY decided_at DESC, id DESC LIMIT 50""".strip(),
        columns=("time", "scenario", "model_name", "candidate_run_id", "candidate_version",
                 "champion_version", "decision", "metric", "mean_difference", "ci_low", "ci_high",
                 "n_pairs")),
}
