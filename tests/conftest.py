"""Shared fixtures: a real, throw-away PostgreSQL server for the tests that need one; and the grouping
of tests that share an expensive fixture onto one pytest-xdist worker (`make test` runs two).

The server is Debian's PostgreSQL 15, started by this fixture on a free loopback port in a
temporary directory (swarmops/pgtemp.py, shared with the reliability drills).
Set SWARMOPS_TEST_PG_URL to an admin URL to use an existing server instead.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest


# Session fixtures worth building once per run: every test using one runs on the same xdist worker.
SHARED_SESSION_FIXTURES = ("smoke_pipeline", "watering_pipeline", "rendered_staging")
# Fixtures of the test environments deployed on this host (tests/infra/conftest.py): the tests that use
# them share one group, in collection order, so one worker deploys them once and test_zz_sentinel (which
# checks that nothing touched the real environments) runs after all of them.
INFRA_HOST_FIXTURES = ("sentinel", "vault_env", "test_env_a")
# The review tests' own host session (tests/infra/conftest.py): apart from the deployment above, so the
# two groups can run on two workers at once.
INFRA_REVIEW_FIXTURE = "review_env"


def xdist_group_of(item: pytest.Item) -> str | None:
    """The xdist group of a test: the expensive fixture it shares with others, or None (any worker)."""
    names = tuple(getattr(item, "fixturenames", ()))
    if INFRA_REVIEW_FIXTURE in names and "vault_env" not in names:
        return "infra-review"
    if any(name in names for name in INFRA_HOST_FIXTURES):
        return "infra-hosts"
    for name in names:
        if name in SHARED_SESSION_FIXTURES:
            return name
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    for name in names:
        defs = definitions.get(name)
        if defs and defs[-1].scope == "module":  # one build per module: its tests stay together
            return f"{item.nodeid.split('::')[0]}::{name}"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its xdist group (`--dist loadgroup`); a module may set its own mark."""
    for item in items:
        group = None if item.get_closest_marker("xdist_group") else xdist_group_of(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


# Server variables a test must not inherit: with them unset, every store is embedded under runs_home.
ISOLATED_VARS = ("SWARMOPS_DB_URL", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "SWARMOPS_PUSHGATEWAY_URL",
                 "SWARMOPS_PUSHGATEWAY_USERNAME", "SWARMOPS_PUSHGATEWAY_PASSWORD", "SWARMOPS_ARTIFACT_ROOT")


@pytest.fixture
def runs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SWARMOPS_RUNS_DIR (embedded SQLite ledger and MLflow store); no server variables set."""
    for var in ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "runs"
    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(home))
    yield home


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """Admin URL (postgresql+psycopg2://) of a PostgreSQL server running for this test session."""
    from swarmops.pgtemp import PostgresUnavailable, throwaway_postgres

    if os.environ.get("SWARMOPS_TEST_PG_URL"):
        yield os.environ["SWARMOPS_TEST_PG_URL"]
        return
    try:
        with throwaway_postgres() as server:
            yield server.admin_url
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(pg_admin_url: str) -> Iterator[str]:
    """URL of a fresh, empty database on the session server; dropped after the test."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = pg_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_MLFLOW_URI_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@pytest.fixture(autouse=True)
def _isolate_mlflow_uris() -> Iterator[None]:
    """Undo MLflow's process-global URIs after each test.

    ``mlflow.set_tracking_uri`` / ``set_registry_uri`` also write MLFLOW_*_URI into os.environ, so a
    test that points MLflow at its own store would otherwise steer later tests and their subprocesses.
    """
    import sys

    saved = {name: os.environ.get(name) for name in _MLFLOW_URI_VARS}
    yield
    if "mlflow" in sys.modules:
        import mlflow

        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)  # clears MLflow's global; the loop below restores os.environ
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
