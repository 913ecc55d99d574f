"""The default branch's deploy half for real, as a team's runner runs it: an unprivileged runner user (no
sudo, clean environment) runs the `deploy-staging`, `verify-staging` and manual `production` jobs of
.gitlab-ci.yml under gitlab-ci-local (shell executor), with STAGING_ENV / PRODUCTION_ENV pointing at
the session's test environments A and B. Ansible reaches them over SSH with the key, known_hosts and
vaults where a runner keeps them (~/.ssh, ~/.swarmops). The release that verify-staging verified is the
one the production job deploys.

Runs after test_infra_promote.py (file order, one xdist group): B then runs the release the promotion
tests left, and the pipeline moves both environments to the clone's commit."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.conftest import GitlabCiLocal, make_clone
from tests.ci.e2e_stack import chown_tree, overlay_venv, runner_user

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _install(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` (0600, parents 0700), as a runner keeps secrets (chowned afterwards)."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(src, dest)
    dest.chmod(0o600)


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout[-4000:] + proc.stderr[-2000:]


def test_runner_deploys_verifies_and_promotes_exactly_the_verified_release(
        staging: Env, tools: Any) -> None:
    if shutil.which("gitlab-ci-local") is None:
        pytest.skip("gitlab-ci-local not installed (run scripts/bootstrap.sh)")
    a, b = staging["name"], staging["vault_env"]["SWARMOPS_ENV_B"]
    prefix_a, prefix_b = staging["prefix"], Path(f"/opt/swarmops/{b}")
    session = staging["vault_env"]
    known_hosts = re.search(r"UserKnownHostsFile=(\S+)", session["ANSIBLE_SSH_COMMON_ARGS"]).group(1)
    with runner_user() as user:
        site = Path(sysconfig.get_paths()["purelib"])
        if subprocess.run(user.command("test", "-r", str(site / "ansible" / "__init__.py"))).returncode:
            pytest.skip(f"the runner user cannot read the test venv's packages in {site}: "
                        "put the repo in a world-readable path")
        clone = user.base / "swarmops"
        make_clone(clone)
        venv = overlay_venv(user.base / "venv", Path(sys.prefix), clone)
        # what the team provisions on a deploy runner (docs/ci-setup.md): the deploy key, the hosts'
        # keys, the vault password and the environments' vaults, all in the runner user's home
        ssh, keep = user.home / ".ssh", user.home / ".swarmops"
        _install(Path(session["ANSIBLE_PRIVATE_KEY_FILE"]), ssh / "id_ed25519")
        _install(Path(known_hosts), ssh / "known_hosts")
        _install(Path(session["SWARMOPS_VAULT_PASSWORD_FILE"]), keep / "vault-password")
        for env in (a, b):
            name = f"{env}.vault.yml"
            _install(Path(session["SWARMOPS_SECRETS_DIR"]) / name, keep / "secrets" / name)
        chown_tree(user.home, user.name)
        chown_tree(clone, user.name)
        gcl = GitlabCiLocal(clone, user.home, {}, runas=user.command)
        commit = subprocess.run(user.command("git", "rev-parse", "HEAD"), cwd=clone, capture_output=True,
                                text=True, check=True).stdout.strip()
        # CI/CD variables of the project (passed as --variable: gitlab-ci-local would turn a variables
        # file's path values into file variables)
        variables = {
            "VENV": str(venv), "STAGING_ENV": a, "PRODUCTION_ENV": b,
            "SWARMOPS_TEST_ENVS_ONLY": "1",  # belt and braces: nothing but test-<n> may be touched
            "INFRA_ARGS": f"-e {staging['monitoring_flag']}",
            "ANSIBLE_PRIVATE_KEY_FILE": str(ssh / "id_ed25519"),
            "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={ssh / 'known_hosts'} "
                                       "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
        }

        deploy = gcl.run("deploy-staging", variables=variables, timeout=1500)
        assert deploy.returncode == 0, _tail(deploy)
        assert f"bash infra/deploy.sh {a} -e" in deploy.stdout, _tail(deploy)
        assert tools.release(prefix_a)["swarmops_project_ref"] == commit, "staging runs another commit"

        verify = gcl.run("verify-staging", variables=variables, timeout=900)
        assert verify.returncode == 0, _tail(verify)
        released = (clone / "reports/release.env").read_text()
        release_id = tools.release(prefix_a)["swarmops_release_id"]
        assert released == f"SWARMOPS_RELEASE_ID={release_id}\n"

        # the manual job, named as a person presses its button, with the id verify-staging handed over
        production = gcl.run("production", variables={**variables, "SWARMOPS_RELEASE_ID": release_id},
                             timeout=1800)
        assert production.returncode == 0, _tail(production)
        assert f"bash infra/promote.sh {a} {b} -e" in production.stdout, _tail(production)
        # (gitlab-ci-local passes a job's stderr to its own stderr)
        assert f"promote: {b} runs the verified {a} release" in production.stdout + production.stderr, \
            _tail(production)
        assert tools.release(prefix_b)["swarmops_release_id"] == release_id
        stamp = yaml.safe_load((prefix_b / "state/verified.yml").read_text())
        assert stamp["swarmops_release_id"] == release_id
