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

from ci.jobdefs import GITLAB_SERVER_NAME, render_jobs
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
    # A newer push must not abort a build in the middle of an Ansible deploy.
    assert options["disableConcurrentBuilds"]["args"] == []
    params = {n["args"][0]["name"]: n for n in _find(pipeline["children"], "parameters")["children"]}
    assert params["SCENARIO"]["args"][0]["choices"] == ["recon", "watering"]
    assert params["PROFILE"]["args"][0]["choices"] == ["smoke", "default", "gpu"]


HOURS = {"MINUTES": 1 / 60, "HOURS": 1, "DAYS": 24}


def _hours(timeout: dict) -> float:
    return timeout["args"][0]["time"] * HOURS[timeout["args"][0]["unit"]]


def test_build_timeout_outlasts_the_approval_window(pipeline: dict) -> None:
    build = _find(_find(pipeline["children"], "options")["children"], "timeout")
    promote = _stages(pipeline)["Promote to production"]
    approval = _find(_find(promote["children"], "options")["children"], "timeout")
    assert _hours(approval) >= 72
    assert _hours(build) > _hours(approval)


def test_agent_none_at_the_top_and_an_agent_for_every_step(pipeline: dict) -> None:
    assert _find(pipeline["children"], "agent")["args"] == ["${none}"]

    def check(nodes: list[dict], has_agent: bool) -> None:
        for node in nodes:
            here = has_agent or node["name"] == "node" or any(
                c["name"] == "agent" for c in node["children"]) and node["name"] in ("stage", "matrix")
            if node["name"] == "sh":
                assert has_agent, f"step {node['args'][0]!r} would run on no agent"
            check(node["children"], here)

    check(_find(pipeline["children"], "stages")["children"], False)


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


def test_training_evaluation_and_gate_share_one_gpu_agent(pipeline: dict) -> None:
    model = _stages(pipeline)["Model"]
    agent = _find(model["children"], "agent")
    assert _find(agent["children"], "label")["args"] == ["gpu"]
    nested = [n["args"][0] for n in _find(model["children"], "stages")["children"]]
    assert nested == ["Train", "Evaluate", "Gate"]
    for name in nested:  # no second agent inside: one workspace holds the model files
        assert not [c for c in _stages(pipeline)[name]["children"] if c["name"] == "agent"], name
    train = _stages(pipeline)["Train"]
    assert _steps(train)[0]["args"][0] == "make train SCENARIO=${params.SCENARIO} PROFILE=${params.PROFILE}"


def test_tracking_credentials_wrap_train_evaluate_gate_and_the_note(pipeline: dict) -> None:
    for name in ("Train", "Evaluate", "Gate", "Metrics note"):
        wrappers = [n for n in _walk(_stages(pipeline)[name]["children"]) if n["name"] == "withTracking"]
        assert wrappers and any(s["name"] == "sh" for s in _walk(wrappers[0]["children"])), name


def test_environment_changes_run_on_deploy_agents_with_the_vault(pipeline: dict) -> None:
    stages = _stages(pipeline)
    for name in ("Staging", "Review environment", "Review teardown"):
        agent = _find(stages[name]["children"], "agent")
        assert _find(agent["children"], "label")["args"] == ["deploy"], name
    for name in ("Deploy staging", "Verify staging", "Review environment", "Review teardown",
                 "Promote to production"):
        assert [n for n in _walk(stages[name]["children"]) if n["name"] == "withVault"], name


def _when(stage: dict) -> list[str]:
    return [n["name"] for n in _walk(_find(stage["children"], "when")["children"])]


def test_staging_and_production_only_on_main(pipeline: dict) -> None:
    stages = _stages(pipeline)
    for name in ("Staging", "Promote to production"):
        branch = [n for n in _walk(stages[name]["children"]) if n["name"] == "branch"]
        assert branch and branch[0]["args"] == ["main"], name
    nested = [n["args"][0] for n in _find(stages["Staging"]["children"], "stages")["children"]]
    assert nested == ["Deploy staging", "Verify staging"]


def test_production_waits_for_an_approved_input_then_milestone_and_lock(pipeline: dict) -> None:
    promote = _stages(pipeline)["Promote to production"]
    assert "beforeInput" in _when(promote)  # no agent time is spent before someone approves
    assert not [c for c in promote["children"] if c["name"] == "agent"]  # the input holds no executor
    inp = {n["name"]: n["args"] for n in _find(promote["children"], "input")["children"]}
    assert inp["id"] == ["Promote"]
    assert inp["submitter"] == ["swarmops-release"]
    steps = _find(promote["children"], "steps")["children"]
    assert [s["name"] for s in steps] == ["milestone", "lock"]
    assert steps[1]["args"][0] == {"resource": "swarmops-environments"}
    node = _find(steps[1]["children"], "node")
    assert node["args"] == ["deploy"]
    assert [c["name"] for c in node["children"]] == ["checkout", "unstash", "withVault"]
    assert node["children"][1]["args"] == ["release"]  # reports/release.env from Verify staging
    assert _steps(promote)[0]["args"][0] == "make promote"
    staging = _stages(pipeline)["Staging"]
    staging_options = {n["name"]: n for n in _find(staging["children"], "options")["children"]}
    assert staging_options["lock"]["args"][0] == {"resource": "swarmops-environments"}
    verify = _find(_stages(pipeline)["Verify staging"]["children"], "steps")["children"]
    assert [v["name"] for v in verify] == ["withVault", "stash", "milestone"]
    assert verify[1]["args"][0] == {"name": "release", "includes": "reports/release.env"}
    assert verify[-1]["args"][0]["ordinal"] < steps[0]["args"][0]["ordinal"]


def test_a_failed_gate_fails_the_build_but_the_metrics_note_still_runs(pipeline: dict) -> None:
    """catchError around the gate: the build is FAILURE, later stages are still evaluated; the ones that
    change an environment ask gatePassed(), the metrics note (which must show the rejection) does not."""
    gate = _stages(pipeline)["Gate"]
    caught = [n for n in _walk(gate["children"]) if n["name"] == "catchError"]
    assert caught and caught[0]["args"][0] == {"buildResult": "FAILURE", "stageResult": "FAILURE"}
    assert [s["args"][0] for s in _walk(caught[0]["children"]) if s["name"] == "sh"] == [
        "make gate SCENARIO=${params.SCENARIO}"]
    stages = _stages(pipeline)
    for name in ("Review environment", "Staging", "Promote to production"):
        assert "gatePassed" in _when(stages[name]), name
    assert "gatePassed" not in _when(stages["Metrics note"])
    assert "currentBuild.currentResult == 'SUCCESS'" in JENKINSFILE.read_text()


def test_review_stages_only_for_change_requests_with_teardown(pipeline: dict) -> None:
    stages = _stages(pipeline)
    for name in ("Review environment", "Metrics note", "Review teardown"):
        assert "changeRequest" in _when(stages[name]), name
    assert _steps(stages["Review teardown"])[0]["args"][0] == "make review-down MR=${env.CHANGE_ID}"
    post = _find(stages["Review environment"]["children"], "post")
    failure = _find(post["children"], "failure")
    assert _steps(failure)[0]["args"][0] == "make review-down MR=${env.CHANGE_ID}"


def test_test_stages_publish_junit_and_the_model_stage_archives_reports(pipeline: dict) -> None:
    stages = _stages(pipeline)
    for name in ("Unit tests", "Data tests", "Infra tests"):
        always = _find(_find(stages[name]["children"], "post")["children"], "always")
        assert always["children"][0]["args"][0]["testResults"] == "reports/junit-*.xml", name
    always = _find(_find(stages["Model"]["children"], "post")["children"], "always")
    steps = {n["name"]: n["args"][0] for n in always["children"]}
    assert steps["stash"] == {"name": "reports", "includes": "reports/**", "allowEmpty": True}
    for pattern in ("reports/**", "runs/**/*.json", "runs/**/*.png", "runs/**/*.md", "runs/**/*.zip"):
        assert pattern in steps["archiveArtifacts"]["artifacts"]


# ---- jenkins-job-builder -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jobs() -> dict[str, ET.Element]:
    return {name: ET.fromstring(xml) for name, xml in render_jobs().items()}


def test_one_multibranch_job_that_discovers_merge_requests(jobs: dict[str, Any]) -> None:
    assert set(jobs) == {"swarmops"}
    job = jobs["swarmops"]
    assert job.tag == "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
    assert job.find(".//scriptPath").text == "Jenkinsfile"
    sources = job.findall(".//jenkins.branch.BranchSource/source")
    assert len(sources) == 1
    source = sources[0]
    # gitlab-branch-source's GitLabSCMSource: its MR heads are ChangeRequestSCMHeads, so changeRequest()
    # is true for MR builds (a plain git source only ever sees branches).
    assert source.get("class") == "io.jenkins.plugins.gitlabbranchsource.GitLabSCMSource"
    assert source.findtext("serverName") == GITLAB_SERVER_NAME
    assert source.findtext("projectPath") == "swarmops/swarmops"
    assert source.findtext("credentialsId") == "gitlab-checkout"
    traits = {t.tag.rsplit(".", 1)[-1]: t.findtext("strategyId") for t in source.find("traits")}
    assert traits["OriginMergeRequestDiscoveryTrait"] == "1"  # MRs, merged with their target
    assert traits["BranchDiscoveryTrait"] == "1"  # branches that are not also MRs
    assert "RegexSCMHeadFilterTrait" not in traits
    assert not job.findall(".//jenkins.plugins.git.GitSCMSource")


def test_a_source_that_is_not_a_gitlab_project_is_refused() -> None:
    from ci.errors import CIError
    from ci.jobdefs import with_gitlab_source

    xml = ('<p><sources><data><jenkins.branch.BranchSource><source class="jenkins.plugins.git.GitSCMSource">'
           '<remote>https://gitlab.example.com/only-one-part</remote><traits/></source>'
           '</jenkins.branch.BranchSource></data></sources></p>')
    with pytest.raises(CIError, match="is not a GitLab project URL"):
        with_gitlab_source(xml)


def test_broken_job_definition_is_one_clear_error(tmp_path: Path) -> None:
    from ci.errors import CIError

    (tmp_path / "bad.yaml").write_text("- job:\n    name: x\n    project-type: no-such-type\n")
    with pytest.raises(CIError, match="jenkins-jobs could not render"):
        render_jobs(tmp_path)
