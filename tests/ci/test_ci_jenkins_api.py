"""ci.jenkins against the Jenkins REST API at the HTTP level (`responses`), request and response shapes
as documented by Jenkins (…/api/json, buildWithParameters + queue Location, createItem/config.xml,
crumbIssuer, artifact/…, pipeline-stage-view's wfapi/pendingInputActions, input/<id>/proceedEmpty|abort).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers

from ci import cli
from ci.errors import CIError
from ci.jenkins import METRICS_ARTIFACT, JenkinsClient
from ci.settings import JenkinsSettings

pytestmark = pytest.mark.unit

URL = "http://jenkins.test:8080/"
TOKEN = "11a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7"
SETTINGS = JenkinsSettings(URL.rstrip("/"), "alice", TOKEN)
JOB = "swarmops/main"  # the multibranch job's main branch (ci/jobs/), the CLI default
JOB_PATH = "swarmops/job/main"  # how Jenkins (and python-jenkins) spell its URL
CRUMB = {
    "_class": "hudson.security.csrf.DefaultCrumbIssuer",
    "crumb": "c0ffee",
    "crumbRequestField": "Jenkins-Crumb",
}
CRUMB_URL = f"{URL}crumbIssuer/api/json"
BASIC = "Basic " + base64.b64encode(f"alice:{TOKEN}".encode()).decode()


@pytest.fixture
def client() -> JenkinsClient:
    # `responses` answers inside the transport adapter: urllib3's Retry counts the attempts but never
    # sleeps here. The waits themselves are checked against a real server in tests/ci/test_ci_http.py.
    return JenkinsClient(SETTINGS, attempts=3, backoff=0.5)


@pytest.fixture
def api() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        # python-jenkins asks for a CSRF crumb before its first request and sends it from then on.
        mock.get(CRUMB_URL, json=CRUMB)
        yield mock


def _build(number: int, result: str | None, sha: str, artifacts: list[str]) -> dict:
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "number": number,
        "result": result,
        "building": result is None,
        "duration": 754_000,
        "timestamp": 1_795_000_000_000,
        "url": f"{URL}job/{JOB_PATH}/{number}/",
        "actions": [
            {"_class": "hudson.model.ParametersAction"},
            {},
            {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {"SHA1": sha, "branch": [{"name": "refs/remotes/origin/main"}]},
            },
        ],
        "artifacts": [
            {"displayPath": Path(a).name, "fileName": Path(a).name, "relativePath": a} for a in artifacts
        ],
    }


def test_history_reads_builds_commits_and_metrics_artifact(
    api: responses.RequestsMock, client: JenkinsClient
) -> None:
    api.get(
        f"{URL}job/{JOB_PATH}/api/json?depth=0",
        json={
            "name": JOB,
            "fullName": JOB,
            "builds": [
                {"number": 12, "url": f"{URL}job/{JOB_PATH}/12/"},
                {"number": 11, "url": f"{URL}job/{JOB_PATH}/11/"},
            ],
        },
        match=[matchers.header_matcher({"Authorization": BASIC, "Jenkins-Crumb": "c0ffee"})],
    )
    api.get(
        f"{URL}job/{JOB_PATH}/12/api/json?depth=0",
        json=_build(12, "SUCCESS", "9fceb02d0ae598e95dc970b74767f19372d61af8", [METRICS_ARTIFACT]),
    )
    api.get(
        f"{URL}job/{JOB_PATH}/11/api/json?depth=0",
        json=_build(11, "FAILURE", "1b2c3d4e5f", ["reports/x.xml"])
    )
    api.get(
        f"{URL}job/{JOB_PATH}/12/artifact/{METRICS_ARTIFACT}",
        body=json.dumps(
            {"score": 0.8123, "time_ratio_to_heuristic": 1.07, "ratio_to_random": 2.5, "policies": {}}
        ),
    )
    rows = client.history(JOB, limit=5)
    assert [(r.number, r.result, r.commit) for r in rows] == [
        (12, "SUCCESS", "9fceb02d"),
        (11, "FAILURE", "1b2c3d4e"),
    ]
    assert rows[0].duration_s == 754.0
    assert rows[0].metrics == {"score": 0.8123, "time_ratio_to_heuristic": 1.07}
    assert rows[1].metrics == {}  # no metrics artifact: nothing downloaded


def test_trigger_sends_parameters_and_crumb_and_returns_queue_item(
    api: responses.RequestsMock, client: JenkinsClient
) -> None:
    api.get(f"{URL}job/{JOB_PATH}/api/json?depth=0", json={"name": JOB, "builds": []})
    api.post(
        f"{URL}job/{JOB_PATH}/buildWithParameters",
        status=201,
        headers={"Location": f"{URL}queue/item/42/"},
        match=[
            matchers.query_param_matcher({"SCENARIO": "watering", "PROFILE": "gpu"}),
            matchers.header_matcher({"Jenkins-Crumb": "c0ffee"}),
        ],
    )
    assert client.trigger(JOB, {"SCENARIO": "watering", "PROFILE": "gpu"}) == 42


def test_push_creates_missing_and_updates_existing_jobs(
    api: responses.RequestsMock, client: JenkinsClient
) -> None:
    api.replace(responses.GET, CRUMB_URL, status=404)  # CSRF protection off: no crumb header
    # "new" does not exist (asked by us, then by python-jenkins' create_job), then exists once created;
    # "old" exists and is reconfigured.
    api.get(f"{URL}job/new/api/json?tree=name", status=404)
    api.get(f"{URL}job/new/api/json?tree=name", status=404)
    api.post(
        f"{URL}createItem?name=new",
        body="",
        match=[matchers.header_matcher({"Content-Type": "text/xml; charset=utf-8"})],
    )
    api.get(f"{URL}job/new/api/json?tree=name", json={"name": "new"})
    api.get(f"{URL}job/old/api/json?tree=name", json={"name": "old"})
    api.post(f"{URL}job/old/config.xml", body="")
    done = client.push_jobs({"new": "<flow-definition/>", "old": "<flow-definition/>"})
    assert done == [("new", "created"), ("old", "updated")]
    create = next(c for c in api.calls if "createItem" in c.request.url)
    assert create.request.body == b"<flow-definition/>"


PENDING = [
    {
        "id": "Promote",
        "proceedText": "Promote",
        "message": "Promote this verified staging release?",
        "inputs": [],
        "proceedUrl": f"/job/{JOB_PATH}/12/wfapi/inputSubmit?inputId=Promote",
        "abortUrl": f"/job/{JOB_PATH}/12/input/Promote/abort",
        "redirectApprovalUrl": f"/job/{JOB_PATH}/12/input/",
    }
]


@pytest.mark.parametrize(
    "approve,action,said", [(True, "proceedEmpty", "approved"), (False, "abort", "aborted")]
)
def test_answer_promotion_input(
    api: responses.RequestsMock, client: JenkinsClient, approve: bool, action: str, said: str
) -> None:
    build = _build(12, None, "abc", [])
    api.get(f"{URL}job/{JOB_PATH}/12/api/json?depth=0", json=build)
    api.get(f"{URL}job/{JOB_PATH}/12/wfapi/pendingInputActions", json=PENDING)
    api.post(
        f"{URL}job/{JOB_PATH}/12/input/Promote/{action}",
        body="",
        match=[matchers.header_matcher({"Jenkins-Crumb": "c0ffee"})],
    )
    assert client.answer_input(JOB, 12, approve=approve) == f"{said} input 'Promote' of {JOB} #12"


def test_answer_input_when_nothing_is_pending(api: responses.RequestsMock, client: JenkinsClient) -> None:
    api.get(f"{URL}job/{JOB_PATH}/12/api/json?depth=0", json=_build(12, "SUCCESS", "abc", []))
    api.get(f"{URL}job/{JOB_PATH}/12/wfapi/pendingInputActions", json=[])
    with pytest.raises(CIError, match=r"is not waiting for input 'Promote' \(pending: none\)"):
        client.answer_input(JOB, 12, approve=True)


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status,expected",
    [
        (
            401,
            "jenkins: authentication failed (HTTP 401) at http://jenkins.test:8080 "
            "to read job 'swarmops/main': check JENKINS_USER and JENKINS_TOKEN",
        ),
        (
            403,
            "jenkins: user 'alice' may not read job 'swarmops/main' (HTTP 403) "
            "at http://jenkins.test:8080",
        ),
        (
            404,
            "jenkins: cannot read job 'swarmops/main': not found (HTTP 404) at http://jenkins.test:8080",
        ),
    ],
)
def test_http_errors_are_one_line_without_token(
    api: responses.RequestsMock, client: JenkinsClient, status: int, expected: str
) -> None:
    api.get(f"{URL}job/{JOB_PATH}/api/json?depth=0", status=status, body="<html>Jenkins says no</html>")
    with pytest.raises(CIError) as err:
        client.history(JOB)
    assert str(err.value) == expected
    assert TOKEN not in str(err.value) and "\n" not in str(err.value)


def test_5xx_is_retried_then_succeeds(
    api: responses.RequestsMock, client: JenkinsClient
) -> None:
    url = f"{URL}job/{JOB_PATH}/api/json?depth=0"
    api.get(url, status=503)
    api.get(url, status=502)
    api.get(url, json={"name": JOB, "builds": []})
    assert client.history(JOB) == []
    assert [c.response.status_code for c in api.calls if "/job/" in c.request.url] == [503, 502, 200]


def test_5xx_gives_up_after_the_attempts(
    api: responses.RequestsMock, client: JenkinsClient
) -> None:
    api.get(f"{URL}job/{JOB_PATH}/api/json?depth=0", status=500)
    with pytest.raises(CIError, match=r"server error \(HTTP 500\) .* after 3 attempts"):
        client.history(JOB)
    assert [c.response.status_code for c in api.calls if "/job/" in c.request.url] == [500, 500, 500]


def test_post_is_not_retried_on_500(
    api: responses.RequestsMock, client: JenkinsClient
) -> None:
    # A 500 on POST may already have queued a build: sending it again could start a second one.
    api.get(f"{URL}job/{JOB_PATH}/api/json?depth=0", json={"name": JOB, "builds": []})
    api.post(f"{URL}job/{JOB_PATH}/buildWithParameters", status=500)
    with pytest.raises(CIError, match="HTTP 500"):
        client.trigger(JOB, {"SCENARIO": "recon", "PROFILE": "smoke"})
    assert [c.request.method for c in api.calls if "buildWithParameters" in c.request.url] == ["POST"]


def test_unreachable_server(client: JenkinsClient, api: responses.RequestsMock) -> None:
    api.replace(responses.GET, CRUMB_URL, body=requests.ConnectionError("connection refused"))
    with pytest.raises(
        CIError,
        match=r"^jenkins: cannot reach http://jenkins.test:8080 to read job "
        r"'swarmops/main' \(ConnectionError\)$",
    ):
        client.history(JOB)


# ---- CLI -----------------------------------------------------------------------------------------
def test_cli_missing_token_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("JENKINS_URL", URL)
    monkeypatch.setenv("JENKINS_USER", "alice")
    monkeypatch.delenv("JENKINS_TOKEN", raising=False)
    assert cli.main(["jenkins", "history"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: JENKINS_TOKEN is not set") and err.count("\n") == 1


def test_cli_bad_url_and_bad_choice(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("JENKINS_URL", f"http://alice:{TOKEN}@jenkins.test")
    monkeypatch.setenv("JENKINS_USER", "alice")
    monkeypatch.setenv("JENKINS_TOKEN", TOKEN)
    assert cli.main(["jenkins", "history"]) == 1
    err = capsys.readouterr().err
    assert "JENKINS_URL must not contain credentials" in err and TOKEN not in err
    assert cli.main(["jenkins", "build", "--scenario", "orchard"]) == 1
    assert capsys.readouterr().err == "error: --scenario 'orchard' is not allowed; allowed: recon, watering\n"
    assert cli.main(["jenkins", "approve"]) == 2
    assert capsys.readouterr().err == "error: Missing option '--build'.\n"


def test_cli_history_writes_markdown_and_html(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    api: responses.RequestsMock,
    capsys: pytest.CaptureFixture,
) -> None:
    for key, value in (("JENKINS_URL", URL), ("JENKINS_USER", "alice"), ("JENKINS_TOKEN", TOKEN)):
        monkeypatch.setenv(key, value)
    api.get(f"{URL}job/{JOB_PATH}/api/json?depth=0", json={"name": JOB, "builds": [{"number": 3}]})
    api.get(
        f"{URL}job/{JOB_PATH}/3/api/json?depth=0",
        json=_build(3, "SUCCESS", "abcdef123456", [METRICS_ARTIFACT])
    )
    api.get(f"{URL}job/{JOB_PATH}/3/artifact/{METRICS_ARTIFACT}", body=json.dumps({"score": 0.5}))
    md, page = tmp_path / "history.md", tmp_path / "site" / "history.html"
    assert cli.main(["jenkins", "history", "--markdown", str(md), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "#3" in out and "SUCCESS" in out and "abcdef12" in out and TOKEN not in out
    assert f"| [#3]({URL}job/{JOB_PATH}/3/) | SUCCESS | 12m34s | abcdef12 |" in md.read_text()
    assert "| – | – | 0.500 |" in md.read_text()  # time ratios first, then the gate score
    html = page.read_text()
    assert html.startswith("<!doctype html>") and f'<a href="{URL}job/{JOB_PATH}/3/">#3</a>' in html


def test_cli_build_stop_review(monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock,
                               capsys: pytest.CaptureFixture) -> None:
    for key, value in (("JENKINS_URL", URL), ("JENKINS_USER", "alice"), ("JENKINS_TOKEN", TOKEN)):
        monkeypatch.setenv(key, value)
    mr_job = f"{URL}job/swarmops/job/MR-7"
    api.get(f"{mr_job}/api/json?depth=0", json={"name": "MR-7", "fullName": "swarmops/MR-7", "builds": []})
    api.post(f"{mr_job}/buildWithParameters", status=201, headers={"Location": f"{URL}queue/item/43/"},
             match=[matchers.query_param_matcher({"SCENARIO": "recon", "PROFILE": "smoke",
                                                  "STOP_REVIEW": "true"})])
    assert cli.main(["jenkins", "build", "--job", "swarmops/MR-7", "--stop-review"]) == 0
    assert "queue item 43" in capsys.readouterr().out


def test_cli_real_unreachable_server(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import socket
    import types

    waits: list[float] = []  # connection errors are retried with backoff: record the waits, skip them
    monkeypatch.setattr("ci.http.time", types.SimpleNamespace(sleep=waits.append))

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for key, value in (("JENKINS_URL", f"http://127.0.0.1:{port}"), ("JENKINS_USER", "alice"),
                       ("JENKINS_TOKEN", TOKEN)):
        monkeypatch.setenv(key, value)
    assert cli.main(["jenkins", "history"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert waits == [1.0, 2.0, 4.0] and len(err) == 4 and "retry 3/3" in err[2]
    assert err[-1] == (f"error: jenkins: cannot reach http://127.0.0.1:{port} to read job "
                       f"'swarmops/main' (ConnectionError)")
