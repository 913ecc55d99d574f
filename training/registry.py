"""MLflow model registry: one registered model per scenario, versions per run, @champion/@challenger.

Stages are deprecated in MLflow; aliases carry the meaning instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.errors import NotFoundError
from training.ledger import Ledger, Run
from training.tracking import setup_mlflow

CHAMPION = "champion"
CHALLENGER = "challenger"


def model_name(scenario: str) -> str:
    """Registered model name of a scenario's PPO policy."""
    return f"swarmops-{scenario}-ppo"


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
