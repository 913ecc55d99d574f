"""Jenkinsfile: groovyc syntax check, its declarative structure (evaluated by Groovy itself, see
jenkinsfile_model.groovy), and the jenkins-job-builder definitions rendered with `jenkins-jobs test`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

import pytest

from ci.jobdefs import render_jobs
from ci.stages import STAGES, make_target

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
JENKINSFILE = REPO / "Jenkinsfile"
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
needs_groovy = pytest.mark.skipif(
    shutil.which("groovyc") is None or not Path(JAVA_HOME).is_dir(),
    reason="Debian groovy / OpenJDK 17 not installed (scripts/bootstrap.sh)",
)


def _java_env() -> dict[str, str]:
    return {**os.environ, "JAVA_HOME": JAVA_HOME}


def _groovyc(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    # groovyc wants a .groovy name; the Jenkinsfile is compiled as a plain Groovy script.
    out.mkdir(parents=True, exist_ok=True)
    src = out / "Jenkinsfile.groovy"
    shutil.copy(path, src)
    return subprocess.run(
        ["groovyc", "-d", str(out / "classes"), str(src)],
        capture_output=True,
        text=True,
        env=_java_env(),
        timeout=120,
    )


@needs_groovy
def test_jenkinsfile_compiles_and_a_broken_copy_does_not(tmp_path: Path) -> None:
    ok = _groovyc(JENKINSFILE, tmp_path / "ok")
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "Jenkinsfile.broken"
    broken.write_text(JENKINSFILE.read_text().rsplit("}", 1)[0])  # drop the closing brace
    bad = _groovyc(broken, tmp_path / "bad")
    assert bad.returncode != 0 and "expecting '}'" in bad.stderr


# ---- structure -----------------------------------------------------------------------------------
def _find(nodes: list[dict], name: str) -> dict:
    found = [n for n in nodes if n["name"] == name]
    assert found, f"no {name!r} among {[n['name'] for n in nodes]}"
    return found[0]


def _walk(nodes: list[dict]) -> Iterator[dict]:
    for node in nodes:
        yield node
        yield from _walk(node["children"])
        for arg in node["args"]:
            if isinstance(arg, dict) and "children" in arg:
                yield from _walk([arg])


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("groovy") is None or not Path(JAVA_HOME).is_dir():
        pytest.skip("Debian groovy / OpenJDK 17 not installed (scripts/bootstrap.sh)")
    proc = subprocess.run(
        ["groovy", str(Path(__file__).with_name("jenkinsfile_model.groovy")), str(JENKINSFILE)],
        capture_output=True,
        text=True,
        env=_java_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return _find(json.loads(proc.stdout), "pipeline")


def _stages(pipeline: dict) -> dict[str, dict]:
    """Every stage (nested parallel ones too) by name."""
    return {
        n["args"][0]: n
        for n in _walk(_find(pipeline["children"], "stages")["children"])
        if n["name"] == "stage"
    }


def _steps(stage: dict) -> list[dict]:
    return [n for n in _walk(stage["children"]) if n["name"] == "sh"]


def test_options_and_parameters(pipeline: dict) -> None:
    options = {n["name"]: n for n in _find(pipeline["children"], "options")["children"]}
    assert {"timestamps", "buildDiscarder", "timeout", "disableConcurrentBuilds"} <= set(options)
    assert options["buildDiscarder"]["args"][0]["name"] == "logRotator"
    params = {n["args"][0]["name"]: n for n in _find(pipeline["children"], "parameters")["children"]}
    assert params["SCENARIO"]["args"][0]["choices"] == ["recon", "watering"]
    assert params["PROFILE"]["args"][0]["choices"] == ["smoke", "default", "gpu"]


def test_every_stage_of_the_stage_list_is_there_in_order_and_calls_only_make(pipeline: dict) -> None:
    stages = _stages(pipeline)
    order = list(stages)
    expected = [s.jenkins for s in STAGES]
    assert set(expected) <= set(order)
    main_line = [name for name in order if name in expected and name != "Review teardown"]
    assert main_line == [s.jenkins for s in STAGES if s.jenkins != "Review teardown"]
    for stage in STAGES:
        commands = [step["args"][0] for step in _steps(stages[stage.jenkins])]
        assert any(c.split()[:2] == ["make", make_target(stage)] for c in commands), (stage.jenkins, commands)
    for step in (s for s in _walk(pipeline["children"]) if s["name"] == "sh"):
        assert step["args"][0].startswith("make "), step


def test_unit_and_data_tests_run_in_parallel(pipeline: dict) -> None:
    tests = _stages(pipeline)["Tests"]
    parallel = _find(tests["children"], "parallel")
    assert [n["args"][0] for n in parallel["children"]] == ["Unit tests", "Data tests"]


def test_training_runs_on_a_gpu_agent(pipeline: dict) -> None:
    train = _stages(pipeline)["Train"]
    agent = _find(train["children"], "agent")
    assert _find(agent["children"], "label")["args"] == ["gpu"]
    assert _steps(train)[0]["args"][0] == "make train SCENARIO=${params.SCENARIO} PROFILE=${params.PROFILE}"


def _when(stage: dict) -> list[str]:
    return [n["name"] for n in _walk(_find(stage["children"], "when")["children"])]


def test_staging_and_production_only_on_main(pipeline: dict) -> None:
    stages = _stages(pipeline)
    for name in ("Deploy staging", "Verify staging", "Promote to production"):
        branch = [n for n in _walk(stages[name]["children"]) if n["name"] == "branch"]
        assert branch and branch[0]["args"] == ["main"], name


def test_production_waits_for_an_approved_input_then_milestone_and_lock(pipeline: dict) -> None:
    promote = _stages(pipeline)["Promote to production"]
    assert "beforeInput" in _when(promote)  # no agent time is spent before someone approves
    inp = {n["name"]: n["args"] for n in _find(promote["children"], "input")["children"]}
    assert inp["id"] == ["Promote"]
    assert inp["submitter"] == ["swarmops-release"]
    steps = _find(promote["children"], "steps")["children"]
    assert [s["name"] for s in steps] == ["milestone", "lock"]
    assert steps[1]["args"][0] == {"resource": "swarmops-production"}
    assert _steps(promote)[0]["args"][0] == "make promote"
    verify = _find(_stages(pipeline)["Verify staging"]["children"], "steps")["children"]
    assert verify[-1]["name"] == "milestone"
    assert verify[-1]["args"][0]["ordinal"] < steps[0]["args"][0]["ordinal"]


def test_review_stages_only_for_change_requests_with_teardown(pipeline: dict) -> None:
    stages = _stages(pipeline)
    for name in ("Review environment", "Metrics note", "Review teardown"):
        assert "changeRequest" in _when(stages[name]), name
    assert _steps(stages["Review teardown"])[0]["args"][0] == "make review-down MR=${env.CHANGE_ID}"
    post = _find(stages["Review environment"]["children"], "post")
    failure = _find(post["children"], "failure")
    assert _steps(failure)[0]["args"][0] == "make review-down MR=${env.CHANGE_ID}"


def test_post_publishes_junit_archives_reports_and_cleans_up(pipeline: dict) -> None:
    post = {n["name"]: n for n in _find(pipeline["children"], "post")["children"]}
    always = {n["name"]: n["args"][0] for n in post["always"]["children"]}
    assert always["junit"]["testResults"] == "reports/junit-*.xml"
    archived = always["archiveArtifacts"]["artifacts"]
    for pattern in ("reports/**", "runs/**/*.json", "runs/**/*.png", "runs/**/*.md", "runs/**/*.zip"):
        assert pattern in archived
    assert [n["name"] for n in post["cleanup"]["children"]] == ["cleanWs"]


# ---- jenkins-job-builder -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jobs() -> dict[str, ET.Element]:
    return {name: ET.fromstring(xml) for name, xml in render_jobs().items()}


def test_job_definitions_render(jobs: dict[str, Any]) -> None:
    assert set(jobs) == {"swarmops", "swarmops-release"}
    assert jobs["swarmops"].tag == "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
    assert jobs["swarmops"].find(".//scriptPath").text == "Jenkinsfile"
    release = jobs["swarmops-release"]
    assert release.tag == "flow-definition"
    assert release.find("./definition/scriptPath").text == "Jenkinsfile"
    assert release.find(".//hudson.plugins.git.BranchSpec/name").text == "*/main"


def test_job_parameters_match_the_jenkinsfile(jobs: dict[str, Any], pipeline: dict) -> None:
    declared = {
        n["args"][0]["name"]: n["args"][0].get("choices")
        for n in _find(pipeline["children"], "parameters")["children"]
    }
    rendered = {}
    for param in jobs["swarmops-release"].find(".//parameterDefinitions"):
        rendered[param.find("name").text] = [s.text for s in param.iter("string")] or None
    assert rendered == declared


def test_broken_job_definition_is_one_clear_error(tmp_path: Path) -> None:
    from ci.errors import CIError

    (tmp_path / "bad.yaml").write_text("- job:\n    name: x\n    project-type: no-such-type\n")
    with pytest.raises(CIError, match="jenkins-jobs could not render"):
        render_jobs(tmp_path)
