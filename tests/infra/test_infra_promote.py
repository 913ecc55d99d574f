"""Promotion: the verified staging release goes to production unchanged; a broken staging is refused and
production is left exactly as it was."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]
PROD = Path("/opt/swarmops/production")


def _release(prefix: Path) -> dict[str, Any]:
    return yaml.safe_load((prefix / "state/release.yml").read_text())


def test_promotion_deploys_the_verified_staging_release(staging: Env, tools: Any) -> None:
    res = tools.run(["bash", "infra/promote.sh", "-e", staging["monitoring_flag"]], env=staging["vault_env"],
                    timeout=900)
    assert "production runs the verified staging release" in res.stderr
    assert _release(PROD) == _release(staging["prefix"])
    assert yaml.safe_load((PROD / "state/verified.yml").read_text())["swarmops_release_id"] == \
        _release(PROD)["swarmops_release_id"]
    ports = tools.ports("production")
    secrets = tools.vault("production", staging["vault_env"])
    url = f"https://127.0.0.1:{ports['nginx_port']}/api/2.0/mlflow/experiments/search?max_results=1"
    r = requests.get(url, auth=("swarmops", secrets["vault_nginx_password"]),
                     verify=str(PROD / "nginx/server.crt"),
                     timeout=30)
    assert r.status_code == 200
    assert secrets["vault_nginx_password"] != staging["vault"]["vault_nginx_password"], "envs share secrets"


def test_broken_staging_is_refused_and_production_untouched(staging: Env, tools: Any) -> None:
    before = {p: (PROD / p).stat().st_mtime_ns for p in ("state/release.yml", "etc/supervisord.conf")}
    prod_pid = (PROD / "run/supervisord.pid").read_text().strip()
    conf = str(staging["prefix"] / "etc/supervisord.conf")
    tools.run(["supervisorctl", "-c", conf, "stop", "mlflow"])  # the deliberate breakage
    try:
        res = tools.run(["bash", "infra/promote.sh", "-e", staging["monitoring_flag"]],
                        env=staging["vault_env"],
                        check=False, timeout=600)
    finally:
        tools.run(["supervisorctl", "-c", conf, "start", "mlflow"])
    assert res.returncode != 0
    assert "REFUSED" in res.stderr
    assert not (staging["prefix"] / "state/verified.yml").exists(), "a failed verification kept its stamp"
    after = {p: (PROD / p).stat().st_mtime_ns for p in before}
    assert after == before
    assert (PROD / "run/supervisord.pid").read_text().strip() == prod_pid
    os.kill(int(prod_pid), 0)


def test_gate_refuses_an_unverified_release_without_touching_production(staging: Env, tools: Any) -> None:
    stamp = staging["prefix"] / "state/verified.yml"
    stamp.unlink(missing_ok=True)
    before = (PROD / "state/release.yml").stat().st_mtime_ns
    res = tools.run(["ansible-playbook", "-i", str(tools.ansible / "inventories/production/hosts.yml"),
                     "--vault-password-file", staging["vault_env"]["SWARMOPS_VAULT_PASSWORD_FILE"],
                     str(tools.ansible / "promote.yml")], env=staging["vault_env"], check=False, timeout=300)
    assert res.returncode != 0 and "REFUSED: staging's release is not verified" in res.stdout
    assert (PROD / "state/release.yml").stat().st_mtime_ns == before
