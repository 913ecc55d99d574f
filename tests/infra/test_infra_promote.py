"""Promotion between two test environments (A stands in for staging, B for production): the verified
release of A goes to B unchanged; a broken A is refused and B is left exactly as it was; a B that fails
verification after the deploy is rolled back to the release it ran before, and verified again."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


@pytest.fixture(scope="module")
def target(test_env_a: Env) -> dict[str, Any]:
    """Test env B: name, prefix; it is deployed by the first promotion."""
    name = test_env_a["vault_env"]["SWARMOPS_ENV_B"]
    return {"name": name, "prefix": Path(f"/opt/swarmops/{name}")}


def _promote(test_env_a: Env, target: Env, tools: Any, **kw: Any) -> Any:
    return tools.run(["bash", "infra/promote.sh", test_env_a["name"], target["name"],
                      "-e", test_env_a["monitoring_flag"]], env=test_env_a["vault_env"], **kw)


def _front_door_status(target: Env, tools: Any, vault_env: dict[str, str]) -> int:
    """HTTP status of B's MLflow API through its nginx (TLS + basic auth)."""
    secrets = tools.vault(target["name"], vault_env)
    base = f"https://{tools.address(target['name'])}:{tools.ports(target['name'])['nginx_port']}"
    return requests.get(f"{base}/api/2.0/mlflow/experiments/search?max_results=1",
                        auth=("swarmops", secrets["vault_nginx_password"]),
                        verify=str(target["prefix"] / "nginx/server.crt"), timeout=30).status_code


def test_promotion_deploys_the_verified_staging_release(test_env_a: Env, target: Env, tools: Any) -> None:
    prod = target["prefix"]
    res = _promote(test_env_a, target, tools, timeout=900)
    assert f"{target['name']} runs the verified {test_env_a['name']} release" in res.stderr
    assert tools.release(prod) == tools.release(test_env_a["prefix"])
    assert yaml.safe_load((prod / "state/verified.yml").read_text())["swarmops_release_id"] == \
        tools.release(prod)["swarmops_release_id"]
    assert _front_door_status(target, tools, test_env_a["vault_env"]) == 200
    secrets = tools.vault(target["name"], test_env_a["vault_env"])
    assert secrets["vault_nginx_password"] != test_env_a["vault"]["vault_nginx_password"], \
        "envs share secrets"


def test_broken_staging_is_refused_and_production_untouched(test_env_a: Env, target: Env, tools: Any) -> None:
    prod = target["prefix"]
    before = {p: (prod / p).stat().st_mtime_ns for p in ("state/release.yml", "etc/supervisord.conf")}
    prod_pid = (prod / "run/supervisord.pid").read_text().strip()
    conf = str(test_env_a["prefix"] / "etc/supervisord.conf")
    tools.run(["supervisorctl", "-c", conf, "stop", "mlflow"])  # the deliberate breakage
    try:
        res = _promote(test_env_a, target, tools, check=False, timeout=600)
    finally:
        tools.run(["supervisorctl", "-c", conf, "start", "mlflow"])
    assert res.returncode != 0
    assert "REFUSED" in res.stderr
    assert not (test_env_a["prefix"] / "state/verified.yml").exists(), "a failed verification kept its stamp"
    after = {p: (prod / p).stat().st_mtime_ns for p in before}
    assert after == before
    assert (prod / "run/supervisord.pid").read_text().strip() == prod_pid
    os.kill(int(prod_pid), 0)


def test_gate_refuses_an_unverified_release_without_touching_production(test_env_a: Env, target: Env,
                                                                        tools: Any, tmp_path: Path) -> None:
    prod = target["prefix"]
    stamp = test_env_a["prefix"] / "state/verified.yml"
    stamp.unlink(missing_ok=True)
    before = (prod / "state/release.yml").stat().st_mtime_ns
    # what release-fetch.yml brings from an unverified staging: the release record, no stamp
    work = tmp_path / "promote"
    work.mkdir()
    (work / "from-release.yml").write_text((test_env_a["prefix"] / "state/release.yml").read_text())
    vault = Path(test_env_a["vault_env"]["SWARMOPS_SECRETS_DIR"]) / f"{target['name']}.vault.yml"
    res = tools.run(["ansible-playbook", "-i", str(tools.test_inventory),
                     "-e", f"swarmops_test_env={target['name']}",
                     "-e", f"promote_work_dir={work}", "-e", f"@{vault}",
                     "--vault-password-file", test_env_a["vault_env"]["SWARMOPS_VAULT_PASSWORD_FILE"],
                     str(tools.ansible / "promote.yml")], env=test_env_a["vault_env"], check=False,
                    timeout=300)
    assert res.returncode != 0 and "REFUSED: staging's release is not verified" in res.stdout
    assert (prod / "state/release.yml").stat().st_mtime_ns == before
    assert not (work / "promote-started").exists()


def test_failed_verification_rolls_back_to_the_previous_release_and_verifies_it(
        test_env_a: Env, target: Env, tools: Any, tmp_path: Path) -> None:
    """The rollback drill: B's MLflow dies right after B records the new release; promote.sh must put
    back the release B ran before (not the one before that), verify it, and report both steps."""
    prod = target["prefix"]
    before = tools.release(prod)
    # A runs a new release: the same versions plus a marker, so its id differs (a real deploy)
    release = yaml.safe_load((tools.ansible / "release.yml").read_text())
    release["swarmops_release"]["rollback_drill"] = "r2"
    marked = tmp_path / "release-r2.yml"
    marked.write_text(yaml.safe_dump(release))
    tools.run(["bash", "infra/deploy.sh", test_env_a["name"], "-e", test_env_a["monitoring_flag"],
               "-e", f"@{marked}"], env=test_env_a["vault_env"], timeout=900)
    new_id = tools.release(test_env_a["prefix"])["swarmops_release_id"]
    assert new_id != before["swarmops_release_id"]

    fired, done = threading.Event(), threading.Event()

    def break_mlflow_once_deployed() -> None:
        while not done.is_set():
            try:
                current = tools.release(prod).get("swarmops_release_id")
            except (OSError, yaml.YAMLError, AttributeError):
                current = None
            if current == new_id:  # deployed, not verified yet: the fault
                tools.run(["supervisorctl", "-c", str(prod / "etc/supervisord.conf"), "stop", "mlflow"],
                          check=False)
                fired.set()
                return
            done.wait(0.2)

    watcher = threading.Thread(target=break_mlflow_once_deployed, daemon=True)
    watcher.start()
    try:
        res = _promote(test_env_a, target, tools, check=False, timeout=1800)
    finally:
        done.set()
        watcher.join(30)
    log = res.stderr[-4000:]
    assert fired.is_set(), f"B never recorded the new release: the promotion did not reach the deploy\n{log}"
    assert res.returncode != 0, log
    assert "FAILED after changing" in res.stderr, log
    assert "rolled back;" in res.stderr and "passes verification" in res.stderr, log
    assert tools.release(prod)["swarmops_release_id"] == before["swarmops_release_id"]
    stamp = yaml.safe_load((prod / "state/verified.yml").read_text())
    assert stamp["swarmops_release_id"] == before["swarmops_release_id"], "the rollback was not verified"
    assert _front_door_status(target, tools, test_env_a["vault_env"]) == 200
