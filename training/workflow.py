"""The steps that tie training, evaluation, the registry and the gate together (used by the CLI)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from training.errors import InputError, NotFoundError
from training.ledger import Ledger, Run
from training.paths import run_dir as run_dir_of

EXPORT_MARKER = "run.json"
# Bump when a per-field score means something new, so that the ledger never pairs a stored score with a
# new one: the gate then re-evaluates the champion (2: recon's lower bound counts the travel from the
# base, env/bounds.py; 3: a learned policy's drones yield to each other, env.shield.yield_moves; 4: drones
# flying home wait too while their battery can afford it, env.shield.WAIT_MARGIN, and greedy's idle drones
# fly home, so watering's score, relative to greedy on the same layout, has a stronger bar; 5: watering's
# time ratio is to the better of greedy and the sweep routes, env.routes, on each suite entry).
SCORE_VERSION = 5


def evaluation_key(suite_hash: str) -> str:
    """Ledger key of an evaluation: the suite's data hash and the score version (at most 64 chars)."""
    return f"{suite_hash}+score-v{SCORE_VERSION}"


def resolve_model(ledger: Ledger, ref: str, scenario: str | None = None) -> tuple[Run | None, Path]:
    """Find a model: a run id/prefix, ``latest``, ``@alias``, a model.zip, or an exported folder."""
    path = Path(ref)
    if path.is_dir() and (path / EXPORT_MARKER).is_file():
        info = json.loads((path / EXPORT_MARKER).read_text())
        run = ledger.get_run(info["run_id"])
        return run, path / "model.zip"
    if path.suffix == ".zip":
        if not path.is_file():
            raise NotFoundError(f"model file {path} does not exist")
        return None, path
    if ref.startswith("@"):
        from training.registry import alias_version, download_model, run_of_version

        if not scenario:
            raise InputError(f"{ref}: give --scenario to pick the registered model")
        version = alias_version(scenario, ref[1:])
        if version is None:
            raise NotFoundError(f"no model version has alias {ref} for scenario {scenario}")
        run = ledger.get_run(run_of_version(version))
        return run, download_model(scenario, ref)
    run = ledger.resolve_run(ref, scenario)
    return run, run_model_path(run)


def run_model_path(run: Run) -> Path:
    """model.zip of a run: the local run folder, else its MLflow artifact."""
    local = Path(run.run_dir or run_dir_of(run.id)) / "model.zip"
    if local.is_file():
        return local
    if run.status != "finished" or not run.mlflow_run_id:
        raise NotFoundError(
            f"run {run.id} has status {run.status} and no model (only finished runs have one)"
        )
    import mlflow

    from training.tracking import setup_mlflow

    setup_mlflow(f"swarmops-{run.scenario}")
    return Path(
        mlflow.artifacts.download_artifacts(run_id=run.mlflow_run_id, artifact_path="model/model.zip")
    )


def export_run(run_id: str, model_path: Path, out_dir: Path) -> Path:
    """Copy a trained model to ``out_dir`` with a marker naming its run (the DVC train stage's output)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, out_dir / "model.zip")
    (out_dir / EXPORT_MARKER).write_text(json.dumps({"run_id": run_id}) + "\n")
    return out_dir


def _exported_run_id(model_path: Path) -> str | None:
    """The run id an exported model's marker names (a fresh clone's ledger has no such run)."""
    marker = Path(model_path).parent / EXPORT_MARKER
    return json.loads(marker.read_text()).get("run_id") if marker.is_file() else None


def evaluate_model(
    ledger: Ledger,
    run: Run | None,
    model_path: Path,
    scenario: str,
    suite_dir: Path,
    out_dir: Path | None = None,
    progress: bool = True,
    seed: int = 0,
    baselines: bool = True,
) -> Any:
    """Evaluate a model (and every heuristic baseline unless ``baselines`` is False) on the suite;
    store the results in the ledger and MLflow."""
    from env.baselines import BASELINES
    from training.evaluate import (
        POLICY,
        EvaluationReport,
        evaluate_policies,
        policy_callable,
        write_outputs,
    )
    from training.registry import load_model
    from training.scenarios import load_suite

    suite = load_suite(suite_dir)
    model = load_model(model_path, scenario)
    policies: dict[str, Any] = {POLICY: policy_callable(model), **{b: b for b in BASELINES if baselines}}
    rows, curves = evaluate_policies(suite, scenario, policies, seed=seed, progress=progress)
    if out_dir is None:
        out_dir = (
            Path(run.run_dir or run_dir_of(run.id)) / "eval" if run else Path(model_path).parent / "eval"
        )
    title = run.id if run else _exported_run_id(model_path) or str(model_path)
    metrics = write_outputs(Path(out_dir), scenario, rows, curves, title)
    metrics["suite_hash"], metrics["suite_version"] = suite.hash, suite.version
    if run is not None:
        ledger.add_evaluation(run.id, evaluation_key(suite.hash), rows)
        _log_to_mlflow(run, metrics, Path(out_dir))
    return EvaluationReport(Path(out_dir), metrics, rows, curves)


def _log_to_mlflow(run: Run, metrics: dict[str, Any], out_dir: Path) -> None:
    import mlflow

    from training.tracking import setup_mlflow

    if not run.mlflow_run_id:
        return
    setup_mlflow(f"swarmops-{run.scenario}")
    flat = {f"eval_{k}": v for k, v in metrics.items() if isinstance(v, (int, float)) and v is not None}
    for name, values in metrics.get("policies", {}).items():
        flat.update({f"eval_{name}_{k}": v for k, v in values.items() if isinstance(v, (int, float))})
    client = mlflow.MlflowClient()
    for key, value in flat.items():
        client.log_metric(run.mlflow_run_id, key, float(value))
    client.set_tag(run.mlflow_run_id, "suite_hash", metrics.get("suite_hash", ""))
    client.log_artifacts(run.mlflow_run_id, str(out_dir), artifact_path="evaluation")


def ensure_evaluated(ledger: Ledger, run: Run, suite_dir: Path, progress: bool = True) -> str:
    """Evaluate ``run``'s policy on the suite unless the ledger already holds its results with today's
    scores (the gate needs no baselines: it compares two policies); returns the evaluation key."""
    from training.scenarios import load_suite

    key = evaluation_key(load_suite(suite_dir).hash)
    if not ledger.evaluation(run.id, key):
        evaluate_model(
            ledger, run, run_model_path(run), run.scenario, suite_dir, progress=progress, baselines=False
        )
    return key


SEED_SUFFIX = re.compile(r"^(?P<group>.+)-seed(?P<seed>\d+)$")


def seed_run_id(group: str, seed: int) -> str:
    """Run id of one seed of a multi-seed training (``swarmops train --seeds``)."""
    return f"{group}-seed{seed}"


def seed_group(ledger: Ledger, run: Run) -> list[Run]:
    """The finished runs of ``run``'s seed group (itself alone when it was trained with one seed)."""
    match = SEED_SUFFIX.match(run.id)
    if not match:
        return [run]
    prefix = f"{match['group']}-seed"
    group = [r for r in ledger.list_runs(limit=1000, scenario=run.scenario, status="finished")
             if SEED_SUFFIX.match(r.id) and r.id.startswith(prefix) and r.id[len(prefix):].isdigit()]
    return sorted(group, key=lambda r: r.id) or [run]


def gate(
    ledger: Ledger,
    scenario: str,
    candidate_ref: str,
    suite_dir: Path,
    min_delta: float = 0.0,
    n_boot: int = 5000,
    progress: bool = True,
) -> Any:
    """Register + evaluate the candidate, compare with @champion, move the aliases, record the decision."""
    from training import registry
    from training.gate import decide
    from training.registry import IncompatibleModel

    candidate = ledger.resolve_run(candidate_ref, scenario)
    if candidate.status != "finished":
        raise NotFoundError(
            f"run {candidate.id} has status {candidate.status}; only finished runs can be gated"
        )
    if candidate.scenario != scenario:
        raise InputError(f"run {candidate.id} is a {candidate.scenario} run, not {scenario}")
    version = registry.register_run(ledger, candidate)
    evaluation = ensure_evaluated(ledger, candidate, suite_dir, progress)
    # A multi-seed training is judged on all its seeds (their mean per pair), not on one lucky seed.
    candidate_group = seed_group(ledger, candidate)
    for run in candidate_group:
        ensure_evaluated(ledger, run, suite_dir, progress)
    champ_version = registry.alias_version(scenario, registry.CHAMPION)
    champion, stale, champion_group = None, None, []
    if champ_version is not None:
        champ_run_id = registry.run_of_version(champ_version)
        champion = ledger.get_run(champ_run_id)
        if champion is None:
            raise NotFoundError(
                f"@champion v{champ_version.version} comes from run {champ_run_id!r}, which this "
                f"ledger ({ledger.url.split('@')[-1]}) does not know; use the ledger it was gated with"
            )
        try:
            ensure_evaluated(ledger, champion, suite_dir, progress)
            champion_group = seed_group(ledger, champion)
            for run in champion_group:
                ensure_evaluated(ledger, run, suite_dir, progress)
        except IncompatibleModel as exc:
            # After a change of the simulator's spaces the champion cannot run any more: replace it.
            champion, stale = None, str(exc)
    decision = decide(
        ledger,
        candidate,
        version,
        champion,
        str(champ_version.version) if champ_version else None,
        evaluation,
        registry.model_name(scenario),
        min_delta=min_delta,
        n_boot=n_boot,
        stale_champion=stale,
        candidate_runs=[r.id for r in candidate_group],
        champion_runs=[r.id for r in champion_group] or None,
    )
    registry.set_alias(scenario, registry.CHALLENGER, version)
    if decision.passed:
        registry.set_alias(scenario, registry.CHAMPION, version)
    return decision


def _latest(rows: list[Any]) -> list[Any]:
    """The rows of a run's most recent evaluation (rows come in the order they were recorded)."""
    return [r for r in rows if r.suite_hash == rows[-1].suite_hash] if rows else []


def render_run_report(ledger: Ledger, run: Run) -> Path:
    """Path of the run's Markdown report; rebuilt from the ledger when the file is not here."""
    from training.evaluate import per_scenario_table, render_report, summarise, time_ratio_table

    out = Path(run.run_dir or run_dir_of(run.id)) / "eval" / "report.md"
    if out.is_file():
        return out
    rows = [
        {
            "scenario_id": r.scenario_id,
            "split": r.split,
            "policy": r.policy,
            "seed": r.seed,
            "metric": r.metric,
            "value": r.value,
        }
        for r in _latest(ledger.evaluation(run.id))
    ]
    if not rows:
        raise NotFoundError(f"run {run.id} has no evaluation yet: run swarmops evaluate {run.id}")
    metrics = summarise(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        render_report(run.id, run.scenario, metrics, per_scenario_table(rows), time_ratio_table(rows))
    )
    return out
