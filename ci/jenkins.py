"""Thin python-jenkins wrapper: push job definitions, trigger builds, read the history, answer inputs.

Every server error becomes one CIError line (what was being done, the HTTP status or "unreachable",
the server URL without credentials); 5xx responses are retried with backoff first (ci.http).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import jenkins
import requests

from ci.errors import CIError, safe_url
from ci.http import install_retries
from ci.settings import JenkinsSettings

T = TypeVar("T")
PROMOTION_INPUT = "Promote"  # `input { id 'Promote' }` of the Jenkinsfile's production stage
METRICS_ARTIFACT = "reports/eval/metrics.json"  # written by `make evaluate`
KEY_METRICS = ("time_ratio_to_heuristic", "time_ratio_to_lower_bound", "score")


@dataclass
class BuildRow:
    """One line of the job history."""

    number: int
    result: str
    duration_s: float
    commit: str
    started: float
    url: str
    metrics: dict[str, float] = field(default_factory=dict)


def _status(exc: BaseException) -> int | None:
    """HTTP status behind a python-jenkins / requests exception, when there is one."""
    if isinstance(exc, jenkins.NotFoundException):
        return 404
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code
    if isinstance(exc, jenkins.JenkinsException):
        # python-jenkins folds 401/403/500 into "... [401]: Unauthorized" and 404s into "does not exist".
        match = re.search(r"\[(\d{3})\]", str(exc))
        if match:
            return int(match.group(1))
        if "does not exist" in str(exc):
            return 404
    return None


class JenkinsClient:
    """Jenkins REST API through python-jenkins, with retries and one-line errors."""

    def __init__(self, settings: JenkinsSettings, attempts: int = 4, backoff: float = 1.0,
                 sleep: Callable[[float], None] | None = None, timeout: float = 30) -> None:
        self.settings = settings
        self.url = safe_url(settings.url)
        self.server = jenkins.Jenkins(settings.url, username=settings.user, password=settings.token,
                                      timeout=timeout)
        self.attempts = attempts
        install_retries(self.server._session, attempts, backoff, sleep)

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one python-jenkins call, turning its failures into one CIError line."""
        try:
            return fn(*args, **kwargs)
        except (requests.ConnectionError, jenkins.TimeoutException, requests.Timeout) as exc:
            raise CIError(f"jenkins: cannot reach {self.url} to {what} ({type(exc).__name__})") from None
        except (jenkins.JenkinsException, requests.HTTPError) as exc:
            raise self._error(what, _status(exc)) from None

    def _error(self, what: str, status: int | None) -> CIError:
        if status == 401:
            return CIError(f"jenkins: authentication failed (HTTP 401) at {self.url} to {what}: check "
                           f"JENKINS_USER and JENKINS_TOKEN")
        if status == 403:
            return CIError(f"jenkins: user {self.settings.user!r} may not {what} (HTTP 403) at {self.url}")
        if status == 404:
            return CIError(f"jenkins: cannot {what}: not found (HTTP 404) at {self.url}")
        if status is not None and status >= 500:
            return CIError(f"jenkins: server error (HTTP {status}) at {self.url} to {what}, "
                           f"after {self.attempts} attempts")
        return CIError(f"jenkins: cannot {what} at {self.url} (HTTP {status or 'error'})")

    def _request(self, what: str, method: str, url: str) -> requests.Response:
        """A raw request (with auth, crumb and retries) for endpoints python-jenkins has no method for."""
        return self._call(what, self.server.jenkins_request, requests.Request(method, url))

    def whoami(self) -> str:
        """The authenticated user's id (checks URL and token)."""
        return self._call("read the current user", self.server.get_whoami)["id"]

    def push_jobs(self, jobs: dict[str, str]) -> list[tuple[str, str]]:
        """Create or update each job from its config XML; returns (name, "created" | "updated")."""
        done = []
        for name, xml in jobs.items():
            exists = self._call(f"look up job {name!r}", self.server.job_exists, name)
            if exists:
                self._call(f"update job {name!r}", self.server.reconfig_job, name, xml)
            else:
                self._call(f"create job {name!r}", self.server.create_job, name, xml)
            done.append((name, "updated" if exists else "created"))
        return done

    def trigger(self, job: str, parameters: dict[str, str]) -> int:
        """Queue a build of ``job`` with ``parameters``; returns the queue item number."""
        self._call(f"find job {job!r}", self.server.get_job_info, job)
        return self._call(f"trigger job {job!r}", self.server.build_job, job, parameters)

    def history(self, job: str, limit: int = 20) -> list[BuildRow]:
        """The last ``limit`` builds of ``job``, newest first, with key metrics from their artifacts."""
        info = self._call(f"read job {job!r}", self.server.get_job_info, job)
        rows = []
        for build in info.get("builds", [])[:limit]:
            number = build["number"]
            data = self._call(f"read build {job} #{number}", self.server.get_build_info, job, number)
            rows.append(BuildRow(
                number=number,
                result=data.get("result") or ("RUNNING" if data.get("building") else "UNKNOWN"),
                duration_s=(data.get("duration") or 0) / 1000.0,
                commit=_commit(data),
                started=(data.get("timestamp") or 0) / 1000.0,
                url=data.get("url", ""),
                metrics=self._metrics(job, number, data),
            ))
        return rows

    def _metrics(self, job: str, number: int, build: dict[str, Any]) -> dict[str, float]:
        if not any(a.get("relativePath") == METRICS_ARTIFACT for a in build.get("artifacts", [])):
            return {}
        raw = self._call(f"download {METRICS_ARTIFACT} of {job} #{number}",
                         self.server.get_build_artifact_as_bytes, job, number, METRICS_ARTIFACT)
        try:
            metrics = json.loads(raw)
        except ValueError:
            raise CIError(f"jenkins: {METRICS_ARTIFACT} of {job} #{number} is not JSON") from None
        return {k: float(metrics[k]) for k in KEY_METRICS if isinstance(metrics.get(k), (int, float))}

    def pending_inputs(self, job: str, number: int) -> list[dict[str, Any]]:
        """Inputs the build waits for (pipeline-stage-view's wfapi/pendingInputActions)."""
        build = self._call(f"read build {job} #{number}", self.server.get_build_info, job, number)
        response = self._request(f"list the pending inputs of {job} #{number}", "GET",
                                 build["url"] + "wfapi/pendingInputActions")
        return response.json()

    def answer_input(self, job: str, number: int, approve: bool, input_id: str = PROMOTION_INPUT) -> str:
        """Approve (proceed) or abort the pending input ``input_id`` of a build; returns what was done."""
        pending = self.pending_inputs(job, number)
        if not any(p.get("id") == input_id for p in pending):
            waiting = ", ".join(p.get("id", "?") for p in pending) or "none"
            raise CIError(f"jenkins: build {job} #{number} is not waiting for input {input_id!r} "
                          f"(pending: {waiting})")
        build = self._call(f"read build {job} #{number}", self.server.get_build_info, job, number)
        verb, action, done = (("approve", "proceedEmpty", "approved") if approve
                              else ("abort", "abort", "aborted"))
        self._request(f"{verb} input {input_id!r} of {job} #{number}", "POST",
                      f"{build['url']}input/{input_id}/{action}")
        return f"{done} input {input_id!r} of {job} #{number}"


def _commit(build: dict[str, Any]) -> str:
    """Short SHA the build checked out (git plugin's BuildData action), or '' when unknown."""
    for action in build.get("actions") or []:
        revision = (action or {}).get("lastBuiltRevision")
        if revision and revision.get("SHA1"):
            return revision["SHA1"][:8]
    return ""
