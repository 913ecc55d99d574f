"""`swarmops bench sizing`: rows x batch measured one process per run, one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _swarmops(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "swarmops", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_sizing_measures_every_valid_pair_against_the_profile(tmp_path: Path) -> None:
    out = tmp_path / "sizing.json"
    res = _swarmops("bench", "sizing", "--profile", "smoke", "--rows", "128,256", "--batches", "2048,3000",
                    "--rounds", "1", "--iterations", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    doc = json.loads(out.read_text())
    # 3000 divides no rollout (rows x 32 steps): only the batch of 2048 is measured.
    assert [(r["rows"], r["batch_size"]) for r in doc["results"]] == [(128, 2048), (256, 2048)]
    own = doc["results"][0]
    assert own["ratio_to_profile"] == 1.0 and len(own["runs"]) == 1
    assert all(r["agent_steps_per_s"] > 0 for r in doc["results"])
    # Every run is its own process, none of them this test's CLI process.
    pids = [run["pid"] for r in doc["results"] for run in r["runs"]]
    assert len(set(pids)) == 2
    assert (doc["knee"]["rows"], doc["knee"]["batch_size"]) in {(128, 2048), (256, 2048)}
    assert "x profile" in res.stdout and "(knee)" in res.stdout


def test_sizing_bad_flag_is_one_line(tmp_path: Path) -> None:
    res = _swarmops("bench", "sizing", "--rows", "0,128", "--out", str(tmp_path / "s.json"))
    assert res.returncode == 2
    words = "error: --rows='0,128' is invalid; allowed: comma-separated positive integers"
    assert res.stderr.strip() == words
    assert not (tmp_path / "s.json").exists()


def test_time_iterations_splits_the_wall_time_into_collection_and_update() -> None:
    """The one timing helper behind `bench train`, `bench sizing` and bench/policy_nets.py."""
    from training.bench import time_iterations
    from training.config import load_profile
    from training.train import build_env, build_model

    profile = load_profile("smoke", ["num_agents=64", "ppo.batch_size=512"])
    model = build_model(profile, build_env("recon", profile, 0, profile.seed), "cpu")
    timed = time_iterations(model, profile.rollout_size, 2)
    assert timed["agent_steps"] == 2 * profile.rollout_size
    assert model.num_timesteps == 3 * profile.rollout_size  # one untimed warm-up iteration first
    assert 0 < timed["collect_seconds"] < timed["seconds"]
    assert timed["update_seconds"] > 0
    assert timed["collect_seconds"] + timed["update_seconds"] == pytest.approx(timed["seconds"], abs=2e-3)
