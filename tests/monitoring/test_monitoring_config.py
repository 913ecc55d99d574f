"""The staging monitoring configuration as the role renders it: Prometheus scrapes only loopback
targets of its environment, Alertmanager routes by severity and team (amtool), inhibits warnings under
a critical alert of the same service, and carries its secrets only in the rendered 0640 files."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.monitoring.conftest import ALL_ROOT, RENDER_PLAYBOOK, TEST_SECRETS
from tests.monitoring.monitoring_testlib import (ANSIBLE_DIR, MONITORING_DIR, REPO, alert_rules,
                                                 ansible_playbook, load_yaml, make_inventory)

pytestmark = pytest.mark.unit

# the ports of every environment (staging's included): the one layout of group_vars/all/ports.yml
_LAYOUT = load_yaml(ANSIBLE_DIR / "group_vars/all/ports.yml")
_BASE = int(_LAYOUT.pop("swarmops_port_base"))
STAGING_PORTS = {name: _BASE + int(re.search(r"\+ (\d+)", offset).group(1))
                 for name, offset in _LAYOUT.items()}
EXPECTED_RECEIVERS = {"critical": "{team}-telegram", "warning": "{team}-email"}


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_promtool_check_config(rendered_staging: Path) -> None:
    result = _run("promtool", "check", "config", str(rendered_staging / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout + result.stderr


def test_scrape_jobs_cover_the_stack_on_loopback(rendered_staging: Path) -> None:
    config = load_yaml(rendered_staging / "prometheus.yml")
    assert config["global"]["external_labels"] == {"env": "staging"}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"prometheus", "alertmanager", "node", "postgres", "pushgateway", "blackbox-exporter",
                         "blackbox-http", "jupyterhub"}
    assert jobs["pushgateway"]["honor_labels"] is True  # keeps the training jobs' run_id/scenario/job
    port = {"prometheus": STAGING_PORTS["monitoring_prometheus_port"],
            "alertmanager": STAGING_PORTS["monitoring_alertmanager_port"],
            "node": STAGING_PORTS["monitoring_node_exporter_port"],
            "postgres": STAGING_PORTS["monitoring_postgres_exporter_port"],
            "pushgateway": STAGING_PORTS["monitoring_pushgateway_port"],
            "jupyterhub": STAGING_PORTS["jupyterhub_port"]}
    for name, job in jobs.items():
        for static in job["static_configs"]:
            # TargetDown and the inhibition rule rely on every target naming its service
            assert static["labels"]["service"], name
            for target in static["targets"]:
                assert target.startswith(("127.0.0.1:", "http://127.0.0.1:")), (name, target)
        if name in port:
            assert job["static_configs"][0]["targets"] == [f"127.0.0.1:{port[name]}"]
    probes = {s["labels"]["service"]: s["targets"][0] for s in jobs["blackbox-http"]["static_configs"]}
    assert probes == {"mlflow": f"http://127.0.0.1:{STAGING_PORTS['mlflow_port']}/health",
                      "jupyterhub": f"http://127.0.0.1:{STAGING_PORTS['jupyterhub_port']}/hub/health"}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        f"127.0.0.1:{STAGING_PORTS['monitoring_alertmanager_port']}"]


def test_rendered_rules_keep_the_production_durations(rendered_staging: Path) -> None:
    for source in sorted((MONITORING_DIR / "rules").glob("*.yml")):
        assert load_yaml(rendered_staging / "rules" / source.name) == load_yaml(source)


def test_amtool_check_config(rendered_staging: Path) -> None:
    result = _run("amtool", "check-config", str(rendered_staging / "alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 receivers" not in result.stdout  # all 6 receivers are configured
    assert "Found:" in result.stdout


def _route(config: Path, labels: dict[str, str], receivers: list[str]) -> subprocess.CompletedProcess[str]:
    return _run("amtool", "config", "routes", "test", f"--config.file={config}",
                f"--verify.receivers={','.join(receivers)}", *(f"{k}={v}" for k, v in labels.items()))


@pytest.mark.parametrize("case", load_yaml(MONITORING_DIR / "alertmanager" / "routing-cases.yml")["cases"],
                         ids=lambda c: c["name"])
def test_routing_cases(rendered_staging: Path, case: dict) -> None:
    result = _route(rendered_staging / "alertmanager.yml", case["labels"], case["receivers"])
    got = result.stdout.strip()
    assert result.returncode == 0, f"{case['labels']} -> {got}, expected {case['receivers']}"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_every_alert_reaches_its_team(rendered_staging: Path, rule: dict) -> None:
    labels = {"alertname": rule["alert"], "env": "staging", "service": "x", **rule["labels"]}
    expected = ["ops-webhook", EXPECTED_RECEIVERS[labels["severity"]].format(team=labels["team"])]
    result = _route(rendered_staging / "alertmanager.yml", labels, expected)
    assert result.returncode == 0, f"{labels} -> {result.stdout.strip()}, expected {expected}"


def test_routing_tree_catches_a_wrong_receiver(rendered_staging: Path) -> None:
    """amtool's verification can fail: a platform page does not go to the ML chat."""
    result = _route(rendered_staging / "alertmanager.yml", {"severity": "critical", "team": "platform"},
                    ["ops-webhook", "ml-telegram"])
    assert result.returncode != 0


def test_grouping_and_inhibition(rendered_staging: Path) -> None:
    config = load_yaml(rendered_staging / "alertmanager.yml")
    assert config["route"]["group_by"] == ["alertname", "env", "service"]
    ml_route = next(r for r in config["route"]["routes"] if r["matchers"] == ['team="ml"'])
    assert ml_route["group_by"] == ["alertname", "env", "run_id"]
    assert config["inhibit_rules"] == [{"source_matchers": ['severity="critical"'],
                                        "target_matchers": ['severity="warning"'],
                                        "equal": ["env", "service"]}]


def test_secrets_only_in_rendered_private_files(rendered_staging: Path) -> None:
    alertmanager = rendered_staging / "alertmanager.yml"
    text = alertmanager.read_text()
    for key in ("vault_monitoring_webhook_url", "vault_monitoring_telegram_bot_token",
                "monitoring_smtp_auth_password"):
        assert TEST_SECRETS[key] in text, key
    password = rendered_staging / "postgres-exporter.password"
    assert password.read_text() == TEST_SECRETS["vault_postgres_exporter_password"]
    for path in (alertmanager, password):
        assert path.stat().st_mode & 0o777 == 0o640, path
    # the password reaches the exporter through a file: the supervisord program only names the file
    role_vars = (ANSIBLE_DIR / "roles" / "monitoring" / "vars" / "main.yml").read_text()
    assert "DATA_SOURCE_PASS_FILE" in role_vars and "DATA_SOURCE_NAME" not in role_vars


def test_no_secret_in_clear_in_the_repository() -> None:
    """Secret fields of the templates are variables; the role's defaults read them from the vault/env."""
    template = (MONITORING_DIR / "templates" / "alertmanager.yml.j2").read_text()
    for field in ("bot_token", "smtp_auth_password", "url"):
        for line in (ln.strip() for ln in template.splitlines()):
            if line.lstrip("- ").startswith(f"{field}:"):
                assert "{{" in line, line
    defaults = load_yaml(ANSIBLE_DIR / "roles" / "monitoring" / "defaults" / "main.yml")
    for key in ("monitoring_webhook_url", "monitoring_telegram_bot_token", "monitoring_smtp_auth_password",
                "monitoring_postgres_exporter_password", "monitoring_jupyterhub_api_token"):
        assert "vault_" in defaults[key], key
    for path in [*MONITORING_DIR.rglob("*"), *(ANSIBLE_DIR / "roles" / "monitoring").rglob("*")]:
        if path.is_file() and path.suffix in (".yml", ".j2", ".py", ".json"):
            assert not any(secret in path.read_text() for secret in TEST_SECRETS.values()), path


def test_every_daemon_requires_basic_auth(rendered_staging: Path) -> None:
    """Each daemon's --web.config.file holds bcrypt hashes of exactly the accounts that call it, and the
    Prometheus configuration logs in with a password file, never an inline password."""
    from passlib.hash import bcrypt

    expected = {"prometheus": {"prometheus", "nginx"}, "alertmanager": {"prometheus", "nginx"},
                "pushgateway": {"prometheus", "pusher"}, "node-exporter": {"prometheus"},
                "postgres-exporter": {"prometheus"}, "blackbox-exporter": {"prometheus"}}
    passwords = {"prometheus": TEST_SECRETS["vault_monitoring_scrape_password"],
                 "nginx": TEST_SECRETS["vault_monitoring_proxy_password"],
                 "pusher": TEST_SECRETS["vault_monitoring_push_password"]}
    for daemon, users in expected.items():
        web = load_yaml(rendered_staging / f"web-{daemon}.yml")["basic_auth_users"]
        assert set(web) == users, daemon
        for user, hashed in web.items():
            assert hashed.startswith("$2b$") and bcrypt.verify(passwords[user], hashed), (daemon, user)
            assert not bcrypt.verify(passwords[user] + "x", hashed)
    config = load_yaml(rendered_staging / "prometheus.yml")
    auth = {"username": "prometheus", "password_file": str(rendered_staging / "scrape.password")}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert all(jobs[j]["basic_auth"] == auth for j in jobs if j != "jupyterhub")
    assert config["alerting"]["alertmanagers"][0]["basic_auth"] == auth
    assert (rendered_staging / "scrape.password").read_text() == passwords["prometheus"]
    assert passwords["prometheus"] not in (rendered_staging / "prometheus.yml").read_text()


@pytest.mark.parametrize("bad, message", [
    ({"monitoring_scrape_interval": "15 seconds"},
     "monitoring: monitoring_scrape_interval=15 seconds is not a duration"),
    ({"monitoring_http_probes": [{"service": "mlflow", "url": "ftp://x"}]},
     "needs service (lower-case name) and url"),
    ({"monitoring_alertmanager_port": 15200}, "must be distinct and lie in 15000..15099"),
    ({"vault_monitoring_push_password": ""}, "infra/vault.sh staging add-missing"),
], ids=["duration", "probe", "port", "password"])
def test_bad_input_fails_before_writing(tmp_path: Path, bad: dict, message: str) -> None:
    etc = tmp_path / "etc"
    inventory = make_inventory(tmp_path, "staging", {**TEST_SECRETS, "monitoring_etc_dir": str(etc),
                                                     "monitoring_home": str(tmp_path / "home"),
                                                     "monitoring_users": ALL_ROOT, **bad})
    result = ansible_playbook(RENDER_PLAYBOOK, inventory)
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-2000:]
    assert not etc.exists()  # nothing rendered


def test_repository_path_is_the_release_source() -> None:
    assert (REPO / "monitoring" / "templates" / "prometheus.yml.j2").is_file()
