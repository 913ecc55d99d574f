"""The pipeline end to end: the real .gitlab-ci.yml under gitlab-ci-local, run by an unprivileged user,
logging to the team stack that Ansible deployed (the infra suite's test environment A, standing in for the
team's staging stack): its PostgreSQL ledger and its MLflow server behind the environment's nginx front
door (TLS with the environment's own certificate, basic auth). The runner is a fresh system user (shell
executor) owning its clone; the credentials reach the jobs as the CI/CD variables docs/ci-setup.md
lists, from a 0600 variables file (never on a command line).

1. Default-branch pipeline (protected): train (tiny budget) -> evaluate -> gate; the gate makes the
   model @champion. Checked over MLflow's REST API (run, registered version, alias) and in PostgreSQL.
2. Merge-request pipeline: a weaker candidate (a 16x smaller budget) fails the gate against that
   champion, the bootstrap interval in the job log; the metrics note goes to a recorder standing in
   for GitLab's API and shows candidate vs champion.
The deploy half (deploy-staging, verify-staging, production) runs against the same environment in
test_infra_promote_pipeline.py, the review environment's jobs in test_infra_review_pipeline.py.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator
from urllib.parse import quote

import pytest
import yaml

from tests.ci.conftest import FEATURE_BRANCH, MR_VARS, GitlabCiLocal, make_clone
from tests.ci.e2e_stack import (DEBIAN_PYTHON, PROJECT_ID, GitlabRecorder, RunnerUser, TrackingStack,
                                chown_tree, overlay_venv, runner_user)
from training.registry import model_name

pytestmark = [pytest.mark.infra, pytest.mark.slow]

SCENARIO = "recon"
MODEL = model_name(SCENARIO)
GITLAB_PROJECT = "swarmops/swarmops"
# Tiny budgets on the smoke profile's fields: ~15 s of training here. 65,536 agent-steps give a policy
# ~3.5x better than random; 4,096 (one PPO update) stays close to random, so the gate must reject it.
CHAMPION_STEPS, WEAK_STEPS = 65536, 4096


def _profile(dest: Path, steps: int) -> Path:
    smoke = yaml.safe_load((Path(__file__).resolve().parents[2] / "training/profiles/smoke.yaml").read_text())
    smoke.update(total_timesteps=steps, checkpoint_every=steps, episode_gif=False, device="cpu")
    smoke.pop("scenarios", None)
    dest.write_text(yaml.safe_dump(smoke))
    dest.chmod(0o644)
    return dest


def _small_suite(dest: Path) -> Path:
    """Three small recon fields of the versioned suite (both splits), with their manifest: the jobs'
    evaluations take seconds instead of a minute, and the tracking path they exercise is the same."""
    source = Path(__file__).resolve().parents[2] / "data/scenarios"
    manifest = json.loads((source / "suite.json").read_text())
    names = ["recon-train-8x8-d2-o0.json", "recon-train-12x12-d4-o10.json", "recon-held_out-10x14-d3-o0.json"]
    dest.mkdir(mode=0o755)
    for name in names:
        shutil.copyfile(source / name, dest / name)
    (dest / "suite.json").write_text(json.dumps({**manifest, "scenarios": names}, indent=1))
    return dest


def _tail(proc: Any) -> str:
    return proc.stdout[-6000:] + proc.stderr[-2000:]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "creating the runner user needs root"
    for tool in ("gitlab-ci-local", "runuser", "useradd", "openssl"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (run scripts/bootstrap.sh)"
    if not DEBIAN_PYTHON.exists():
        return f"{DEBIAN_PYTHON} is needed (run scripts/bootstrap.sh)"
    # The runner's overlay venv runs the test venv's compiled packages on Debian's interpreter.
    debian = subprocess.run([str(DEBIAN_PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
                            capture_output=True, text=True).stdout.strip()
    if debian != str(sys.version_info[:2]):
        return f"{DEBIAN_PYTHON} is Python {debian}, the test venv {sys.version_info[:2]}: not the same ABI"
    return None


def team_stack(test_env_a: dict[str, Any], ca_cert: Path, ledger_ca: Path) -> TrackingStack:
    """Environment A's ledger and MLflow front door, with the credentials a team puts in CI variables."""
    ports, secret = test_env_a["ports"], test_env_a["vault"]
    address = test_env_a["address"]
    ledger = f"ledger:{quote(secret['vault_postgres_ledger_password'], safe='')}"
    return TrackingStack(
        ledger_url=f"postgresql+psycopg2://{ledger}@{address}:{ports['postgres_port']}/ledger",
        mlflow_url=f"https://{address}:{ports['nginx_port']}", username="swarmops",
        password=secret["vault_nginx_password"], ca_cert=ca_cert, ledger_ca=ledger_ca)


@pytest.fixture(scope="module")
def e2e(test_env_a: dict[str, Any]) -> Iterator[SimpleNamespace]:
    """Runner user (skips early if it cannot use the test venv), GitLab recorder, the team stack, clone."""
    if _missing():
        pytest.skip(_missing())
    venv_dir = Path(sys.prefix)
    with runner_user() as user, GitlabRecorder() as gitlab:
        site = Path(sysconfig.get_paths()["purelib"])
        if subprocess.run(user.command("test", "-r", str(site / "mlflow" / "__init__.py"))).returncode:
            pytest.skip(f"the runner user cannot read the test venv's packages in {site} "
                        "(a checkout under /root?): put the repo in a world-readable path")
        # the front door's certificate, as a CI file variable hands it to jobs: a copy the runner can read
        # the front door's and the ledger cluster's certificates, as CI file variables hand them to jobs
        ca_cert, ledger_ca = user.base / "swarmops-ca.crt", user.base / "swarmops-postgres.crt"
        for source, copy in ((test_env_a["prefix"] / "nginx/server.crt", ca_cert),
                             (test_env_a["prefix"] / "postgres.crt", ledger_ca)):
            shutil.copyfile(source, copy)
            copy.chmod(0o644)
        yield _prepare(user, gitlab, team_stack(test_env_a, ca_cert, ledger_ca), venv_dir)


def _prepare(user: RunnerUser, gitlab: GitlabRecorder, stack: TrackingStack,
             venv_dir: Path) -> SimpleNamespace:
    """The runner's clone (main + the MR branch), overlay venv, variables file and training profiles."""
    clone = user.base / "swarmops"
    make_clone(clone)
    venv = overlay_venv(user.base / "venv", venv_dir, clone)
    profiles = user.base / "profiles"
    profiles.mkdir(mode=0o755)
    token = os.urandom(12).hex()
    # Secrets as a runner gets them: CI/CD variables, here gitlab-ci-local's project variables file.
    secrets_file = clone / ".gitlab-ci-local-variables.yml"
    secrets_file.write_text(yaml.safe_dump({**stack.ci_variables(), "GITLAB_TOKEN": token}))
    secrets_file.chmod(0o600)
    chown_tree(clone, user.name)
    gcl = GitlabCiLocal(clone, user.home, dict(MR_VARS), runas=user.command)
    gcl.checkout(FEATURE_BRANCH)  # the MR's branch, as it would exist before pipeline 2
    gcl.checkout("main")
    return SimpleNamespace(
        stack=stack, gitlab=gitlab, user=user, gcl=gcl, token=token, state={},
        base_vars={"VENV": str(venv), "SWARMOPS_CI_SMALL": "1", "SCENARIO": SCENARIO,
                   "SUITE": str(_small_suite(user.base / "suite"))},
        champion_profile=_profile(profiles / "e2e-champion.yaml", CHAMPION_STEPS),
        weak_profile=_profile(profiles / "e2e-weak.yaml", WEAK_STEPS))


def test_merge_request_job_without_the_tracking_variables_fails_in_one_line(e2e: SimpleNamespace) -> None:
    gcl = e2e.gcl
    gcl.checkout(FEATURE_BRANCH)
    try:
        empty = gcl.clone / ".gitlab-ci-local-no-variables.yml"
        empty.write_text("{}\n")
        variables = {**gcl.mr_vars, **e2e.base_vars, "PROFILE": str(e2e.weak_profile)}
        proc = gcl.run("train", "--variables-file", empty.name, variables=variables,
                       unset=("CI_COMMIT_BRANCH",), timeout=300)
    finally:
        gcl.checkout("main")
    assert proc.returncode != 0, _tail(proc)
    assert ("error: SWARMOPS_DB_URL is not set: the team ledger, postgresql+psycopg2://USER:PASSWORD@HOST:"
            "5432/swarmops; required on merge request !7 (never a fallback to a local SQLite file)"
            ) in proc.stdout
    assert "swarmops train" not in proc.stdout.replace("make train", "")  # stopped before training
    assert not (gcl.clone / "runs").exists()


def test_default_branch_pipeline_makes_the_first_model_champion_on_the_team_stack(
        e2e: SimpleNamespace) -> None:
    gcl, stack = e2e.gcl, e2e.stack
    variables = {**e2e.base_vars, "PROFILE": str(e2e.champion_profile), "CI_COMMIT_REF_PROTECTED": "true"}
    proc = gcl.run("train", "evaluate", "gate", variables=variables, timeout=900)
    assert proc.returncode == 0, _tail(proc)
    out = proc.stdout
    # tracking-check ran in each job and found the team's stack (no SQLite fallback on a protected branch)
    assert out.count("tracking: protected branch main logs to the team's ledger and MLflow server") == 3, out
    assert re.search(r"no @champion: version 1 \(recon-e2e-champion-[\w-]+\) becomes @champion", out), out

    # MLflow, over its REST API through the front door: anonymous is refused, the pipeline's user sees all.
    assert stack.api("registered-models/get", auth=False, name=MODEL).status_code == 401
    version = stack.api("registered-models/alias", name=MODEL, alias="champion").json()["model_version"]
    assert version["version"] == "1" and version["status"] == "READY"
    run = stack.api("runs/get", run_id=version["run_id"]).json()["run"]
    assert run["info"]["status"] == "FINISHED"
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params["total_timesteps"] == str(CHAMPION_STEPS), params
    artifacts = stack.api("artifacts/list", run_id=version["run_id"], path="model").json()["files"]
    assert any(f["path"].endswith("model.zip") for f in artifacts), artifacts

    # The ledger in PostgreSQL: the run, its evaluation and the promotion decision.
    runs = stack.ledger_rows("SELECT id, status, mlflow_run_id, model_version, run_dir FROM runs")
    assert len(runs) == 1 and runs[0]["status"] == "finished", runs
    assert runs[0]["mlflow_run_id"] == version["run_id"] and runs[0]["model_version"] == "1"
    evaluated = stack.ledger_rows("SELECT count(*) AS n FROM evaluation_results "
                                  f"WHERE run_id = '{runs[0]['id']}'")
    assert evaluated[0]["n"] > 0
    promotions = stack.ledger_rows("SELECT decision, candidate_version FROM promotions")
    assert promotions == [{"decision": "first", "candidate_version": "1"}]
    # The jobs ran as the runner user: it owns what they wrote.
    run_dir = gcl.clone / "runs" / runs[0]["id"]
    assert run_dir.is_dir() and run_dir.owner() == e2e.user.name
    e2e.state["champion"] = runs[0]["id"]


def test_merge_request_pipeline_rejects_a_weaker_candidate_and_notes_it_against_the_champion(
        e2e: SimpleNamespace) -> None:
    if "champion" not in e2e.state:
        pytest.skip("needs the champion of the default-branch pipeline (the test above failed)")
    gcl, stack = e2e.gcl, e2e.stack
    # A new pipeline starts from a fresh checkout: nothing of pipeline 1's workspace is left.
    for leftover in ("runs", "reports", ".gitlab-ci-local"):
        shutil.rmtree(gcl.clone / leftover, ignore_errors=True)
    gcl.checkout(FEATURE_BRANCH)
    variables = {**gcl.mr_vars, **e2e.base_vars, "PROFILE": str(e2e.weak_profile),
                 "GITLAB_URL": e2e.gitlab.url, "GITLAB_PROJECT": GITLAB_PROJECT}
    proc = gcl.run("train", "evaluate", "gate", "metrics-note", variables=variables,
                   unset=("CI_COMMIT_BRANCH",), timeout=900)
    out = proc.stdout
    assert proc.returncode != 0, "the gate must fail the pipeline\n" + _tail(proc)
    tracked = "tracking: merge request !7 logs to the team's ledger and MLflow server"
    assert out.count(tracked) == 4, _tail(proc)
    number = r"([-+]\d+\.\d+)"
    verdict = re.search(rf"candidate v2 \((recon-e2e-weak-[\w-]+)\) vs champion v1 \((\S+)\): mean score "
                        rf"difference {number}, 95% CI \[{number}, {number}\] over (\d+) pairs -> REJECTED",
                        out)
    assert verdict, _tail(proc)
    assert verdict.group(2) == e2e.state["champion"]
    low, high = float(verdict.group(4)), float(verdict.group(5))
    assert low <= float(verdict.group(3)) <= high and low <= 0.0

    # @champion did not move; the candidate is registered as version 2; the ledger holds the rejection.
    champion = stack.api("registered-models/alias", name=MODEL, alias="champion").json()["model_version"]
    assert champion["version"] == "1"
    versions = stack.api("model-versions/search", filter=f"name='{MODEL}'").json()["model_versions"]
    assert sorted(v["version"] for v in versions) == ["1", "2"]
    rejected = stack.ledger_rows("SELECT decision, candidate_run_id, champion_run_id, ci_low, ci_high "
                                 "FROM promotions WHERE decision = 'rejected'")
    assert len(rejected) == 1 and rejected[0]["champion_run_id"] == e2e.state["champion"]
    assert rejected[0]["ci_low"] == pytest.approx(low, abs=1e-4)

    # The note job ran although the gate failed, and posted once to "GitLab" with the project token.
    assert "metrics-note starting shell" in out, _tail(proc)
    posts = [r for r in e2e.gitlab.requests if r.method == "POST"]
    assert [r.path for r in posts] == [f"/api/v4/projects/{PROJECT_ID}/merge_requests/7/notes"]
    assert posts[0].headers.get("PRIVATE-TOKEN") == e2e.token
    note = e2e.gitlab.notes[0]["body"]
    assert "| metric | candidate | @champion |" in note
    rows = [line for line in note.splitlines() if line.startswith("| ") and "candidate" not in line]
    assert rows and all(line.split("|")[3].strip() not in ("", "–") for line in rows), note
    assert "REJECTED" in note or "rejected" in note, note
