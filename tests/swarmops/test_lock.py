"""Pinned installs: requirements.lock agrees with pyproject.toml, the venv matches it, and no code imports
a dependency's private modules (the typer._click drift that broke the CLI's error path)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .conftest import REPO

pytestmark = pytest.mark.unit

LOCK = REPO / "requirements.lock"
OUR_PACKAGES = {"swarmops", "env", "training", "mission", "ci", "monitoring", "tests", "bench", "infra"}
REGENERATE = "pyproject.toml and requirements.lock disagree: run `make lock` and commit the lock"


def lock_pins(text: str) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, what it is required via)} from a uv/pip-tools lock file."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in text.splitlines():
        found = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if found:
            current = canonicalize_name(found.group(1))
            pins[current] = (found.group(2), [])
        elif current and line.strip().startswith("#"):
            via = line.strip().lstrip("#").strip().removeprefix("via").strip()
            if via:
                pins[current][1].append(via)
    return pins


def project_requirements() -> list[Requirement]:
    """Every requirement of pyproject.toml: dependencies and all optional extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_every_requirement_is_pinned_within_its_range() -> None:
    pins = lock_pins(LOCK.read_text())
    for req in project_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock. {REGENERATE}"
        version = pins[name][0]
        assert req.specifier.contains(Version(version), prereleases=True), (
            f"requirements.lock pins {req.name}=={version} outside pyproject's {req}. {REGENERATE}")


def test_every_direct_pin_is_still_a_requirement() -> None:
    direct = {canonicalize_name(r.name) for r in project_requirements()}
    for name, (_version, via) in lock_pins(LOCK.read_text()).items():
        if any(v.startswith("swarmops (pyproject.toml)") for v in via):
            assert name in direct, f"requirements.lock still pins {name} for pyproject. {REGENERATE}"


def test_the_lock_pins_torchs_cpu_build() -> None:
    version = lock_pins(LOCK.read_text())["torch"][0]
    assert version.endswith("+cpu"), f"torch=={version}: the lock must pin the CPU wheel (see GUIDE)"
    cuda = [n for n in lock_pins(LOCK.read_text()) if n.startswith("nvidia-")]
    assert not cuda, f"CUDA libraries in the lock: {cuda}"


def test_the_installed_environment_matches_the_lock() -> None:
    """The venv the tests run in was installed from the lock (scripts/bootstrap.sh): same versions."""
    wrong = []
    for name, (version, _via) in lock_pins(LOCK.read_text()).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # an extra that is not installed here (notebook)
        if Version(installed) != Version(version):
            wrong.append(f"{name} {installed} (lock {version})")
    assert not wrong, f"installed versions differ from requirements.lock: {', '.join(wrong)}; " \
                      "rerun scripts/bootstrap.sh --python-only"


def _python_files() -> list[Path]:
    skip = {".venv", "node_modules", ".git", ".dvc"}
    return [p for p in REPO.rglob("*.py") if not skip & set(p.relative_to(REPO).parts)]


def test_no_private_module_of_a_dependency_is_imported() -> None:
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top, *rest = name.split(".")
                if top not in OUR_PACKAGES and any(part.startswith("_") for part in rest):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} imports {name}")
    assert not offenders, "private modules of dependencies: " + "; ".join(offenders)


def test_bootstrap_installs_the_locked_torch_and_uv() -> None:
    """scripts/bootstrap.sh reads the versions it installs first from the lock (one source)."""
    import subprocess

    script = (REPO / "scripts" / "bootstrap.sh").read_text()
    assert '-c "$LOCK"' in script and "LOCK=requirements.lock" in script
    helper = script[script.index("LOCK=requirements.lock"):script.index("install_python() {")]
    pins = lock_pins(LOCK.read_text())
    for name in ("torch", "uv"):
        out = subprocess.run(["bash", "-c", f"{helper}\nlock_version {name}"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == pins[name][0]
