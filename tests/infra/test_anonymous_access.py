"""Anonymous-access matrix of a deployed environment: every TCP socket listening on the environment's
address is probed by an unprivileged local user (`nobody`, no credentials): GET of a path that reads data
of that service (PATHS; / for anything else) over https, then http.

Issue 11 asks for 401/403 (or no HTTP at all) everywhere. That is not done yet for the daemons behind
nginx, so the test pins the CURRENT matrix instead: a socket that answers anonymously must be listed in
KNOWN_OPEN (docs/environments.md shows the same table), a new anonymous socket fails the test, and an entry
of KNOWN_OPEN that became closed fails it too (so the list only shrinks, and stays exact)."""
from __future__ import annotations

import json
import os
import pwd
import subprocess
from typing import Any

import pytest

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]

# service -> why it still answers anonymously (open work of issue 11, see docs/environments.md)
KNOWN_OPEN = {
    "mlflow": "MLflow without its basic-auth app, bound to the env address",
    "monitoring_prometheus": "no --web.config.file yet (lifecycle endpoints are off)",
    "monitoring_alertmanager": "no --web.config.file yet",
    "monitoring_pushgateway": "no --web.config.file yet",
    "monitoring_node_exporter": "no --web.config.file yet",
    "monitoring_postgres_exporter": "no --web.config.file yet",
    "monitoring_blackbox_exporter": "no --web.config.file yet",
}
# service -> a path that reads its data (what an intruder would ask for)
PATHS = {
    "nginx": "/api/2.0/mlflow/experiments/search?max_results=1",
    "mlflow": "/api/2.0/mlflow/experiments/search?max_results=1",
    "jupyterhub": "/hub/api/users",
    "jupyterhub_hub": "/hub/api/users",
    "jupyterhub_proxy_api": "/api/routes",
    "monitoring_prometheus": "/prometheus/api/v1/status/config",
    "monitoring_alertmanager": "/alertmanager/api/v2/silences",
    "monitoring_pushgateway": "/api/v1/metrics",
    "monitoring_node_exporter": "/metrics",
    "monitoring_postgres_exporter": "/metrics",
    "monitoring_blackbox_exporter": "/metrics",
}
PROBE = r"""
import http.client, json, socket, ssl, sys
host, probes = sys.argv[1], json.loads(sys.argv[2])
out = {}
for port, path in probes:
    res = "no HTTP"
    for scheme in ("https", "http"):
        try:
            if scheme == "https":
                ctx = ssl.create_default_context()
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
                c = http.client.HTTPSConnection(host, port, timeout=5, context=ctx)
            else:
                c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", path)
            r = c.getresponse()
            res = f"{scheme} {r.status} {r.getheader('Location') or ''}".strip()
            break
        except (ssl.SSLError, http.client.HTTPException, ConnectionError, socket.timeout, OSError):
            continue
    out[str(port)] = res
print(json.dumps(out))
"""


def _classify(answer: str) -> str:
    """refused (401/403), login (redirect to a login page), no-http, or open (any other answer)."""
    if answer == "no HTTP":
        return "no-http"
    status = int(answer.split()[1])
    if status in (401, 403):
        return "refused"
    if 300 <= status < 400 and "login" in answer.split(" ", 2)[-1]:
        return "login"
    return "open"


def test_every_listening_socket_refuses_anonymous_requests(staging: Env, tools: Any) -> None:
    address = staging["address"]
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    ports = sorted({int(ln.split()[3].rpartition(":")[2]) for ln in listening.splitlines()
                    if ln.split()[3].rpartition(":")[0] == address})
    assert ports, f"nothing listens on {address}"
    names = {p: n.removesuffix("_port") for n, p in staging["ports"].items()}
    names.setdefault(staging["ports"]["nginx_port"] + 45, "monitoring_blackbox_exporter")
    names.setdefault(22, "sshd")  # the test host's sshd (key-only login of the deploy user)
    probes = [[p, PATHS.get(names.get(p, ""), "/")] for p in ports]
    res = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", PROBE, address,
                          json.dumps(probes)], capture_output=True, text=True, timeout=120, check=True)
    answers = json.loads(res.stdout)
    matrix = {names.get(p, f"unknown:{p}"): (p, answers[str(p)], _classify(answers[str(p)])) for p in ports}
    table = "\n".join(f"| {n} | {address}:{p} {PATHS.get(n, '/')} | {a} | {c} |"
                      for n, (p, a, c) in sorted(matrix.items()))
    print(f"\n| service | anonymous GET | answer | verdict |\n|---|---|---|---|\n{table}")
    assert not [n for n in matrix if n.startswith("unknown:")], f"sockets outside the port layout: {matrix}"
    assert matrix["nginx"][2] == "refused" and matrix["postgres"][2] == "no-http"
    assert matrix["sshd"][2] == "no-http"
    opened = {n for n, (_, _, c) in matrix.items() if c in ("open", "login")}
    assert opened - KNOWN_OPEN.keys() == set(), f"new anonymous access: {opened - KNOWN_OPEN.keys()}\n{table}"
    closed = {n for n in KNOWN_OPEN if n in matrix} - opened
    assert closed == set(), f"now closed, remove from KNOWN_OPEN and the docs: {closed}"


def test_mlflow_and_the_monitoring_daemons_run_as_separate_users(staging: Env, tools: Any) -> None:
    if not tools.monitoring_enabled():
        pytest.skip("the monitoring role is not deployed in this session")
    conf = str(staging["prefix"] / "etc/supervisord.conf")

    def owner(program: str) -> str:
        pid = tools.run(["supervisorctl", "-c", conf, "pid", program]).stdout.strip()
        return pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name

    mlflow_user = f"swarmops-{staging['name']}"
    assert owner("mlflow") == mlflow_user
    assert {owner(p) for p in ("prometheus", "alertmanager", "pushgateway", "postgres-exporter")} \
        == {f"{mlflow_user}-mon"}
    secret = staging["prefix"] / "etc/monitoring/postgres-exporter.password"
    res = subprocess.run(["runuser", "-u", mlflow_user, "--", "cat", str(secret)], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode != 0 and "Permission denied" in res.stderr, "MLflow's user reads it"
