"""The stage list (ci/stages.py) against the Makefile and the README picture: one source of truth."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ci.stages import STAGES, by_key, make_target

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


# Variables the Makefile reads from the environment (a CI job running these tests may set them).
MAKE_VARS = ("VENV", "SWARMOPS_CI_SMALL", "TEST_PATHS", "INFRA_ARGS", "REPORTS", "SCENARIO", "PROFILE", "ENV",
             "MR", "SWARMOPS_VENV_BIN", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


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
        "/opt/venv/bin/swarmops train --scenario watering --profile gpu"]
    assert _make_n("unit", "VENV=/opt/venv")[-1] == (
        '/opt/venv/bin/pytest -m "unit and not slow" --junitxml=reports/junit-unit.xml tests')
    assert _make_n("deploy", "ENV=production", "VENV=/opt/venv") == ["bash infra/deploy.sh production"]


def test_small_mode_selects_tiny_sizes() -> None:
    small = ("SWARMOPS_CI_SMALL=1", "VENV=/opt/venv")
    assert _make_n("unit", *small)[-1].endswith(
        "--junitxml=reports/junit-unit.xml tests/ci/test_ci_jenkins_api.py tests/ci/test_ci_gitlab_api.py")
    assert _make_n("deploy", *small) == ["bash infra/deploy.sh staging --syntax-check"]
    assert _make_n("promote", *small) == ["bash infra/promote.sh --syntax-check"]
    assert _make_n("review-up", "MR=7", *small)[0] == "bash infra/review.sh up 7 --syntax-check"


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
