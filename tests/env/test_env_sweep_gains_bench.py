"""bench/sweep_gains.py and bench/idle_phases.py from the command line, on a tiny suite: both tie breaks
on the same fields; the sweep's idle drone-steps split by coverage phase."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITE_PARAMS = {
    "scenarios": {
        "version": "v9",
        "seed": 11,
        "layouts_per_config": 2,
        "scenarios": ["recon"],
        "field": {},
        "configs": [{"split": "held_out", "width": 14, "height": 10, "n_drones": 3, "obstacle_density": 0.2}],
    }
}


def _bench(*args: str, script: str = "bench/sweep_gains.py") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _tiny_suite(tmp_path: Path) -> Path:
    from training.scenarios import generate_suite, load_params

    (tmp_path / "params.yaml").write_text(yaml.safe_dump(SUITE_PARAMS))
    generate_suite(load_params(tmp_path / "params.yaml"), tmp_path / "suite")
    return tmp_path / "suite"


@pytest.mark.unit
def test_sweep_gains_bench_scores_both_tie_breaks_on_suite_and_validation_fields(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _bench("--suite", str(_tiny_suite(tmp_path)), "--fields", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [(r["set"], r["fields"]) for r in rows] == [("suite", 2), ("validation", 3)]
    for row in rows:
        for rule in ("plain", "hemmed"):
            # a real episode: at least the lower bound, within the budget, some drone-steps idle
            assert row[rule]["bound_ratio"] >= 1.0 and 0 < row[rule]["steps_to_95"] < 300
            assert 0.0 < row[rule]["idle_share"] < 1.0
        assert row["steps_ratio"] == pytest.approx(row["hemmed"]["steps_to_95"] / row["plain"]["steps_to_95"])
    assert "wrote" in done.stdout and "held_out-14x10" in done.stdout


@pytest.mark.unit
def test_sweep_gains_bench_refuses_a_bad_field_count_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _bench("--fields", "0", "--out", str(out))
    assert done.returncode == 2 and "--fields=0: allowed: >= 1" in done.stderr
    assert not out.exists()


@pytest.mark.unit
def test_idle_phases_bench_splits_every_idle_drone_step_by_coverage_phase(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _bench("--suite", str(_tiny_suite(tmp_path)), "--fields", "3", "--out", str(out),
                  script="bench/idle_phases.py")
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["phases"] == ["0%-25%", "25%-50%", "50%-75%", "75%-90%", "90%-95%"]
    (row,) = report["rows"]
    assert row["fields"] == 3 and sum(row["step_share"]) == pytest.approx(1.0, abs=0.01)
    assert all(0.0 <= share <= 1.0 for share in row["idle_share"])
    # the phases' idle shares, weighted by their drone-steps, make up the whole episode's
    weighted = sum(i * s for i, s in zip(row["idle_share"], row["step_share"]))
    assert weighted == pytest.approx(row["idle_share_all"], abs=0.01) and 0 < row["idle_share_all"] < 1
    assert "wrote" in done.stdout and "held_out-14x10" in done.stdout


@pytest.mark.unit
def test_idle_phases_bench_refuses_a_bad_field_count_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _bench("--fields", "-1", "--out", str(out), script="bench/idle_phases.py")
    assert done.returncode == 2 and "--fields=-1: allowed: >= 1" in done.stderr
    assert not out.exists()
