"""FastAPI app behind `swarmops serve`: validate settings, run them as background jobs, serve replays.

Why FastAPI + a static page rather than Streamlit/Panel: FastAPI is already a dependency, the page is
plain HTML/JS with no build step, every endpoint is testable with a test client, the same JSON API
serves notebooks and scripts, and a real browser test drives exactly what a person sees.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from mission.jobs import Job, JobManager, ProgressFn
from mission.settings import SettingsError, parse_settings

STATIC = Path(__file__).with_name("static")
Runner = Callable[[Any, ProgressFn], Any]


def _default_runner(settings: Any, progress: ProgressFn) -> Any:
    from mission.pipeline import run_settings

    return run_settings(settings, progress=progress)


def _default_options() -> dict[str, Any]:
    from mission.policies import policy_options

    return policy_options()


def create_app(runner: Runner | None = None, options: Callable[[], dict[str, Any]] | None = None) -> FastAPI:
    """Build the app; ``runner(settings, progress)`` returns a ``mission.pipeline.RunResult``."""
    app = FastAPI(title="SwarmOps mission", docs_url="/api/docs", openapi_url="/api/openapi.json")
    jobs: JobManager[Any] = JobManager(runner or _default_runner)
    get_options = options or _default_options
    app.state.jobs = jobs
    app.router.add_event_handler("shutdown", jobs.shutdown)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def invalid(exc: SettingsError) -> JSONResponse:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=422)

    async def read_settings(request: Request) -> Any:
        try:
            data = await request.json()
        except ValueError:
            raise SettingsError("form", "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise SettingsError("form", "the request body must be a JSON object of settings")
        return parse_settings(data)

    def finished_job(job_id: str) -> Job[Any]:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}")
        if job.state != "done":
            raise HTTPException(409, f"job {job_id} is {job.state}")
        return job

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/options")
    def options_() -> dict[str, Any]:
        """Modes, policies per mode (heuristic, champion, registered versions) and default settings."""
        return get_options()

    @app.post("/api/validate")
    async def validate(request: Request) -> Any:
        """200 with the normalised settings, or 422 with the one-line reason and the field."""
        try:
            return {"ok": True, "settings": (await read_settings(request)).to_dict()}
        except SettingsError as exc:
            return invalid(exc)

    @app.post("/api/jobs", status_code=202)
    async def submit(request: Request) -> Any:
        """Validate and queue a run; poll ``/api/jobs/{id}`` for progress."""
        try:
            settings = await read_settings(request)
        except SettingsError as exc:
            return invalid(exc)
        return jobs.submit(settings).summary()

    @app.get("/api/jobs/{job_id}")
    def status(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return job.summary()

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str) -> dict[str, Any]:
        """Tracks (status per step, frame counts), figures, warnings and the report of a finished job."""
        return finished_job(job_id).result.describe()

    @app.get("/api/jobs/{job_id}/frames/{track}/{index}.png")
    def frame(job_id: str, track: str, index: int) -> Response:
        tracks = {t.key: t for t in finished_job(job_id).result.tracks}
        if track not in tracks:
            raise HTTPException(404, f"no track {track!r}; tracks: {', '.join(tracks)}")
        frames = tracks[track].frames
        if not 0 <= index < len(frames):
            raise HTTPException(404, f"frame {index} out of range 0..{len(frames) - 1}")
        return Response(frames[index], media_type="image/png",
                        headers={"Cache-Control": "max-age=3600, immutable"})

    @app.get("/api/jobs/{job_id}/figures/{name}.png")
    def figure(job_id: str, name: str) -> Response:
        figures = finished_job(job_id).result.figures
        if name not in figures:
            raise HTTPException(404, f"no figure {name!r}; figures: {', '.join(figures)}")
        return Response(figures[name], media_type="image/png")

    @app.get("/api/jobs/{job_id}/report.md")
    def report_md(job_id: str) -> PlainTextResponse:
        return PlainTextResponse(finished_job(job_id).result.report_md, media_type="text/markdown")

    @app.get("/api/jobs/{job_id}/report.json")
    def report_json(job_id: str) -> dict[str, Any]:
        return finished_job(job_id).result.report

    return app
