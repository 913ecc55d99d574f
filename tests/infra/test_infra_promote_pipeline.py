"""The default branch's deploy half for real, as a team's runner runs it: an unprivileged runner user (no
sudo, clean environment) runs the `deploy-staging`, `verify-staging` and manual `production` jobs of
.gitlab-ci.yml under gitlab-ci-local (shell executor), with STAGING_ENV / PRODUCTION_ENV pointing at
the session's test environments A and B. Ansible reaches them over SSH with the key, known_hosts and
vaults where a runner keeps them (~/.ssh, ~/.swarmops). The release that verify-staging verified is the
one the production job deploys.

Runs after test_infra_promote.py (file order, one xdist group): B then runs the release the promotion
tests left, and the pipeline moves both environments to the clone's commit."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.deploy_runner import deploy_runner, tail

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def test_runner_deploys_verifies_and_promotes_exactly_the_verified_release(
        test_env_a: Env, tools: Any) -> None:
    a, b = test_env_a["name"], test_env_a["vault_env"]["SWARMOPS_ENV_B"]
    prefix_a, prefix_b = test_env_a["prefix"], Path(f"/opt/swarmops/{b}")
    with deploy_runner(test_env_a["vault_env"], vaults=(a, b)) as runner:
        gcl, clone, commit = runner.gcl, runner.clone, runner.commit
        variables = {**runner.variables, "STAGING_ENV": a, "PRODUCTION_ENV": b,
                     "INFRA_ARGS": f"-e {test_env_a['monitoring_flag']}"}

        deploy = gcl.run("deploy-staging", variables=variables, timeout=1500)
        assert deploy.returncode == 0, tail(deploy)
        assert f"bash infra/deploy.sh {a} -e" in deploy.stdout, tail(deploy)
        assert tools.release(prefix_a)["swarmops_project_ref"] == commit, "staging runs another commit"

        verify = gcl.run("verify-staging", variables=variables, timeout=900)
        assert verify.returncode == 0, tail(verify)
        released = (clone / "reports/release.env").read_text()
        release_id = tools.release(prefix_a)["swarmops_release_id"]
        assert released == f"SWARMOPS_RELEASE_ID={release_id}\n"

        # the manual job, named as a person presses its button, with the id verify-staging handed over
        production = gcl.run("production", variables={**variables, "SWARMOPS_RELEASE_ID": release_id},
                             timeout=1800)
        assert production.returncode == 0, tail(production)
        assert f"bash infra/promote.sh {a} {b} -e" in production.stdout, tail(production)
        # (gitlab-ci-local passes a job's stderr to its own stderr)
        assert f"promote: {b} runs the verified {a} release" in production.stdout + production.stderr, \
            tail(production)
        assert tools.release(prefix_b)["swarmops_release_id"] == release_id
        stamp = yaml.safe_load((prefix_b / "state/verified.yml").read_text())
        assert stamp["swarmops_release_id"] == release_id
