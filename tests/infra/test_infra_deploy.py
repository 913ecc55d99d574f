"""Test env A deployed from scratch by Ansible, idempotent on the second run, and verified by testinfra."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def test_first_deploy_succeeds_and_changes_things(test_env_a: Env, tools: Any) -> None:
    counts = tools.recap(test_env_a["first"])
    assert counts["failed"] == 0 and counts["unreachable"] == 0
    print(f"{test_env_a['name']} deploy: first {test_env_a['first_s']:.0f}s, "
          f"second {test_env_a['second_s']:.0f}s")


def test_second_deploy_changes_nothing(test_env_a: Env, tools: Any) -> None:
    counts = tools.recap(test_env_a["second"])
    task, changed = "", []
    for line in test_env_a["second"].splitlines():
        task = line if line.startswith(("TASK [", "RUNNING HANDLER [")) else task
        changed += [task] if line.startswith("changed:") else []
    assert counts["changed"] == 0, f"second run changed {counts['changed']} tasks: {changed}"


def test_release_is_recorded(test_env_a: Env) -> None:
    rec = yaml.safe_load((test_env_a["prefix"] / "state/release.yml").read_text())
    assert rec["swarmops_project_ref"] == test_env_a["vault_env"]["SWARMOPS_PROJECT_REF"]
    release = yaml.safe_load((Path(__file__).parents[2] / "infra/ansible/release.yml").read_text())
    assert rec["swarmops_release"] == release["swarmops_release"]
    assert len(rec["swarmops_release_id"]) == 16


def test_verify_suite_passes_and_stamps_the_release(test_env_a: Env, tools: Any) -> None:
    stamp = test_env_a["prefix"] / "state/verified.yml"
    stamp.unlink(missing_ok=True)
    res = tools.run(["bash", "infra/verify.sh", test_env_a["name"]], env=test_env_a["vault_env"])
    assert "verified" in res.stdout
    suite = ET.parse(test_env_a["prefix"] / "state/verify-junit.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert int(suite.get("tests")) >= 9 and int(suite.get("failures")) == 0 and int(suite.get("errors")) == 0
    assert int(suite.get("skipped")) == 0
    rec = yaml.safe_load((test_env_a["prefix"] / "state/release.yml").read_text())
    assert yaml.safe_load(stamp.read_text())["swarmops_release_id"] == rec["swarmops_release_id"]
    assert not (test_env_a["prefix"] / "state/verify-context.json").exists(), "secrets context left behind"


VENV_PATH = re.compile(r"/opt/swarmops/venvs/[A-Za-z0-9._-]+")


def _venvs_in_use(prefix: Path) -> set[Path]:
    """Venvs named by the environment's configuration, launchers and kernel spec, and their .pth links."""
    files = [f for d in ("etc", "bin", "jupyter") if (prefix / d).exists()
             for f in (prefix / d).rglob("*") if f.is_file()]
    found = {Path(p) for f in files for p in VENV_PATH.findall(f.read_text(errors="ignore"))}
    # the kernel's project layer sees its dependency layer through a .pth file
    for venv in list(found):
        for pth in venv.glob("lib/python3*/site-packages/*.pth"):
            found |= {Path(p) for p in VENV_PATH.findall(pth.read_text(errors="ignore"))}
    return found


def test_venvs_were_built_without_root_and_only_root_can_change_them(test_env_a: Env) -> None:
    """pip runs the code it installs: the environment's build user ran it, and it owns nothing after."""
    builder = f"swarmops-{test_env_a['name']}-bld"
    venvs = _venvs_in_use(test_env_a["prefix"])
    assert {v.name.rsplit("-", 1)[0] for v in venvs} >= {"mlflow", "jupyterhub", "kernel-deps"}, venvs
    for venv in venvs:
        assert (venv / ".complete").is_file(), venv
        # shared by the host's environments: built by whichever environment needed it first
        assert re.fullmatch(r"swarmops-[a-z0-9-]+-bld", (venv / ".built-by").read_text().strip()), venv
        writable = []
        for root, dirs, names in os.walk(venv):
            for path in [Path(root, n) for n in dirs + names]:
                st = path.lstat()
                if not stat.S_ISLNK(st.st_mode) and (st.st_uid != 0 or st.st_mode & 0o022):
                    writable.append(path)
        assert not writable, f"{venv}: not root-only writable: {writable[:5]}"
    leftover = subprocess.run(["pgrep", "-u", builder], capture_output=True, text=True)
    assert leftover.returncode == 1, f"{builder} still runs processes: {leftover.stdout.split()}"
