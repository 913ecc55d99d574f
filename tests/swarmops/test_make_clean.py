"""`make clean` removes outputs and caches but keeps the runs root (ledger, registry, models) unless asked,
and it cleans the runs root that SWARMOPS_RUNS_DIR names, not ./runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.unit


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")  # run it where it can delete nothing real
    for folder in ("runs", "elsewhere", "reports", "artifacts"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "kept.txt").write_text("x")
    return tmp_path


def _make(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "SWARMOPS_RUNS_DIR"}
    return subprocess.run(["make", "-s", "clean", *args], cwd=workdir, capture_output=True, text=True,
                          timeout=60, env={**environ, **env})


def test_clean_keeps_the_runs_root_unless_asked(workdir: Path) -> None:
    result = _make(workdir)
    assert result.returncode == 0, result.stderr
    assert (workdir / "runs" / "kept.txt").exists()
    assert "make clean CLEAN_RUNS=1 removes it" in result.stdout
    assert not (workdir / "reports").exists() and not (workdir / "artifacts").exists()


def test_clean_runs_removes_the_runs_root_that_swarmops_uses(workdir: Path) -> None:
    result = _make(workdir, "CLEAN_RUNS=1", SWARMOPS_RUNS_DIR=str(workdir / "elsewhere"))
    assert result.returncode == 0, result.stderr
    assert not (workdir / "elsewhere").exists()
    assert (workdir / "runs" / "kept.txt").exists()  # not the root SwarmOps was pointed at
