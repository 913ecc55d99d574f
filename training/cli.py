"""`swarmops` commands of the training area: train, scenarios, evaluate, register, gate, runs, report,
pipeline, bench train. Heavy imports stay inside the command bodies so `swarmops --help` is fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from swarmops.cliutils import FORMAT_HELP, OutputFormat, command_group, fail, print_table
from swarmops.paths import check_output

SUITE_DEFAULT = Path("data/scenarios")
DASHBOARD_DEFAULT = Path("reports/dashboard")
MAX_LIMIT = 100_000  # `runs --limit`: more rows than any ledger table prints usefully


def _ledger() -> Any:
    from training.ledger import Ledger

    return Ledger()


def _stores() -> Any:
    """The ledger, after both stores were checked (a bad or unreachable URL fails here, in one line)."""
    from training.tracking import check_separate_stores, check_tracking_uri, tracking_uri

    ledger = _ledger()
    check_tracking_uri(tracking_uri())
    check_separate_stores(ledger.url)
    return ledger


def _check_scenario(scenario: Optional[str], flag: str = "--scenario") -> None:
    """Refuse an unknown scenario name before the ledger or the registry is asked about it."""
    from env import SCENARIOS

    if scenario is not None and scenario not in SCENARIOS:
        fail(f"{flag} {scenario!r} is unknown (allowed: {', '.join(SCENARIOS)})")


def register(app: typer.Typer) -> None:
    """Add the training commands to the `swarmops` app."""
    scen = typer.Typer(
        help="Scenario suite (versioned data under data/scenarios, tracked by DVC).", no_args_is_help=True
    )
    app.add_typer(scen, name="scenarios")
    bench = command_group(app, "bench", "Benchmarks (print a table, write JSON under bench/results).")
    from training.tune_cli import register_tune

    register_tune(app, SUITE_DEFAULT)

    @app.command()
    def train(
        scenario: str = typer.Option("recon", help="recon | watering"),
        profile: Optional[str] = typer.Option(
            None, help="smoke | default | gpu, or a YAML path [default: smoke]"
        ),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="override: key.sub=value"),
        resume: Optional[str] = typer.Option(
            None, help="continue RUN from its last checkpoint, with its saved profile (not with --profile)"
        ),
        export: Optional[Path] = typer.Option(None, help="also copy model.zip + run.json to this folder"),
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
        if export is not None:  # before hours of training, not after
            check_output(export, "--export", kind="dir")
        seed_list = _parse_seeds(seeds, bool(resume))  # bad --seeds fail before anything is written
        if resume:  # continue with the run's own profile (saved with it); --set may still override
            ledger = _stores()
            prior = ledger.resolve_run(resume)
            if profile is not None and profile != prior.profile:  # never ignored silently
                fail(f"--resume {prior.id} continues with the run's saved profile {prior.profile!r}, not "
                     f"--profile {profile} (drop --profile; change values with --set key=value)")
            scenario, resume = prior.scenario, prior.id
            prof = load_profile(Path(prior.run_dir or "") / "profile.yaml", set_ or [])
        else:
            # bad profiles fail before the ledger is touched
            prof = load_profile(profile or "smoke", set_ or [], scenario=scenario)
            ledger = _stores()
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
    def scenarios_generate(
        params: Path = typer.Option(Path("params.yaml"), help="params file (section scenarios)"),
        out: Path = typer.Option(SUITE_DEFAULT, help="output folder"),
    ) -> None:
        """Write the versioned scenario files (deterministic: same params, same bytes)."""
        from training.scenarios import generate_suite, load_params

        check_output(out, "--out", kind="dir", default=SUITE_DEFAULT)
        files = generate_suite(load_params(params), out)
        typer.echo(f"wrote {len(files)} files to {out}")

    @scen.command("validate")
    def scenarios_validate(suite: Path = typer.Argument(SUITE_DEFAULT)) -> None:
        """Validate every scenario file: the schema, then the simulator's own checks that evaluate applies
        (obstacles, reachability), so a suite that passes here is one that evaluate accepts."""
        from training.scenarios import check_runnable, load_suite

        loaded = load_suite(suite)
        check_runnable(loaded)
        typer.echo(
            f"{suite}: {len(loaded.entries)} scenario files valid "
            f"(suite {loaded.version}, hash {loaded.hash})"
        )

    @app.command()
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

        _check_scenario(scenario)
        if out is not None:
            check_output(out, "--out", kind="dir")
        ledger = _stores()
        run, path = resolve_model(ledger, model, scenario)
        scenario = scenario or (run.scenario if run else None)
        if scenario is None:
            fail("--scenario is required for a model file that has no run in the ledger")
        report = evaluate_model(ledger, run, path, scenario, suite, out, progress=progress, seed=seed)
        m = report.metrics
        typer.echo(
            f"time ratio to {m['best_heuristic']} {_num(m.get('time_ratio_to_heuristic'))} "
            f"(held-out {_num(m.get('time_ratio_to_heuristic_held_out'))}) | to the lower bound "
            f"{_num(m.get('time_ratio_to_lower_bound'))} | gate score {m['score']:.3f} | "
            f"{_num(m.get('ratio_to_random'))}x random"
        )
        typer.echo(f"report: {report.out_dir / 'report.md'}")

    @app.command("register")
    def register_cmd(
        run: str = typer.Argument("latest"), scenario: Optional[str] = typer.Option(None)
    ) -> None:
        """Register a finished run's model as a new version of swarmops-<scenario>-ppo."""
        from training.registry import model_name, register_run

        _check_scenario(scenario)
        ledger = _stores()
        found = ledger.resolve_run(run, scenario)
        version = register_run(ledger, found)
        typer.echo(f"{model_name(found.scenario)} version {version} <- run {found.id}")

    @app.command()
    def gate(
        scenario: str = typer.Option("recon"),
        candidate: str = typer.Option("latest", help="run id or latest finished run"),
        suite: Path = typer.Option(SUITE_DEFAULT),
        min_delta: float = typer.Option(0.0, help="required lower CI bound of the score gain"),
        n_boot: int = typer.Option(5000, min=100),
    ) -> None:
        """Compare the candidate with @champion (bootstrap CI); exit 1 when it is not better."""
        from training.workflow import gate as run_gate

        _check_scenario(scenario)
        decision = run_gate(_stores(), scenario, candidate, suite, min_delta, n_boot)
        typer.echo(decision.summary())
        if not decision.passed:
            raise typer.Exit(1)

    @app.command()
    def runs(
        limit: int = typer.Option(20, min=1, max=MAX_LIMIT, help="most recent runs to list"),
        scenario: Optional[str] = typer.Option(None, help="recon | watering"),
        status: Optional[str] = typer.Option(None, help="running | finished | failed | interrupted"),
        fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help=FORMAT_HELP),
    ) -> None:
        """Recent runs from the ledger."""
        from training.ledger import RUN_STATUSES, redact

        _check_scenario(scenario)
        if status is not None and status not in RUN_STATUSES:
            fail(f"--status {status!r} is unknown (allowed: {', '.join(RUN_STATUSES)})")
        ledger = _ledger()
        columns = ("run", "status", "scenario", "profile", "device", "steps", "agent-steps/s", "version",
                   "started (UTC)")
        rows = [
            (
                r.id,
                r.status,
                r.scenario,
                r.profile,
                r.device,
                r.timesteps_done,
                round(r.agent_steps_per_second) if r.agent_steps_per_second else None,
                r.model_version,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            )
            for r in ledger.list_runs(limit, scenario, status)
        ]
        print_table(f"runs ({redact(ledger.url)})", columns, rows, fmt)

    @app.command()
    def report(
        run: str = typer.Argument(..., help="run id | latest | dashboard"),
        out: Path = typer.Option(DASHBOARD_DEFAULT, help="output folder for `report dashboard`"),
        show: bool = typer.Option(
            True, help="print the Markdown report (rendered on a terminal, as is in a pipe)"
        ),
    ) -> None:
        """Render a run's evaluation report (or, with `dashboard`, the training dashboard)."""
        if run == "dashboard":
            from training.ledger import default_db_url

            check_output(out, "--out", kind="dir", default=DASHBOARD_DEFAULT)
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

        import sys

        ledger = _ledger()
        path = render_run_report(ledger, ledger.resolve_run(run))
        if show and sys.stdout.isatty():
            Console().print(Markdown(path.read_text()))
        elif show:  # a pipe or a file: the Markdown itself, whose tables keep every column
            typer.echo(path.read_text().rstrip("\n"))
        typer.echo(f"report: {path}")

    @app.command()
    def pipeline(
        scenario: str = typer.Option("recon"),
        profile: str = typer.Option("smoke"),
        suite: Path = typer.Option(SUITE_DEFAULT),
        strict_gate: bool = typer.Option(False, help="exit 1 when the gate rejects the candidate"),
        progress: bool = typer.Option(True),
    ) -> None:
        """The main job: scenarios -> training -> evaluation -> gate -> report, on embedded defaults."""
        from training.pipeline import run_pipeline

        _check_scenario(scenario)
        if not run_pipeline(scenario, profile, suite, progress=progress) and strict_gate:
            raise typer.Exit(1)

    @bench.command("train")
    def bench_train(
        profiles: str = typer.Option("smoke,gpu", help="comma-separated profiles"),
        updates: int = typer.Option(3, min=1, help="PPO updates timed per profile"),
        out: Path = typer.Option(Path("bench/results/train.json")),
    ) -> None:
        """PPO agent-steps/s (collection + update) and peak memory per profile; writes JSON."""
        from training.bench import run_bench

        check_output(out, "--out", default=Path("bench/results/train.json"))
        run_bench([p.strip() for p in profiles.split(",") if p.strip()], updates, out)

    @bench.command("sizing")
    def bench_sizing(
        profile: str = typer.Option("default", help="profile whose rows/batch are varied"),
        rows: str = typer.Option("128,256,512,1024", help="VecEnv rows (num_agents), comma-separated"),
        batches: str = typer.Option("2048,4096,8192", help="PPO batch sizes, comma-separated"),
        rounds: int = typer.Option(3, min=1, max=20, help="alternated rounds (median reported)"),
        iterations: int = typer.Option(3, min=1, max=50, help="timed PPO iterations per run"),
        out: Path = typer.Option(Path("bench/results/sizing.json")),
    ) -> None:
        """Training agent-steps/s against VecEnv rows and batch size, one process per run; writes JSON."""
        from training.bench_sizing import run_sizing

        def ints(text: str, name: str) -> tuple[int, ...]:
            try:
                vals = tuple(int(v) for v in text.split(",") if v.strip())
            except ValueError:
                vals = ()
            if not vals or any(v < 1 for v in vals):
                fail(f"--{name}={text!r} is invalid; allowed: comma-separated positive integers")
            return vals

        run_sizing(profile, ints(rows, "rows"), ints(batches, "batches"), rounds, out=out,
                   iterations=iterations)


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
