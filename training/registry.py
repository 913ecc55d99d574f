"""MLflow model registry: one registered model per scenario, versions per run, @champion/@challenger,
and the one place that says whether a saved model fits the current simulator (``check_compatible``).

Stages are deprecated in MLflow; aliases carry the meaning instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.errors import CheckpointError, NotFoundError
from training.ledger import Ledger, Run
from training.tracking import setup_mlflow

CHAMPION = "champion"
CHALLENGER = "challenger"


def model_name(scenario: str) -> str:
    """Registered model name of a scenario's PPO policy."""
    return f"swarmops-{scenario}-ppo"


LAYOUT_ATTR = "obs_layout_version"
"""Attribute stamped on every PPO model (saved in its zip by SB3) with env.core.OBS_LAYOUT_VERSION."""


class IncompatibleModel(CheckpointError):
    """A model trained for another version of the simulator's observation layout or action set."""


def stamp_layout(model: Any) -> Any:
    """Record the simulator's observation-layout version on ``model`` (saved with it)."""
    from env.core import OBS_LAYOUT_VERSION

    setattr(model, LAYOUT_ATTR, OBS_LAYOUT_VERSION)
    return model


def check_compatible(model: Any, scenario: str, where: Any) -> None:
    """Refuse, in one line, a model of another observation-layout version, shape or action count."""
    from env.core import OBS_DIM, OBS_LAYOUT_VERSION
    from env.scenarios import get_scenario

    version = getattr(model, LAYOUT_ATTR, None)
    shape = tuple(getattr(model.observation_space, "shape", ()) or ())
    actions = int(getattr(model.action_space, "n", -1))
    expected = get_scenario(scenario).n_actions
    if version == OBS_LAYOUT_VERSION and shape == (OBS_DIM,) and actions != expected:
        # The right simulator, another scenario's model: say which, not "retrain it".
        from env.scenarios import SCENARIOS

        fits = [name for name in SCENARIOS if get_scenario(name).n_actions == actions]
        if fits:
            raise IncompatibleModel(
                f"model {where} has {actions} actions: it is a {' or '.join(fits)} model, not {scenario} "
                f"({expected} actions); evaluate it with --scenario {fits[0]}"
            )
    if version != OBS_LAYOUT_VERSION or shape != (OBS_DIM,) or actions != expected:
        raise IncompatibleModel(
            f"model {where} has observation layout v{version if version is not None else '?'} "
            f"{shape} with {actions} actions; the {scenario} simulator uses layout v{OBS_LAYOUT_VERSION} "
            f"({OBS_DIM},) with {expected} actions: trained on another env version, retrain it"
        )


def load_model(path: Path | str, scenario: str) -> Any:
    """The PPO model saved at ``path`` (a model.zip), on CPU, refused in one line when it cannot be
    read (CheckpointError) or does not fit the ``scenario`` simulator (IncompatibleModel)."""
    from stable_baselines3 import PPO

    if not Path(path).is_file():
        raise NotFoundError(f"model {path} does not exist (a model.zip written by swarmops train)")
    try:
        model = PPO.load(path, device="cpu")
    except Exception as exc:  # noqa: BLE001 - any unreadable model is one clear error
        raise CheckpointError(f"model {path} is unreadable: {type(exc).__name__}: {exc}") from None
    check_compatible(model, scenario, path)
    return model


def _client(scenario: str) -> Any:
    import mlflow

    setup_mlflow(f"swarmops-{scenario}")
    return mlflow.MlflowClient()


def register_run(ledger: Ledger, run: Run) -> str:
    """Register the run's model as a new version (idempotent per run); returns the version."""
    from mlflow.exceptions import MlflowException

    if run.model_version:
        return run.model_version
    if not run.mlflow_run_id:
        raise NotFoundError(f"run {run.id} has no MLflow run; it cannot be registered")
    client = _client(run.scenario)
    name = model_name(run.scenario)
    try:
        client.create_registered_model(name, description=f"PPO swarm policy for the {run.scenario} scenario")
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
    artifact_uri = client.get_run(run.mlflow_run_id).info.artifact_uri
    version = client.create_model_version(
        name,
        source=f"{artifact_uri}/model",
        run_id=run.mlflow_run_id,
        tags={"swarmops_run_id": run.id, "profile": run.profile, "git_sha": run.git_sha or "unknown"},
    )
    ledger.update_run(run.id, model_version=str(version.version))
    return str(version.version)


def alias_version(scenario: str, alias: str) -> Any | None:
    """The ModelVersion behind ``@alias``, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return _client(scenario).get_model_version_by_alias(model_name(scenario), alias)
    except MlflowException:
        return None


def set_alias(scenario: str, alias: str, version: str) -> None:
    """Point ``@alias`` at ``version``."""
    _client(scenario).set_registered_model_alias(model_name(scenario), alias, str(version))


def run_of_version(version: Any) -> str:
    """The SwarmOps run id a model version was registered from."""
    return version.tags.get("swarmops_run_id", "")


def download_model(scenario: str, ref: str) -> Path:
    """Local path of model.zip for ``ref``: a version number or ``@alias``."""
    import mlflow

    _client(scenario)
    uri = f"models:/{model_name(scenario)}{ref if ref.startswith('@') else '/' + ref}"
    return Path(mlflow.artifacts.download_artifacts(uri)) / "model.zip"
