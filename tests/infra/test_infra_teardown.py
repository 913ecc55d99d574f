"""Teardown leaves nothing: no process, no listening port, no cluster, no prefix, no account.
Runs last (file order)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _leftovers(env: str, base: int) -> list[str]:
    found = []
    procs = subprocess.run(["pgrep", "-af", f"/opt/swarmops/{env}/"], capture_output=True, text=True).stdout
    found += [f"process: {p}" for p in procs.splitlines()]
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout.splitlines()
    found += [f"port: {ln.split()[3]}" for ln in listening
              if base <= int(ln.split()[3].rpartition(":")[2]) < base + 100]
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    found += [f"cluster: {c}" for c in clusters.splitlines() if c.split()[1] == env.replace("-", "_")]
    if Path(f"/opt/swarmops/{env}").exists():
        found.append(f"prefix /opt/swarmops/{env}")
    users = subprocess.run(["getent", "passwd"], capture_output=True, text=True).stdout
    found += [f"user: {u.split(':')[0]}" for u in users.splitlines() if u.startswith(f"swarmops-{env}:")]
    return found


def test_review_environment_ports_and_prefix_derive_from_the_mr(staging: Env, tools: Any) -> None:
    out = tools.run(["ansible", "localhost", "-i", str(tools.ansible / "inventories/review/hosts.yml"),
                     "--playbook-dir", str(tools.ansible), "--vault-password-file",
                     staging["vault_env"]["SWARMOPS_VAULT_PASSWORD_FILE"], "-e", "swarmops_review_mr=42",
                     "-m", "ansible.builtin.debug", "-a",
                     "msg='{{ swarmops_prefix }} {{ nginx_port }} {{ postgres_port }}'"],
                    env=staging["vault_env"], timeout=120).stdout
    assert "/opt/swarmops/review-42 21200 21210" in out


@pytest.mark.skipif(os.environ.get("SWARMOPS_TEST_REVIEW_UP") != "1",
                    reason="a full review deployment takes minutes: SWARMOPS_TEST_REVIEW_UP=1 runs it")
def test_review_environment_up_and_down(staging: Env, tools: Any) -> None:
    env = staging["vault_env"]
    tools.run(["bash", "infra/review.sh", "up", "42"], env=env, timeout=900)
    assert _leftovers("review-42", 17000 + 4200)
    tools.run(["bash", "infra/review.sh", "down", "42"], env=env, timeout=300)
    assert _leftovers("review-42", 17000 + 4200) == []


@pytest.mark.parametrize("name, base", [("production", 16000), ("staging", 15000)])
def test_teardown_leaves_nothing_running(staging: Env, tools: Any, name: str, base: int) -> None:
    tools.teardown(name, staging["vault_env"])
    assert _leftovers(name, base) == []
