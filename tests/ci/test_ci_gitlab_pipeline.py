"""The real .gitlab-ci.yml under gitlab-ci-local 4.65.1: pipeline shapes (rules evaluated) and real jobs.

Shapes come from ``--list-json`` (gitlab-ci-local's own rule evaluation) for a branch push, a
merge-request pipeline, a default-branch pipeline and the manual production job; ``--preview`` gives the
expanded configuration (extends resolved) for the structural checks. A few jobs really run, with
SWARMOPS_CI_SMALL=1 selecting tiny sizes (see the Makefile).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci.stages import BRANCH_JOBS, DEFAULT_BRANCH_JOBS, MERGE_REQUEST_JOBS, STAGES, make_target
from tests.infra.ansible_fence import fence_ansible, fence_calls

pytestmark = pytest.mark.infra

FEATURE = "feature/wider-fields"


@pytest.fixture(scope="module")
def expanded(gcl: Any) -> dict:
    """The configuration as gitlab-ci-local expands it (extends, defaults and anchors resolved)."""
    gcl.checkout("main")
    proc = gcl.run("--preview", "--json-schema-validation")
    assert proc.returncode == 0, proc.stderr
    # gitlab-ci-local checks the file against GitLab's CI JSON schema and stops on a violation.
    assert "json schema validated" in proc.stderr + proc.stdout
    return yaml.safe_load(proc.stdout)


def test_schema_validation_rejects_a_broken_copy(gcl: Any) -> None:
    broken = (gcl.clone / ".gitlab-ci.yml").read_text().replace("when: manual", "when: sometimes", 1)
    (gcl.clone / "broken-ci.yml").write_text(broken)
    proc = gcl.run("--preview", "--json-schema-validation", "--file", "broken-ci.yml")
    (gcl.clone / "broken-ci.yml").unlink()
    assert proc.returncode != 0
    assert "'when' property must be one of" in proc.stderr + proc.stdout


def _mr_jobs(gcl: Any, **extra: str) -> dict[str, dict]:
    gcl.checkout(FEATURE)
    # A merge-request pipeline has no CI_COMMIT_BRANCH, only the CI_MERGE_REQUEST_* variables.
    return gcl.jobs(variables={**gcl.mr_vars, **extra}, unset=("CI_COMMIT_BRANCH",))


def test_branch_push_pipeline_runs_checks_and_training_only(gcl: Any) -> None:
    gcl.checkout(FEATURE)
    jobs = gcl.jobs()
    assert tuple(jobs) == BRANCH_JOBS
    assert all(job["when"] == "on_success" for job in jobs.values())


def test_merge_request_pipeline_creates_review_environment(gcl: Any) -> None:
    jobs = _mr_jobs(gcl)
    assert tuple(jobs) == MERGE_REQUEST_JOBS
    assert jobs["review"]["when"] == "on_success"
    assert jobs["stop-review"]["when"] == "manual"
    # The metrics note needs a token that can write notes; without one the job is not created.
    assert "metrics-note" in _mr_jobs(gcl, GITLAB_TOKEN="set-in-project-settings")


def test_default_branch_pipeline_deploys_staging_and_waits_for_manual_production(gcl: Any) -> None:
    gcl.checkout("main")
    jobs = gcl.jobs()
    assert tuple(jobs) == DEFAULT_BRANCH_JOBS
    assert jobs["deploy-staging"]["when"] == "on_success"
    assert jobs["production"]["when"] == "manual"
    assert [n["job"] for n in jobs["production"]["needs"]] == ["verify-staging"]
    assert [n["job"] for n in jobs["verify-staging"]["needs"]] == ["deploy-staging"]


def _workflow(rules: list[dict], cases: list[dict[str, str]]) -> list[str]:
    """Evaluate workflow:rules for each variable set with gitlab-ci-local's own evaluator."""
    npm_root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=True).stdout
    helper = Path(__file__).with_name("gcl_workflow_rules.mjs")
    proc = subprocess.run(
        ["node", str(helper), str(Path(npm_root.strip()) / "gitlab-ci-local")],
        input=json.dumps({"rules": rules, "cases": cases}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_workflow_rules_give_one_pipeline_per_change(expanded: dict) -> None:
    push = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": FEATURE}
    cases = [
        push,
        # Same push while an MR is open: only the MR pipeline runs, no duplicate branch pipeline.
        {**push, "CI_OPEN_MERGE_REQUESTS": "swarmops/swarmops!7"},
        {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"},
        {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1"},
    ]
    assert _workflow(expanded["workflow"]["rules"], cases) == ["always", "never", "always", "never"]


def test_every_job_only_calls_its_make_target(expanded: dict) -> None:
    for stage in STAGES:
        script = expanded[stage.gitlab]["script"]
        assert len(script) == 1, f"{stage.gitlab}: one command per job, got {script}"
        assert script[0].split()[:2] == ["make", make_target(stage)], stage.gitlab
        assert "before_script" not in expanded[stage.gitlab]


def test_stages_tags_reports_and_cache(expanded: dict) -> None:
    assert expanded["stages"][1:-1] == [
        "lint",
        "test",
        "train",
        "evaluate",
        "review",
        "staging",
        "production",
    ]  # .pre/.post added by GitLab
    assert expanded["train"]["tags"] == ["gpu"]
    for job in ("unit", "data", "infra", "verify-staging"):
        assert expanded[job]["artifacts"]["reports"]["junit"] == "$REPORTS/junit-*.xml", job
    assert expanded["evaluate"]["artifacts"]["reports"]["metrics"] == "$REPORTS/metrics.txt"
    assert expanded["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    assert expanded["unit"]["cache"][0]["paths"] == [".cache/pip"]


def test_review_and_production_environments(expanded: dict) -> None:
    review = expanded["review"]["environment"]
    assert review["name"] == "review/$CI_COMMIT_REF_SLUG"
    assert review["on_stop"] == "stop-review"
    assert review["auto_stop_in"] == "1 week"
    assert review["url"] == "$REVIEW_URL"
    assert expanded["review"]["artifacts"]["reports"]["dotenv"] == "$REPORTS/review.env"
    stop = expanded["stop-review"]["environment"]
    assert stop == {"name": "review/$CI_COMMIT_REF_SLUG", "action": "stop"}
    production = expanded["production"]
    assert production["environment"]["name"] == "production"
    assert production["needs"][0]["job"] == "verify-staging"
    assert production["script"] == ["make promote RELEASE_ID=$SWARMOPS_RELEASE_ID"]
    # The release verified on staging travels to the production job as a dotenv variable.
    assert expanded["verify-staging"]["artifacts"]["reports"]["dotenv"] == "$REPORTS/release.env"


def test_environment_changes_share_one_resource_group_on_deploy_runners(expanded: dict) -> None:
    for job in ("deploy-staging", "verify-staging", "production"):
        assert expanded[job]["resource_group"] == "environments", job
        assert expanded[job]["interruptible"] is False, job
    for job in ("deploy-staging", "verify-staging", "production", "review", "stop-review"):
        assert expanded[job]["tags"] == ["deploy"], job


# ---- real jobs (SWARMOPS_CI_SMALL=1: tiny sizes, ansible --syntax-check; see the Makefile) ----------------
def _fence_calls(gcl: Any) -> str:
    """What the jobs tried to run past the fence (empty: only ansible-playbook --syntax-check)."""
    return fence_calls(gcl.home / "fence-calls")


def _small(gcl: Any, venv_dir: Path) -> dict[str, str]:
    """Job variables: the test venv as VENV (no bootstrap), tiny sizes, a throw-away vault password and
    secrets dir, and the fence (tests/infra/ansible_fence.py) in front of ansible-playbook and ansible-vault.

    The password lives as long as the clone: the vaults that infra's scripts create in it use it.
    """
    return {
        "VENV": str(venv_dir),
        "SWARMOPS_CI_SMALL": "1",
        # the jobs name staging, production and review-7: only --syntax-check keeps them off those, and
        # the fence fails a job that got past it
        "SWARMOPS_VENV_BIN": str(fence_ansible(gcl.home / "fenced-bin", gcl.home / "fence-calls",
                                               syntax_check_from=venv_dir / "bin")),
        "SWARMOPS_SECRETS_DIR": str(gcl.home / "secrets"),
        "SWARMOPS_VAULT_PASSWORD_FILE": str(gcl.home / "vault-password"),
    }


def _ran(proc: subprocess.CompletedProcess[str], job: str) -> bool:
    return f"{job} starting shell" in proc.stdout


@pytest.mark.slow
def test_unit_job_runs_and_publishes_junit(gcl: Any, venv_dir: Path) -> None:
    gcl.checkout(FEATURE)
    proc = gcl.run("unit", variables=_small(gcl, venv_dir), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "PASS" in proc.stdout and "unit" in proc.stdout
    junit = ET.parse(gcl.clone / "reports" / "junit-unit.xml").getroot()
    suite = junit if junit.tag == "testsuite" else junit.find("testsuite")
    assert int(suite.get("tests")) > 10
    assert int(suite.get("failures")) == 0 and int(suite.get("errors")) == 0


@pytest.mark.slow
def test_review_job_creates_the_review_environment_and_stop_review_tears_it_down(
    gcl: Any, venv_dir: Path
) -> None:
    gcl.checkout(FEATURE)
    variables = {**gcl.mr_vars, **_small(gcl, venv_dir)}
    proc = gcl.run("review", variables=variables, unset=("CI_COMMIT_BRANCH",), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "bash infra/review.sh up 7 --syntax-check" in proc.stdout
    assert "environment: { name: review/feature-wider-fields" in proc.stdout
    # The environment URL comes from infra's Ansible variables for review-7 (GitLab reads the dotenv).
    review_env = (gcl.clone / "reports" / "review.env").read_text()
    assert review_env == "REVIEW_URL=https://mr-7.review.swarmops.example\n"
    stop = gcl.run("stop-review", variables=variables, unset=("CI_COMMIT_BRANCH",), timeout=300)
    assert stop.returncode == 0, stop.stdout[-3000:] + stop.stderr[-2000:]
    assert "bash infra/review.sh down 7 --syntax-check" in stop.stdout
    assert _fence_calls(gcl) == ""


@pytest.mark.slow
def test_production_runs_only_when_named(gcl: Any, venv_dir: Path) -> None:
    gcl.checkout("main")
    variables = _small(gcl, venv_dir)
    # Running its whole stage does not start a manual job...
    unnamed = gcl.run("--stage", "production", variables=variables, timeout=300)
    assert unnamed.returncode == 0, unnamed.stdout[-3000:] + unnamed.stderr[-2000:]
    assert not _ran(unnamed, "production")
    # ...naming it (the "play" button) does, and it refuses without the release id verify-staging handed
    # over (in GitLab, its dotenv artifact)...
    refused = gcl.run("production", variables=variables, timeout=300)
    assert refused.returncode != 0 and _ran(refused, "production")
    assert "promote: RELEASE_ID='' is not a release id" in refused.stdout + refused.stderr
    assert "infra/promote.sh" not in refused.stdout.replace("make promote", "")
    # ...and deploys exactly that id when it has it.
    named = gcl.run("production", variables={**variables, "SWARMOPS_RELEASE_ID": "3f2a9c1d"}, timeout=300)
    assert named.returncode == 0, named.stdout[-3000:] + named.stderr[-2000:]
    assert ('bash infra/promote.sh staging production -e "promote_expected_release_id=$RELEASE_ID"'
            ' --syntax-check') in named.stdout
    assert "environment: { name: production" in named.stdout
    assert _fence_calls(gcl) == ""


@pytest.mark.slow
def test_default_branch_deploys_and_verifies_staging(gcl: Any, venv_dir: Path) -> None:
    gcl.checkout("main")
    proc = gcl.run("deploy-staging", "verify-staging", variables=_small(gcl, venv_dir), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "bash infra/deploy.sh staging --syntax-check" in proc.stdout
    assert "bash infra/verify.sh staging -e verify_release_env=" in proc.stdout
    assert proc.stdout.index("deploy-staging starting") < proc.stdout.index("verify-staging starting")
    assert _fence_calls(gcl) == ""
