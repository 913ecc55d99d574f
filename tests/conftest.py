"""Shared fixtures: a real, throw-away PostgreSQL server for the tests that need one.

The server is Debian's PostgreSQL 15, started by this fixture on a free loopback port in a
temporary directory (initdb refuses to run as root, hence ``runuser -u postgres``).
Set SWARMOPS_TEST_PG_URL to an admin URL to use an existing server instead.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest

PG_BIN = Path(os.environ.get("SWARMOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_ADMIN_PASSWORD = "swarmops-test-admin"  # throw-away server on loopback, gone after the session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """Admin URL (postgresql+psycopg2://) of a PostgreSQL server running for this test session."""
    if os.environ.get("SWARMOPS_TEST_PG_URL"):
        yield os.environ["SWARMOPS_TEST_PG_URL"]
        return
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (run scripts/bootstrap.sh)")
    workdir = Path(tempfile.mkdtemp(prefix="swarmops-pg-"))
    workdir.chmod(0o777)
    datadir, pwfile = workdir / "data", workdir / "pw"
    pwfile.write_text(PG_ADMIN_PASSWORD)
    pwfile.chmod(0o644)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(datadir), "-U", "postgres",
                                 "-A", "scram-sha-256", f"--pwfile={pwfile}"]),
                   check=True, capture_output=True)
    opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-o", opts,
                                 "-l", str(workdir / "log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://postgres:{PG_ADMIN_PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


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
