"""runner.yml for real: provision this machine as a CI runner host for a throw-away runner user (local
connection, as root, the way a team runs it once per runner host), twice, and check what a pipeline job
gets: an unprivileged user (no sudo, no extra groups), private 0700 directories for its SSH key and
vaults, and the public key handed to the controller. The user is removed afterwards."""
from __future__ import annotations

import grp
import pwd
import secrets
import stat
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow,
              # beside the test environments' deploys, not at the same time (both run apt)
              pytest.mark.xdist_group("infra-hosts")]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory, tools: Any) -> Iterator[dict[str, Any]]:
    """runner.yml run twice for swarmops-rt-<hex>; yields the user, the pubkey path and both outputs."""
    name = f"swarmops-rt-{secrets.token_hex(3)}"
    pubkey = tmp_path_factory.mktemp("runner") / "runner_key.pub"
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(tools.ansible / "runner.yml"),
           "-e", f"runner_user={name}", "-e", f"runner_pubkey_dest={pubkey}",
           "-e", "ansible_python_interpreter=/usr/bin/python3"]  # the host's own python, as on a real host
    env = {"ANSIBLE_CONFIG": str(tools.ansible / "ansible.cfg")}
    try:
        first = tools.run(cmd, env=env, timeout=900)
        second = tools.run(cmd, env=env, timeout=900)
        yield {"name": name, "pubkey": pubkey, "first": first.stdout, "second": second.stdout}
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "-r", name], capture_output=True, timeout=60)


def test_runner_host_gets_an_unprivileged_user_with_private_key_and_vault_dirs(runner: dict[str, Any],
                                                                               tools: Any) -> None:
    name = runner["name"]
    user = pwd.getpwnam(name)
    assert user.pw_uid != 0 and user.pw_dir == f"/home/{name}"
    groups = [g.gr_name for g in grp.getgrall() if name in g.gr_mem]
    assert groups == [], f"{name} has extra groups: {groups}"
    sudo = subprocess.run(["sudo", "-l", "-U", name], capture_output=True, text=True, timeout=60)
    assert "is not allowed to run sudo" in sudo.stdout + sudo.stderr, sudo.stdout + sudo.stderr
    home = Path(user.pw_dir)
    for rel in (".ssh", ".swarmops", ".swarmops/secrets"):
        st = (home / rel).stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, 0o700), rel
    key = home / ".ssh/id_ed25519"
    assert (key.stat().st_uid, stat.S_IMODE(key.stat().st_mode)) == (user.pw_uid, 0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True,
                             check=True, timeout=60).stdout.split()[:2]
    assert runner["pubkey"].read_text().split()[:2] == derived, "the controller got another key"


def test_second_run_changes_nothing(runner: dict[str, Any], tools: Any) -> None:
    counts = tools.recap(runner["second"])
    assert counts["failed"] == 0 and counts["changed"] == 0, runner["second"][-3000:]
