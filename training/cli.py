"""`swarmops` commands of the training area: train, scenarios, evaluate, register, gate, runs, report,
pipeline, bench train. Heavy imports stay inside the command bodies so `swarmops --help` is fast."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from swarmops.cliutils import command_group, fail

SUITE_DEFAULT = Path("data/scenarios")


def _clean_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Known bad-input errors become one line on stderr and exit code 2 (nothing else printed)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from training.config import ProfileError
        from training.errors import CheckpointError, TrackingError, TrainingInterrupted
        from training.ledger import LedgerError
        from training.scenarios import SuiteError

        known: tuple[type[BaseException], ...] = (
            ProfileError,
            LedgerError,
            SuiteError,
            TrackingError,
            CheckpointError,
            LookupError,
            FileNotFoundError,
            ValueError,
        )
        try:
            return func(*args, **kwargs)
        except TrainingInterrupted as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(130 if exc.signum == 2 else 143)
        except known as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            fail(msg.strip("'\""))

    return wrapper


def _ledger() -> Any:
    from training.ledger import Ledger

    return Ledger()


def register(app: typer.Typer) -> None:
    """Add the training commands to the `swarmops` app."""
    scen = typer.Typer(
        help="Scenario suite (versioned data under data/scenarios, tracked by DVC).", no_args_is_help=True
    )
    app.add_typer(scen, name="scenarios")
    bench = command_group(app, "bench", "Benchmarks (print a table, write JSON under bench/results).")
    from training.tune_cli import register_tune

    register_tune(app, _clean_errors, SUITE_DEFAULT)

    @app.command()
    @_clean_errors
    def train(
        scenario: str = typer.Option("recon", help="recon | watering"),
        profile: str = typer.Option("smoke", help="smoke | default | gpu, or a YAML path"),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="override: key.sub=value"),
        resume: Optional[str] = typer.Option(None, help="continue RUN from its last checkpoint"),
        export: Optional[Path] = typer.Option(None, help="also copy model.zip + run.json here"),
        progress: bool = typer.Option(True, help="show the progress bar"),
        seeds: Optional[str] = typer.Option(
            None, help="comma-separated training seeds, e.g. 0,1,2: one run per seed (RUN-seedN); "
                       "the gate judges the seeds' mean"),
    ) -> None:
        """Train a PPO swarm policy from a profile (Ctrl-C saves a checkpoint; --resume continues)."""
        from training.config import load_profile
        from training.paths import directory_hash
        from training.train import new_run_id, train as run_training
        from training.workflow import export_run, seed_run_id

        from env import SCENARIOS

        if scenario not in SCENARIOS:
            fail(f"--scenario {scenario!r} is unknown (allowed: {', '.join(SCENARIOS)})")
        seed_list = _parse_seeds(seeds, bool(resume))  # bad --seeds fail before anything is written
        if resume:  # continue with the run's own profile (saved with it); --set may still override
            ledger = _ledger()
            prior = ledger.resolve_run(resume)
            scenario, resume = prior.scenario, prior.id
            prof = load_profile(Path(prior.run_dir or "") / "profile.yaml", set_ or [])
        else:
            # bad profiles fail before the ledger is touched
            prof = load_profile(profile, set_ or [], scenario=scenario)
            ledger = _ledger()
        data_hash = directory_hash(SUITE_DEFAULT) if SUITE_DEFAULT.is_dir() else None
        group = new_run_id(scenario, prof.name)
        for seed in seed_list:
            result = run_training(
                scenario, prof if seed is None else prof.model_copy(update={"seed": seed}), resume=resume,
                ledger=ledger, progress=progress, data_hash=data_hash,
                run_id=None if seed is None else seed_run_id(group, seed),
            )
            if export:
                folder = export if seed is None else export / f"seed{seed}"
                export_run(result.run_id, result.model_path, folder)
            typer.echo(
                f"run {result.run_id} finished: {result.timesteps:,} agent-steps at "
                f"{result.agent_steps_per_second:,.0f} agent-steps/s on {result.device}; "
                f"model {result.model_path}"
            )

    @scen.command("generate")
    @_clean_errors
    def scenarios_generate(
        params: Path = typer.Option(Path("params.yaml"), help="params file (section scenarios)"),
        out: Path = typer.Option(SUITE_DEFAULT, help="output folder"),
    ) -> None:
        """Write the versioned scenario files (deterministic: same params, same bytes)."""
        from training.scenarios import generate_suite, load_params

        files = generate_suite(load_params(params), out)
        typer.echo(f"wrote {len(files)} files to {out}")

    @scen.command("validate")
    @_clean_errors
    def scenarios_validate(suite: Path = typer.Argument(SUITE_DEFAULT)) -> None:
        """Validate every scenario file against the schema."""
        from training.scenarios import load_suite

        loaded = load_suite(suite)
        typer.echo(
            f"{suite}: {len(loaded.entries)} scenario files valid "
            f"(suite {loaded.version}, hash {loaded.hash})"
        )

    @app.command()
    @_clean_errors
    def evaluate(
        model: str = typer.Argument(..., help="run id | latest | @alias | model.zip | exported folder"),
        suite: Path = typer.Option(SUITE_DEFAULT, help="scenario suite folder"),
        scenario: Optional[str] = typer.Option(None, help="recon | watering (default: the run's)"),
        out: Optional[Path] = typer.Option(None, help="output folder (default RUN_DIR/eval)"),
        seed: int = typer.Option(0, min=0, help="offset added to each scenario file's seed"),
        progress: bool = typer.Option(True),
    ) -> None:
        """Evaluate a policy and every heuristic baseline on the suite (metrics, tables, plots, report)."""
        from training.workflow import evaluate_model, resolve_model

        ledger = _ledger()
        run, path = resolve_model(ledger, model, scenario)
        scenario = scenario or (run.scenario if run else None)
        if scenario is None:
            fail("--scenario is required for a model file that has no run in the ledger")
        report = evaluate_model(ledger, run, path, scenario, suite, out, progress=progress, seed=seed)
        m = report.metrics
        typer.echo(
            f"score {m['score']:.3f} | ratio to {m['best_heuristic']} {_num(m['ratio_to_heuristic'])} | "
            f"ratio to random {_num(m['ratio_to_random'])} | ratio to lower bound "
            f"{_num(m['ratio_to_lower_bound'])}"
        )
        typer.echo(f"report: {report.out_dir / 'report.md'}")

    @app.command("register")
    @_clean_errors
    def register_cmd(
        run: str = typer.Argument("latest"), scenario: Optional[str] = typer.Option(None)
    ) -> None:
        """Register a finished run's model as a new version of swarmops-<scenario>-ppo."""
        from training.registry import model_name, register_run

        ledger = _ledger()
        found = ledger.resolve_run(run, scenario)
        version = register_run(ledger, found)
        typer.echo(f"{model_name(found.scenario)} version {version} <- run {found.id}")

    @app.command()
    @_clean_errors
    def gate(
        scenario: str = typer.Option("recon"),
        candidate: str = typer.Option("latest", help="run id or latest finished run"),
        suite: Path = typer.Option(SUITE_DEFAULT),
        min_delta: float = typer.Option(0.0, help="required lower CI bound of the score gain"),
        n_boot: int = typer.Option(5000, min=100),
    ) -> None:
        """Compare the candidate with @champion (bootstrap CI); exit 1 when it is not better."""
        from training.workflow import gate as run_gate

        decision = run_gate(_ledger(), scenario, candidate, suite, min_delta, n_boot)
        typer.echo(decision.summary())
        if not decision.passed:
            raise typer.Exit(1)

    @app.command()
    @_clean_errors
    def runs(
        limit: int = typer.Option(20, min=1),
        scenario: Optional[str] = typer.Option(None),
        status: Optional[str] = typer.Option(None),
    ) -> None:
        """Recent runs from the ledger."""
        from rich.console import Console
        from rich.table import Table

        ledger = _ledger()
        table = Table(title=f"runs ({ledger.url.split('@')[-1]})")
        for col in (
            "run",
            "status",
            "scenario",
            "profile",
            "device",
            "steps",
            "agent-steps/s",
            "version",
            "started (UTC)",
        ):
            table.add_column(col)
        for r in ledger.list_runs(limit, scenario, status):
            table.add_row(
                r.id,
                r.status,
                r.scenario,
                r.profile,
                r.device,
                f"{r.timesteps_done:,}",
                f"{r.agent_steps_per_second:,.0f}" if r.agent_steps_per_second else "-",
                r.model_version or "-",
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            )
        Console(width=160).print(table)

    @app.command()
    @_clean_errors
    def report(
        run: str = typer.Argument(..., help="run id | latest | dashboard"),
        out: Path = typer.Option(Path("reports/dashboard"), help="output folder for `report dashboard`"),
        show: bool = typer.Option(True, help="print the Markdown report"),
    ) -> None:
        """Render a run's evaluation report (or, with `dashboard`, the training dashboard)."""
        if run == "dashboard":
            from training.ledger import default_db_url

            try:
                from monitoring.dashboard_render import render_training_dashboard
            except ImportError as exc:
                fail(f"the dashboard renderer is not available ({exc})")
            path = render_training_dashboard(default_db_url(), out)
            typer.echo(f"dashboard: {path}")
            return
        from rich.console import Console
        from rich.markdown import Markdown

        from training.workflow import render_run_report

        ledger = _ledger()
        path = render_run_report(ledger, ledger.resolve_run(run))
        if show:
            Console().print(Markdown(path.read_text()))
        typer.echo(f"report: {path}")

    @app.command()
    @_clean_errors
    def pipeline(
        scenario: str = typer.Option("recon"),
        profile: str = typer.Option("smoke"),
        suite: Path = typer.Option(SUITE_DEFAULT),
        strict_gate: bool = typer.Option(False, help="exit 1 when the gate rejects the candidate"),
        progress: bool = typer.Option(True),
    ) -> None:
        """The main job: scenarios -> training -> evaluation -> gate -> report, on embedded defaults."""
        from training.pipeline import run_pipeline

        if not run_pipeline(scenario, profile, suite, progress=progress) and strict_gate:
            raise typer.Exit(1)

    @bench.command("train")
    @_clean_errors
    def bench_train(
        profiles: str = typer.Option("smoke,gpu", help="comma-separated profiles"),
        updates: int = typer.Option(3, min=1, help="PPO updates timed per profile"),
        out: Path = typer.Option(Path("bench/results/train.json")),
    ) -> None:
        """PPO agent-steps/s (collection + update) and peak memory per profile; writes JSON."""
        from training.bench import run_bench

        run_bench([p.strip() for p in profiles.split(",") if p.strip()], updates, out)


def _parse_seeds(seeds: Optional[str], resume: bool) -> list[Optional[int]]:
    """The seeds of `swarmops train --seeds 0,1,2`; [None] (the profile's seed) without the option."""
    if seeds is None:
        return [None]
    if resume:
        fail("--seeds cannot be combined with --resume (resume each seed's run by its id)")
    try:
        values = [int(part) for part in seeds.split(",")]
    except ValueError:
        fail(f"--seeds {seeds!r}: expected comma-separated integers >= 0, e.g. 0,1,2")
    if not values or min(values) < 0 or len(set(values)) != len(values):
        fail(f"--seeds {seeds!r}: expected distinct integers >= 0, e.g. 0,1,2")
    return list(values)


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"
