"""The URL of a merge request's review environment, as infra's Ansible variables define it.

Rather than copying infra's naming rules, ask Ansible to render ``swarmops_public_url`` for the review
inventory (``SWARMOPS_REVIEW_ENV_PREFIX=test-``, as for infra/review.sh, names the test suite's
test-review namespace and its domain). The result goes into
a dotenv file that GitLab turns into the environment's URL (``environment:url: $REVIEW_URL``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ci.errors import CIError

ANSIBLE_DIR = Path(__file__).resolve().parents[1] / "infra" / "ansible"


def _ansible() -> str:
    local = Path(sys.executable).with_name("ansible")
    found = str(local) if local.exists() else shutil.which("ansible")
    if not found:
        raise CIError("ansible not found: install the dev dependencies (pip install -e '.[dev]')")
    return found


def review_url(mr: int, ansible_dir: Path = ANSIBLE_DIR) -> str:
    """``swarmops_public_url`` of review environment ``mr`` (rendered by Ansible, nothing deployed)."""
    if mr < 1:
        raise CIError(f"MR must be a merge request number >= 1, got {mr}")
    prefix = os.environ.get("SWARMOPS_REVIEW_ENV_PREFIX", "")
    if prefix not in ("", "test-"):
        raise CIError(f"SWARMOPS_REVIEW_ENV_PREFIX={prefix!r}: use nothing or test- (as infra/review.sh)")
    inventory = ansible_dir / "inventories" / "review" / "hosts.yml"
    if not inventory.is_file():
        raise CIError(f"review inventory {inventory} does not exist")
    cmd = [_ansible(), "swarmops", "-i", str(inventory), "--playbook-dir", str(ansible_dir),
           "-e", f"swarmops_review_mr={mr}", "-e", f"swarmops_review_namespace={prefix}review",
           "-m", "ansible.builtin.debug", "-a", "var=swarmops_public_url"]
    password = Path(os.environ.get("SWARMOPS_VAULT_PASSWORD_FILE")
                    or Path.home() / ".swarmops" / "vault-password")
    if password.is_file():  # the review vault (infra/review.sh creates both) is encrypted with it
        cmd += ["--vault-password-file", str(password)]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ansible_dir / "ansible.cfg"),
           "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(cmd, cwd=ansible_dir, env=env, capture_output=True, text=True, timeout=300)
    try:
        # the review inventory has one host (the review host); debug runs on the controller, no SSH
        [result] = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"].values()
        url = result["swarmops_public_url"]
    except (ValueError, KeyError, IndexError):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CIError(f"could not render swarmops_public_url for review-{mr} with ansible: {last}") from None
    if not isinstance(url, str) or not url.startswith("https://") or "VARIABLE IS NOT DEFINED" in url:
        raise CIError(f"review-{mr}: swarmops_public_url is not an https URL: {url!r}")
    return url
