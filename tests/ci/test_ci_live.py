"""Opt-in tests against real servers: they run only when the servers' URLs and tokens are set.

Jenkins: JENKINS_URL, JENKINS_USER, JENKINS_TOKEN (+ SWARMOPS_JENKINS_JOB for the history check).
GitLab: GITLAB_URL, GITLAB_TOKEN, GITLAB_PROJECT. Nothing is created or changed on the servers: the
checks read, and let the servers' own linters judge Jenkinsfile and .gitlab-ci.yml.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
JENKINS_VARS = ("JENKINS_URL", "JENKINS_USER", "JENKINS_TOKEN")
GITLAB_VARS = ("GITLAB_URL", "GITLAB_TOKEN", "GITLAB_PROJECT")


def _require(names: tuple[str, ...]) -> None:
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.skip(f"live server test: set {', '.join(missing)} to run it")


@pytest.fixture
def jenkins_client():  # type: ignore[no-untyped-def]
    _require(JENKINS_VARS)
    from ci.jenkins import JenkinsClient
    from ci.settings import JenkinsSettings

    return JenkinsClient(JenkinsSettings.from_env())


@pytest.fixture
def gitlab_client():  # type: ignore[no-untyped-def]
    _require(GITLAB_VARS)
    from ci.gitlab import GitlabClient
    from ci.settings import GitlabSettings

    return GitlabClient(GitlabSettings.from_env())


def test_live_jenkins_token_and_declarative_linter(jenkins_client) -> None:  # type: ignore[no-untyped-def]
    assert jenkins_client.whoami() == os.environ["JENKINS_USER"]
    # Jenkins' own declarative validator (pipeline-model-definition plugin).
    errors = jenkins_client._call("validate the Jenkinsfile", jenkins_client.server.check_jenkinsfile_syntax,
                                  (REPO / "Jenkinsfile").read_text())
    assert errors == []


def test_live_jenkins_history(jenkins_client) -> None:  # type: ignore[no-untyped-def]
    job = os.environ.get("SWARMOPS_JENKINS_JOB")
    if not job:
        pytest.skip("live server test: set SWARMOPS_JENKINS_JOB to a job with builds to run it")
    rows = jenkins_client.history(job, limit=5)
    assert all(r.number > 0 and r.result for r in rows)


def test_live_gitlab_ci_lint_and_pipelines(gitlab_client) -> None:  # type: ignore[no-untyped-def]
    # GitLab's own CI lint for this project (POST /projects/:id/ci/lint).
    result = gitlab_client._call("lint .gitlab-ci.yml", gitlab_client.project.ci_lint.create,
                                 {"content": (REPO / ".gitlab-ci.yml").read_text()})
    assert result.valid, result.errors
    rows = gitlab_client.pipelines(limit=3)
    assert len(rows) <= 3
