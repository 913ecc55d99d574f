"""ci.gitlab against the GitLab REST API v4 at the HTTP level (`responses`), with the request and
response shapes of the official docs: merge request notes, environments (create, stop), pipeline jobs
and jobs/:id/play, pipelines list; plus the error paths and the MR note's metrics table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers

from ci import cli
from ci.errors import CIError
from ci.gitlab import NOTE_MARKER, GitlabClient
from ci.settings import GitlabSettings

pytestmark = pytest.mark.unit

TOKEN = "glpat-Xy9fakeFAKEfake0token"
SETTINGS = GitlabSettings("https://gitlab.test", "swarmops/swarmops", TOKEN)
API = "https://gitlab.test/api/v4/projects/swarmops%2Fswarmops"
# Objects returned by the API carry project_id; python-gitlab addresses their sub-resources by it.
BY_ID = "https://gitlab.test/api/v4/projects/42"
AUTH = matchers.header_matcher({"PRIVATE-TOKEN": TOKEN})
AUTHOR = {"id": 3, "username": "swarmops-bot", "name": "SwarmOps bot"}
MR = {
    "id": 1007,
    "iid": 7,
    "project_id": 42,
    "title": "Wider fields",
    "state": "opened",
    "source_branch": "feature/wider-fields",
    "target_branch": "main",
    "web_url": "https://gitlab.test/mr/7",
}


def _note(note_id: int, body: str, system: bool = False) -> dict:
    return {
        "id": note_id,
        "body": body,
        "system": system,
        "author": AUTHOR,
        "noteable_type": "MergeRequest",
        "noteable_iid": 7,
        "created_at": "2026-11-26T12:00:00.000Z",
        "resolvable": False,
    }


@pytest.fixture
def client() -> GitlabClient:
    # `responses` answers inside the transport adapter: urllib3's Retry counts the attempts but never
    # sleeps here. The waits themselves are checked against a real server in tests/ci/test_ci_http.py.
    return GitlabClient(SETTINGS, attempts=3, backoff=0.25)


@pytest.fixture
def api() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# ---- the ONE merge-request note ------------------------------------------------------------------
def test_note_is_created_when_absent(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/merge_requests/7", json=MR, match=[AUTH])
    api.get(
        f"{BY_ID}/merge_requests/7/notes", json=[_note(1, "looks good"), _note(2, "added 1 commit", True)]
    )
    api.post(
        f"{BY_ID}/merge_requests/7/notes",
        status=201,
        json=_note(3, "x"),
        match=[matchers.json_params_matcher({"body": f"{NOTE_MARKER}\n| table |"})],
    )
    assert client.upsert_mr_note(7, "| table |") == ("created", 3)


def test_note_is_updated_when_present(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/merge_requests/7", json=MR)
    api.get(
        f"{BY_ID}/merge_requests/7/notes",
        json=[_note(1, "looks good"), _note(5, f"{NOTE_MARKER}\nold table"), _note(6, "thanks")],
    )
    api.put(
        f"{BY_ID}/merge_requests/7/notes/5",
        json=_note(5, "new"),
        match=[matchers.json_params_matcher({"body": f"{NOTE_MARKER}\nnew table"})],
    )
    assert client.upsert_mr_note(7, "new table") == ("updated", 5)


def test_unknown_merge_request(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/merge_requests/404", status=404, json={"message": "404 Not found"})
    with pytest.raises(CIError) as err:
        client.upsert_mr_note(404, "x")
    assert str(err.value) == (
        "gitlab: cannot find merge request !404: not found (HTTP 404) in project "
        "swarmops/swarmops at https://gitlab.test"
    )


# ---- review environments -------------------------------------------------------------------------
def test_review_environment_created_then_stopped(api: responses.RequestsMock, client: GitlabClient) -> None:
    name = "review/feature-wider-fields"
    api.get(
        f"{API}/environments",
        json=[],
        match=[matchers.query_param_matcher({"name": name}, strict_match=False)],
    )
    api.post(
        f"{API}/environments",
        status=201,
        json={"id": 11, "name": name, "state": "available", "external_url": "https://127.0.0.1:17700"},
        match=[matchers.json_params_matcher({"name": name, "external_url": "https://127.0.0.1:17700"})],
    )
    assert client.start_review(name, "https://127.0.0.1:17700") == ("created", 11)
    env = {"id": 11, "name": name, "state": "available", "external_url": "https://127.0.0.1:17700"}
    api.get(f"{API}/environments", json=[env])
    api.post(f"{API}/environments/11/stop", json={**env, "state": "stopping"})
    assert client.stop_review(name) == 11


def test_stopping_an_unknown_environment(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/environments", json=[{"id": 1, "name": "review/other-branch", "state": "available"}])
    with pytest.raises(
        CIError, match=r"^gitlab: no environment named 'review/x' in project swarmops/swarmops$"
    ):
        client.stop_review("review/x")


# ---- manual production job -----------------------------------------------------------------------
PIPELINE = {
    "id": 99,
    "iid": 40,
    "project_id": 42,
    "status": "manual",
    "ref": "main",
    "sha": "9fceb02d0ae5",
    "source": "push",
    "web_url": "https://gitlab.test/swarmops/swarmops/-/pipelines/99",
}


def _jobs(production_status: str) -> list[dict]:
    return [
        {"id": 501, "name": "verify-staging", "stage": "staging", "status": "success"},
        {"id": 502, "name": "production", "stage": "production", "status": production_status},
    ]


def test_play_production_job(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/pipelines/99", json=PIPELINE)
    api.get(f"{BY_ID}/pipelines/99/jobs", json=_jobs("manual"))
    api.post(
        f"{API}/jobs/502/play", json={"id": 502, "name": "production", "status": "pending"}, match=[AUTH]
    )
    assert client.play_production(99) == 502


def test_play_production_refuses_a_job_that_is_not_manual(
    api: responses.RequestsMock, client: GitlabClient
) -> None:
    api.get(f"{API}/pipelines/99", json=PIPELINE)
    api.get(f"{BY_ID}/pipelines/99/jobs", json=_jobs("success"))
    with pytest.raises(CIError, match="job 'production' of pipeline 99 is success, not waiting to be played"):
        client.play_production(99)


def test_play_production_in_a_branch_pipeline(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/pipelines/98", json={**PIPELINE, "id": 98, "ref": "feature/x"})
    api.get(f"{BY_ID}/pipelines/98/jobs", json=_jobs("manual")[:1])
    with pytest.raises(CIError, match=r"pipeline 98 has no job 'production' \(jobs: verify-staging\)"):
        client.play_production(98)


def test_recent_pipelines(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(
        f"{API}/pipelines",
        json=[PIPELINE, {**PIPELINE, "id": 97, "status": "success"}],
        match=[
            matchers.query_param_matcher(
                {"order_by": "id", "sort": "desc", "per_page": "2", "page": "1", "ref": "main"}
            )
        ],
    )
    rows = client.pipelines("main", limit=2)
    assert [(r.id, r.status, r.ref, r.sha) for r in rows] == [
        (99, "manual", "main", "9fceb02d"),
        (97, "success", "main", "9fceb02d"),
    ]


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status,expected",
    [
        (
            401,
            "gitlab: authentication failed (HTTP 401) at https://gitlab.test to list pipelines: "
            "check GITLAB_TOKEN",
        ),
        (
            403,
            "gitlab: the token may not list pipelines (HTTP 403) at https://gitlab.test: "
            "it needs the api scope and Developer role on swarmops/swarmops",
        ),
    ],
)
def test_auth_errors_are_one_line_without_token(
    api: responses.RequestsMock, client: GitlabClient, status: int, expected: str
) -> None:
    api.get(f"{API}/pipelines", status=status, json={"message": f"{status} Unauthorized"})
    with pytest.raises(CIError) as err:
        client.pipelines()
    assert str(err.value) == expected and TOKEN not in str(err.value)


def test_5xx_retried_then_succeeds(
    api: responses.RequestsMock, client: GitlabClient
) -> None:
    api.get(f"{API}/pipelines", status=502)
    api.get(f"{API}/pipelines", status=503)
    api.get(f"{API}/pipelines", json=[PIPELINE])
    assert [r.id for r in client.pipelines()] == [99]
    assert [c.response.status_code for c in api.calls] == [502, 503, 200]


def test_5xx_gives_up(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/pipelines", status=500)
    with pytest.raises(CIError, match=r"^gitlab: server error \(HTTP 500\) .* after 3 attempts$"):
        client.pipelines()
    assert len(api.calls) == 3


def test_unreachable(api: responses.RequestsMock, client: GitlabClient) -> None:
    api.get(f"{API}/pipelines", body=requests.ConnectionError("Connection refused"))
    with pytest.raises(
        CIError, match=r"^gitlab: cannot reach https://gitlab.test to list pipelines " r"\(ConnectionError\)$"
    ):
        client.pipelines()


# ---- CLI: the MR note end to end -----------------------------------------------------------------
def _metrics(path: Path, score: float, collisions: float, held_out: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "policy": "ppo",
                "scenario": "recon",
                "score": score,
                "score_held_out": held_out,
                "time_ratio_to_heuristic": 0.7 / score,
                "best_heuristic": "lawnmower",
                "policies": {
                    "ppo": {"score": score, "coverage": 0.9, "collisions": collisions},
                    "lawnmower": {"score": 0.7},
                },
            }
        )
    )
    return path


def test_cli_note_posts_table_against_champion(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    api: responses.RequestsMock,
    capsys: pytest.CaptureFixture,
) -> None:
    for key, value in (
        ("GITLAB_URL", "https://gitlab.test"),
        ("GITLAB_TOKEN", TOKEN),
        ("GITLAB_PROJECT", "swarmops/swarmops"),
        ("CI_JOB_URL", "https://gitlab.test/j/5"),
        ("CI_PIPELINE_URL", "https://gitlab.test/p/99"),
    ):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REVIEW_URL", raising=False)
    candidate = _metrics(tmp_path / "eval" / "metrics.json", 0.80, 1.0, 0.75)
    champion = _metrics(tmp_path / "champion" / "metrics.json", 0.70, 0.5, 0.75)
    gate = tmp_path / "gate.txt"
    gate.write_text("candidate v4 vs champion v3: ... -> PROMOTED to @champion\n")
    api.get(f"{API}/merge_requests/7", json=MR)
    api.get(f"{BY_ID}/merge_requests/7/notes", json=[])
    api.post(f"{BY_ID}/merge_requests/7/notes", status=201, json=_note(9, "x"))
    assert (
        cli.main(
            [
                "gitlab",
                "note",
                "--mr",
                "7",
                "--candidate",
                str(candidate),
                "--champion",
                str(champion),
                "--gate",
                str(gate),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == "created note 9 on !7\n"
    body = json.loads(api.calls[-1].request.body)["body"]
    assert body.startswith(NOTE_MARKER)
    assert "| score | 0.8000 | 0.7000 | +0.1000 | ✅ improved |" in body
    assert "| collisions | 1.0000 | 0.5000 | +0.5000 | ❌ worse |" in body  # fewer collisions is better
    assert "| score_held_out | 0.7500 | 0.7500 | +0.0000 | ➖ same |" in body
    assert "**Gate:** candidate v4 vs champion v3: ... -> PROMOTED to @champion" in body
    assert f"[evaluation report](https://gitlab.test/j/5/artifacts/file/{candidate.parent}/report.md)" in body
    assert "[pipeline](https://gitlab.test/p/99)" in body


def test_cli_note_without_champion_and_bad_metrics(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from ci.cli import note_body

    candidate = _metrics(tmp_path / "metrics.json", 0.8, 0.0, 0.7)
    body = note_body("recon", candidate, tmp_path / "missing.json", None)
    assert "| score | 0.8000 | – | – | 🆕 new |" in body and "first champion" in body
    (tmp_path / "bad.json").write_text("{not json")
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("GITLAB_URL", "https://gitlab.test")
    monkeypatch.setenv("GITLAB_PROJECT", "1")
    assert cli.main(["gitlab", "note", "--mr", "7", "--candidate", str(tmp_path / "bad.json")]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: metrics file {tmp_path / 'bad.json'} is not valid JSON")
        and err.count("\n") == 1
    )


def test_cli_missing_gitlab_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("GITLAB_URL", "https://gitlab.test")
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    assert cli.main(["gitlab", "pipelines"]) == 1
    assert capsys.readouterr().err == (
        "error: GITLAB_TOKEN is not set: a project or personal access token " "with the api scope\n"
    )


def test_cli_real_unreachable_server(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import socket
    import types

    waits: list[float] = []  # connection errors are retried with backoff: record the waits, skip them
    monkeypatch.setattr("ci.http.time", types.SimpleNamespace(sleep=waits.append))

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for key, value in (("GITLAB_URL", f"http://127.0.0.1:{port}"), ("GITLAB_TOKEN", TOKEN),
                       ("GITLAB_PROJECT", "swarmops/swarmops")):
        monkeypatch.setenv(key, value)
    assert cli.main(["gitlab", "play-production", "--pipeline", "99"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert waits == [1.0, 2.0, 4.0] and len(err) == 4 and "retry 3/3" in err[2]
    assert err[-1] + "\n" == (
        f"error: gitlab: cannot reach http://127.0.0.1:{port} to find pipeline 99 (ConnectionError)\n")
