"""The merge-request half of the deploy pipeline for real, as a team's runner runs it: an unprivileged
runner user (no sudo, no state of its own beyond its clone and home) runs the `review` and `stop-review`
jobs of .gitlab-ci.yml for MR !7 under gitlab-ci-local (shell executor). Ansible reaches the test review
host over SSH; the slot registry and the front door's routes live on that host, so the runner keeps no
registry. The environment comes up at the URL the job hands to GitLab (REVIEW_URL, checked with TLS
verification against the front door's certificate) and the stop job takes it, its slot and its route
away.

Both CI files create a review environment only after a passing gate (GitLab: `needs: [gate]`, Jenkins:
`gatePassed()`); the jobs are named here as GitLab starts them then. The suite's review environments are
test-review-<MR> (SWARMOPS_REVIEW_ENV_PREFIX=test-), never a real review-<MR>."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.infra.deploy_runner import deploy_runner, tail
from tests.infra.review_frontdoor import (FRONTDOOR, SLOTS, remove_idle_front_door, review_slots,
                                          via_front_door)

pytestmark = [pytest.mark.infra, pytest.mark.slow]

MR = "7"  # tests/ci/conftest.py MR_VARS
ENV = f"test-review-{MR}"
URL = f"https://mr-{MR}.test-review.invalid"


def _curl_review_url(path: str, user: str = "", password: str = "") -> int:
    """GET REVIEW_URL + path as a reviewer's browser would: the name resolved to the front door, its TLS
    certificate verified (the self-signed wildcard is the trust anchor here). Returns the HTTP status."""
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30",
           "--resolve", f"mr-{MR}.test-review.invalid:443:127.0.2.253",
           "--cacert", str(FRONTDOOR / "tls/server.crt"), URL + path]
    if user:
        cmd += ["--user", f"{user}:{password}"]
    return int(subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout)


def test_runner_brings_a_review_environment_up_at_its_url_and_the_stop_job_takes_it_down(
        review_env: dict[str, str], tools: Any) -> None:
    env = {**review_env, "SWARMOPS_REVIEW_ENV_PREFIX": "test-"}
    if not (Path(review_env["SWARMOPS_SECRETS_DIR"]) / "test-review.vault.yml").exists():  # made once
        tools.run(["bash", "infra/vault.sh", "test-review"], env=env)
    password = tools.vault("test-review", review_env)["vault_nginx_password"]
    assert ENV not in review_slots(), f"{ENV} is left over from an earlier run"
    try:
        with deploy_runner(review_env, vaults=("test-review",)) as runner:
            gcl = runner.gcl
            gcl.checkout("feature/wider-fields")
            variables = {**gcl.mr_vars, **runner.variables, "SWARMOPS_REVIEW_ENV_PREFIX": "test-"}

            t0 = time.monotonic()
            up = gcl.run("review", variables=variables, unset=("CI_COMMIT_BRANCH",), timeout=1500)
            up_s = time.monotonic() - t0
            assert up.returncode == 0, tail(up)
            assert f"bash infra/review.sh up {MR}" in up.stdout, tail(up)
            # the URL GitLab shows on the MR (the job's dotenv artifact), and the environment answers there
            assert (runner.clone / "reports/review.env").read_text() == f"REVIEW_URL={URL}\n"
            assert _curl_review_url("/health") == 200
            assert _curl_review_url("/api/2.0/mlflow/experiments/search?max_results=10") == 401
            assert _curl_review_url("/api/2.0/mlflow/experiments/search?max_results=10",
                                    "swarmops", password) == 200

            # The registry is on the review host, root's alone; the runner holds none of it.
            slot = review_slots()[ENV]
            assert (FRONTDOOR / f"routes/{ENV}.conf").is_file()
            assert SLOTS.stat().st_mode & 0o777 == 0o700 and SLOTS.owner() == "root"
            assert subprocess.run(runner.user.command("ls", str(SLOTS)), capture_output=True).returncode != 0
            assert not list(runner.user.home.rglob("*slot*")), "the runner keeps registry state"
            assert Path(f"/opt/swarmops/{ENV}").is_dir()

            t1 = time.monotonic()
            down = gcl.run("stop-review", variables=variables, unset=("CI_COMMIT_BRANCH",), timeout=900)
            down_s = time.monotonic() - t1
            assert down.returncode == 0, tail(down)
            assert f"bash infra/review.sh down {MR}" in down.stdout, tail(down)
            assert ENV not in review_slots() and not (FRONTDOOR / f"routes/{ENV}.conf").exists()
            assert via_front_door(MR, "/health").status_code == 421  # no environment, no route
            assert not Path(f"/opt/swarmops/{ENV}").exists()
            print(f"\nreview pipeline: {ENV} (slot {slot}) up in {up_s:.0f} s, down in {down_s:.0f} s")
    finally:
        tools.run(["bash", "infra/review.sh", "down", MR], env=env, timeout=600, check=False)
        remove_idle_front_door()
