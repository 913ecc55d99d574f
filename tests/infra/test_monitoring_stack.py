"""The monitoring role deployed for real into a throw-away environment (`montest-<random>`, a free block
of 100 ports from 18000 up, prefix /opt/swarmops/montest-<random>), with short `for:`/intervals set
through the role's variables: all targets up, every dashboard expression returns data, stopping an
exporter makes its alert reach an Alertmanager webhook served by this test, a stale backup timestamp
fires the freshness alert, a critical alert silences the warning of the same service and pages the
(fake) Telegram API.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
import sqlalchemy as sa

from monitoring import grafana
from tests.monitoring.monitoring_testlib import VENV_BIN, ansible_playbook, failure_lines, make_inventory

pytestmark = [pytest.mark.infra, pytest.mark.slow]  # one real Ansible deployment + alert round trips


def _all_free(ports: range) -> bool:
    """Whether every port of ``ports`` can be bound on 127.0.0.1 now."""
    with contextlib.ExitStack() as held:
        try:
            for port in ports:
                held.enter_context(socket.socket()).bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_block() -> int:
    """The first block of 100 ports from 18000 up with none of its environment ports bound (127.0.0.1)."""
    for base in range(18000, 20000, 100):
        if _all_free(range(base, base + 46)):
            return base
    raise RuntimeError("no free block of 100 ports in 18000..19999")


# A name and ports of its own: two test sessions on one host never share (or tear down) one environment.
ENV = f"montest-{os.urandom(3).hex()}"
BASE = _free_port_block()
PREFIX = Path(f"/opt/swarmops/{ENV}")  # root-owned parent: never a predictable /tmp path
PORTS = {"nginx_port": BASE, "postgres_port": BASE + 10, "mlflow_port": BASE + 20,
         "jupyterhub_hub_port": BASE + 30, "jupyterhub_port": BASE + 31,
         "jupyterhub_proxy_api_port": BASE + 32,
         "monitoring_prometheus_port": BASE + 40, "monitoring_alertmanager_port": BASE + 41,
         "monitoring_pushgateway_port": BASE + 42, "monitoring_node_exporter_port": BASE + 43,
         "monitoring_postgres_exporter_port": BASE + 44, "monitoring_blackbox_exporter_port": BASE + 45}
PROM = f"http://127.0.0.1:{BASE + 40}/prometheus"
ALERTMANAGER = f"http://127.0.0.1:{BASE + 41}/alertmanager"
SUPERVISOR_CONF = PREFIX / "etc" / "supervisord.conf"
TEXTFILE = PREFIX / "node_exporter" / "textfile" / "backup.prom"
PLAYBOOK = Path(__file__).resolve().parents[1] / "monitoring" / "deploy_monitoring.yml"
TELEGRAM_TOKEN = "123456:montest-token"
# the daemons' basic-auth accounts (vault passwords of this throw-away environment)
SCRAPE = ("prometheus", "montest-scrape-" + os.urandom(8).hex())
PUSH = ("pusher", "montest-push-" + os.urandom(8).hex())
DAEMON_USERS = [f"swarmops-{ENV}-{s}" for s in ("prom", "am", "pgw", "node", "pgx", "bbx")]


class Receiver:
    """Loopback HTTP server: Alertmanager webhook (POST /alerts), fake Telegram Bot API
    (POST /bot<token>/sendMessage) and the health endpoints the blackbox exporter probes."""

    def __init__(self, port: int) -> None:
        self.webhooks: list[dict[str, Any]] = []
        self.telegram: list[dict[str, Any]] = []
        self.healthy = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output quiet
                pass

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if self.path.startswith("/bot"):  # Telegram getMe
                    bot = {"id": 1, "is_bot": True, "first_name": "t", "username": "montest_bot"}
                    return self._reply(200, {"ok": True, "result": bot})
                self._reply(200 if outer.healthy else 503, {"ok": outer.healthy})

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payload = json.loads(raw or b"{}") if b"{" in raw[:1] else dict(
                    p.split("=", 1) for p in raw.decode().split("&") if "=" in p)
                if self.path.startswith("/alerts"):
                    outer.webhooks.append(payload)
                    return self._reply(200, {})
                if self.path == f"/bot{TELEGRAM_TOKEN}/sendMessage":
                    outer.telegram.append(payload)
                    message = {"message_id": len(outer.telegram), "date": 0,
                               "chat": {"id": payload.get("chat_id")}}
                    return self._reply(200, {"ok": True, "result": message})
                self._reply(404, {"ok": False})

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every alert received on the webhook (optionally only with this status)."""
        return [a for p in self.webhooks for a in p.get("alerts", []) if status in (None, a["status"])]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port_in_range() -> int:
    """A free port for the receiver in the block's spare range (BASE + 51..99), from the top down."""
    for port in range(BASE + 99, BASE + 50, -1):
        if _all_free(range(port, port + 1)):
            return port
    raise RuntimeError(f"no free port in {BASE + 51}..{BASE + 99}")


def _supervisorctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["supervisorctl", "-c", str(SUPERVISOR_CONF), *args], capture_output=True,
                          text=True, timeout=60)


def _teardown_env() -> None:
    """Stop the environment's supervisord (and with it every program) and remove its files and user."""
    if SUPERVISOR_CONF.exists():
        _supervisorctl("shutdown")
        pidfile = PREFIX / "run" / "supervisord.pid"
        for _ in range(60):
            if not pidfile.exists():
                break
            time.sleep(0.5)
    shutil.rmtree(PREFIX, ignore_errors=True)
    for name in (*DAEMON_USERS, f"swarmops-{ENV}-mon", f"swarmops-{ENV}"):  # daemons', earlier, env user
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)


def _wait(check: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except requests.RequestException as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def _query(expr: str) -> list[dict[str, Any]]:
    reply = requests.get(f"{PROM}/api/v1/query", params={"query": expr}, timeout=10, auth=SCRAPE).json()
    assert reply["status"] == "success", reply
    return reply["data"]["result"]


def _write_backup_metrics(age_seconds: float, last_run_success: int) -> None:
    tmp = TEXTFILE.with_suffix(".tmp")  # node-exporter must never read a half-written file
    stamp = time.time() - age_seconds
    tmp.write_text(f'swarmops_backup_last_success_timestamp_seconds{{env="{ENV}"}} {stamp}\n'
                   f'swarmops_backup_last_run_success{{env="{ENV}"}} {last_run_success}\n')
    tmp.chmod(0o644)
    tmp.replace(TEXTFILE)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str) -> Iterator[Receiver]:
    """Deploy the monitoring role into the throw-away environment; yields the test's receiver."""
    receiver = Receiver(_free_port_in_range())
    hook = f"http://127.0.0.1:{receiver.server.server_port}"
    root = tmp_path_factory.mktemp("montest")
    pg = sa.make_url(pg_admin_url)
    # secrets travel the production way: an Ansible Vault file, password file generated now
    vault_password = root / "vault-password"
    vault_password.write_text(os.urandom(16).hex())
    vault = root / "vault.yml"
    vault.write_text(json.dumps({"vault_monitoring_webhook_url": f"{hook}/alerts",
                                 "vault_monitoring_telegram_bot_token": TELEGRAM_TOKEN,
                                 "vault_postgres_exporter_password": pg.password,
                                 "vault_monitoring_scrape_password": SCRAPE[1],
                                 "vault_monitoring_push_password": PUSH[1],
                                 "vault_monitoring_proxy_password": os.urandom(12).hex()}))
    encrypt = subprocess.run([str(VENV_BIN / "ansible-vault"), "encrypt", "--vault-password-file",
                              str(vault_password), str(vault)],
                             capture_output=True, text=True, timeout=60)
    assert encrypt.returncode == 0, encrypt.stderr
    inventory = make_inventory(root, None, {
        "swarmops_env": ENV, "swarmops_port_base": BASE, "swarmops_prefix": str(PREFIX), **PORTS,
        "monitoring_postgres_address": f"{pg.host}:{pg.port}",
        "monitoring_postgres_exporter_user": pg.username,
        "monitoring_telegram_api_url": hook,
        "monitoring_http_probes": [{"service": "mlflow", "url": f"{hook}/health"},
                                   {"service": "jupyterhub", "url": f"{hook}/hub/health"}],
        "monitoring_jupyterhub_metrics_url": "",
        # seconds instead of minutes, through the role's variables
        "monitoring_scrape_interval": "1s", "monitoring_evaluation_interval": "1s",
        "monitoring_alert_for_override": "2s", "monitoring_alertmanager_group_wait": "1s",
        "monitoring_alertmanager_group_interval": "1s", "monitoring_alertmanager_repeat_interval": "1h"})
    shutil.copy(vault, inventory.parent / "group_vars" / "swarmops" / "vault.yml")
    result = ansible_playbook(PLAYBOOK, inventory, vault_password_file=vault_password, timeout=400)
    try:
        assert result.returncode == 0, failure_lines(result)
        yield receiver
    finally:
        _teardown_env()
        receiver.close()


def test_all_targets_up(stack: Receiver) -> None:
    # every daemon asks for an account, loopback included; Prometheus scrapes with its own
    assert requests.get(f"{PROM}/api/v1/targets", timeout=10).status_code == 401

    def targets_up() -> list[dict[str, Any]] | None:
        reply = requests.get(f"{PROM}/api/v1/targets", timeout=10, auth=SCRAPE)
        active = reply.json()["data"]["activeTargets"]
        return active if active and all(t["health"] == "up" for t in active) else None

    active = _wait(targets_up, 60, "every target up")
    jobs = sorted(t["labels"]["job"] for t in active)
    assert jobs == ["alertmanager", "blackbox-exporter", "blackbox-http", "blackbox-http", "node",
                    "postgres", "prometheus", "pushgateway"]
    assert all(t["labels"]["service"] for t in active)
    assert _query("pg_up") and float(_query("pg_up")[0]["value"][1]) == 1.0
    for conf in (PREFIX / "etc" / "monitoring" / "alertmanager.yml",
                 PREFIX / "etc" / "monitoring" / "postgres-exporter.password"):
        assert conf.stat().st_mode & 0o777 == 0o640


def test_rules_deployed_with_short_for(stack: Receiver) -> None:
    groups = requests.get(f"{PROM}/api/v1/rules", timeout=10, auth=SCRAPE).json()["data"]["groups"]
    alerts = [r for g in groups for r in g["rules"] if r["type"] == "alerting"]
    assert len(alerts) >= 20 and {r["duration"] for r in alerts} == {2}


def test_every_dashboard_expression_returns_data(stack: Receiver) -> None:
    from training.tracking import PushgatewayReporter

    _write_backup_metrics(age_seconds=3600, last_run_success=1)
    # a training job reports through training's own reporter, as `swarmops train` does
    gateway = f"127.0.0.1:{PORTS['monitoring_pushgateway_port']}"
    reporter = PushgatewayReporter("montest-run", "recon", url=gateway, username=PUSH[0], password=PUSH[1])
    reporter.push({"agent_steps_per_second": 12000.0, "episode_reward": 3.5, "coverage": 0.8, "loss": 0.1,
                   "timesteps_total": 4096})
    exprs = grafana.promql_expressions(grafana.infrastructure_dashboard())

    def missing() -> list[str]:
        return [e for e in exprs if not _query(e)]

    try:
        _wait(lambda: not missing(), 30, "data for every dashboard expression")
    except AssertionError:
        pytest.fail(f"no data for {missing()}")


def test_stopped_exporter_alerts_the_webhook(stack: Receiver) -> None:
    assert _supervisorctl("stop", "node-exporter").returncode == 0
    try:
        def node_down(status: str) -> dict[str, Any] | None:
            return next((a for a in stack.alerts(status) if a["labels"]["alertname"] == "TargetDown"
                         and a["labels"].get("job") == "node"), None)

        alert = _wait(lambda: node_down("firing"), 60, "TargetDown on the webhook")
        assert alert["labels"]["env"] == ENV and alert["labels"]["severity"] == "warning"
        assert alert["labels"]["service"] == "host"
        assert "node target" in alert["annotations"]["summary"]
    finally:
        assert _supervisorctl("start", "node-exporter").returncode == 0
    _wait(lambda: node_down("resolved"), 60, "TargetDown resolved")


def test_stale_backup_fires_the_freshness_alert(stack: Receiver) -> None:
    _write_backup_metrics(age_seconds=27 * 3600, last_run_success=1)
    alert = _wait(lambda: next((a for a in stack.alerts("firing")
                                if a["labels"]["alertname"] == "BackupOverdue"), None),
                  60, "BackupOverdue on the webhook")
    assert alert["labels"]["env"] == ENV and alert["labels"]["service"] == "backup"
    assert "1d 3h" in alert["annotations"]["summary"]
    assert not any(a["labels"]["alertname"] == "BackupOverdueCritical" for a in stack.alerts())
    _write_backup_metrics(age_seconds=60, last_run_success=1)


def test_critical_silences_warning_of_same_service_and_pages(stack: Receiver) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    common = {"env": ENV, "service": "inhibit-check", "team": "platform"}
    alerts = [{"labels": {**common, "alertname": f"Inhibit{name}", "severity": name.lower()}, "startsAt": now,
               "annotations": {"summary": f"{name.lower()} side"}} for name in ("Critical", "Warning")]
    posted = requests.post(f"{ALERTMANAGER}/api/v2/alerts", json=alerts, timeout=10, auth=SCRAPE)
    assert posted.status_code == 200

    def states() -> dict[str, dict[str, Any]] | None:
        got = requests.get(f"{ALERTMANAGER}/api/v2/alerts", params={"filter": 'service="inhibit-check"'},
                           timeout=10, auth=SCRAPE).json()
        by_name = {a["labels"]["alertname"]: a["status"] for a in got}
        return by_name if len(by_name) == 2 and by_name["InhibitWarning"]["inhibitedBy"] else None

    status = _wait(states, 30, "the warning inhibited")
    assert status["InhibitWarning"]["state"] == "suppressed"
    assert status["InhibitCritical"]["state"] == "active"
    page = _wait(lambda: next((m for m in stack.telegram if "InhibitCritical" in json.dumps(m)), None), 30,
                 "the critical alert on the Telegram API")
    assert str(page["chat_id"]) == "-1001000000001"  # the platform team's chat
    time.sleep(3)  # group_wait/interval are 1 s: a leaked warning would have arrived by now
    names = {a["labels"]["alertname"] for a in stack.alerts()}
    assert "InhibitCritical" in names and "InhibitWarning" not in names
