"""Fixtures of the verification suite of one deployed environment (run by infra/ansible/verify.yml).

verify.yml writes a 0600 JSON context (ports, paths, users and the secrets the checks need) and points
SWARMOPS_VERIFY_CONTEXT at it; these tests never read the vault themselves.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import testinfra


@pytest.fixture(scope="session")
def ctx() -> dict[str, Any]:
    """The deployed environment as verify.yml describes it."""
    path = os.environ.get("SWARMOPS_VERIFY_CONTEXT")
    if not path or not Path(path).is_file():
        pytest.exit("SWARMOPS_VERIFY_CONTEXT must name the JSON context written by verify.yml", returncode=2)
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="session")
def host() -> Any:
    """testinfra host: this machine (the environments live here)."""
    return testinfra.get_host("local://")
