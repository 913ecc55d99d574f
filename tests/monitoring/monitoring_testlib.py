"""Helpers shared by the monitoring tests (tests/monitoring, tests/infra/test_monitoring_*.py):
inventories for throw-away environments and ansible-playbook runs with the repository's roles."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "infra" / "ansible"
MONITORING_DIR = REPO / "monitoring"
VENV_BIN = Path(os.environ.get("SWARMOPS_VENV_BIN", REPO / ".venv" / "bin"))


def load_yaml(path: Path) -> Any:
    """Parse one YAML file."""
    return yaml.safe_load(path.read_text())


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule of monitoring/rules/*.yml."""
    rules = []
    for path in sorted((MONITORING_DIR / "rules").glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            rules += [r for r in group["rules"] if "alert" in r]
    return rules


def make_inventory(root: Path, env_inventory: str | None = "staging",
                   group_vars: dict[str, Any] | None = None) -> Path:
    """An inventory under ``root`` for localhost: the global group_vars, the non-secret group_vars of
    ``env_inventory`` (staging, production, review) if given, then ``group_vars`` on top."""
    inv = root / "inventory"
    shutil.rmtree(inv, ignore_errors=True)
    (inv / "group_vars" / "swarmops").mkdir(parents=True)
    (inv / "hosts.yml").write_text(yaml.safe_dump({"swarmops": {"hosts": {"localhost": {
        # swarmops_address derives from ansible_host (group_vars/all): the host's address; the modules
        # run on the system python an environment host runs them on (its python3-apt: under Mitogen a
        # module cannot respawn itself into another interpreter, as apt does from the venv's python)
        "ansible_connection": "local", "ansible_host": "127.0.0.1",
        "ansible_python_interpreter": "{{ swarmops_system_python }}"}}}}))
    shutil.copytree(ANSIBLE_DIR / "group_vars" / "all", inv / "group_vars" / "all")  # layout, ports
    if env_inventory:
        env_vars = ANSIBLE_DIR / "inventories" / env_inventory / "group_vars" / "swarmops"
        for src in sorted(env_vars.glob("*.yml")):
            if src.name != "vault.yml":  # encrypted; tests pass their own secrets
                shutil.copy(src, inv / "group_vars" / "swarmops" / src.name)
    # the release's sources are this checkout, and the rules/templates under test its working tree
    extra = {"swarmops_project_src": str(REPO), "monitoring_source_dir": str(MONITORING_DIR),
             **(group_vars or {})}
    (inv / "group_vars" / "swarmops" / "zz_test.yml").write_text(yaml.safe_dump(extra))
    return inv / "hosts.yml"


def ansible_playbook(playbook: Path, inventory: Path, extra_vars: dict[str, Any] | None = None,
                     timeout: int = 300, tags: str | None = None,
                     vault_password_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ansible-playbook with the repository's ansible.cfg and roles; never raises on failure."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
           "ANSIBLE_ROLES_PATH": str(ANSIBLE_DIR / "roles"), "ANSIBLE_FORCE_COLOR": "0",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PIPELINING": "True",
           "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra_vars:
        vars_file = inventory.parent / "extra_vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        cmd += ["-e", f"@{vars_file}"]
    if tags:
        cmd += ["--tags", tags]
    if vault_password_file:
        cmd += ["--vault-password-file", str(vault_password_file)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ANSIBLE_DIR)


def failure_lines(result: subprocess.CompletedProcess[str]) -> str:
    """The end of an ansible-playbook output, for assertion messages."""
    return (result.stdout + result.stderr)[-4000:]
