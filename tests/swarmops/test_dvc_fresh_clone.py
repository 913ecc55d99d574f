"""The DVC pipeline on a fresh clone of the committed state: `dvc repro --dry` and `dvc status` work
without a DVC remote (every output is in git) and a changed parameter lists exactly the stages it
reruns, and the evaluate stage runs there with an empty ledger. The full `dvc repro` is measured in
docs/reproducibility.md (it trains: minutes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.data
DVC = REPO / ".venv" / "bin" / "dvc"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if not DVC.exists():
        pytest.skip(f"{DVC} missing: run scripts/bootstrap.sh --python-only")
    out = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(out)], check=True, timeout=120)
    (out / ".venv").symlink_to(REPO / ".venv")
    return out


def _dvc(clone: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DVC), *args], cwd=clone, capture_output=True, text=True, timeout=300)


def test_dry_run_and_status_on_a_fresh_clone(clone: Path) -> None:
    dry = _dvc(clone, "repro", "--dry")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    for stage in ("scenarios", "train", "evaluate"):
        assert f"Stage '{stage}' didn't change" in dry.stdout, dry.stdout
    status = _dvc(clone, "status")
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout + status.stderr


def test_a_changed_parameter_lists_the_stages_it_reruns(clone: Path) -> None:
    params = clone / "params.yaml"
    text = params.read_text()
    assert "\nevaluate:\n  seed: 0" in text
    params.write_text(text.replace("\nevaluate:\n  seed: 0", "\nevaluate:\n  seed: 1"))
    dry = _dvc(clone, "repro", "--dry")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Stage 'train' didn't change" in dry.stdout
    assert "Running stage 'evaluate'" in dry.stdout and "--seed 1" in dry.stdout
    changed = subprocess.run(["git", "status", "--porcelain", "dvc.lock", "eval"], cwd=clone,
                             capture_output=True, text=True, check=True).stdout
    assert changed == ""  # a dry run writes nothing


def test_the_evaluate_stage_runs_on_a_fresh_clone(clone: Path, runs_home: Path) -> None:
    """A fresh clone's ledger has no run of models/recon: the stage names its scenario itself (it
    once failed there with "--scenario is required"), and the report keeps the exported run's id."""
    done = _dvc(clone, "repro", "--force", "--single-item", "evaluate")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = json.loads((clone / "models/recon/run.json").read_text())["run_id"]
    assert (clone / "eval/report.md").read_text().startswith(f"# Evaluation: {run_id}\n")
    group = json.loads((clone / "eval/metrics.json").read_text())["groups"]["held_out/obstacles"]
    assert group["time_ratio_to_lower_bound_low"] <= group["time_ratio_to_lower_bound"]
    assert group["time_ratio_to_lower_bound"] <= group["time_ratio_to_lower_bound_high"]
