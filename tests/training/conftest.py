"""Fixtures of the training tests: isolated run folders and stores, one shared smoke run."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

ISOLATED_VARS = ("SWARMOPS_DB_URL", "MLFLOW_TRACKING_URI", "SWARMOPS_PUSHGATEWAY_URL", "SWARMOPS_ARTIFACT_ROOT")


@pytest.fixture
def runs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SWARMOPS_RUNS_DIR with embedded (SQLite) ledger and MLflow store; no server variables."""
    for var in ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "runs"
    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(home))
    yield home
