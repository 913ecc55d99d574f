"""PPO training of a parameter-shared swarm policy from a profile, with a complete record of the run.

Order matters for "nothing half-written": the ledger and the MLflow store are checked, and a
checkpoint to resume from is validated, before any run row, run folder or MLflow run exists.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shlex
import signal
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Callable

import numpy as np

from training.config import Profile, dump_profile
from training.ledger import Ledger, utcnow
from training.paths import run_dir as run_dir_of
from training.errors import CheckpointError, InputError, TrainingInterrupted
from training.tracking import PushgatewayReporter, check_separate_stores, dvc_data_md5, git_sha, setup_mlflow

log = logging.getLogger(__name__)
CHECKPOINT_NAME = "last.zip"


@dataclass
class TrainResult:
    """What a finished training run produced."""

    run_id: str
    run_dir: Path
    model_path: Path
    timesteps: int
    agent_steps_per_second: float
    mlflow_run_id: str
    device: str


def resolve_device(requested: str) -> str:
    """'auto' -> 'cuda' when available, else 'cpu'; 'cuda' without CUDA is an error."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise InputError("device: 'cuda' requested but torch sees no CUDA device (allowed here: auto, cpu)")
    return requested


def field_config(profile: Profile, stage_index: int) -> Any:
    """env.config.FieldConfig of one curriculum stage (profile.field values apply to every stage)."""
    from env.config import FieldConfig

    return FieldConfig(**profile.stage_field(stage_index))


def stage_budgets(profile: Profile) -> list[int]:
    """Agent-steps per curriculum stage, rounded to whole rollouts (at least one each)."""
    rollout = profile.rollout_size
    budgets = [
        max(rollout, int(round(profile.total_timesteps * s.share / rollout)) * rollout)
        for s in profile.curriculum
    ]
    return budgets


def build_env(scenario: str, profile: Profile, stage_index: int, seed: int) -> Any:
    """The parameter-shared VecEnv of one stage: num_agents rows = fields x drones."""
    from stable_baselines3.common.vec_env import VecMonitor

    import env as swarm_env

    stage = profile.curriculum[stage_index]
    vec = swarm_env.make_vec_env(
        scenario,
        field_config(profile, stage_index),
        num_fields=profile.num_agents // stage.n_drones,
        seed=seed,
        terminal_obs="truncated",  # PPO bootstraps only truncated episodes from their last observation
    )
    # VecMonitor records per-row episode returns (the simulator's own) for SB3's rollout/ep_rew_mean.
    monitored = VecMonitor(vec)
    if not profile.team_reward:
        return monitored
    from training.team_reward import TeamReward

    return TeamReward(monitored, stage.n_drones, profile.team_reward)


def build_model(
    profile: Profile, vec_env: Any, device: str, policy_overrides: dict[str, Any] | None = None
) -> Any:
    """A PPO model with the profile's hyperparameters (``policy_overrides``: extra or replaced
    ``policy_kwargs``, for benchmarks of other nets, e.g. bench/policy_nets.py)."""
    import torch
    from stable_baselines3 import PPO

    from training.policy import MaskedMovesPolicy
    from training.registry import stamp_layout
    from training.rollout_buffer import FreshSamplesRolloutBuffer

    p = profile.ppo
    return stamp_layout(PPO(
        MaskedMovesPolicy if p.mask_blocked_moves else "MlpPolicy",
        vec_env,
        learning_rate=p.learning_rate,
        n_steps=p.n_steps,
        batch_size=p.batch_size,
        n_epochs=p.n_epochs,
        gamma=p.gamma,
        gae_lambda=p.gae_lambda,
        clip_range=p.clip_range,
        ent_coef=p.ent_coef,
        vf_coef=p.vf_coef,
        max_grad_norm=p.max_grad_norm,
        rollout_buffer_class=FreshSamplesRolloutBuffer,
        policy_kwargs={"net_arch": list(p.net_arch),
                       "activation_fn": {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[p.activation],
                       # only when it differs from 1: models then keep the policy_kwargs they had
                       **({"acting_temperature": p.acting_temperature}
                          if p.acting_temperature != 1.0 else {}),
                       **({"compass_prior": p.compass_prior} if p.compass_prior else {}),
                       **({"release_prior": p.release_prior} if p.release_prior else {}),
                       **({"gain_prior": p.gain_prior, "gain_radius": field_config(profile, 0).sensor_radius,
                           **({"gain_weight": p.gain_weight} if p.gain_weight != "cells" else {})}
                          if p.gain_prior else {}),
                       **(policy_overrides or {})},
        seed=profile.seed,
        device=device,
        verbose=0,
    ))


def set_threads(profile: Profile) -> None:
    """Pin torch's thread count when the profile asks (small nets run faster on one thread)."""
    import torch

    if profile.torch_threads:
        torch.set_num_threads(profile.torch_threads)


def load_checkpoint(path: Path, vec_env: Any, device: str) -> Any:
    """Load a PPO checkpoint, turning any unreadable file into one clear CheckpointError."""
    from stable_baselines3 import PPO

    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} is corrupt (not a stable-baselines3 zip archive)")
    try:
        return PPO.load(path, env=vec_env, device=device)
    except Exception as exc:  # noqa: BLE001 - any load failure means the file is unusable
        raise CheckpointError(
            f"checkpoint {path} is corrupt or incompatible: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None


def save_checkpoint(model: Any, folder: Path, meta: dict[str, Any]) -> Path:
    """Write the checkpoint atomically (tmp + rename) so a kill mid-write never corrupts last.zip."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CHECKPOINT_NAME
    tmp = folder / "last.tmp.zip"
    model.save(tmp)
    os.replace(tmp, target)
    # last.json is a readable sidecar; resuming trusts the step count inside last.zip, so a kill
    # between these two renames cannot make the resume step lag the weights.
    sidecar = folder / "last.tmp.json"
    sidecar.write_text(json.dumps({**meta, "timesteps": int(model.num_timesteps)}))
    os.replace(sidecar, folder / "last.json")
    return target


class _SignalFlag:
    """Turns SIGINT/SIGTERM into a flag the training callback polls; a second signal aborts hard."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> "_SignalFlag":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _make_callback(flag: _SignalFlag, progress: Any, ckpt: Callable[[], None], every: int) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class TrainingCallback(BaseCallback):
        """Progress bar, agent-steps/s and coverage per update, periodic checkpoints, stop on signal."""

        def __init__(self) -> None:
            super().__init__()
            self.next_checkpoint = 0
            self.cycle_start = time.perf_counter()
            self.cycle_steps = 0
            self.coverages: list[float] = []

        def _on_training_start(self) -> None:
            self.next_checkpoint = (self.num_timesteps // every + 1) * every
            self.cycle_start, self.cycle_steps = time.perf_counter(), self.num_timesteps

        def _on_step(self) -> bool:
            if np.any(self.locals["dones"]):
                for info in self.locals["infos"]:
                    metrics = info.get("field_metrics")  # first row of a field whose episode just ended
                    if metrics and "coverage" in metrics:
                        self.coverages.append(float(metrics["coverage"]))
            progress(self.num_timesteps)
            if self.num_timesteps >= self.next_checkpoint:
                ckpt()
                self.next_checkpoint += every
            return flag.signum is None

        def _on_rollout_end(self) -> None:
            # Measured from one rollout end to the next: collection + the PPO update in between.
            now = time.perf_counter()
            steps = self.num_timesteps - self.cycle_steps
            if steps > 0:
                self.logger.record("time/agent_steps_per_second", steps / max(now - self.cycle_start, 1e-9))
            self.cycle_start, self.cycle_steps = now, self.num_timesteps
            if self.coverages:
                self.logger.record("rollout/coverage", float(np.mean(self.coverages[-200:])))

    return TrainingCallback()


def new_run_id(scenario: str, profile: str) -> str:
    """Readable, unique, sortable run id."""
    return f"{scenario}-{profile}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def _flat(prefix: str, data: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, dict):
        for key, value in data.items():
            _flat(f"{prefix}.{key}" if prefix else key, value, out)
    else:
        out[prefix] = json.dumps(data) if isinstance(data, list) else data
    return out


def train(
    scenario: str,
    profile: Profile,
    *,
    resume: str | None = None,
    ledger: Ledger | None = None,
    progress: bool = True,
    run_id: str | None = None,
    data_hash: str | None = None,
) -> TrainResult:
    """Train (or resume) a run; see the module docstring for the order of side effects.

    Raises LedgerError/TrackingError/CheckpointError before anything is written, and
    TrainingInterrupted after saving a checkpoint when SIGINT/SIGTERM arrives.
    """
    import mlflow
    from stable_baselines3.common.logger import Logger

    from training.mlflow_buffer import MlflowMetricBuffer
    from training.sb3_output import TrackingOutputFormat

    import env as swarm_env

    if scenario not in swarm_env.SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r} (allowed: {', '.join(swarm_env.SCENARIOS)})")
    ledger = ledger or Ledger()
    check_separate_stores(ledger.url)
    device = resolve_device(profile.device)
    set_threads(profile)
    budgets = stage_budgets(profile)
    bounds = np.cumsum(budgets)

    if resume:
        prior = ledger.resolve_run(resume)
        if prior.status == "finished":
            raise CheckpointError(f"run {prior.id} already finished; nothing to resume")
        run_id, folder = prior.id, Path(prior.run_dir or run_dir_of(prior.id))
        done = checkpoint_steps(folder / "checkpoints" / CHECKPOINT_NAME)
        stage0 = int(np.searchsorted(bounds, done, side="right"))
        if stage0 >= len(budgets):
            raise CheckpointError(f"run {prior.id}: its checkpoint already covers the whole budget")
        vec_env = build_env(scenario, profile, stage0, profile.seed + 1000 * stage0 + done)
        model = load_checkpoint(folder / "checkpoints" / CHECKPOINT_NAME, vec_env, device)
        setup_mlflow(f"swarmops-{scenario}")  # only now: a bad checkpoint leaves every store untouched
        mlflow_run = mlflow.start_run(run_id=prior.mlflow_run_id)
        ledger.update_run(run_id, status="running", ended_at=None, error=None)
        # The ledger keeps every interruption: a row at the resume step (a run still "running" here was
        # killed without the chance to say so; "interrupted" ones stopped on a signal).
        ledger.add_metrics(run_id, done, {"resumed_from_step": float(done),
                                          "resumed_after_kill": float(prior.status == "running")})
    else:
        stage0, done = 0, 0
        setup_mlflow(f"swarmops-{scenario}")
        run_id = run_id or new_run_id(scenario, profile.name)
        vec_env = build_env(scenario, profile, 0, profile.seed)
        model = build_model(profile, vec_env, device)
        folder = run_dir_of(run_id)
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "profile.yaml").write_text(dump_profile(profile))
        (folder / "command.txt").write_text(shlex.join(sys.argv) + "\n")
        tags = {
            "git_sha": git_sha(),
            "data_hash": data_hash or "none",  # content hash of the suite the run was given
            "dvc_data_md5": dvc_data_md5(),  # DVC's hash of data/scenarios in dvc.lock
            "profile": profile.name,
            "device": device,
            "scenario": scenario,
            "swarmops_run_id": run_id,
        }
        mlflow_run = mlflow.start_run(run_name=run_id, tags=tags)
        mlflow.log_params(_flat("", {"scenario": scenario, **profile.model_dump(mode="json")}, {}))
        ledger.create_run(
            id=run_id,
            scenario=scenario,
            profile=profile.name,
            seed=profile.seed,
            device=device,
            git_sha=tags["git_sha"],
            data_hash=data_hash,
            total_timesteps=int(bounds[-1]),
            mlflow_run_id=mlflow_run.info.run_id,
            run_dir=str(folder),
            config_json=json.dumps(profile.model_dump(mode="json")),
        )

    pushgw = PushgatewayReporter(run_id, scenario)
    metrics_out = MlflowMetricBuffer(mlflow_run.info.run_id, mlflow.get_tracking_uri())
    model.set_logger(Logger(folder=None, output_formats=[
        TrackingOutputFormat(ledger, run_id, pushgw, mlflow_buffer=metrics_out)]))
    ckpt_dir = folder / "checkpoints"
    stage_of = {"stage": stage0}

    def checkpoint() -> Path:
        return save_checkpoint(model, ckpt_dir, {"run_id": run_id, "stage": stage_of["stage"]})

    bar = _ProgressBar(int(bounds[-1]), done, f"{run_id}", enabled=progress)
    started = time.perf_counter()
    pushgw.push({"timesteps_total": done}, status="running")
    try:
        with _SignalFlag() as flag, bar:
            callback = _make_callback(flag, bar.update, checkpoint, profile.checkpoint_every)
            for stage in range(stage0, len(budgets)):
                stage_of["stage"] = stage
                if stage != stage0:
                    model.set_env(build_env(scenario, profile, stage, profile.seed + 1000 * stage))
                remaining = int(bounds[stage]) - int(model.num_timesteps)
                if remaining > 0:
                    model.learn(remaining, callback=callback, reset_num_timesteps=False)
                if flag.signum is not None:
                    path = checkpoint()
                    metrics_out.flush()
                    _finish(ledger, run_id, pushgw, model, "interrupted", started, done)
                    mlflow.end_run(status="KILLED")
                    raise TrainingInterrupted(run_id, flag.signum, path)
        model_path = folder / "model.zip"
        model.save(model_path)
        checkpoint()
        rate = _finish(ledger, run_id, pushgw, model, "finished", started, done)
        metrics_out.log({"agent_steps_per_second_overall": rate}, int(model.num_timesteps))
        metrics_out.flush()  # an MLflow outage ends here: every buffered metric is on the server
        mlflow.log_artifact(str(model_path), artifact_path="model")
        mlflow.log_artifact(str(folder / "profile.yaml"), artifact_path="config")
        if profile.episode_gif:
            _log_episode_gif(scenario, profile, model, folder)
        mlflow.end_run(status="FINISHED")
        return TrainResult(
            run_id, folder, model_path, int(model.num_timesteps), rate, mlflow_run.info.run_id, device
        )
    except (TrainingInterrupted, KeyboardInterrupt):
        if mlflow.active_run():
            try:
                checkpoint()
            finally:
                _finish(ledger, run_id, pushgw, model, "interrupted", started, done)
                mlflow.end_run(status="KILLED")
        raise
    except Exception as exc:
        _finish(ledger, run_id, pushgw, model, "failed", started, done, error=f"{type(exc).__name__}: {exc}")
        if mlflow.active_run():
            try:
                mlflow.end_run(status="FAILED")
            except Exception as end_exc:  # noqa: BLE001 - MLflow down may be why we failed: keep that error
                print(f"mlflow: could not mark the run FAILED ({type(end_exc).__name__})", file=sys.stderr)
        raise
    finally:
        metrics_out.close()


def checkpoint_steps(path: Path) -> int:
    """Agent-steps stored inside a checkpoint (SB3 keeps `num_timesteps` in the zip's `data` JSON): the
    weights' own counter, so it can never disagree with them. CheckpointError when unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            return int(json.loads(archive.read("data"))["num_timesteps"])
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except (OSError, zipfile.BadZipFile, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt ({type(exc).__name__})") from None


def _finish(
    ledger: Ledger,
    run_id: str,
    pushgw: PushgatewayReporter,
    model: Any,
    status: str,
    started: float,
    done_before: int,
    error: str | None = None,
) -> float:
    """Close the ledger row (status, steps, throughput) and push the final status."""
    steps = int(model.num_timesteps)
    rate = (steps - done_before) / max(time.perf_counter() - started, 1e-9)
    ledger.update_run(
        run_id,
        status=status,
        timesteps_done=steps,
        agent_steps_per_second=rate,
        ended_at=utcnow(),
        error=error,
    )
    pushgw.push({"timesteps_total": steps, "agent_steps_per_second": rate}, status=status)
    return rate


def _log_episode_gif(scenario: str, profile: Profile, model: Any, folder: Path) -> None:
    """Render one short episode of the trained policy as a GIF artifact (best effort)."""
    import mlflow

    try:
        from training.media import episode_gif

        path = episode_gif(
            scenario,
            field_config(profile, len(profile.curriculum) - 1),
            model,
            folder / "episode.gif",
            seed=profile.seed,
        )
        mlflow.log_artifact(str(path), artifact_path="media")
    except Exception as exc:  # noqa: BLE001 - a missing animation must not fail a finished run
        log.warning("episode GIF not produced: %s", exc)


class _ProgressBar:
    """rich progress bar of agent-steps with agent-steps/s; a no-op when disabled."""

    def __init__(self, total: int, done: int, label: str, enabled: bool) -> None:
        self.total, self.done, self.label, self.enabled = total, done, label, enabled
        self._bar: Any = None
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._steps0 = done

    def __enter__(self) -> "_ProgressBar":
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:>9,.0f} agent-steps/s"),
                TimeRemainingColumn(),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done, rate=0.0)
        return self

    def update(self, steps: int) -> None:
        """Report progress (throttled to ~5 refreshes per second)."""
        if self._bar is None:
            return
        now = time.perf_counter()
        if now - self._last < 0.2 and steps < self.total:
            return
        self._last = now
        rate = (steps - self._steps0) / max(now - self._t0, 1e-9)
        self._bar.update(self._task, completed=min(steps, self.total), rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


__all__ = ["train", "TrainResult", "CheckpointError", "TrainingInterrupted"]
