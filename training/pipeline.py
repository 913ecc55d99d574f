"""The main job: scenarios -> training -> evaluation -> gate -> report.

Runs on embedded defaults (SQLite ledger, SQLite MLflow store, artifacts under runs/) unless
SWARMOPS_DB_URL / MLFLOW_TRACKING_URI point elsewhere; prints where the report and the MLflow UI are.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from training.ledger import Ledger, redact


def _num(value: float | None) -> str:
    """A ratio, or n/a when its baseline scores 0."""
    return "n/a" if value is None else f"{value:.3f}"


def _step(name: str) -> float:
    typer.secho(f"==> {name}", bold=True)
    return time.perf_counter()


def _done(t0: float, detail: str) -> None:
    typer.echo(f"    {detail} ({time.perf_counter() - t0:.1f} s)")


def run_pipeline(
    scenario: str,
    profile_name: str,
    suite_dir: Path = Path("data/scenarios"),
    params: Path = Path("params.yaml"),
    progress: bool = True,
) -> bool:
    """Run every step; returns True when the gate promoted the candidate (or it is the first champion)."""
    from training.config import load_profile
    from training.scenarios import SuiteError, generate_suite, load_params, load_suite
    from training.tracking import check_tracking_uri, tracking_uri
    from training.train import train
    from training.workflow import evaluate_model, gate

    profile = load_profile(profile_name, scenario=scenario)
    ledger = Ledger()  # fails here, before anything is written, when the database is unreachable
    check_tracking_uri(tracking_uri())  # and here when the MLflow store is (seconds, not minutes)

    t0 = _step("scenarios")
    try:
        suite = load_suite(suite_dir)
        _done(t0, f"{len(suite.entries)} scenario files at {suite_dir} are valid (suite {suite.version})")
    except SuiteError:
        generate_suite(load_params(params), suite_dir)
        suite = load_suite(suite_dir)
        _done(t0, f"generated {len(suite.entries)} scenario files at {suite_dir} from {params}")

    t0 = _step(f"training ({scenario}, profile {profile.name}, {profile.total_timesteps:,} agent-steps)")
    result = train(scenario, profile, ledger=ledger, progress=progress, data_hash=suite.hash)
    _done(t0, f"run {result.run_id}: {result.agent_steps_per_second:,.0f} agent-steps/s on {result.device}")

    t0 = _step("evaluation (policy + heuristic baselines on the suite)")
    run = ledger.get_run(result.run_id)
    report = evaluate_model(ledger, run, result.model_path, scenario, suite_dir, progress=progress)
    m = report.metrics
    _done(
        t0,
        f"time ratio to {m['best_heuristic']} {_num(m.get('time_ratio_to_heuristic'))} "
        f"(held-out {_num(m.get('time_ratio_to_heuristic_held_out'))}), to the lower bound "
        f"{_num(m.get('time_ratio_to_lower_bound'))}; gate score {m['score']:.3f}, "
        f"{_num(m.get('ratio_to_random'))}x random",
    )

    t0 = _step("gate (candidate vs @champion, bootstrap CI)")
    decision = gate(ledger, scenario, result.run_id, suite_dir, progress=progress)
    _done(t0, decision.summary())

    uri = tracking_uri()
    typer.secho("==> report", bold=True)
    typer.echo(f"    report:     {report.out_dir / 'report.md'}")
    typer.echo(f"    plots:      {report.out_dir / 'plots'}")
    typer.echo(f"    ledger:     {redact(ledger.url)}  (swarmops runs, swarmops report {result.run_id})")
    typer.echo(f"    MLflow UI:  .venv/bin/mlflow ui --backend-store-uri '{redact(uri)}' --port 5000")
    return decision.passed
