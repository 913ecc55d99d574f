"""Fixtures of the top-level CLI tests: isolated stores (no server variables, runs under tmp)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ISOLATED_VARS  # shared with the training tests (and the runs_home fixture)

REPO = Path(__file__).resolve().parents[2]


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
