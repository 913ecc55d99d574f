"""`swarmops monitoring` commands, run as a user would (subprocess of the installed CLI)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitoring import grafana

pytestmark = pytest.mark.unit


def _swarmops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swarmops", "monitoring", *args], capture_output=True,
                          text=True, timeout=120)


def test_dashboards_check_passes_on_the_committed_json() -> None:
    result = _swarmops("dashboards", "--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_dashboards_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from swarmops.cli import app

    (tmp_path / "training.json").write_text("{}")
    (tmp_path / "infrastructure.json").write_text(grafana.render_json(grafana.infrastructure_dashboard))
    monkeypatch.setattr(grafana, "DASHBOARD_DIR", tmp_path)
    result = CliRunner().invoke(app, ["monitoring", "dashboards", "--check"])
    assert result.exit_code == 2
    assert "stale dashboards training.json" in result.output
    assert (tmp_path / "training.json").read_text() == "{}"  # --check writes nothing


def test_check_rules() -> None:
    result = _swarmops("check-rules")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files, 5 unit-test files pass" in result.stdout
