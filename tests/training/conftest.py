"""Fixtures of the training tests: isolated run folders and stores, one shared smoke run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ISOLATED_VARS  # shared with the CLI tests (and the runs_home fixture)


REPO = Path(__file__).resolve().parents[2]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of a `swarmops` subprocess using embedded stores under ``home``."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ISOLATED_VARS}
    env.update({"SWARMOPS_RUNS_DIR": str(home), "PYTHONUNBUFFERED": "1", **extra})
    return env


def run_smoke_pipeline(root: Path, scenario: str) -> dict:
    """Run `swarmops pipeline --scenario SCENARIO --profile smoke` on embedded stores under ``root``."""
    import subprocess
    import sys
    import time

    home, suite = root / "runs", root / "scenarios"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "swarmops",
            "pipeline",
            "--scenario",
            scenario,
            "--profile",
            "smoke",
            "--suite",
            str(suite),
            "--no-progress",
        ],
        cwd=REPO,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"home": home, "suite": suite, "stdout": proc.stdout, "seconds": seconds}


@pytest.fixture(scope="session")
def smoke_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """ONE run of the main job (`swarmops pipeline --profile smoke`) shared by the tests that need a
    trained smoke policy: scenarios -> training -> evaluation -> gate -> report, embedded stores."""
    return run_smoke_pipeline(tmp_path_factory.mktemp("smoke"), "recon")


@pytest.fixture(scope="session")
def watering_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """ONE smoke pipeline run of the watering scenario (its profile section: a longer budget)."""
    return run_smoke_pipeline(tmp_path_factory.mktemp("watering"), "watering")
