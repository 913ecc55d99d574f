"""A deploy runner as a team provisions one (docs/ci-setup.md), for the infra suite's pipeline tests: a
fresh unprivileged user (no sudo, clean environment) with its clone of the working tree, a venv it can
run, and in its home the deploy key, the environment hosts' keys, the vault password and the vaults of
the environments it may change. Jobs run under gitlab-ci-local (shell executor)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Iterable, Iterator

import pytest

from tests.ci.conftest import MR_VARS, GitlabCiLocal, make_clone
from tests.ci.e2e_stack import chown_tree, overlay_venv, runner_user


def _install(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` (0600, parents 0700), as a runner keeps secrets (chowned afterwards)."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(src, dest)
    dest.chmod(0o600)


@contextmanager
def deploy_runner(session: dict[str, str], vaults: Iterable[str]) -> Iterator[SimpleNamespace]:
    """A runner user allowed to change the environments whose vault files are named in ``vaults``.

    ``session`` is the infra suite's environment (vault_env fixture): its SSH key, known_hosts, vault
    password and secrets dir are copied where a runner keeps them (~/.ssh, ~/.swarmops). Yields the user,
    its clone, its gitlab-ci-local, the clone's commit and the CI/CD variables every deploy job gets.
    Skips when gitlab-ci-local is missing or the user cannot read the test venv."""
    if shutil.which("gitlab-ci-local") is None:
        pytest.skip("gitlab-ci-local not installed (run scripts/bootstrap.sh)")
    known_hosts = re.search(r"UserKnownHostsFile=(\S+)", session["ANSIBLE_SSH_COMMON_ARGS"]).group(1)
    with runner_user() as user:
        site = Path(sysconfig.get_paths()["purelib"])
        if subprocess.run(user.command("test", "-r", str(site / "ansible" / "__init__.py"))).returncode:
            pytest.skip(f"the runner user cannot read the test venv's packages in {site}: "
                        "put the repo in a world-readable path")
        clone = user.base / "swarmops"
        make_clone(clone)
        venv = overlay_venv(user.base / "venv", Path(sys.prefix), clone)
        ssh, keep = user.home / ".ssh", user.home / ".swarmops"
        _install(Path(session["ANSIBLE_PRIVATE_KEY_FILE"]), ssh / "id_ed25519")
        _install(Path(known_hosts), ssh / "known_hosts")
        _install(Path(session["SWARMOPS_VAULT_PASSWORD_FILE"]), keep / "vault-password")
        for name in vaults:
            _install(Path(session["SWARMOPS_SECRETS_DIR"]) / f"{name}.vault.yml",
                     keep / "secrets" / f"{name}.vault.yml")
        chown_tree(user.home, user.name)
        chown_tree(clone, user.name)
        gcl = GitlabCiLocal(clone, user.home, dict(MR_VARS), runas=user.command)
        commit = subprocess.run(user.command("git", "rev-parse", "HEAD"), cwd=clone, capture_output=True,
                                text=True, check=True).stdout.strip()
        # CI/CD variables of the project (passed as --variable: gitlab-ci-local would turn a variables
        # file's path values into file variables)
        variables = {
            "VENV": str(venv),
            "SWARMOPS_TEST_ENVS_ONLY": "1",  # belt and braces: nothing but test-* environments may be touched
            "ANSIBLE_PRIVATE_KEY_FILE": str(ssh / "id_ed25519"),
            "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={ssh / 'known_hosts'} "
                                       "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
        }
        yield SimpleNamespace(user=user, clone=clone, gcl=gcl, commit=commit, variables=variables)


def tail(proc: subprocess.CompletedProcess[str]) -> str:
    """The end of a job's output, for assertion messages."""
    return proc.stdout[-4000:] + proc.stderr[-2000:]
