"""Fixtures for the pipeline tests: a throw-away git clone of the working tree for gitlab-ci-local."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
GITLAB_ORIGIN = "https://gitlab.example.com/swarmops/swarmops.git"
FEATURE_BRANCH = "feature/wider-fields"
# Variables of a real merge-request pipeline that gitlab-ci-local does not set by itself.
MR_VARS = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": FEATURE_BRANCH,
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@dataclass
class GitlabCiLocal:
    """gitlab-ci-local bound to one clone; ``home`` keeps the user's ~/.gitlab-ci-local out of it."""

    clone: Path
    home: Path
    mr_vars: dict[str, str]
    #: run gitlab-ci-local through this (e.g. RunnerUser.command: as an unprivileged user, clean env)
    runas: Callable[..., list[str]] | None = None

    def checkout(self, branch: str) -> None:
        """Switch the clone to ``branch`` (created from main if new)."""
        def git(*args: str) -> str:
            if self.runas is None:
                return _git(self.clone, *args)
            return subprocess.run(self.runas("git", *args), cwd=self.clone, check=True, capture_output=True,
                                  text=True).stdout

        known = git("branch", "--list", branch).strip()
        git("checkout", "-q", *([] if known else ["-b"]), branch)

    def run(self, *args: str, variables: dict[str, str] | None = None, unset: tuple[str, ...] = (),
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run gitlab-ci-local in the clone with ``--variable`` for each of ``variables``."""
        cmd = ["gitlab-ci-local", "--home", str(self.home), "--no-color"]  # --cwd must be relative: use cwd=
        for key, value in (variables or {}).items():
            cmd += ["--variable", f"{key}={value}"]
        for key in unset:
            cmd += ["--unset-variable", key]
        overridden = [k for k in (variables or {}) if k.startswith("CI_")]
        if overridden:
            cmd += ["--ignore-predefined-vars", ",".join(overridden)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GCL_", "GITLAB_", "CI_"))}
        if self.runas is not None:
            return subprocess.run(self.runas(*cmd, *args), cwd=self.clone, capture_output=True, text=True,
                                  timeout=timeout)
        return subprocess.run([*cmd, *args], cwd=self.clone, capture_output=True, text=True, timeout=timeout,
                              env=env)

    def jobs(self, variables: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> dict[str, dict]:
        """The pipeline's jobs with rules evaluated (``--list-json``), when:never ones left out."""
        # The schema is validated once (the `expanded` fixture); listing needs only the rules.
        proc = self.run("--list-json", "--no-json-schema-validation", variables=variables, unset=unset)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        return {job["name"]: job for job in json.loads(proc.stdout) if job["when"] != "never"}


def _copy_worktree(dest: Path) -> None:
    """Copy tracked and untracked-but-not-ignored files, i.e. what a push of this working tree holds."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=REPO, check=True, capture_output=True).stdout.decode()
    for rel in filter(None, listing.split("\0")):
        src = REPO / rel
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def make_clone(clone: Path) -> None:
    """A fresh git repository at ``clone`` holding this working tree on ``main``, origin a GitLab URL."""
    clone.mkdir()
    _copy_worktree(clone)
    _git(clone, "init", "-q", "-b", "main")
    _git(clone, "-c", "user.name=ci-test", "-c", "user.email=ci-test@example.com", "add", "-A")
    _git(clone, "-c", "user.name=ci-test", "-c", "user.email=ci-test@example.com",
         "commit", "-q", "-m", "pipeline under test")
    _git(clone, "remote", "add", "origin", GITLAB_ORIGIN)
    # gitlab-ci-local reads the default branch from origin/HEAD, as a real clone would have it.
    _git(clone, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(clone, "remote", "set-head", "origin", "main")


@pytest.fixture(scope="module")
def gcl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitlabCiLocal]:
    """A fresh git repository holding this working tree on ``main``, origin a GitLab-looking URL."""
    if shutil.which("gitlab-ci-local") is None:
        pytest.skip("gitlab-ci-local not installed (run scripts/bootstrap.sh)")
    base = tmp_path_factory.mktemp("gcl")
    clone, home = base / "swarmops", base / "home"
    home.mkdir()
    make_clone(clone)
    yield GitlabCiLocal(clone, home, dict(MR_VARS))
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def venv_dir() -> Path:
    """The virtualenv running these tests: handed to CI jobs as VENV so they skip the bootstrap."""
    return Path(sys.prefix)
