"""`swarmops tune`: an Optuna study over a search space, run by any number of workers.

The study lives in Optuna's RDB storage (embedded default: SQLite under the runs dir; with
``--storage postgresql://...`` every worker, local process or remote host, joins the same study).
Optuna assigns the trials; there is no scheduler here. Each trial trains the base profile with
the sampled values (TPE sampler), reports an intermediate evaluation on the suite every
``trial.eval_every`` agent-steps (median or Hyperband pruner) and ends with the suite's headline
value (:func:`trial_objective`). Every trial is an MLflow child run of the study's parent run.

A trial that raises is FAIL and the worker goes on; a killed worker's trial stops sending
heartbeats and is marked FAIL by the next worker (Optuna's ``fail_stale_trials``), so re-running
the command resumes the study up to ``--trials`` finished (complete or pruned) trials.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from training.paths import runs_root
from training.tune_space import SearchSpace, check_space, load_space, trial_profile

log = logging.getLogger(__name__)

# ---- the objective: the ONE place that says what a trial is scored on and in which direction ----
#: Name of the headline value (MLflow metric, report label) and whether higher or lower is better.
#: To switch to another headline (e.g. a time ratio, lower is better), change these two lines and
#: the body of trial_objective; nothing else in tune reads the metric.
# The gate's statistic: the mean per-field time-based score (recon: lower bound / steps to 95 %
# coverage, a field that never gets there counted at twice its budget; watering: net water per step
# relative to greedy). The headline time ratio (training.evaluate.suite_headline) is capped per field
# and flat for the barely trained policies of early evaluations, which starves the pruner.
OBJECTIVE_NAME = "score"
OBJECTIVE_DIRECTION = "maximize"


def trial_objective(model: Any, scenario: str, suite: Any, seed: int = 0) -> float:
    """The suite's headline value of a (partly) trained PPO model: what the study optimises.

    Uses training.evaluate's suite evaluation (the same code as `swarmops evaluate` and the gate).
    """
    from training.evaluate import POLICY, evaluate_policies, policy_callable, summarise

    policies = {POLICY: policy_callable(model)}
    rows, _ = evaluate_policies(suite, scenario, policies, seed=seed, progress=False)
    return float(summarise(rows)[OBJECTIVE_NAME])


# ---- requests, storage and study --------------------------------------------------------------------
STUDY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PARENT_TAG = "swarmops.tune_study"
DEFAULT_HEARTBEAT = 30


class TuneError(ValueError):
    """Bad tune input (storage URL, study name) or an unreachable storage: one line, nothing created."""


@dataclass
class TuneRequest:
    """Everything a worker needs; the same request runs on every host."""

    scenario: str
    trials: int
    space: SearchSpace
    profile: str = "smoke"
    storage: str = ""
    study: str = ""
    suite_dir: Path = Path("data/scenarios")
    heartbeat: int = DEFAULT_HEARTBEAT
    space_ref: str = ""

    @property
    def study_name(self) -> str:
        """--study, or <scenario>-<space>-<profile>."""
        return self.study or f"{self.scenario}-{self.space.name}-{Path(self.profile).stem}"[:32]

    @property
    def out_dir(self) -> Path:
        """Where the study's report and best profile go."""
        return runs_root() / "tune" / self.study_name


def default_storage() -> str:
    """The embedded study storage: a SQLite file under the runs dir."""
    return f"sqlite:///{runs_root() / 'optuna.db'}"


def check_storage(url: str) -> str:
    """Validate and probe a storage URL; returns it in the form SQLAlchemy/Optuna accept.

    sqlite and postgresql are allowed; a PostgreSQL server that cannot be reached is one line and
    nothing is created. ``postgresql://`` is read as ``postgresql+psycopg2://`` (the driver installed).
    """
    import sqlalchemy as sa

    from training.ledger import redact

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise TuneError(
            f"invalid --storage {url!r} (expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database:
            raise TuneError("--storage sqlite needs a file path (sqlite:///PATH): an in-memory study is lost")
        folder = Path(parsed.database).parent
        if folder.exists() and not folder.is_dir():
            raise TuneError(f"--storage {url}: {folder} is not a folder")
        return url
    if backend != "postgresql":
        raise TuneError(f"unsupported --storage {backend!r} in {redact(url)} (allowed: sqlite, postgresql)")
    if parsed.get_driver_name() != "psycopg2":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    engine = sa.create_engine(parsed, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise TuneError(f"cannot reach the study storage {redact(url)}: {reason}") from None
    finally:
        engine.dispose()
    return parsed.render_as_string(hide_password=False)


def prepare(
    scenario: str,
    trials: int,
    space: str | Path | None = None,
    profile: str = "smoke",
    storage: str | None = None,
    study: str | None = None,
    suite_dir: Path = Path("data/scenarios"),
    heartbeat: int = DEFAULT_HEARTBEAT,
) -> TuneRequest:
    """Validate every input (search space, base profile, suite, study name, storage) before any write."""
    from training.scenarios import load_suite

    import env as swarm_env

    if scenario not in swarm_env.SCENARIOS:
        raise TuneError(f"--scenario {scenario!r} is unknown (allowed: {', '.join(swarm_env.SCENARIOS)})")
    if study and not STUDY_NAME.match(study):
        raise TuneError(f"--study {study!r}: use 1-32 characters of a-z, 0-9, '-', '_' (first: a-z, 0-9)")
    loaded = load_space(space or scenario)
    check_space(loaded, profile, scenario)
    load_suite(suite_dir).for_scenario(scenario)  # a missing suite fails here, not in every trial
    url = check_storage(storage or default_storage())
    return TuneRequest(scenario, trials, loaded, profile, url, study or "", Path(suite_dir), heartbeat,
                       str(space or scenario))


def _storage(req: TuneRequest) -> Any:
    import optuna

    engine: dict[str, Any] = {}
    if req.storage.startswith("postgresql"):
        engine = {"connect_args": {"connect_timeout": 5}, "pool_pre_ping": True}
    else:
        Path(req.storage.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = {"connect_args": {"timeout": 60}}  # several local workers share one SQLite file
    return optuna.storages.RDBStorage(
        req.storage,
        engine_kwargs=engine,
        heartbeat_interval=req.heartbeat,
        grace_period=2 * req.heartbeat,
        heartbeat_stale_trial_callback=_close_failed_trial,
    )


def _pruner(space: SearchSpace) -> Any:
    import optuna

    if space.pruner == "hyperband":  # resources are the reported steps: agent-steps
        return optuna.pruners.HyperbandPruner(min_resource=space.trial.eval_every,
                                              max_resource=space.trial.total_timesteps)
    return optuna.pruners.MedianPruner(n_startup_trials=space.startup_trials, n_warmup_steps=0)


def open_study(req: TuneRequest) -> Any:
    """Create or join the study (TPE sampler, the space's pruner) on the request's storage."""
    import warnings

    import optuna
    import sqlalchemy as sa

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # heartbeats and fail_stale_trials are "experimental" in Optuna 5 (stable since 2.9 in practice)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    for attempt in range(3):
        try:
            study = optuna.create_study(
                study_name=req.study_name,
                storage=_storage(req),
                sampler=optuna.samplers.TPESampler(n_startup_trials=max(1, req.space.startup_trials)),
                pruner=_pruner(req.space),
                direction=OBJECTIVE_DIRECTION,
                load_if_exists=True,
            )
            break
        except sa.exc.SQLAlchemyError:
            # Workers starting together on an empty database race to create Optuna's tables; the
            # loser finds them on the next attempt.
            if attempt == 2:
                raise
            time.sleep(1.0 + attempt)
    # Optuna loads an existing study with its own direction: after a change of the objective's
    # direction its old trials would be ranked backwards.
    if study.direction.name.lower() != OBJECTIVE_DIRECTION:
        raise TuneError(
            f"study {req.study_name} was created to {study.direction.name.lower()}; the objective "
            f"({OBJECTIVE_NAME}) is now to {OBJECTIVE_DIRECTION}: use a new --study name"
        )
    return study


# ---- MLflow: one parent run per study, one child run per trial --------------------------------------
def _experiment(scenario: str) -> str:
    from training.tracking import setup_mlflow

    return setup_mlflow(f"swarmops-{scenario}-tune")


def parent_run(req: TuneRequest) -> str:
    """The study's MLflow parent run (created once; concurrent starters all adopt the oldest)."""
    import mlflow

    exp = _experiment(req.scenario)
    client = mlflow.MlflowClient()
    query = f"tags.`{PARENT_TAG}` = '{req.study_name}'"

    def existing() -> list[Any]:
        return client.search_runs([exp], query, order_by=["attributes.start_time ASC"], max_results=10)

    found = existing()
    if found:
        return found[0].info.run_id
    mine = client.create_run(exp, run_name=f"study-{req.study_name}", tags={PARENT_TAG: req.study_name})
    _log_params(client, mine.info.run_id, {"scenario": req.scenario, "profile": req.profile,
                                           "space": req.space.name, "objective": OBJECTIVE_NAME,
                                           "direction": OBJECTIVE_DIRECTION})
    found = existing()
    winner = sorted(found, key=lambda r: (r.info.start_time, r.info.run_id))[0].info.run_id
    if winner != mine.info.run_id:  # another worker created one at the same time: keep the oldest
        client.delete_run(mine.info.run_id)
    return winner


def _log_params(client: Any, run_id: str, values: dict[str, Any]) -> None:
    from mlflow.entities import Param

    client.log_batch(run_id, params=[Param(k, str(v)) for k, v in values.items()])


def _close_failed_trial(study: Any, trial: Any) -> None:
    """Heartbeat expired (worker killed): close the trial's MLflow child run as FAILED too."""
    import mlflow

    run_id = trial.user_attrs.get("mlflow_run_id")
    if run_id:
        client = mlflow.MlflowClient()
        client.set_tag(run_id, "state", "FAIL")
        client.set_tag(run_id, "error", "worker stopped sending heartbeats (killed?)")
        client.set_terminated(run_id, "FAILED")
    log.warning("trial %d of %s marked FAIL: its worker stopped", trial.number, study.study_name)


# ---- one trial ----------------------------------------------------------------------------------------
def _suggest(trial: Any, space: SearchSpace) -> dict[str, Any]:
    from training.tune_space import CategoricalParam, FloatParam

    values: dict[str, Any] = {}
    for key, p in space.params.items():
        if isinstance(p, CategoricalParam):
            # Optuna stores categorical choices as JSON-able scalars: index lists (net_arch) by position.
            idx = trial.suggest_categorical(key, [str(c) for c in p.choices])
            values[key] = p.choices[[str(c) for c in p.choices].index(idx)]
        elif isinstance(p, FloatParam):
            values[key] = trial.suggest_float(key, p.low, p.high, log=p.log)
        else:
            values[key] = trial.suggest_int(key, p.low, p.high, step=p.step, log=p.log)
    return values


def train_trial(
    scenario: str, profile: Any, every: int, on_eval: Callable[[int, Any], bool]
) -> Any:
    """Train ``profile`` (its curriculum, no ledger row, no files); ``on_eval(step, model)`` runs
    every ``every`` agent-steps and stops training when it returns False. Returns the model."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    from training.train import build_env, build_model, resolve_device, set_threads, stage_budgets

    device = resolve_device(profile.device)
    set_threads(profile)
    bounds = np.cumsum(stage_budgets(profile))
    model = build_model(profile, build_env(scenario, profile, 0, profile.seed), device)

    class Evaluations(BaseCallback):
        """Intermediate evaluations at fixed agent-step marks; False stops learn()."""

        def __init__(self) -> None:
            super().__init__()
            self.next_eval = every
            self.keep_going = True

        def _on_rollout_start(self) -> None:
            # Rollout start = just after the previous update: the mark's evaluation sees that update.
            if self.num_timesteps >= self.next_eval:
                self.next_eval = (self.num_timesteps // every + 1) * every
                with torch.random.fork_rng():  # evaluation sampling leaves training's RNG alone
                    self.keep_going = on_eval(int(self.num_timesteps), self.model)

        def _on_step(self) -> bool:
            return self.keep_going

    callback = Evaluations()
    for stage in range(len(bounds)):
        if stage:
            model.set_env(build_env(scenario, profile, stage, profile.seed + 1000 * stage))
        remaining = int(bounds[stage]) - int(model.num_timesteps)
        if remaining > 0:
            model.learn(remaining, callback=callback, reset_num_timesteps=False)
        if not callback.keep_going:
            break
    return model


def _subset(suite: Any, scenario: str, n: int | None) -> Any:
    from training.scenarios import Suite

    entries = suite.for_scenario(scenario)
    return Suite(suite.directory, entries[: n or len(entries)], suite.hash, suite.version)


def make_objective(req: TuneRequest, parent: str) -> Callable[[Any], float]:
    """The Optuna objective of this request: train, report intermediate values, log a child run."""
    import mlflow
    import optuna

    from training.scenarios import load_suite

    suite = _subset(load_suite(req.suite_dir), req.scenario, req.space.trial.suite_entries)
    client = mlflow.MlflowClient()
    exp = _experiment(req.scenario)

    def objective(trial: Any) -> float:
        values = _suggest(trial, req.space)
        run = client.create_run(
            exp,
            run_name=f"{req.study_name}-trial-{trial.number}",
            tags={"mlflow.parentRunId": parent, "optuna_study": req.study_name,
                  "optuna_trial": str(trial.number), "state": "RUNNING"},
        )
        rid = run.info.run_id
        trial.set_user_attr("mlflow_run_id", rid)
        _log_params(client, rid, values)
        t0 = time.perf_counter()
        try:
            profile = trial_profile(req.profile, req.scenario, values, req.space.trial.total_timesteps)

            pruned_at: list[int] = []

            def on_eval(step: int, model: Any) -> bool:
                value = trial_objective(model, req.scenario, suite)
                trial.report(value, step)
                client.log_metric(rid, f"intermediate_{OBJECTIVE_NAME}", value, step=step)
                if model.ep_info_buffer:
                    reward = float(np.mean([ep["r"] for ep in model.ep_info_buffer]))
                    client.log_metric(rid, "ep_rew_mean", reward, step=step)
                if trial.should_prune():
                    pruned_at.append(step)
                return not pruned_at

            model = train_trial(req.scenario, profile, req.space.trial.eval_every, on_eval)
            client.log_metric(rid, "agent_steps", int(model.num_timesteps))
            client.log_metric(rid, "seconds", time.perf_counter() - t0)
            if pruned_at:
                client.set_tag(rid, "state", "PRUNED")
                client.set_terminated(rid, "KILLED")
                raise optuna.TrialPruned(f"pruned at {pruned_at[0]} agent-steps")
            value = trial_objective(model, req.scenario, suite)
            client.log_metric(rid, OBJECTIVE_NAME, value)
            client.set_tag(rid, "state", "COMPLETE")
            client.set_terminated(rid, "FINISHED")
            return value
        except optuna.TrialPruned:
            raise
        except BaseException as exc:  # FAIL in Optuna (it records the trial), FAILED in MLflow
            client.set_tag(rid, "state", "FAIL")
            client.set_tag(rid, "error", f"{type(exc).__name__}: {exc}"[:500])
            client.set_terminated(rid, "FAILED")
            raise

    return objective


# ---- workers -------------------------------------------------------------------------------------------
def _finished(study: Any) -> tuple[int, int, int]:
    """(finished = complete + pruned, running, failed) trial counts of the study."""
    from optuna.trial import TrialState

    states = [t.state for t in study.get_trials(deepcopy=False)]
    done = sum(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states)
    return done, states.count(TrialState.RUNNING), states.count(TrialState.FAIL)


def run_worker(req: TuneRequest, echo: Callable[[str], None] = print) -> int:
    """Run trials until the study holds ``req.trials`` finished ones; returns the trials this worker ran.

    Running trials of other workers count as reserved, so K workers do not overshoot the target.
    Failed trials do not count; more failures in this worker than ``req.trials`` stop it (a broken
    setup must not loop forever).
    """
    import optuna

    study = open_study(req)
    objective = make_objective(req, parent_run(req))
    ran = failures = 0
    while True:
        optuna.storages.fail_stale_trials(study)
        done, running, _ = _finished(study)
        if done + running >= req.trials:
            return ran
        t0 = time.perf_counter()
        seen: list[Any] = []
        study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=False,
                       callbacks=[lambda _study, trial: seen.append(trial)])
        ran += 1
        trial = seen[-1]
        value = f" {OBJECTIVE_NAME} {trial.value:.4f}" if trial.value is not None else ""
        echo(f"trial {trial.number} {trial.state.name}{value} ({time.perf_counter() - t0:.1f} s)")
        if trial.state.name == "FAIL":
            failures += 1
            if failures > req.trials:
                raise TuneError(f"{failures} trials failed in this worker: see the MLflow runs' error tags")


STORAGE_ENV = "SWARMOPS_TUNE_STORAGE"


def spawn_workers(req: TuneRequest, workers: int) -> list[int]:
    """Start ``workers`` local worker processes on the same storage and wait; returns exit codes.

    The storage URL travels in the environment (it may hold a password), not on the command line.
    """
    import os

    cmd = [sys.executable, "-m", "swarmops", "tune", "--scenario", req.scenario, "--trials", str(req.trials),
           "--profile", req.profile, "--space", req.space_ref, "--suite", str(req.suite_dir),
           "--heartbeat", str(req.heartbeat), "--study", req.study_name, "--workers", "1", "--no-report"]
    env = {**os.environ, STORAGE_ENV: req.storage}
    procs = [subprocess.Popen(cmd, env=env) for _ in range(workers)]
    return [p.wait() for p in procs]
