"""Anonymous-access matrix of a deployed environment: every TCP socket listening on the environment's
address is probed by an unprivileged local user (`nobody`, no credentials): GET of a path that reads data
of that service (PATHS; / for anything else) over https, then http.

Every socket must answer 401/403 or not speak HTTP at all (PostgreSQL): no service of an environment
trusts loopback. The test prints the matrix that docs/environments.md and the README show. With the
monitoring role deployed, it also needs every monitoring port to be among the listening sockets, so a
daemon that failed to start cannot pass as "closed"."""
from __future__ import annotations

import json
import os
import pwd
import subprocess
from typing import Any

import pytest

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]

MONITORING = {"monitoring_prometheus", "monitoring_alertmanager", "monitoring_pushgateway",
              "monitoring_node_exporter", "monitoring_postgres_exporter", "monitoring_blackbox_exporter"}
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


def test_every_listening_socket_refuses_anonymous_requests(test_env_a: Env, tools: Any) -> None:
    address = test_env_a["address"]
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    ports = sorted({int(ln.split()[3].rpartition(":")[2]) for ln in listening.splitlines()
                    if ln.split()[3].rpartition(":")[0] == address})
    assert ports, f"nothing listens on {address}"
    names = {p: n.removesuffix("_port") for n, p in test_env_a["ports"].items()}
    names.setdefault(test_env_a["ports"]["nginx_port"] + 45, "monitoring_blackbox_exporter")
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
    expected = {"nginx", "postgres", "mlflow", "jupyterhub", "jupyterhub_hub", "jupyterhub_proxy_api"}
    if tools.monitoring_enabled():
        expected |= MONITORING
    assert expected <= matrix.keys(), f"not listening: {expected - matrix.keys()}\n{table}"
    assert matrix["postgres"][2] == "no-http" and matrix["sshd"][2] == "no-http"
    opened = {n: a for n, (_, a, c) in matrix.items() if c not in ("refused", "no-http")}
    assert opened == {}, f"anonymous access: {opened}\n{table}"


def test_every_daemon_runs_as_its_own_user_and_reads_only_its_own_secrets(test_env_a: Env,
                                                                          tools: Any) -> None:
    if not tools.monitoring_enabled():
        pytest.skip("the monitoring role is not deployed in this session")
    conf = str(test_env_a["prefix"] / "etc/supervisord.conf")

    def owner(program: str) -> str:
        pid = tools.run(["supervisorctl", "-c", conf, "pid", program]).stdout.strip()
        return pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name

    mlflow_user = f"swarmops-{test_env_a['name']}"
    daemons = {"prometheus": "prom", "alertmanager": "am", "pushgateway": "pgw", "node-exporter": "node",
               "postgres-exporter": "pgx", "blackbox-exporter": "bbx"}
    owners = {program: owner(program) for program in ("mlflow", *daemons)}
    assert owners == {"mlflow": mlflow_user, **{p: f"{mlflow_user}-{s}" for p, s in daemons.items()}}

    etc = test_env_a["prefix"] / "etc"
    # secret -> the one user that must read it; every other service user must get "Permission denied"
    readers = {etc / "monitoring/postgres-exporter.password": owners["postgres-exporter"],
               etc / "monitoring/scrape.password": owners["prometheus"],
               etc / "monitoring/alertmanager.yml": owners["alertmanager"],
               etc / "monitoring/web-pushgateway.yml": owners["pushgateway"],
               etc / "mlflow-auth.ini": mlflow_user, etc / "mlflow.env": mlflow_user}
    for secret, reader in readers.items():
        for user in owners.values():
            res = subprocess.run(["runuser", "-u", user, "--", "cat", str(secret)], capture_output=True,
                                 text=True, timeout=30)
            if user == reader:
                assert res.returncode == 0, f"{user} cannot read its own {secret}: {res.stderr}"
            else:
                assert res.returncode != 0 and "Permission denied" in res.stderr, f"{user} reads {secret}"
