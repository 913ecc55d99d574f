"""`python -m ci`: the pipeline's tooling for Jenkins (python-jenkins) and GitLab (python-gitlab).

Servers and tokens come from environment variables (ci/settings.py). Every failure prints one line
``error: ...`` and exits 1 (2 for a bad command line); tokens are never printed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ci.errors import CIError

app = typer.Typer(name="ci", help=__doc__, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
jenkins_app = typer.Typer(help="Jenkins: job definitions, builds, history, promotion input.",
                          no_args_is_help=True)
gitlab_app = typer.Typer(help="GitLab: MR metrics note, review environments, production job, pipelines.",
                         no_args_is_help=True)
app.add_typer(jenkins_app, name="jenkins")
app.add_typer(gitlab_app, name="gitlab")

SCENARIOS = ("recon", "watering")
PROFILES = ("smoke", "default", "gpu")
DEFAULT_JOB = "swarmops/main"  # the multibranch job's main branch (ci/jobs/)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CIError(f"{name} {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def _jenkins():  # type: ignore[no-untyped-def]
    from ci.jenkins import JenkinsClient
    from ci.settings import JenkinsSettings

    return JenkinsClient(JenkinsSettings.from_env())


def _gitlab():  # type: ignore[no-untyped-def]
    from ci.gitlab import GitlabClient
    from ci.settings import GitlabSettings

    return GitlabClient(GitlabSettings.from_env())


@app.command()
def stages() -> None:
    """The pipeline's stages: make target, Jenkins stage, GitLab job, when it runs."""
    from swarmops.cliutils import table_console
    from rich.table import Table

    from ci.stages import STAGES

    table = Table(title="pipeline stages (ci/stages.py)")
    for col in ("make", "Jenkinsfile stage", ".gitlab-ci.yml job", "runs"):
        table.add_column(col)
    for s in STAGES:
        table.add_row(s.make, s.jenkins, s.gitlab, s.when)
    table_console(table).print(table)


@app.command("tracking-check")
def tracking_check() -> None:
    """Fail (one line naming the variable) when this CI job must log to the team's stack and is not
    pointed at it: protected branches and merge requests (GitLab), main and change requests (Jenkins)."""
    from ci.tracking import check_tracking

    print(check_tracking())


# ---- Jenkins -------------------------------------------------------------------------------------------
@jenkins_app.command("render")
def jenkins_render(out: Path = typer.Option(Path("reports/jenkins-jobs"), help="folder for <job>.xml"),
                   ) -> None:
    """Render the job definitions (ci/jobs/*.yaml) to Jenkins config XML with jenkins-job-builder."""
    from ci.jobdefs import render_jobs, write_jobs

    for path in write_jobs(render_jobs(), out):
        typer.echo(f"wrote {path}")


@jenkins_app.command("push")
def jenkins_push() -> None:
    """Create or update the Jenkins jobs from ci/jobs/ (JENKINS_URL, JENKINS_USER, JENKINS_TOKEN)."""
    from ci.jobdefs import render_jobs

    jobs = render_jobs()
    for name, action in _jenkins().push_jobs(jobs):
        typer.echo(f"{action} job {name}")


@jenkins_app.command("build")
def jenkins_build(job: str = typer.Option(DEFAULT_JOB, help="job, e.g. swarmops/main or swarmops/MR-7"),
                  scenario: str = typer.Option("recon"), profile: str = typer.Option("smoke"),
                  stop_review: bool = typer.Option(False, help="MR jobs: only tear the review env down"),
                  ) -> None:
    """Trigger a build with the pipeline's parameters; prints the queue item."""
    params = {"SCENARIO": _choice("--scenario", scenario, SCENARIOS),
              "PROFILE": _choice("--profile", profile, PROFILES)}
    if stop_review:  # Jenkins has no "MR closed" hook: a build with STOP_REVIEW=true runs the teardown
        params["STOP_REVIEW"] = "true"
    queue_id = _jenkins().trigger(job, params)
    typer.echo(f"queued {job} ({', '.join(f'{k}={v}' for k, v in params.items())}): queue item {queue_id}")


@jenkins_app.command("history")
def jenkins_history(job: str = typer.Option(DEFAULT_JOB), limit: int = typer.Option(20, min=1, max=500),
                    markdown: Optional[Path] = typer.Option(None, help="also write a Markdown page here"),
                    html: Optional[Path] = typer.Option(None, help="also write a static HTML page here"),
                    ) -> None:
    """The job's recent builds: number, result, duration, commit and key metrics from their artifacts."""
    from swarmops.cliutils import table_console
    from rich.table import Table

    from ci.pages import COLUMNS, history_cells, history_html, history_markdown

    rows = _jenkins().history(job, limit)
    table = Table(title=f"{job}: last {len(rows)} builds")
    for col in COLUMNS:
        table.add_column(col)
    for row in rows:
        table.add_row(*history_cells(row))
    table_console(table).print(table)
    for path, text in ((markdown, history_markdown(job, rows) if markdown else ""),
                       (html, history_html(job, rows) if html else "")):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            typer.echo(f"wrote {path}")


@jenkins_app.command("approve")
def jenkins_approve(build: int = typer.Option(..., min=1), job: str = typer.Option(DEFAULT_JOB),
                    input_id: str = typer.Option("Promote", help="the input step's id")) -> None:
    """Approve the promotion input of a build (you must be in its submitter group)."""
    typer.echo(_jenkins().answer_input(job, build, approve=True, input_id=input_id))


@jenkins_app.command("abort")
def jenkins_abort(build: int = typer.Option(..., min=1), job: str = typer.Option(DEFAULT_JOB),
                  input_id: str = typer.Option("Promote", help="the input step's id")) -> None:
    """Abort the promotion input of a build (the build ends as ABORTED, nothing is promoted)."""
    typer.echo(_jenkins().answer_input(job, build, approve=False, input_id=input_id))


# ---- GitLab --------------------------------------------------------------------------------------------
def note_body(scenario: str, candidate: Path, champion: Optional[Path], gate: Optional[Path]) -> str:
    """Markdown of the MR note: comparison table, gate verdict and links from the CI job's variables."""
    from ci.metrics import compare, load_metrics, markdown_table

    mine = load_metrics(candidate)
    theirs = load_metrics(champion) if champion and champion.exists() else None
    lines = [f"### SwarmOps `{scenario}`: this merge request vs `@champion`", "",
             markdown_table(compare(mine, theirs)), ""]
    if theirs is None:
        lines.append("_No `@champion` evaluation available: this candidate would become the first champion._")
    if gate and gate.exists() and gate.read_text().strip():
        lines.append(f"**Gate:** {gate.read_text().strip().splitlines()[-1]}")
    links = []
    job_url = os.environ.get("CI_JOB_URL")
    if job_url:
        links.append(f"[evaluation report]({job_url}/artifacts/file/{candidate.parent / 'report.md'})")
        links.append(f"[all artifacts]({job_url}/artifacts/browse)")
    if os.environ.get("CI_PIPELINE_URL"):
        links.append(f"[pipeline]({os.environ['CI_PIPELINE_URL']})")
    if os.environ.get("REVIEW_URL"):
        links.append(f"[review environment]({os.environ['REVIEW_URL']})")
    if links:
        lines += ["", " · ".join(links)]
    return "\n".join(lines) + "\n"


@gitlab_app.command("note")
def gitlab_note(mr: int = typer.Option(..., min=1, help="merge request IID"),
                candidate: Path = typer.Option(Path("reports/eval/metrics.json")),
                champion: Optional[Path] = typer.Option(Path("reports/champion-eval/metrics.json")),
                gate: Optional[Path] = typer.Option(Path("reports/gate.txt"), help="gate output to quote"),
                scenario: str = typer.Option("recon")) -> None:
    """Post (or update) ONE note on the MR with the candidate's metrics against @champion."""
    body = note_body(_choice("--scenario", scenario, SCENARIOS), candidate, champion, gate)
    action, note_id = _gitlab().upsert_mr_note(mr, body)
    typer.echo(f"{action} note {note_id} on !{mr}")


@gitlab_app.command("review-start")
def gitlab_review_start(name: str = typer.Option(..., help="environment name, e.g. review/my-branch"),
                        url: Optional[str] = typer.Option(None, help="the environment's external URL"),
                        ) -> None:
    """Create the review environment (or update its URL)."""
    action, env_id = _gitlab().start_review(name, url)
    typer.echo(f"{action} environment {name} (id {env_id})")


@gitlab_app.command("review-stop")
def gitlab_review_stop(name: str = typer.Option(..., help="environment name, e.g. review/my-branch")) -> None:
    """Stop the review environment (GitLab runs its on_stop job)."""
    env_id = _gitlab().stop_review(name)
    typer.echo(f"stopped environment {name} (id {env_id})")


@gitlab_app.command("play-production")
def gitlab_play_production(pipeline: int = typer.Option(..., min=1, help="pipeline id"),
                           job: str = typer.Option("production")) -> None:
    """Play the manual production job of a default-branch pipeline."""
    job_id = _gitlab().play_production(pipeline, job)
    typer.echo(f"started job {job} ({job_id}) of pipeline {pipeline}")


@gitlab_app.command("pipelines")
def gitlab_pipelines(ref: Optional[str] = typer.Option(None, help="branch or tag"),
                     limit: int = typer.Option(10, min=1, max=100)) -> None:
    """Recent pipelines of the project, newest first."""
    from swarmops.cliutils import table_console
    from rich.table import Table

    rows = _gitlab().pipelines(ref, limit)
    table = Table(title=f"recent pipelines{f' of {ref}' if ref else ''}")
    for col in ("id", "status", "ref", "commit", "source", "created", "url"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.id), r.status, r.ref, r.sha, r.source, r.created_at, r.url)
    table_console(table).print(table)


@app.command("review-url")
def review_url_cmd(mr: int = typer.Option(..., min=1, help="merge request number"),
                   dotenv: Optional[Path] = typer.Option(None, help="write REVIEW_URL=... here (dotenv)"),
                   ) -> None:
    """The review environment's URL (from infra's Ansible variables), optionally as a dotenv file."""
    from ci.reviewenv import review_url

    url = review_url(mr)
    typer.echo(url)
    if dotenv:
        dotenv.parent.mkdir(parents=True, exist_ok=True)
        dotenv.write_text(f"REVIEW_URL={url}\n")


# ---- metrics (offline) ---------------------------------------------------------------------------------
@app.command("metrics")
def metrics_cmd(candidate: Path = typer.Option(Path("reports/eval/metrics.json")),
                champion: Optional[Path] = typer.Option(None),
                openmetrics: Optional[Path] = typer.Option(None, help="write GitLab's metrics report here"),
                ) -> None:
    """Print the candidate's metrics table (against a champion's metrics.json when given)."""
    from ci.metrics import compare, load_metrics, markdown_table
    from ci.metrics import openmetrics as to_openmetrics

    mine = load_metrics(candidate)
    typer.echo(markdown_table(compare(mine, load_metrics(champion) if champion else None)))
    if openmetrics:
        openmetrics.parent.mkdir(parents=True, exist_ok=True)
        openmetrics.write_text(to_openmetrics(mine))
        typer.echo(f"wrote {openmetrics}")


# typer vendors its own click: reach its exception classes through the public BadParameter.
_CLICK_ERRORS = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
UsageError: type[Exception] = _CLICK_ERRORS["UsageError"]
ClickException: type[Exception] = _CLICK_ERRORS["ClickException"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; CIError and usage errors become one line on stderr."""
    try:
        app(args=argv, standalone_mode=False, prog_name="python -m ci")
    except CIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare group: show its help
            print(exc.format_message(), file=sys.stderr)  # type: ignore[attr-defined]
        else:
            print(f"error: {exc.format_message()}", file=sys.stderr)  # type: ignore[attr-defined]
        return 2
    except ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)  # type: ignore[attr-defined]
        return 1
    except (typer.Abort, KeyboardInterrupt):
        print("error: aborted", file=sys.stderr)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    return 0
