"""`swarmops tune`: the command line of training.tune (registered by training.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from swarmops.cliutils import command_group, fail


def register_tune(app: typer.Typer, suite_default: Path) -> None:
    """Add `swarmops tune` to the app (its TuneError is a domain error of swarmops.errors' boundary)."""
    from training.tune import DEFAULT_HEARTBEAT, STORAGE_ENV

    @app.command()
    def tune(
        scenario: str = typer.Option("recon", help="recon | watering"),
        trials: int = typer.Option(..., min=1, help="finished (complete or pruned) trials the study holds"),
        workers: int = typer.Option(1, min=1, max=64, help="local worker processes on the same storage"),
        storage: Optional[str] = typer.Option(
            None, envvar=STORAGE_ENV, show_envvar=True,
            help="study storage: postgresql://USER:PW@HOST/DB (shared by every host) or sqlite:///PATH "
                 "(default: RUNS_DIR/optuna.db)"),
        study: Optional[str] = typer.Option(None, help="study name (default SCENARIO-SPACE-PROFILE)"),
        profile: str = typer.Option("smoke", help="base profile: smoke | default | gpu, or a YAML path"),
        space: Optional[str] = typer.Option(
            None, help="search space: name in training/profiles/search (default: the scenario) or a path"),
        suite: Path = typer.Option(suite_default, help="scenario suite folder"),
        heartbeat: int = typer.Option(
            DEFAULT_HEARTBEAT, min=1, help="seconds between trial heartbeats; a trial silent for twice "
                                           "as long (killed worker) is marked FAIL"),
        report: bool = typer.Option(True, help="write the report and best profile at the end"),
    ) -> None:
        """Hyperparameter search (Optuna, TPE + pruning); re-running the command resumes the study."""
        from training.tune import prepare, run_worker, spawn_workers

        req = prepare(scenario, trials, space, profile, storage, study, suite, heartbeat)
        typer.echo(f"study {req.study_name}: target {trials} trials, {workers} worker(s), storage "
                   f"{_redact(req.storage)}")
        if workers == 1:
            run_worker(req, typer.echo)
        else:
            from training.tune import open_study, parent_run

            open_study(req)  # tables, study and MLflow parent run exist before the workers start
            parent_run(req)
            codes = spawn_workers(req, workers)
            if any(codes):
                fail(f"{sum(1 for c in codes if c)} of {workers} workers failed (exit codes {codes})", code=1)
        if report:
            from training.tune_report import write_report

            typer.echo(f"report: {write_report(req)}")

    bench = command_group(app, "bench", "Benchmarks (print a table, write JSON under bench/results).")

    @bench.command("tune")
    def bench_tune(
        trials: int = typer.Option(6, min=2, help="trials per setting"),
        steps: int = typer.Option(4096, min=1024, help="agent-steps per trial"),
        repeats: int = typer.Option(2, min=1, help="runs per setting (alternating 1, 2, 2, 1 workers)"),
        out: Path = typer.Option(Path("bench/results/tune.json")),
    ) -> None:
        """Trials per hour of `swarmops tune` with 1 and 2 local workers on a tiny search; writes JSON."""
        from training.tune_bench import run_tune_bench

        run_tune_bench(trials, steps, repeats, out)


def _redact(url: str) -> str:
    from training.ledger import redact

    return redact(url)
