"""Alert and recording rules: promtool accepts them, their unit tests pass, every alert has a test
that makes it fire and one that keeps it quiet, and every alert is labelled for routing."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.monitoring.monitoring_testlib import MONITORING_DIR, alert_rules, load_yaml

pytestmark = pytest.mark.unit

RULES_DIR = MONITORING_DIR / "rules"
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
TEST_FILES = sorted((RULES_DIR / "tests").glob("*.test.yml"))


def _promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(RULE_FILES) >= 2


def test_promtool_unit_tests_pass() -> None:
    result = _promtool("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


def _alert_cases() -> tuple[set[str], set[str]]:
    """Alert names with a firing expectation and with a quiet (empty) expectation in the unit tests."""
    fires, quiet = set(), set()
    for path in TEST_FILES:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    return fires, quiet


def test_every_alert_fires_and_stays_quiet_in_some_test() -> None:
    names = {r["alert"] for r in alert_rules()}
    fires, quiet = _alert_cases()
    assert not names - fires, f"alerts never made to fire: {sorted(names - fires)}"
    assert not names - quiet, f"alerts never checked quiet: {sorted(names - quiet)}"
    assert not (fires | quiet) - names, f"tests name unknown alerts: {sorted((fires | quiet) - names)}"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_alert_is_labelled_for_routing(rule: dict) -> None:
    labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
    assert labels.get("severity") in ("critical", "warning"), labels
    assert labels.get("team") in ("platform", "ml"), labels
    # TargetDown takes `service` from the scrape target (test_monitoring_config checks every job has one)
    assert "service" in labels or rule["alert"] == "TargetDown", labels
    assert annotations.get("summary") and annotations.get("description"), annotations
    assert re.fullmatch(r"[0-9]+[smh]", str(rule.get("for", "0m"))), rule.get("for")


def test_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    """The unit tests can fail: TargetDown with `for: 10m` instead of 3m breaks them."""
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    alerts = tmp_path / "rules" / "alerts.yml"
    text = alerts.read_text()
    broken = text.replace("expr: up == 0\n        for: 3m", "expr: up == 0\n        for: 10m")
    assert broken != text
    alerts.write_text(broken)
    result = _promtool("test", "rules", "host.test.yml", cwd=tmp_path / "rules" / "tests")
    assert result.returncode != 0
    assert "alertname: TargetDown" in result.stdout + result.stderr


def test_docs_list_every_alert_with_its_severity() -> None:
    section = (MONITORING_DIR.parent / "docs" / "monitoring.md").read_text()  # the README links it
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| (\w+) \|", section, re.M)}
    assert rows == {r["alert"]: r["labels"]["severity"] for r in alert_rules()}
