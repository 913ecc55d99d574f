"""The main job on embedded defaults, shared by every test here (one smoke training per session)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.conftest import REPO, cli_env

pytestmark = pytest.mark.slow


def _ledger(home: Path):
    from training.ledger import Ledger

    return Ledger(f"sqlite:///{home / 'swarmops.db'}")


def _mlflow_client(home: Path):
    """A client bound to the embedded store under ``home``: explicit URIs, because other tests in the
    same process may have set MLflow's global tracking/registry URIs to their own stores."""
    import mlflow

    uri = f"sqlite:///{home / 'mlflow.db'}"
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _run(smoke: dict):
    ledger = _ledger(smoke["home"])
    run = ledger.resolve_run("latest", "recon")
    return ledger, run


def test_pipeline_prints_report_and_mlflow_ui(smoke_pipeline: dict) -> None:
    out = smoke_pipeline["stdout"]
    _, run = _run(smoke_pipeline)
    report = Path(run.run_dir) / "eval" / "report.md"
    assert f"report:     {report}" in out
    assert "MLflow UI:  .venv/bin/mlflow ui --backend-store-uri 'sqlite:///" in out
    assert "becomes @champion" in out
    assert smoke_pipeline["seconds"] < 180, f"smoke pipeline took {smoke_pipeline['seconds']:.0f} s"
    eval_dir = report.parent
    for name in (
        "metrics.json",
        "per_scenario.csv",
        "per_scenario.md",
        "coverage.csv",
        "plots/coverage_vs_steps.png",
        "plots/policy_vs_baselines.png",
    ):
        assert (eval_dir / name).stat().st_size > 0, name
    text = report.read_text()
    assert "**time ratio to the best heuristic: " in text and "**time ratio to the lower bound: " in text
    assert "| held_out/o20 |" in text  # per split and obstacle density
    assert (eval_dir / "time_ratios.csv").stat().st_size > 0


def test_smoke_policy_clearly_beats_random(smoke_pipeline: dict) -> None:
    """Fixed seeds (profile seed 0, suite seeds from params.yaml): PPO beats random on every scenario file:
    a higher time-based score, or, where neither reaches 95 % coverage in the budget (both get the
    fixed penalty: the 48x24 and 64x64 held-out fields for the smoke policy), far more coverage."""
    _, run = _run(smoke_pipeline)
    metrics = json.loads((Path(run.run_dir) / "eval" / "metrics.json").read_text())
    assert metrics["ratio_to_random"] > 1.15, metrics
    assert metrics["score_held_out"] > metrics["policies"]["random"]["score_held_out"] + 0.1
    import pandas as pd

    table = pd.read_csv(Path(run.run_dir) / "eval" / "per_scenario.csv")
    scores = table.pivot(index="scenario_id", columns="policy", values="score")
    coverage = table.pivot(index="scenario_id", columns="policy", values="coverage")
    better = (scores["ppo"] > scores["random"] + 0.03) | (coverage["ppo"] > coverage["random"] + 0.2)
    assert better.all(), table
    assert metrics["time_ratio_to_lower_bound"] < metrics["policies"]["random"]["time_ratio_lb"] / 3


def test_run_record_is_complete(smoke_pipeline: dict) -> None:
    ledger, run = _run(smoke_pipeline)
    assert run.status == "finished" and run.timesteps_done == run.total_timesteps
    assert run.agent_steps_per_second > 1000 and run.model_version == "1" and run.data_hash
    steps = sorted({m.step for m in ledger.metrics(run.id) if m.name == "loss"})
    assert len(steps) >= 40  # one row per PPO update (48 updates in the smoke profile)
    rows = ledger.evaluation(run.id)
    assert {r.policy for r in rows} == {"ppo", "random", "lawnmower", "partition", "sectors"}
    assert {"score", "steps_to_target", "time_ratio_lb", "time_ratio"} <= {r.metric for r in rows}
    assert ledger.promotions("recon")[0].decision == "first"

    client = _mlflow_client(smoke_pipeline["home"])
    mrun = client.get_run(run.mlflow_run_id)
    assert {"git_sha", "data_hash", "dvc_data_md5", "profile", "device"} <= set(mrun.data.tags)
    assert mrun.data.tags["dvc_data_md5"].endswith(".dir")
    assert mrun.data.tags["profile"] == "smoke" and mrun.data.tags["data_hash"] == run.data_hash
    assert len(client.get_metric_history(run.mlflow_run_id, "loss")) == len(steps)
    artifacts = {a.path for a in client.list_artifacts(run.mlflow_run_id)}
    assert {"model", "config", "evaluation"} <= artifacts
    assert "media" in artifacts, "episode GIF missing"
    assert str(client.get_model_version_by_alias("swarmops-recon-ppo", "champion").version) == "1"


def test_gate_refuses_a_worse_model(smoke_pipeline: dict, tmp_path: Path) -> None:
    """An untrained policy registered as a finished run is evaluated for real and rejected (exit 1)."""
    home = smoke_pipeline["home"]
    script = f"""
import mlflow
from training.config import load_profile
from training.ledger import Ledger
from training.tracking import setup_mlflow
from training.train import build_env, build_model
profile = load_profile("smoke", ["seed=123"])
model = build_model(profile, build_env("recon", profile, 0, 123), "cpu")
path = r"{tmp_path}/model.zip"
model.save(path)
ledger = Ledger()
setup_mlflow("swarmops-recon")
with mlflow.start_run(run_name="untrained") as run:
    mlflow.log_artifact(path, artifact_path="model")
ledger.create_run(id="recon-untrained", scenario="recon", profile="smoke", seed=123, device="cpu",
                  total_timesteps=0, status="finished", mlflow_run_id=run.info.run_id, run_dir=r"{tmp_path}")
"""
    env = cli_env(home)
    subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, check=True, capture_output=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "swarmops",
            "gate",
            "--scenario",
            "recon",
            "--candidate",
            "recon-untrained",
            "--suite",
            str(smoke_pipeline["suite"]),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "REJECTED" in proc.stdout
    ledger = _ledger(home)
    decision = ledger.promotions("recon")[0]
    assert decision.decision == "rejected" and decision.candidate_run_id == "recon-untrained"
    from training.scenarios import load_suite

    recon = load_suite(smoke_pipeline["suite"]).for_scenario("recon")
    assert decision.ci_high < 0 and decision.n_pairs == sum(len(e.layouts) for e in recon)
    evidence = json.loads(decision.evidence_json)
    assert evidence["candidate_mean"] < evidence["champion_mean"]
    assert len(evidence["pairs"]) == decision.n_pairs
    client = _mlflow_client(home)
    assert str(client.get_model_version_by_alias("swarmops-recon-ppo", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("swarmops-recon-ppo", "challenger").version) == "2"


def test_runs_and_report_commands(smoke_pipeline: dict) -> None:
    env = cli_env(smoke_pipeline["home"])
    _, run = _run(smoke_pipeline)
    runs = subprocess.run(
        [sys.executable, "-m", "swarmops", "runs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert runs.returncode == 0 and run.id in runs.stdout and "finished" in runs.stdout
    report = subprocess.run(
        [sys.executable, "-m", "swarmops", "report", run.id[:18], "--no-show"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0 and "report.md" in report.stdout
    pytest.importorskip("monitoring.dashboard_render")
    out = smoke_pipeline["home"].parent / "dashboard"
    dash = subprocess.run([sys.executable, "-m", "swarmops", "report", "dashboard", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert dash.returncode == 0, dash.stderr
    assert dash.stdout.startswith("dashboard: ") and Path(dash.stdout.split(": ", 1)[1].strip()).is_file()


def test_gate_replaces_a_champion_the_simulator_cannot_run(smoke_pipeline: dict, tmp_path: Path) -> None:
    """After a change of the observation layout the old @champion cannot be evaluated: the candidate
    takes over, and the ledger says why (on a copy of the shared stores)."""
    import shutil

    home = tmp_path / "runs"
    shutil.copytree(smoke_pipeline["home"], home)
    script = f"""
import gymnasium as gym, mlflow, numpy as np
from stable_baselines3 import PPO
from training.ledger import Ledger
from training.registry import register_run, set_alias
from training.tracking import setup_mlflow
env = gym.make("CartPole-v1")  # 4 observations: not the swarm simulator's layout
env.action_space = gym.spaces.Discrete(5)
model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, seed=0)
model.save(r"{tmp_path}/model.zip")
ledger = Ledger()
setup_mlflow("swarmops-recon")
with mlflow.start_run(run_name="old-layout") as run:
    mlflow.log_artifact(r"{tmp_path}/model.zip", artifact_path="model")
ledger.create_run(id="recon-old-layout", scenario="recon", profile="smoke", seed=0, device="cpu",
                  total_timesteps=0, status="finished", mlflow_run_id=run.info.run_id, run_dir=r"{tmp_path}")
set_alias("recon", "champion", register_run(ledger, ledger.get_run("recon-old-layout")))
"""
    env = cli_env(home)
    subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, check=True, capture_output=True)
    ledger = _ledger(home)
    smoke_run = [r for r in ledger.list_runs() if r.id.startswith("recon-smoke")][0]
    proc = subprocess.run([sys.executable, "-m", "swarmops", "gate", "--scenario", "recon", "--candidate",
                           smoke_run.id, "--suite", str(smoke_pipeline["suite"])], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "@champion is unusable (model " in proc.stdout and "observation layout v?" in proc.stdout
    decision = ledger.promotions("recon")[0]
    assert decision.decision == "first" and decision.candidate_run_id == smoke_run.id
    assert decision.champion_version is not None and decision.champion_run_id is None  # the unusable one
