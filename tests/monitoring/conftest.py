"""Fixtures of the monitoring tests: the staging monitoring configuration rendered by the role."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitoring.monitoring_testlib import ansible_playbook, failure_lines, make_inventory

RENDER_PLAYBOOK = Path(__file__).parent / "render_monitoring.yml"
# test-only secrets: the rendered files must carry them, the repository never does
TEST_SECRETS = {
    "vault_postgres_exporter_password": "pg-exporter-test-secret",
    "vault_monitoring_webhook_url": "http://127.0.0.1:18099/alerts?token=webhook-test-secret",
    "vault_monitoring_telegram_bot_token": "123456:telegram-test-secret",
    "monitoring_smtp_smarthost": "127.0.0.1:2525",
    "monitoring_smtp_auth_password": "smtp-test-secret",
    "vault_monitoring_scrape_password": "scrape-test-secret",
    "vault_monitoring_proxy_password": "proxy-test-secret",
    "vault_monitoring_push_password": "push-test-secret",
}
# the render runs as root without creating the daemons' users
ALL_ROOT = {d: "root" for d in ("prometheus", "alertmanager", "pushgateway", "node-exporter",
                                "postgres-exporter", "blackbox-exporter")}


@pytest.fixture(scope="session")
def rendered_staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staging monitoring configuration, rendered and validated by the role's configure tasks
    (promtool / amtool / blackbox-exporter run as `validate:`); returns its etc directory."""
    root = tmp_path_factory.mktemp("monitoring-render")
    etc = root / "etc"
    inventory = make_inventory(root, "staging", {
        **TEST_SECRETS, "monitoring_etc_dir": str(etc), "monitoring_home": str(root / "home"),
        "monitoring_users": ALL_ROOT})
    result = ansible_playbook(RENDER_PLAYBOOK, inventory)
    assert result.returncode == 0, failure_lines(result)
    return etc
