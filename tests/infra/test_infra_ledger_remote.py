"""The ledger from another host, as a team's GPU runner logs training to it: only the networks listed in
postgres_remote_clients get in, only to the ledger, only over TLS with the cluster's pinned certificate.

Every 127/8 connection on this machine leaves from 127.0.0.1 (samehost), so the "other hosts" are
relays whose outgoing socket is bound to another source address: 127.0.1.250 is listed in the test
inventory (the runner), 127.0.1.251 is not."""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import psycopg2
import pytest

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]

RUNNER, STRANGER = "127.0.1.250", "127.0.1.251"


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def relay_from(source: str, target: tuple[str, int]) -> Iterator[int]:
    """A TCP relay on 127.0.0.1:<port> whose connections reach ``target`` from address ``source``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(target, timeout=10, source_address=(source, 0))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield port
    finally:
        listener.close()


def _connect(port: int, password: str, database: str = "ledger", user: str = "ledger",
             **ssl: str) -> Any:
    """psycopg2 connection through a relay; the name checked against the certificate is localhost."""
    return psycopg2.connect(host="localhost", hostaddr="127.0.0.1", port=port, dbname=database, user=user,
                            password=password, connect_timeout=10, **ssl)


def test_ledger_accepts_a_listed_runner_host_over_tls_only(test_env_a: Env) -> None:
    target = (test_env_a["address"], test_env_a["ports"]["postgres_port"])
    secret = test_env_a["vault"]
    password = secret["vault_postgres_ledger_password"]
    cert = test_env_a["prefix"] / "postgres.crt"
    assert oct(cert.stat().st_mode & 0o777) == "0o644"  # public: clients pin it
    pinned = {"sslmode": "verify-full", "sslrootcert": str(cert)}

    with relay_from(RUNNER, target) as port:
        refused = f'no pg_hba.conf entry for host "{RUNNER}", user "ledger", database "ledger", no encryption'
        with pytest.raises(psycopg2.OperationalError, match=refused):
            _connect(port, password, sslmode="disable")
        conn = _connect(port, password, **pinned)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                encrypted, version = cur.fetchone()
                cur.execute("SELECT inet_client_addr()::text")
                client = cur.fetchone()[0]
        finally:
            conn.close()
        assert encrypted and version in ("TLSv1.2", "TLSv1.3") and client == f"{RUNNER}/32"
        # only the ledger is remote: MLflow's database stays with the host's own services
        with pytest.raises(psycopg2.OperationalError, match="no pg_hba.conf entry"):
            _connect(port, secret["vault_postgres_mlflow_password"], database="mlflow", user="mlflow",
                     **pinned)
        # a certificate that is not the cluster's (the front door's) is refused by the client
        with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
            _connect(port, password, sslmode="verify-full",
                     sslrootcert=str(test_env_a["prefix"] / "nginx/server.crt"))

    with relay_from(STRANGER, target) as port:
        with pytest.raises(psycopg2.OperationalError, match=f'no pg_hba.conf entry for host "{STRANGER}"'):
            _connect(port, password, **pinned)


def test_bad_remote_client_list_is_refused_in_one_line(test_env_a: Env, tools: Any) -> None:
    proc = tools.run(["bash", "infra/deploy.sh", test_env_a["name"], "-e", test_env_a["monitoring_flag"],
                      "-e", '{"postgres_remote_clients": ["0.0.0.0/0"]}', "--tags", "preflight"],
                     env=test_env_a["vault_env"], check=False)
    assert proc.returncode != 0
    assert 'postgres_remote_clients=["0.0.0.0/0"] must be a list of IPv4 networks' in proc.stdout, \
        proc.stdout[-3000:]
    assert Path(test_env_a["prefix"] / "postgres.crt").is_file()
