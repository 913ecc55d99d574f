"""The stage list (ci/stages.py) against the Makefile and the README picture: one source of truth."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ci.stages import STAGES, by_key, make_target
from tests.infra.ansible_fence import fence_ansible, fence_calls

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


# Variables the Makefile reads from the environment (a CI job running these tests may set them).
MAKE_VARS = ("VENV", "SWARMOPS_CI_SMALL", "TEST_PATHS", "INFRA_ARGS", "REPORTS", "SCENARIO", "PROFILE", "ENV",
             "MR", "SWARMOPS_VENV_BIN", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "RELEASE_ID")


def _make_n(*args: str) -> list[str]:
    """The commands `make -n` would run, from a clean environment."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARS}
    proc = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, check=True)
    return [line.strip() for line in proc.stdout.splitlines()]


def test_every_stage_is_a_documented_make_target() -> None:
    makefile = (REPO / "Makefile").read_text()
    for stage in STAGES:
        assert re.search(rf"^{re.escape(make_target(stage))}:.*## ", makefile, re.M), stage.key


def test_readme_picture_shows_every_stage() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("<!-- section:cicd -->")[1].split("<!-- /section:cicd -->")[0]
    mermaid = section.split("```mermaid")[1].split("```")[0]
    for stage in STAGES:
        assert f"make {make_target(stage)}" in mermaid, stage.key


def test_stage_targets_call_the_entry_points() -> None:
    assert _make_n("train", "SCENARIO=watering", "PROFILE=gpu", "VENV=/opt/venv") == [
        "/opt/venv/bin/python -m ci tracking-check",
        "/opt/venv/bin/swarmops train --scenario watering --profile gpu"]
    assert _make_n("unit", "VENV=/opt/venv")[-1] == (
        '/opt/venv/bin/pytest -m "unit and not slow" --junitxml=reports/junit-unit.xml tests')
    assert _make_n("deploy", "ENV=production", "VENV=/opt/venv") == ["bash infra/deploy.sh production"]


def test_small_mode_selects_tiny_sizes() -> None:
    small = ("SWARMOPS_CI_SMALL=1", "VENV=/opt/venv")
    assert _make_n("unit", *small)[-1].endswith(
        "--junitxml=reports/junit-unit.xml tests/ci/test_ci_jenkins_api.py tests/ci/test_ci_gitlab_api.py")
    assert _make_n("deploy", *small) == ["bash infra/deploy.sh staging --syntax-check"]
    assert _make_n("promote", *small)[-1] == (
        'bash infra/promote.sh staging production -e "promote_expected_release_id=$RELEASE_ID"'
        ' --syntax-check')
    # the pipeline's environments are variables: its own tests point them at throw-away test-<n> hosts
    assert _make_n("promote", *small, "STAGING_ENV=test-3", "PRODUCTION_ENV=test-4")[-1].startswith(
        "bash infra/promote.sh test-3 test-4 -e ")
    assert _make_n("review-up", "MR=7", *small)[0] == "bash infra/review.sh up 7 --syntax-check"


@pytest.mark.parametrize("release", ["", "r1; rm -rf /", "r1 r2", "'; id; '"])
def test_promote_refuses_without_a_clean_release_id(tmp_path: Path, release: str) -> None:
    # Refused before infra/promote.sh runs: production only ever receives the id verify wrote.
    # Should the guard break, what runs instead stays off every real environment: throw-away names,
    # infra/*.sh limited to test-<n>, --syntax-check, and the fence in front of Ansible.
    calls = tmp_path / "fence-calls"
    env = {**{k: v for k, v in os.environ.items() if k not in MAKE_VARS}, "SWARMOPS_TEST_ENVS_ONLY": "1",
           "SWARMOPS_VENV_BIN": str(fence_ansible(tmp_path / "fenced-bin", calls))}
    proc = subprocess.run(["make", "--no-print-directory", "promote", "VENV=/opt/venv", f"REPORTS={tmp_path}",
                           "STAGING_ENV=test-3", "PRODUCTION_ENV=test-4", "INFRA_ARGS=--syntax-check",
                           f"RELEASE_ID={release}"], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        f"promote: RELEASE_ID='{release}' is not a release id: pass the one verify wrote to "
        f"{tmp_path}/release.env (SWARMOPS_RELEASE_ID=...)")
    assert fence_calls(calls) == ""


def test_promote_reads_the_release_id_that_verify_wrote(tmp_path: Path) -> None:
    (tmp_path / "release.env").write_text("SWARMOPS_RELEASE_ID=3f2a9c1d-20261130\n")
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARS}
    # What promote's recipe sees in its environment (an extra target that prints it; nothing is run).
    printer = 'print-release: ; @echo "[$$RELEASE_ID]"'
    proc = subprocess.run(["make", "--no-print-directory", "--eval", printer, "print-release",
                           f"REPORTS={tmp_path}"],
                          cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert proc.stdout == "[3f2a9c1d-20261130]\n"


def test_default_venv_bootstraps_first() -> None:
    assert _make_n("gate")[0] == "bash scripts/bootstrap.sh --python-only"


def test_unknown_stage_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown stage 'deploy-prod'; allowed: lint, unit, .*promote"):
        by_key("deploy-prod")


def test_review_url_needs_the_review_inventory(tmp_path: Path) -> None:
    from ci.errors import CIError
    from ci.reviewenv import review_url

    with pytest.raises(CIError, match=r"^review inventory .*/inventories/review/hosts.yml does not exist$"):
        review_url(7, tmp_path)
    with pytest.raises(CIError, match="MR must be a merge request number >= 1, got 0"):
        review_url(0)
