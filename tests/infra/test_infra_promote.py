"""Promotion between two test environments (A stands in for staging, B for production): the verified
release of A goes to B unchanged; a broken A is refused and B is left exactly as it was."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


@pytest.fixture(scope="module")
def target(staging: Env) -> dict[str, Any]:
    """Test env B: name, prefix; it is deployed by the first promotion."""
    name = staging["vault_env"]["SWARMOPS_ENV_B"]
    return {"name": name, "prefix": Path(f"/opt/swarmops/{name}")}


def _release(prefix: Path) -> dict[str, Any]:
    return yaml.safe_load((prefix / "state/release.yml").read_text())


def _promote(staging: Env, target: Env, tools: Any, **kw: Any) -> Any:
    return tools.run(["bash", "infra/promote.sh", staging["name"], target["name"],
                      "-e", staging["monitoring_flag"]], env=staging["vault_env"], **kw)


def test_promotion_deploys_the_verified_staging_release(staging: Env, target: Env, tools: Any) -> None:
    prod = target["prefix"]
    res = _promote(staging, target, tools, timeout=900)
    assert f"{target['name']} runs the verified {staging['name']} release" in res.stderr
    assert _release(prod) == _release(staging["prefix"])
    assert yaml.safe_load((prod / "state/verified.yml").read_text())["swarmops_release_id"] == \
        _release(prod)["swarmops_release_id"]
    ports = tools.ports(target["name"])
    secrets = tools.vault(target["name"], staging["vault_env"])
    base = f"https://{tools.address(target['name'])}:{ports['nginx_port']}"
    url = f"{base}/api/2.0/mlflow/experiments/search?max_results=1"
    r = requests.get(url, auth=("swarmops", secrets["vault_nginx_password"]),
                     verify=str(prod / "nginx/server.crt"),
                     timeout=30)
    assert r.status_code == 200
    assert secrets["vault_nginx_password"] != staging["vault"]["vault_nginx_password"], "envs share secrets"


def test_broken_staging_is_refused_and_production_untouched(staging: Env, target: Env, tools: Any) -> None:
    prod = target["prefix"]
    before = {p: (prod / p).stat().st_mtime_ns for p in ("state/release.yml", "etc/supervisord.conf")}
    prod_pid = (prod / "run/supervisord.pid").read_text().strip()
    conf = str(staging["prefix"] / "etc/supervisord.conf")
    tools.run(["supervisorctl", "-c", conf, "stop", "mlflow"])  # the deliberate breakage
    try:
        res = _promote(staging, target, tools, check=False, timeout=600)
    finally:
        tools.run(["supervisorctl", "-c", conf, "start", "mlflow"])
    assert res.returncode != 0
    assert "REFUSED" in res.stderr
    assert not (staging["prefix"] / "state/verified.yml").exists(), "a failed verification kept its stamp"
    after = {p: (prod / p).stat().st_mtime_ns for p in before}
    assert after == before
    assert (prod / "run/supervisord.pid").read_text().strip() == prod_pid
    os.kill(int(prod_pid), 0)


def test_gate_refuses_an_unverified_release_without_touching_production(staging: Env, target: Env,
                                                                        tools: Any, tmp_path: Path) -> None:
    prod = target["prefix"]
    stamp = staging["prefix"] / "state/verified.yml"
    stamp.unlink(missing_ok=True)
    before = (prod / "state/release.yml").stat().st_mtime_ns
    # what release-fetch.yml brings from an unverified staging: the release record, no stamp
    work = tmp_path / "promote"
    work.mkdir()
    (work / "from-release.yml").write_text((staging["prefix"] / "state/release.yml").read_text())
    vault = Path(staging["vault_env"]["SWARMOPS_SECRETS_DIR"]) / f"{target['name']}.vault.yml"
    res = tools.run(["ansible-playbook", "-i", str(tools.test_inventory),
                     "-e", f"swarmops_test_env={target['name']}",
                     "-e", f"promote_work_dir={work}", "-e", f"@{vault}",
                     "--vault-password-file", staging["vault_env"]["SWARMOPS_VAULT_PASSWORD_FILE"],
                     str(tools.ansible / "promote.yml")], env=staging["vault_env"], check=False, timeout=300)
    assert res.returncode != 0 and "REFUSED: staging's release is not verified" in res.stdout
    assert (prod / "state/release.yml").stat().st_mtime_ns == before
    assert not (work / "promote-started").exists()
