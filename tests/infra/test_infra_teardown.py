"""Teardown leaves nothing of a test environment: no process, no listening socket, no cluster, no prefix,
no account; a protected environment (production's setting) is refused without a person typing its name.
Runs after the other deployment tests (file order)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _leftovers(env: str, address: str) -> list[str]:
    found = []
    procs = subprocess.run(["pgrep", "-af", f"/opt/swarmops/{env}/"], capture_output=True, text=True).stdout
    found += [f"process: {p}" for p in procs.splitlines()]
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout.splitlines()
    for ln in listening:
        addr, _, port = ln.split()[3].rpartition(":")
        # the host's sshd (port 22) is not the environment's: the session stops it after the last test;
        # every environment uses the same ports, so only the address says whose a socket is
        if addr == address and port != "22":
            found.append(f"socket: {ln.split()[3]}")
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    found += [f"cluster: {c}" for c in clusters.splitlines() if c.split()[1] == env.replace("-", "_")]
    if Path(f"/opt/swarmops/{env}").exists():
        found.append(f"prefix /opt/swarmops/{env}")
    users = subprocess.run(["getent", "passwd"], capture_output=True, text=True).stdout
    hub_prefix = f"j{env.replace('-', '')[:9]}-"
    found += [f"user: {u.split(':')[0]}" for u in users.splitlines()
              # the env user, its daemons' users (swarmops-<env>-prom, ...), its notebook users
              if u.startswith((f"swarmops-{env}:", f"swarmops-{env}-", hub_prefix))]
    return found


def test_a_protected_environment_needs_its_name_typed(test_env_a: Env, tools: Any) -> None:
    """production sets swarmops_protected; shown on the running test env (nothing here names production):
    no variable confirms it, and without a terminal nobody can type the name."""
    name = test_env_a["name"]
    res = tools.teardown(name, test_env_a["vault_env"], "-e", "swarmops_protected=true", "-e",
                         f"teardown_confirm={name}", check=False)
    assert res.returncode != 0
    assert f"REFUSED: teardown of {name} needs its name typed at the prompt" in res.stdout
    assert tools.recap(res.stdout)["changed"] == 0
    assert _leftovers(name, test_env_a["address"]), "it was torn down anyway"


@pytest.mark.parametrize("which", ["SWARMOPS_ENV_B", "SWARMOPS_ENV_A"])
def test_teardown_leaves_nothing_running(test_env_a: Env, tools: Any, which: str) -> None:
    name = test_env_a["vault_env"][which]
    tools.teardown(name, test_env_a["vault_env"])
    assert _leftovers(name, tools.address(name)) == []
