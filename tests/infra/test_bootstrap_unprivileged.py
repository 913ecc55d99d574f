"""scripts/bootstrap.sh without root: names exactly the missing system packages and exits 1; installs
nothing. Runs the real script as user `nobody`, with a stub dpkg-query deciding what is "installed"."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
STUB = """#!/bin/sh
# dpkg-query -W -f=FMT PKG: 'installed' unless PKG is listed in $MISSING_PKGS
for last; do :; done
case " $MISSING_PKGS " in *" $last "*) exit 1 ;; esac
printf 'install ok installed'
"""


@pytest.fixture()
def sandbox() -> Iterator[Path]:
    """A world-readable copy of the script plus stub commands (pytest's tmp_path is private to root)."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root to run the script as the unprivileged user nobody (runuser)")
    root = Path(tempfile.mkdtemp(prefix="swarmops-bootstrap-"))
    (root / "scripts").mkdir()
    shutil.copy(REPO / "scripts/bootstrap.sh", root / "scripts/bootstrap.sh")
    stubs = root / "bin"
    stubs.mkdir()
    for name, body in {"dpkg-query": STUB, "gitlab-ci-local": "#!/bin/sh\n",
                       "configurable-http-proxy": "#!/bin/sh\n"}.items():
        (stubs / name).write_text(body)
        (stubs / name).chmod(0o755)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _bootstrap(root: Path, missing: str) -> subprocess.CompletedProcess:
    path = f"{root / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin"
    return subprocess.run(["runuser", "-u", "nobody", "--", "env", f"PATH={path}", f"MISSING_PKGS={missing}",
                           "bash", str(root / "scripts/bootstrap.sh"), "--system-only"],
                          capture_output=True, text=True, timeout=60)


def test_without_root_missing_packages_are_named_and_nothing_installed(sandbox: Path) -> None:
    res = _bootstrap(sandbox, "restic nginx")
    assert res.returncode == 1, res.stderr
    assert "not root" in res.stderr
    listed = res.stderr.split("--no-install-recommends", 1)[1].split("\n", 1)[0].split()
    assert sorted(listed) == ["nginx", "restic"]  # exactly the missing ones, no more
    assert "apt installing" not in res.stdout


def test_without_root_nothing_missing_is_a_no_op(sandbox: Path) -> None:
    res = _bootstrap(sandbox, "")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""


def test_unknown_option_is_a_usage_error() -> None:
    res = subprocess.run(["bash", str(REPO / "scripts/bootstrap.sh"), "--bogus"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 2 and "unknown option '--bogus'" in res.stderr
