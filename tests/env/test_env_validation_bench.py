"""bench/validation.py from the command line: a model and the heuristics on fresh layouts of a tiny
suite, medians with bootstrap intervals per group; bad arguments refused before any work."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.env.test_env_sweep_gains_bench import ROOT, SUITE_PARAMS, _bench, _tiny_suite

pytestmark = pytest.mark.unit


def _untrained(path: Path, scenario: str) -> Path:
    """An untrained smoke-profile policy of ``scenario`` (its priors act: it finishes fields), saved."""
    script = (
        "from training.config import load_profile\n"
        "from training.train import build_env, build_model\n"
        "profile = load_profile('smoke', ['seed=5'])\n"
        f"build_model(profile, build_env('{scenario}', profile, 0, 5), 'cpu').save(r'{path}')\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=300)
    return path


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _untrained(tmp_path_factory.mktemp("model") / "model.zip", "recon")


def _params(tmp_path: Path) -> Path:
    params = {"scenarios": {**SUITE_PARAMS["scenarios"], "configs": [
        {"split": "train", "width": 8, "height": 8, "n_drones": 2, "obstacle_density": 0.0},
        *SUITE_PARAMS["scenarios"]["configs"]]}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path / "params.yaml"


def test_validation_bench_reports_medians_with_intervals_for_model_and_sweep(
        tmp_path: Path, untrained_model: Path) -> None:
    out = tmp_path / "out.json"
    done = _bench(str(untrained_model), "--params", str(_params(tmp_path)), "--layouts", "6",
                  "--resamples", "200", "--out", str(out), script="bench/validation.py")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["fields"] == f"6 fresh layouts per recon entry (suite seed {11 + 104729})"
    policies = result["policies"]
    assert set(policies) == {f"model0:{untrained_model.parent.name}", "sectors", "lawnmower", "partition"}
    for groups in policies.values():
        # 6 fields per entry: 12 in all, 6 trained on (no obstacles), 6 held out, all of them with
        # obstacles (20 %); the groups metrics.json has, plus the whole and each split
        assert {g: v["fields"] for g, v in groups.items()} == {
            "all": 12, "train": 6, "train/o0": 6, "held_out": 6, "held_out/o20": 6, "held_out/obstacles": 6}
        for g in groups.values():
            for key in ("to_heuristic", "to_lower_bound"):
                low, median, high = (g[key][k] for k in ("low", "median", "high"))
                assert 0 < low <= median <= high
            assert g["to_lower_bound"]["low"] >= 1.0  # nobody beats the lower bound
    # the sweep is the best heuristic of these entries: its ratio to it is 1 on every field
    assert policies["sectors"]["all"]["to_heuristic"] == {"median": 1.0, "low": 1.0, "high": 1.0}
    assert "held_out/obstacles" in done.stdout and "wrote" in done.stdout


def test_validation_bench_scores_an_existing_suite(tmp_path: Path, untrained_model: Path) -> None:
    out = tmp_path / "out.json"
    suite = _tiny_suite(tmp_path)
    done = _bench(str(untrained_model), "--suite", str(suite), "--resamples", "100", "--out", str(out),
                  script="bench/validation.py")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["fields"] == f"suite {suite}"
    assert result["policies"]["sectors"]["held_out/obstacles"]["fields"] == 2  # the suite's 2 layouts


def test_validation_bench_refuses_a_bad_suite_or_model_in_one_line(
        tmp_path: Path, untrained_model: Path) -> None:
    out = tmp_path / "out.json"
    done = _bench(str(untrained_model), "--suite", str(tmp_path), "--out", str(out),
                  script="bench/validation.py")
    assert done.returncode == 2 and f"no scenario suite at {tmp_path}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    done = _bench(str(junk), "--out", str(out), script="bench/validation.py")
    assert done.returncode == 2 and f"model {junk} is unreadable" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--layouts", "0"], "--layouts=0: allowed: 1..256"),
    (["--resamples", "10"], "--resamples=10: allowed: >= 100"),
    (["--layouts", "4"], "no-such/model.zip: no such model file"),
])
def test_validation_bench_refuses_bad_arguments_and_writes_nothing(
        tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out.json"
    done = _bench("no-such/model.zip", *args, "--out", str(out), script="bench/validation.py")
    assert done.returncode == 2 and message in done.stderr
    assert not out.exists()


def test_validation_bench_scores_watering_against_its_heuristics_without_a_lower_bound(
        tmp_path: Path, untrained_model: Path) -> None:
    model = _untrained(tmp_path / "watering.zip", "watering")
    params = {"scenarios": {**SUITE_PARAMS["scenarios"], "scenarios": ["watering"]}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = tmp_path / "out.json"
    done = _bench(str(model), "--scenario", "watering", "--params", str(tmp_path / "params.yaml"),
                  "--layouts", "3", "--resamples", "100", "--out", str(out), script="bench/validation.py")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["scenario"] == "watering" and result["fields"].startswith("3 fresh layouts per watering")
    policies = result["policies"]
    assert set(policies) == {f"model0:{tmp_path.name}", "greedy", "routes"}
    # the entry's bar is the better of its two heuristics: that one is at parity on every field
    parity = {"median": 1.0, "low": 1.0, "high": 1.0}
    bars = [h for h in ("greedy", "routes") if policies[h]["held_out/obstacles"]["to_heuristic"] == parity]
    assert len(bars) >= 1, policies
    for groups in policies.values():
        assert groups["held_out/obstacles"]["fields"] == 3 and groups["all"]["to_lower_bound"] is None
    # a recon model given as a watering one: refused in one line, nothing written
    out.unlink()
    done = _bench(str(untrained_model), "--scenario", "watering", "--params", str(tmp_path / "params.yaml"),
                  "--layouts", "1", "--out", str(out), script="bench/validation.py")
    assert done.returncode == 2 and "it is a recon model, not watering" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()
