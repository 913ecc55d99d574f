"""The sentinel's fingerprint (tests/infra/conftest.py), tested on test env A (throw-away): unchanged
between two reads of a running environment, and it sees a table, a role and a release file that
appear. File order puts it before test_infra_teardown.py, which removes env A."""
from __future__ import annotations

import subprocess
from typing import Any

import pytest

pytestmark = [pytest.mark.infra]


def _write_sql(env: dict[str, Any], sql: str) -> None:
    res = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                          "-h", str(env["prefix"] / "postgres/run"), "-p", str(env["ports"]["postgres_port"]),
                          "-d", "postgres", "-c", sql], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_the_fingerprint_sees_what_a_deploy_would_change(test_env_a: dict[str, Any], tools: Any) -> None:
    name = test_env_a["name"]
    before = tools.fingerprint(name)
    assert before["prefix"] and before["cluster"][1] == "online", before["cluster"]
    assert before["etc"] and before["state"] and before["roles"] and before["tables mlflow"]
    assert tools.fingerprint(name) == before, "the fingerprint of a running environment is not stable"
    extra = test_env_a["prefix"] / "state/sentinel-probe.yml"
    try:
        _write_sql(test_env_a, "CREATE TABLE sentinel_probe (x int); CREATE ROLE sentinel_probe")
        extra.write_text("probe: 1\n")
        changed = set(tools.fingerprint_changes(before, tools.fingerprint(name)))
        assert {"roles", "tables postgres", "state"} <= changed, changed
    finally:
        extra.unlink(missing_ok=True)
        _write_sql(test_env_a, "DROP TABLE IF EXISTS sentinel_probe; DROP ROLE IF EXISTS sentinel_probe")
    assert tools.fingerprint(name) == before
