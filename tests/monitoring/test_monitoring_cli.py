"""`swarmops monitoring` commands (in-process through the real Typer app)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitoring import cli as monitoring_cli
from monitoring import grafana
from swarmops.cli import app

pytestmark = pytest.mark.unit

RULE = """groups:
  - name: g
    rules:
      - alert: AlwaysDown
        expr: up == 0
        labels: {severity: warning}
"""
TEST = """rule_files: [../rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="x"}'
        values: '0x3'
    alert_rule_test:
      - eval_time: 1m
        alertname: AlwaysDown
        exp_alerts: [{exp_labels: {severity: warning, job: x}}]
"""


def test_dashboards_check_passes_on_the_committed_json() -> None:
    result = CliRunner().invoke(app, ["monitoring", "dashboards", "--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_dashboards_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "training.json").write_text("{}")
    (tmp_path / "infrastructure.json").write_text(grafana.render_json(grafana.infrastructure_dashboard))
    monkeypatch.setattr(grafana, "DASHBOARD_DIR", tmp_path)
    result = CliRunner().invoke(app, ["monitoring", "dashboards", "--check"])
    assert result.exit_code == 2
    assert "stale dashboards training.json" in result.output
    assert (tmp_path / "training.json").read_text() == "{}"  # --check writes nothing


@pytest.mark.parametrize("fires, code", [(True, 0), (False, 2)], ids=["passing", "failing"])
def test_check_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fires: bool, code: int) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "rules.yml").write_text(RULE)
    (tmp_path / "tests" / "rules.test.yml").write_text(TEST if fires else TEST.replace("'0x3'", "'1x3'"))
    monkeypatch.setattr(monitoring_cli, "RULES_DIR", tmp_path)
    result = CliRunner().invoke(app, ["monitoring", "check-rules"])
    assert result.exit_code == code, result.output
    assert ("1 rule files, 1 unit-test files pass" in result.output) == fires
