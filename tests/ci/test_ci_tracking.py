"""ci.tracking: team pipelines log to the team's stack, never silently to a SQLite file in the workspace."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ci.errors import CIError
from ci.tracking import TRACKING_VARIABLES, check_tracking, tracking_required

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
STACK = {
    "SWARMOPS_DB_URL": "postgresql+psycopg2://ci:pw@db.team:5432/swarmops",
    "MLFLOW_TRACKING_URI": "https://mlflow.team/",
    "MLFLOW_TRACKING_USERNAME": "ci",
    "MLFLOW_TRACKING_PASSWORD": "pw",
}
GITLAB_MR = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"}
GITLAB_MAIN = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_PROTECTED": "true", "CI_COMMIT_REF_NAME": "main"}
JENKINS_MR = {"JENKINS_URL": "https://jenkins.team/", "CHANGE_ID": "7", "BRANCH_NAME": "MR-7"}
JENKINS_MAIN = {"JENKINS_URL": "https://jenkins.team/", "BRANCH_NAME": "main"}


@pytest.mark.parametrize("env, reason", [
    (GITLAB_MR, "merge request !7"), (GITLAB_MAIN, "protected branch main"),
    (JENKINS_MR, "change request 7"), (JENKINS_MAIN, "branch main"),
    ({"SWARMOPS_REQUIRE_TRACKING": "1"}, "SWARMOPS_REQUIRE_TRACKING=1"),
])
def test_required_on_protected_branches_and_merge_requests(env: dict, reason: str) -> None:
    assert tracking_required(env) == reason


@pytest.mark.parametrize("env", [
    {},  # a laptop
    {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_PROTECTED": "false", "CI_COMMIT_REF_NAME": "feature/x"},
    {"JENKINS_URL": "https://jenkins.team/", "BRANCH_NAME": "feature/x"},
    {"SWARMOPS_REQUIRE_TRACKING": "0", **GITLAB_MR} | {"CI_PIPELINE_SOURCE": "push"},
])
def test_not_required_elsewhere(env: dict) -> None:
    assert tracking_required(env) is None
    assert check_tracking(env).startswith("tracking: not required")


def test_cannot_be_switched_off_on_a_merge_request() -> None:
    assert tracking_required({"SWARMOPS_REQUIRE_TRACKING": "0", **GITLAB_MR}) == "merge request !7"


@pytest.mark.parametrize("missing", [name for name, _ in TRACKING_VARIABLES])
def test_each_missing_variable_is_named(missing: str) -> None:
    env = {**GITLAB_MR, **STACK, missing: " "}
    with pytest.raises(CIError) as err:
        check_tracking(env)
    message = str(err.value)
    assert message.startswith(f"{missing} is not set: ") and "merge request !7" in message
    assert "\n" not in message and "pw" not in message


@pytest.mark.parametrize("name, value, scheme", [
    ("SWARMOPS_DB_URL", "sqlite:///runs/swarmops.db", "'sqlite'"),
    ("MLFLOW_TRACKING_URI", "file:///tmp/mlruns", "'file'"),
    ("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db", "'sqlite'"),
])
def test_local_stores_are_refused(name: str, value: str, scheme: str) -> None:
    with pytest.raises(CIError, match=f"^{name} must be .* on branch main, got scheme {scheme}$"):
        check_tracking({**JENKINS_MAIN, **STACK, name: value})


def test_complete_configuration_passes_without_printing_secrets() -> None:
    said = check_tracking({**GITLAB_MAIN, **STACK})
    assert said == ("tracking: protected branch main logs to the team's ledger and MLflow server at "
                    "mlflow.team")


def test_cli_one_line_and_exit_1_from_a_clean_environment() -> None:
    env = {"PATH": "/usr/bin:/bin", **GITLAB_MR}
    proc = subprocess.run([sys.executable, "-m", "ci", "tracking-check"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: SWARMOPS_DB_URL is not set: {TRACKING_VARIABLES[0][1]}; required on merge request !7 "
        "(never a fallback to a local SQLite file)"]
