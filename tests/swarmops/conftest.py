"""Fixtures of the top-level CLI tests: isolated stores (no server variables, runs under tmp)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
ISOLATED_VARS = ("SWARMOPS_DB_URL", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "SWARMOPS_PUSHGATEWAY_URL",
                 "SWARMOPS_ARTIFACT_ROOT")


@pytest.fixture
def runs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SWARMOPS_RUNS_DIR (embedded SQLite stores) with no server variables set."""
    for var in ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "runs"
    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(home))
    yield home


def swarmops(*args: str, home: Path, cwd: Path = REPO, timeout: float = 120,
             **env_vars: str) -> subprocess.CompletedProcess:
    """Run the real entry point (``python -m swarmops``) with embedded stores under ``home``."""
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED_VARS}
    env.update({"SWARMOPS_RUNS_DIR": str(home), "PYTHONPATH": str(REPO), **env_vars})
    return subprocess.run([sys.executable, "-m", "swarmops", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single stderr line of a refused command (asserts exit 2, one line, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]
