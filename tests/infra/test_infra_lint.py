"""Static checks of infra/: yamllint, ansible-lint, syntax of every playbook, role contracts, bad inputs."""
from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.infra
PLAYBOOKS = ["site.yml", "verify.yml", "promote.yml", "teardown.yml", "restore.yml"]
ROLES = ["_common", "postgres", "mlflow", "jupyterhub", "nginx", "backup"]


def test_yamllint_is_clean(tools: Any) -> None:
    tools.run(["yamllint", "-c", "ci/yamllint.yml", "-s", "infra"], timeout=120)  # the config make lint uses


def test_ansible_lint_is_clean(tools: Any) -> None:
    res = subprocess.run([str(tools.repo / ".venv/bin/ansible-lint"), "--offline"], cwd=tools.ansible,
                         capture_output=True, text=True, timeout=300,
                         env={"PATH": f"{tools.repo / '.venv/bin'}:/usr/bin:/bin", "HOME": "/root"})
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-3000:]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_syntax(tools: Any, vault_env: dict[str, str], playbook: str) -> None:
    inventory = str(tools.ansible / "inventories/staging/hosts.yml")
    tools.run(["ansible-playbook", "--syntax-check", "-i", inventory,
               "--vault-password-file", vault_env["SWARMOPS_VAULT_PASSWORD_FILE"],
               str(tools.ansible / playbook)],
              env=vault_env, timeout=120)


@pytest.mark.parametrize("role", ROLES)
def test_role_has_contract_files(tools: Any, role: str) -> None:
    base = tools.ansible / "roles" / role
    for rel in ("defaults/main.yml", "handlers/main.yml", "meta/argument_specs.yml", "tasks/main.yml",
                "README.md"):
        assert (base / rel).is_file(), f"{role}: {rel} missing"
    specs = yaml.safe_load((base / "meta/argument_specs.yml").read_text())["argument_specs"]
    assert "main" in specs and specs["main"]["options"]


def test_no_vault_or_secret_is_tracked_in_clear(tools: Any) -> None:
    tracked = subprocess.run(["git", "ls-files", "infra"], cwd=tools.repo, capture_output=True,
                             text=True).stdout
    assert not [p for p in tracked.splitlines() if p.endswith("vault.yml")], "a vault file is committed"
    vault = "infra/ansible/inventories/staging/group_vars/swarmops/vault.yml"
    ignored = subprocess.run(["git", "check-ignore", "-q", vault],
                             cwd=tools.repo)
    assert ignored.returncode == 0


@pytest.mark.parametrize("cmd, needle", [
    (["bash", "infra/deploy.sh", "prod"], "ENV='prod' is not an environment: use staging or production"),
    (["bash", "infra/verify.sh"], "ENV='' is not an environment"),
    (["bash", "infra/review.sh", "up", "feature/x"], "MR='feature/x' must be a merge request number"),
    (["bash", "infra/review.sh", "sideways", "1"], "ACTION='sideways': use up or down"),
    (["bash", "infra/restore.sh", "qa"], "ENV='qa' is not an environment"),
])
def test_scripts_reject_bad_arguments_in_one_line(tools: Any, vault_env: dict[str, str], cmd: list[str],
                                                  needle: str) -> None:
    res = tools.run(cmd, env=vault_env, check=False, timeout=60)
    assert res.returncode == 2
    assert needle in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_bad_port_fails_in_preflight_before_any_change(tools: Any, vault_env: dict[str, str]) -> None:
    res = tools.run(["bash", "infra/deploy.sh", "staging", "-e", "mlflow_port=80"], env=vault_env,
                    check=False,
                    timeout=300)
    assert res.returncode != 0
    assert "must be distinct and lie in 15000..15099" in res.stdout
    assert tools.recap(res.stdout)["changed"] == 0


def test_teardown_of_staging_needs_confirmation(tools: Any, vault_env: dict[str, str]) -> None:
    res = tools.run(["ansible-playbook", "-i", str(tools.ansible / "inventories/staging/hosts.yml"),
                     "--vault-password-file", vault_env["SWARMOPS_VAULT_PASSWORD_FILE"],
                     str(tools.ansible / "teardown.yml")], env=vault_env, check=False, timeout=120)
    assert res.returncode != 0 and "needs -e teardown_confirm=staging" in res.stdout
