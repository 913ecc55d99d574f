"""Server URLs and tokens for the CI tooling, read once from environment variables and validated.

Jenkins: JENKINS_URL, JENKINS_USER, JENKINS_TOKEN (an API token). GitLab: GITLAB_URL (default
CI_SERVER_URL), GITLAB_TOKEN (a project or personal access token with api scope), GITLAB_PROJECT (id or
path, default CI_PROJECT_ID). Tokens are kept out of repr() so they never end up in a log line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from ci.errors import CIError


def _required(env: Mapping[str, str], name: str, hint: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise CIError(f"{name} is not set: {hint}")
    return value


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CIError(f"{name} must be an http:// or https:// URL with a host, "
                      f"got {parts.scheme or 'no'} scheme")
    if parts.username or parts.password:
        raise CIError(f"{name} must not contain credentials: put the token in the token variable")
    return url.rstrip("/")


@dataclass(frozen=True)
class JenkinsSettings:
    """Where and as whom to talk to Jenkins."""

    url: str
    user: str
    token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "JenkinsSettings":
        """Read JENKINS_URL / JENKINS_USER / JENKINS_TOKEN; a CIError names the first one missing."""
        env = os.environ if env is None else env
        url = _check_url("JENKINS_URL", _required(env, "JENKINS_URL", "the Jenkins base URL, e.g. "
                                                  "https://jenkins.example.com"))
        user = _required(env, "JENKINS_USER", "the Jenkins user that owns JENKINS_TOKEN")
        token = _required(env, "JENKINS_TOKEN", "an API token of JENKINS_USER (user menu > Security > "
                                                "API Token)")
        return cls(url, user, token)


@dataclass(frozen=True)
class GitlabSettings:
    """Where, as whom and on which project to talk to GitLab."""

    url: str
    project: str
    token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "GitlabSettings":
        """Read GITLAB_URL / GITLAB_TOKEN / GITLAB_PROJECT (CI_SERVER_URL / CI_PROJECT_ID inside a job)."""
        env = os.environ if env is None else env
        url = env.get("GITLAB_URL") or env.get("CI_SERVER_URL") or ""
        url = _check_url("GITLAB_URL", _required({"GITLAB_URL": url}, "GITLAB_URL",
                                                 "the GitLab base URL, e.g. https://gitlab.example.com"))
        token = _required(env, "GITLAB_TOKEN", "a project or personal access token with the api scope")
        project = env.get("GITLAB_PROJECT") or env.get("CI_PROJECT_ID") or ""
        project = _required({"GITLAB_PROJECT": project}, "GITLAB_PROJECT",
                            "the project id or path, e.g. swarmops/swarmops")
        return cls(url, project, token)
