"""Lint of the whole repository, the same commands as `make lint` (ansible-lint runs in tests/infra)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


def test_flake8_is_clean() -> None:
    result = _run([str(VENV_BIN / "flake8"), "--count"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_yamllint_is_clean() -> None:
    result = _run([str(VENV_BIN / "yamllint"), "-c", "ci/yamllint.yml", "-s", "."])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
