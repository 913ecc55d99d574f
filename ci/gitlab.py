"""Thin python-gitlab wrapper: the merge-request metrics note, review environments, the manual
production job and recent pipelines.

Every server error becomes one CIError line; 5xx responses are retried with backoff first (ci.http).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import gitlab
import requests

from ci.errors import CIError, safe_url
from ci.http import install_retries
from ci.settings import GitlabSettings

T = TypeVar("T")
NOTE_MARKER = "<!-- swarmops:metrics-note -->"  # finds our one note again on the next pipeline
PRODUCTION_JOB = "production"


@dataclass
class PipelineRow:
    """One line of the recent-pipelines table."""

    id: int
    status: str
    ref: str
    sha: str
    source: str
    created_at: str
    url: str


class GitlabClient:
    """GitLab REST API v4 through python-gitlab, scoped to one project."""

    def __init__(self, settings: GitlabSettings, attempts: int = 4, backoff: float = 1.0,
                 sleep: Callable[[float], None] | None = None, timeout: float = 30) -> None:
        self.settings = settings
        self.url = safe_url(settings.url)
        self.attempts = attempts
        # python-gitlab's own retry is off: ci.http retries every request the same way as for Jenkins.
        self.gl = gitlab.Gitlab(settings.url, private_token=settings.token, timeout=timeout,
                                retry_transient_errors=False)
        install_retries(self.gl.session, attempts, backoff, sleep)
        self.project = self.gl.projects.get(settings.project, lazy=True)

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one python-gitlab call, turning its failures into one CIError line."""
        try:
            return fn(*args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise CIError(f"gitlab: cannot reach {self.url} to {what} ({type(exc).__name__})") from None
        except gitlab.GitlabError as exc:
            raise self._error(what, exc.response_code) from None

    def _error(self, what: str, status: int | None) -> CIError:
        if status == 401:
            return CIError(f"gitlab: authentication failed (HTTP 401) at {self.url} to {what}: check "
                           f"GITLAB_TOKEN")
        if status == 403:
            return CIError(f"gitlab: the token may not {what} (HTTP 403) at {self.url}: it needs the api "
                           f"scope and Developer role on {self.settings.project}")
        if status == 404:
            return CIError(f"gitlab: cannot {what}: not found (HTTP 404) in project "
                           f"{self.settings.project} at {self.url}")
        if status is not None and status >= 500:
            return CIError(f"gitlab: server error (HTTP {status}) at {self.url} to {what}, "
                           f"after {self.attempts} attempts")
        return CIError(f"gitlab: cannot {what} at {self.url} (HTTP {status or 'error'})")

    # -- merge-request note ---------------------------------------------------------------------------
    def upsert_mr_note(self, mr_iid: int, body: str) -> tuple[str, int]:
        """Create our metrics note on MR ``mr_iid`` or update it; returns ("created"|"updated", note id)."""
        mr = self._call(f"find merge request !{mr_iid}", self.project.mergerequests.get, mr_iid)
        notes = self._call(f"list the notes of !{mr_iid}", mr.notes.list, get_all=True, sort="asc")
        body = f"{NOTE_MARKER}\n{body}"
        for note in notes:
            if not getattr(note, "system", False) and NOTE_MARKER in (note.body or ""):
                note.body = body
                self._call(f"update note {note.id} on !{mr_iid}", note.save)
                return "updated", note.id
        note = self._call(f"create a note on !{mr_iid}", mr.notes.create, {"body": body})
        return "created", note.id

    # -- review environments --------------------------------------------------------------------------
    def _environment(self, name: str) -> Any | None:
        found = self._call(f"look up environment {name!r}", self.project.environments.list, name=name,
                           get_all=True)
        return next((env for env in found if env.name == name), None)

    def start_review(self, name: str, external_url: str | None = None) -> tuple[str, int]:
        """Create the review environment ``name`` (or update its URL); returns (action, environment id)."""
        env = self._environment(name)
        if env is None:
            data = {"name": name, **({"external_url": external_url} if external_url else {})}
            env = self._call(f"create environment {name!r}", self.project.environments.create, data)
            return "created", env.id
        if external_url and getattr(env, "external_url", None) != external_url:
            env.external_url = external_url
            self._call(f"update environment {name!r}", env.save)
            return "updated", env.id
        return "exists", env.id

    def stop_review(self, name: str) -> int:
        """Stop the review environment ``name`` (runs its on_stop job); returns its id."""
        env = self._environment(name)
        if env is None:
            raise CIError(f"gitlab: no environment named {name!r} in project {self.settings.project}")
        self._call(f"stop environment {name!r}", env.stop)
        return env.id

    # -- manual production job -------------------------------------------------------------------------
    def play_production(self, pipeline_id: int, job_name: str = PRODUCTION_JOB) -> int:
        """Start the manual job ``job_name`` of pipeline ``pipeline_id``; returns the job id."""
        pipeline = self._call(f"find pipeline {pipeline_id}", self.project.pipelines.get, pipeline_id)
        jobs = self._call(f"list the jobs of pipeline {pipeline_id}", pipeline.jobs.list, get_all=True)
        job = next((j for j in jobs if j.name == job_name), None)
        if job is None:
            names = ", ".join(sorted({j.name for j in jobs})) or "none"
            raise CIError(f"gitlab: pipeline {pipeline_id} has no job {job_name!r} (jobs: {names})")
        if job.status != "manual":
            raise CIError(f"gitlab: job {job_name!r} of pipeline {pipeline_id} is {job.status}, not "
                          f"waiting to be played (manual)")
        project_job = self.project.jobs.get(job.id, lazy=True)
        self._call(f"play job {job_name!r} ({job.id})", project_job.play)
        return job.id

    # -- pipelines -------------------------------------------------------------------------------------
    def pipelines(self, ref: str | None = None, limit: int = 10) -> list[PipelineRow]:
        """The ``limit`` most recent pipelines (of ``ref`` when given), newest first."""
        query: dict[str, Any] = {"order_by": "id", "sort": "desc", "per_page": limit, "page": 1}
        if ref:
            query["ref"] = ref
        found = self._call("list pipelines", self.project.pipelines.list, get_all=False, **query)
        return [PipelineRow(p.id, p.status, p.ref, (p.sha or "")[:8], getattr(p, "source", ""),
                            getattr(p, "created_at", ""), getattr(p, "web_url", "")) for p in found[:limit]]
