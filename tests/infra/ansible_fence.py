"""A fence in front of Ansible, for tests that run infra/*.sh or CI jobs naming a real environment
(staging, production, review-<mr>) and rely on a guard (SWARMOPS_TEST_ENVS_ONLY, --syntax-check) to stay
off it. infra/lib.sh puts SWARMOPS_VENV_BIN first on PATH; pointed at a fenced bin dir, every call of
ansible-playbook or ansible-vault past the fence is recorded and fails (exit 97), so a broken guard fails
the test instead of reaching the environment."""
from __future__ import annotations

from pathlib import Path

FENCED_TOOLS = ("ansible-playbook", "ansible-vault")


def fence_ansible(bin_dir: Path, calls: Path, syntax_check_from: Path | None = None) -> Path:
    """Make ``bin_dir`` (once) holding fenced ansible-playbook and ansible-vault that append their
    command line to ``calls`` and exit 97. With ``syntax_check_from`` (a venv's bin dir) it also links
    that venv's other tools, and ``ansible-playbook --syntax-check`` (parses, touches no host) runs the
    venv's own. Returns ``bin_dir``."""
    if bin_dir.is_dir():
        return bin_dir
    bin_dir.mkdir()
    passthrough = ""
    if syntax_check_from is not None:
        for tool in syntax_check_from.iterdir():
            if tool.name not in FENCED_TOOLS:
                (bin_dir / tool.name).symlink_to(tool)
        real = syntax_check_from / "ansible-playbook"
        passthrough = f'case " $* " in *" --syntax-check "*) exec {real} "$@" ;; esac\n'
    for tool in FENCED_TOOLS:
        stub = bin_dir / tool
        allowed = passthrough if tool == "ansible-playbook" else ""
        stub.write_text(f'#!/bin/sh\n{allowed}echo "{tool} $*" >> {calls}\nexit 97\n')
        stub.chmod(0o755)
    return bin_dir


def fence_calls(calls: Path) -> str:
    """What got past the fence (empty: nothing)."""
    return calls.read_text() if calls.exists() else ""
