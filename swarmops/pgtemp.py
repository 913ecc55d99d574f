"""A throw-away PostgreSQL server: Debian's PostgreSQL 15 in a temporary directory on a loopback port.

Used by the test fixtures (tests/conftest.py) and by the reliability drills, which need a server they
own so they can restart it. initdb/pg_ctl refuse to run as root, hence ``runuser -u postgres`` there.
Password authentication (scram-sha-256) even on loopback: other local users exist.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

PG_BIN = Path(os.environ.get("SWARMOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class ThrowawayPostgres:
    """One PostgreSQL server owned by this process: start, restart, stop (and its files removed)."""

    def __init__(self, password: str | None = None) -> None:
        if not (PG_BIN / "initdb").exists():
            raise PostgresUnavailable(f"PostgreSQL binaries not found in {PG_BIN} (run scripts/bootstrap.sh)")
        self.password = password or secrets.token_hex(16)
        self.workdir = Path(tempfile.mkdtemp(prefix="swarmops-pg-"))
        self.workdir.chmod(0o711)  # postgres must reach its data dir; nobody needs to list it
        self.datadir = self.workdir / "data"
        self.port = free_port()

    @property
    def admin_url(self) -> str:
        """postgresql+psycopg2:// URL of the superuser on the server's postgres database."""
        return f"postgresql+psycopg2://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), *args]),
                       check=True, capture_output=True, timeout=120)

    def start(self) -> "ThrowawayPostgres":
        """initdb (password auth only) and start on 127.0.0.1:port; waits until it accepts connections."""
        pwfile = self.workdir / "pw"
        pwfile.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(pwfile, "postgres")
        pwfile.chmod(0o600)
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                                     "-A", "scram-sha-256", f"--pwfile={pwfile}"]),
                       check=True, capture_output=True, timeout=120)
        pwfile.unlink()
        self._serve()
        return self

    def _serve(self) -> None:
        # -l: without a log file the postmaster would inherit (and hold open) our captured stdout.
        self._pg_ctl("-o", f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                           "-c max_connections=200", "-l", str(self.workdir / "log"), "-w", "start")

    def restart(self, down_until: Callable[[], bool] | None = None, max_down_s: float = 60.0) -> None:
        """Stop (fast: open connections are cut) and start again on the same port. ``down_until``: stay
        down until it returns True (polled every 0.2 s, at most ``max_down_s``), so that a client's
        write is sure to meet the outage however slowly the client runs."""
        if down_until is None:
            self._pg_ctl("-m", "fast", "-l", str(self.workdir / "log"), "-w", "restart")
            return
        self._pg_ctl("-m", "fast", "-w", "stop")
        deadline = time.monotonic() + max_down_s
        while not down_until() and time.monotonic() < deadline:
            time.sleep(0.2)
        self._serve()

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self.datadir.exists():
            try:
                self._pg_ctl("-m", "fast", "stop")
            except subprocess.CalledProcessError:
                pass  # already stopped
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A started ThrowawayPostgres, stopped and removed on exit."""
    server = ThrowawayPostgres()
    try:
        yield server.start()
    finally:
        server.stop()
