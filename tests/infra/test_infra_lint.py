"""Static checks of infra/: yamllint, ansible-lint, syntax of every playbook, role contracts, bad inputs."""
from __future__ import annotations

import os
import select
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.ansible_fence import fence_ansible, fence_calls

pytestmark = pytest.mark.infra
REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = ["site.yml", "verify.yml", "promote.yml", "teardown.yml", "restore.yml", "release-fetch.yml",
             "target.yml", "runner.yml", "review-frontdoor.yml"]
ROLES = ["_common", "postgres", "mlflow", "jupyterhub", "nginx", "backup"]


def test_yamllint_is_clean(tools: Any) -> None:
    tools.run(["yamllint", "-c", "ci/yamllint.yml", "-s", "infra"], timeout=120)  # the config make lint uses


def test_ansible_lint_is_clean(tools: Any) -> None:
    res = subprocess.run([str(tools.repo / ".venv/bin/ansible-lint"), "--offline"], cwd=tools.ansible,
                         capture_output=True, text=True, timeout=300,
                         env={"PATH": f"{tools.repo / '.venv/bin'}:/usr/bin:/bin", "HOME": "/root"})
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-3000:]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_syntax(tools: Any, playbook: str) -> None:
    tools.run(["ansible-playbook", "--syntax-check", "-i", str(tools.test_inventory),
               "-e", "swarmops_test_env=test-1", str(tools.ansible / playbook)], timeout=120)


def test_inventories_differ_only_in_their_host() -> None:
    """staging, production, review and test: one host each, named by its address only; how Ansible
    reaches it (SSH as the deploy user, sudo, the target's python) is shared and never local."""
    ansible = Path(__file__).resolve().parents[2] / "infra/ansible"
    hosts = {}
    for env in ("staging", "production", "review", "test"):
        inv = yaml.safe_load((ansible / f"inventories/{env}/hosts.yml").read_text())
        assert list(inv) == ["swarmops"] and len(inv["swarmops"]["hosts"]) == 1, env
        [(name, hostvars)] = inv["swarmops"]["hosts"].items()
        assert list(hostvars) == ["ansible_host"], f"{env}: only the address may differ, got {hostvars}"
        hosts[env] = hostvars["ansible_host"]
    review = "{{ '127.0.0.4' if swarmops_review_namespace == 'review' else '127.0.1.200' }}"
    assert hosts == {"staging": "127.0.0.2", "production": "127.0.0.3", "review": review,
                     "test": "127.0.1.{{ swarmops_test_number }}"}
    conn = yaml.safe_load((ansible / "group_vars/swarmops/connection.yml").read_text())
    assert conn["ansible_connection"] == "ssh" and conn["ansible_become"] is True
    assert conn["ansible_python_interpreter"] == "{{ swarmops_system_python }}"
    assert conn["ansible_user"] == "{{ swarmops_deploy_user }}" and conn["swarmops_deploy_user"] != "root"
    text = "".join(p.read_text() for p in ansible.rglob("*.yml"))
    assert "ansible_playbook_python" not in text and "ansible_connection: local" not in text


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
    vault = "infra/ansible/inventories/test/group_vars/swarmops/vault.yml"  # the legacy in-tree location
    ignored = subprocess.run(["git", "check-ignore", "-q", vault],
                             cwd=tools.repo)
    assert ignored.returncode == 0


@pytest.mark.parametrize("cmd, needle", [
    (["bash", "infra/deploy.sh", "prod"], "ENV='prod' is not an environment: use staging, production"),
    (["bash", "infra/deploy.sh", "test-100"], "ENV='test-100' is not an environment"),
    (["bash", "infra/deploy.sh", "staging"], "ENV='staging' refused: SWARMOPS_TEST_ENVS_ONLY=1"),
    (["bash", "infra/promote.sh"], "ENV='staging' refused: SWARMOPS_TEST_ENVS_ONLY=1"),
    (["bash", "infra/review.sh", "down", "7"], "ENV='review-7' refused: SWARMOPS_TEST_ENVS_ONLY=1"),
    (["bash", "infra/vault.sh", "production"], "ENV='production' refused: SWARMOPS_TEST_ENVS_ONLY=1"),
    (["bash", "infra/promote.sh", "test-1", "test-1"], "promotion test-1 -> test-1: allowed are"),
    (["bash", "infra/vault.sh", "test-1", "rotate"], "action 'rotate': use view, add-missing or nothing"),
    (["bash", "infra/verify.sh"], "ENV='' is not an environment"),
    (["bash", "infra/review.sh", "up", "feature/x"], "MR='feature/x' must be a merge request number"),
    (["bash", "infra/review.sh", "sideways", "1"], "ACTION='sideways': use up or down"),
    (["bash", "infra/restore.sh", "qa"], "ENV='qa' is not an environment"),
])
def test_scripts_reject_bad_arguments_in_one_line(tools: Any, vault_env: dict[str, str], cmd: list[str],
                                                  needle: str, tmp_path: Path) -> None:
    """Several cases name staging, production or review-7 and rely on SWARMOPS_TEST_ENVS_ONLY. They run
    fenced, so that a broken guard could not reach a real environment either: ansible-playbook and
    ansible-vault are stubs that record a call and fail (tests/infra/ansible_fence.py), and the vaults
    and their password live in this test's own folder."""
    called = tmp_path / "called"
    stubs = fence_ansible(tmp_path / "bin", called)
    fenced = {**vault_env, "SWARMOPS_VENV_BIN": str(stubs), "SWARMOPS_SECRETS_DIR": str(tmp_path / "secrets"),
              "SWARMOPS_VAULT_PASSWORD_FILE": str(tmp_path / "vault-password")}
    res = tools.run(cmd, env=fenced, check=False, timeout=60)
    assert fence_calls(called) == "", f"{cmd} got past its refusal: {fence_calls(called)}"
    assert not (tmp_path / "secrets").exists() and not (tmp_path / "vault-password").exists()
    assert res.returncode == 2
    assert needle in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_bad_port_fails_in_preflight_before_any_change(tools: Any, vault_env: dict[str, str]) -> None:
    name = vault_env["SWARMOPS_ENV_B"]
    base = tools.ports(name)["nginx_port"]
    res = tools.run(["bash", "infra/deploy.sh", name, "-e", "mlflow_port=80"], env=vault_env, check=False,
                    timeout=300)
    assert res.returncode != 0
    assert f"must be distinct and lie in {base}..{base + 99}" in res.stdout
    assert tools.recap(res.stdout)["changed"] == 0


@pytest.mark.parametrize("failure, advised", [
    ('fatal: [test-1]: UNREACHABLE! => {"changed": false, "msg": "sudo password is required"}', True),
    ('fatal: [test-1]: FAILED! => {"changed": false, "msg": "No package matching \'x\'"}', False),
])
def test_a_host_asking_for_a_sudo_password_gets_the_advice_to_rerun_target_yml(
        tmp_path: Path, failure: str, advised: bool) -> None:
    """A host whose sudo rule predates Mitogen fails with Mitogen's own line: the deploy says what to do,
    keeps ansible-playbook's output and exit status. A stub stands in for ansible-playbook (it prints
    the line, exits 4) and the run is a --syntax-check of a throw-away environment: no host, no vault."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "ansible-playbook"
    stub.write_text(f"#!/bin/sh\ncat <<'OUT'\n{failure}\nOUT\nexit 4\n")
    stub.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SWARMOPS_VENV_BIN": str(bin_dir),
           "SWARMOPS_TEST_ENVS_ONLY": "1"}
    res = subprocess.run(["bash", "infra/deploy.sh", "test-1", "--syntax-check"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 4 and failure in res.stdout
    advice = [line for line in res.stderr.splitlines() if "rerun infra/ansible/target.yml" in line]
    assert len(advice) == int(advised), res.stderr
    if advised:
        assert advice[0].startswith("deploy.sh: test-1: a host asked for a sudo password") \
            and "ANSIBLE_STRATEGY=linear" in advice[0]


def test_a_killed_deploy_leaves_no_file_behind(tmp_path: Path) -> None:
    """run_playbook scans ansible-playbook's output as it passes (for the sudo advice above) without
    a temp file, so a deploy killed mid-run leaves nothing in $TMPDIR, and lets each line through as it
    comes. A stub ansible-playbook prints a line and sleeps; the deploy (a --syntax-check of a
    throw-away environment) is killed once the line is out."""
    bin_dir, scratch = tmp_path / "bin", tmp_path / "tmp"
    bin_dir.mkdir()
    scratch.mkdir()
    stub = bin_dir / "ansible-playbook"
    stub.write_text("#!/bin/sh\necho 'PLAY [started]'\nexec sleep 60\n")
    stub.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SWARMOPS_VENV_BIN": str(bin_dir),
           "SWARMOPS_TEST_ENVS_ONLY": "1", "TMPDIR": str(scratch)}
    deploy = subprocess.Popen(["bash", "infra/deploy.sh", "test-1", "--syntax-check"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              start_new_session=True)
    try:
        assert deploy.stdout is not None
        assert select.select([deploy.stdout], [], [], 20)[0], "the line was held back"
        assert deploy.stdout.readline().strip() == "PLAY [started]"
    finally:
        os.killpg(deploy.pid, signal.SIGTERM)
        deploy.wait(timeout=30)
    assert deploy.returncode != 0
    assert not list(scratch.iterdir())


def test_deploy_without_a_vault_names_the_command_that_creates_it(tools: Any,
                                                                  vault_env: dict[str, str]) -> None:
    name = next(f"test-{n}" for n in range(99, 0, -1) if f"test-{n}" not in vault_env.values())
    res = tools.run(["bash", "infra/deploy.sh", name], env=vault_env, check=False, timeout=60)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"no vault for {name}" in res.stderr and f"create it once with infra/vault.sh {name}" in res.stderr


def test_vault_is_created_once_and_never_overwritten(tools: Any, vault_env: dict[str, str]) -> None:
    name = vault_env["SWARMOPS_ENV_A"]
    path = Path(vault_env["SWARMOPS_SECRETS_DIR"]) / f"{name}.vault.yml"
    before = path.read_bytes()
    res = tools.run(["bash", "infra/vault.sh", name], env=vault_env, check=False, timeout=60)
    assert res.returncode == 2 and "never overwritten" in res.stderr
    tools.run(["bash", "infra/vault.sh", name, "add-missing"], env=vault_env, timeout=60)
    assert path.read_bytes() == before, "add-missing rewrote a complete vault"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert b"$ANSIBLE_VAULT;" in before


def test_test_sessions_cannot_use_another_inventory(tools: Any) -> None:
    with pytest.raises(pytest.fail.Exception, match="tests use only the test inventory"):
        tools.run(["ansible-playbook", "-i", str(tools.ansible / "inventories" / "production" / "hosts.yml"),
                   "--list-hosts", str(tools.ansible / "site.yml")])
