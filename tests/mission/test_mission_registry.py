"""Policies from the MLflow registry: @champion is used when present; a missing one falls back, warning."""
from __future__ import annotations

from pathlib import Path

import pytest

from mission.pipeline import run_settings
from mission.policies import PolicyError, resolve_policy
from mission.settings import parse_settings

pytestmark = pytest.mark.unit


@pytest.fixture
def empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded store location with nothing in it (the normal case on a fresh clone)."""
    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "runs"


def test_missing_champion_falls_back_to_the_heuristic_with_a_warning(empty_store: Path) -> None:
    settings = parse_settings({"width": 8, "height": 8, "drones": 2, "plants": 4, "seed": 1})
    result = run_settings(settings, record=False)
    assert len(result.warnings) == 2
    assert all("falls back to the heuristic" in w for w in result.warnings)
    assert result.report["policies"]["recon"]["policy"] == "heuristic (sectors)"
    assert result.report["policies"]["watering"]["policy"] == "heuristic (routes)"
    assert not (empty_store / "mlflow.db").exists()  # a lookup must not create a store


def _register(scenario: str, tmp_path: Path, foreign: bool = False) -> str:
    """Register an untrained (cheap) PPO the way training does: run artifact model/model.zip + alias.

    ``foreign``: a model of another observation space (as after a change of env's observation layout).
    """
    import gymnasium as gym
    import mlflow
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    import env
    from env.config import FieldConfig

    config = FieldConfig(width=8, height=8, n_drones=2, n_plants=4)
    vec = (DummyVecEnv([lambda: gym.make("CartPole-v1")]) if foreign
           else env.make_vec_env(scenario, config, num_fields=1, seed=0))
    from training.registry import stamp_layout

    model = PPO("MlpPolicy", vec, n_steps=16, batch_size=16, seed=0, device="cpu",
                policy_kwargs={"net_arch": [16]})
    if not foreign:
        stamp_layout(model)  # as training.train.build_model does
    path = tmp_path / "model.zip"
    model.save(path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    exp = mlflow.create_experiment(f"swarmops-{scenario}",
                                   artifact_location=(tmp_path / f"art-{scenario}").as_uri())
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_artifact(str(path), artifact_path="model")
    name = f"swarmops-{scenario}-ppo"
    client.create_registered_model(name)
    version = client.create_model_version(name, source=f"{run.info.artifact_uri}/model",
                                          run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    return str(version.version)


def test_registered_champion_is_loaded_and_drives_the_phase(empty_store: Path, tmp_path: Path) -> None:
    version = _register("recon", tmp_path)
    policy = resolve_policy("recon", "champion")
    assert not policy.is_heuristic and policy.warning is None
    assert policy.label == f"models:/swarmops-recon-ppo/{version} (@champion)"
    settings = parse_settings({"width": 8, "height": 8, "drones": 2, "plants": 4, "seed": 1, "mode": "recon"})
    result = run_settings(settings, record=False)
    assert result.warnings == []
    assert result.report["policies"]["recon"]["policy"].startswith("models:/swarmops-recon-ppo/")
    recon = result.report["phases"]["recon"]
    assert recon["policy"]["steps"] >= 1 and recon["heuristic"]["coverage"] >= 0.95
    # Watering has no champion in this store: the mission falls back for that phase only.
    assert resolve_policy("watering", "champion").is_heuristic
    # A champion trained on another observation space is refused with the reason, never run.
    foreign = _register("watering", tmp_path, foreign=True)
    fallback = resolve_policy("watering", "champion")
    assert fallback.is_heuristic and "trained on another env version" in fallback.warning
    with pytest.raises(PolicyError, match=r"observation layout v\? \(4,\) with 2 actions"):
        resolve_policy("watering", f"models:/swarmops-watering-ppo/{foreign}")
    with pytest.raises(PolicyError, match="cannot be loaded"):
        resolve_policy("recon", "models:/swarmops-recon-ppo/99")
    from mission.policies import policy_options

    listed = {p["value"]: p["label"] for p in policy_options()["policies"]["recon"]}
    assert listed[f"models:/swarmops-recon-ppo/{version}"] == f"swarmops-recon-ppo v{version} @champion"


def test_unreachable_store_falls_back_quickly_without_leaking_the_password(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql+psycopg2://farmer:s3cret@127.0.0.1:1/mlflow")
    policy = resolve_policy("watering", "champion")
    assert policy.is_heuristic and policy.label == "heuristic (routes)"
    assert "cannot reach the MLflow store" in policy.warning and "s3cret" not in policy.warning
