"""Test env A deployed from scratch by Ansible, idempotent on the second run, and verified by testinfra."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def test_first_deploy_succeeds_and_changes_things(staging: Env, tools: Any) -> None:
    counts = tools.recap(staging["first"])
    assert counts["failed"] == 0 and counts["unreachable"] == 0
    print(f"{staging['name']} deploy: first {staging['first_s']:.0f}s, second {staging['second_s']:.0f}s")


def test_second_deploy_changes_nothing(staging: Env, tools: Any) -> None:
    counts = tools.recap(staging["second"])
    task, changed = "", []
    for line in staging["second"].splitlines():
        task = line if line.startswith(("TASK [", "RUNNING HANDLER [")) else task
        changed += [task] if line.startswith("changed:") else []
    assert counts["changed"] == 0, f"second run changed {counts['changed']} tasks: {changed}"


def test_release_is_recorded(staging: Env) -> None:
    rec = yaml.safe_load((staging["prefix"] / "state/release.yml").read_text())
    assert rec["swarmops_project_ref"] == staging["vault_env"]["SWARMOPS_PROJECT_REF"]
    release = yaml.safe_load((Path(__file__).parents[2] / "infra/ansible/release.yml").read_text())
    assert rec["swarmops_release"] == release["swarmops_release"]
    assert len(rec["swarmops_release_id"]) == 16


def test_verify_suite_passes_and_stamps_the_release(staging: Env, tools: Any) -> None:
    stamp = staging["prefix"] / "state/verified.yml"
    stamp.unlink(missing_ok=True)
    res = tools.run(["bash", "infra/verify.sh", staging["name"]], env=staging["vault_env"])
    assert "verified" in res.stdout
    suite = ET.parse(staging["prefix"] / "state/verify-junit.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert int(suite.get("tests")) >= 9 and int(suite.get("failures")) == 0 and int(suite.get("errors")) == 0
    assert int(suite.get("skipped")) == 0
    rec = yaml.safe_load((staging["prefix"] / "state/release.yml").read_text())
    assert yaml.safe_load(stamp.read_text())["swarmops_release_id"] == rec["swarmops_release_id"]
    assert not (staging["prefix"] / "state/verify-context.json").exists(), "secrets context left behind"
