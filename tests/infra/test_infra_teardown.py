"""Teardown leaves nothing: no process, no listening port, no cluster, no prefix, no account.
Runs last (file order); a review environment is brought up and down on the way."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

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


def test_review_environment_up_and_down(staging: dict[str, Any], tools: Any) -> None:
    env = staging["vault_env"]
    tools.run(["bash", "infra/review.sh", "up", "42"], env=env, timeout=900)
    assert _leftovers("review-42", 17000 + 4200)
    tools.run(["bash", "infra/review.sh", "down", "42"], env=env, timeout=300)
    assert _leftovers("review-42", 17000 + 4200) == []


@pytest.mark.parametrize("name, base", [("production", 16000), ("staging", 15000)])
def test_teardown_leaves_nothing_running(staging: dict[str, Any], tools: Any, name: str, base: int) -> None:
    tools.teardown(name, staging["vault_env"])
    assert _leftovers(name, base) == []
