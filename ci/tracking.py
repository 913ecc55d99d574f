"""Where a pipeline logs its runs: the team's stack on protected branches and merge requests.

Training, evaluation and the gate read the ledger from SWARMOPS_DB_URL and MLflow (runs, registry,
@champion) from MLFLOW_TRACKING_URI; unset, they fall back to SQLite files in the workspace, which is
right on a laptop and wrong in a team pipeline: every pipeline would start with an empty registry and
the gate would promote anything. ``check_tracking`` fails such a job with one line naming the variable.
"""
from __future__ import annotations

import os
from typing import Mapping
from urllib.parse import urlsplit

from ci.errors import CIError

#: (variable, what to put there): the CI variables / Jenkins credentials the README lists.
TRACKING_VARIABLES: tuple[tuple[str, str], ...] = (
    ("SWARMOPS_DB_URL", "the team ledger, postgresql+psycopg2://USER:PASSWORD@HOST:5432/swarmops"),
    ("MLFLOW_TRACKING_URI", "the team MLflow server through its front door, https://HOST/"),
    ("MLFLOW_TRACKING_USERNAME", "the pipeline's MLflow user (nginx basic auth)"),
    ("MLFLOW_TRACKING_PASSWORD", "that user's password"),
)


def tracking_required(env: Mapping[str, str]) -> str | None:
    """Why this job must log to the team's stack (a short phrase), or None when it need not.

    GitLab: merge-request pipelines and protected branches. Jenkins: change requests and main.
    SWARMOPS_REQUIRE_TRACKING=1 forces the check anywhere (there is deliberately no way to turn it off).
    """
    if env.get("SWARMOPS_REQUIRE_TRACKING") == "1":
        return "SWARMOPS_REQUIRE_TRACKING=1"
    if env.get("CI_PIPELINE_SOURCE") == "merge_request_event":
        return f"merge request !{env.get('CI_MERGE_REQUEST_IID', '?')}"
    if env.get("CI_COMMIT_REF_PROTECTED") == "true":
        return f"protected branch {env.get('CI_COMMIT_REF_NAME', '?')}"
    if env.get("JENKINS_URL") and env.get("CHANGE_ID"):
        return f"change request {env['CHANGE_ID']}"
    if env.get("JENKINS_URL") and env.get("BRANCH_NAME") == "main":
        return "branch main"
    return None


def check_tracking(env: Mapping[str, str] | None = None) -> str:
    """Raise a one-line CIError when a job that must log to the team's stack is not pointed at it.

    Returns what was checked (for the job log). Values are checked for form only (never printed):
    the ledger must be PostgreSQL, MLflow an http(s) server.
    """
    env = os.environ if env is None else env
    reason = tracking_required(env)
    if reason is None:
        return "tracking: not required here (laptop or unprotected branch): local defaults allowed"
    for name, hint in TRACKING_VARIABLES:
        if not (env.get(name) or "").strip():
            raise CIError(f"{name} is not set: {hint}; required on {reason} "
                          f"(never a fallback to a local SQLite file)")
    if not env["SWARMOPS_DB_URL"].startswith(("postgresql://", "postgresql+psycopg2://")):
        raise CIError(f"SWARMOPS_DB_URL must be a postgresql:// or postgresql+psycopg2:// URL on {reason}, "
                      f"got scheme {urlsplit(env['SWARMOPS_DB_URL']).scheme or 'none'!r}")
    uri = urlsplit(env["MLFLOW_TRACKING_URI"])
    if uri.scheme not in ("http", "https") or not uri.hostname:
        raise CIError(f"MLFLOW_TRACKING_URI must be an http(s):// server URL on {reason}, "
                      f"got scheme {uri.scheme or 'none'!r}")
    return f"tracking: {reason} logs to the team's ledger and MLflow server at {uri.hostname}"
