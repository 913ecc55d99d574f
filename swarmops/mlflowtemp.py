"""A throw-away ``mlflow server`` for the drills: loopback, a free port, basic auth, stoppable.

The drills stop and start it to simulate an outage, so it runs in its own process group (MLflow's
server starts worker processes; the whole group is stopped). Basic auth (MLflow's ``basic-auth`` app,
its own user DB in the scratch folder, a random admin password) because every port is authenticated,
even a drill's; ``/health`` stays open, as on the environments' servers.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from swarmops.pgtemp import free_port

MLFLOW_BIN = Path(sys.executable).parent / "mlflow"


class ThrowawayMlflow:
    """``mlflow server`` on 127.0.0.1:<free port> with a given backend store and artifact folder."""

    def __init__(self, backend_uri: str, workdir: Path) -> None:
        self.backend_uri = backend_uri
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.secret_key = secrets.token_hex(16)  # CSRF key; the same across the drill's restarts
        self.proc: subprocess.Popen[bytes] | None = None
        auth = self.workdir / "basic_auth.ini"
        auth.write_text("[mlflow]\ndefault_permission = READ\n"
                        f"database_uri = sqlite:///{self.workdir / 'basic_auth.db'}\n"
                        f"admin_username = admin\nadmin_password = {self.password}\n"
                        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
        auth.chmod(0o600)

    @property
    def url(self) -> str:
        """The tracking URI clients use."""
        return f"http://127.0.0.1:{self.port}"

    def client_env(self) -> dict[str, str]:
        """Environment of a client of this server (URI and the admin's credentials)."""
        return {"MLFLOW_TRACKING_URI": self.url, "MLFLOW_TRACKING_USERNAME": "admin",
                "MLFLOW_TRACKING_PASSWORD": self.password}

    def start(self, timeout_s: float = 120) -> float:
        """Start the server and wait for /health; returns the seconds it took."""
        started = time.perf_counter()
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
               "MLFLOW_AUTH_CONFIG_PATH": str(self.workdir / "basic_auth.ini"),
               "MLFLOW_FLASK_SERVER_SECRET_KEY": self.secret_key}
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            env.pop(key, None)
        log = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [str(MLFLOW_BIN), "server", "--app-name", "basic-auth", "--backend-store-uri", self.backend_uri,
             "--artifacts-destination", str(self.workdir / "artifacts"), "--serve-artifacts",
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.proc.returncode}: "
                                   + self.log_tail())
            try:
                if requests.get(self.url + "/health", timeout=2).ok:
                    return time.perf_counter() - started
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"mlflow server not healthy after {timeout_s:.0f} s: {self.log_tail()}")

    def stop(self) -> None:
        """Stop the server's whole process group (SIGTERM, then SIGKILL after 20 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        try:  # workers of the group that outlived the leader
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 3) -> str:
        """The last lines of the server's log, for error messages."""
        path = self.workdir / "server.log"
        text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        return " | ".join(text[-lines:])
