"""Backups of test env A: restic snapshots of every database (PostgreSQL dumps; the hub's and MLflow auth's
SQLite files) and the files, copied to the second repository, the textfile metric, and a restore into
scratch that verifies and matches the original artifact."""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _restic(prefix: Path, *args: str, repo: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "RESTIC_REPOSITORY": repo or str(prefix / "backup/restic-repo"),
           "RESTIC_PASSWORD_FILE": str(prefix / "etc/restic.password"),
           "RESTIC_CACHE_DIR": str(prefix / "backup/cache")}
    return subprocess.run(["restic", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def backed_up(test_env_a: Env, tools: Any) -> dict[str, Any]:
    """An artifact file written as the env user, then one backup run."""
    prefix = test_env_a["prefix"]
    artifact = prefix / "mlflow/artifacts/backup-test" / f"{secrets.token_hex(4)}.txt"
    content = secrets.token_hex(64)
    tools.run(["runuser", "-u", f"swarmops-{test_env_a['name']}", "--", "bash", "-c",
               f"mkdir -p {artifact.parent} && printf %s {content} > {artifact}"])
    t0 = time.time()
    res = tools.run([str(prefix / "bin/swarmops-backup")], timeout=600)
    return {"artifact": artifact, "content": content, "t0": t0, "output": res.stdout}


def test_backup_saves_every_database_and_the_files(test_env_a: Env, backed_up: Env) -> None:
    snaps = json.loads(_restic(test_env_a["prefix"], "snapshots", "--json").stdout)
    paths = {p for s in snaps for p in s["paths"]}
    for db in ("mlflow", "ledger", "postgres"):
        assert f"/postgres/{db}.sql" in paths, f"no dump of {db}: {paths}"
    for db in ("jupyterhub.sqlite", "basic_auth.db"):  # hub accounts, MLflow's auth users
        assert f"/sqlite/{db}" in paths, f"no copy of {db}: {paths}"
    files = [s for s in snaps if "files" in s["tags"]]
    assert files and str(test_env_a["prefix"] / "mlflow/artifacts") in files[-1]["paths"]
    assert all(s["hostname"] == test_env_a["name"] for s in snaps)


def test_snapshots_are_copied_to_the_second_repository(test_env_a: Env, backed_up: Env) -> None:
    copy = f"/var/backups/swarmops/{test_env_a['name']}/restic-copy"
    primary = json.loads(_restic(test_env_a["prefix"], "snapshots", "--json").stdout)
    copied = json.loads(_restic(test_env_a["prefix"], "snapshots", "--json", repo=copy).stdout)
    assert {s["tree"] for s in primary} == {s["tree"] for s in copied}
    assert oct(os.stat(copy).st_mode & 0o777) == "0o700"


def test_last_success_metric_is_written(test_env_a: Env, backed_up: Env) -> None:
    text, name = (test_env_a["prefix"] / "node_exporter/textfile/backup.prom").read_text(), test_env_a["name"]
    m = re.search(rf'^swarmops_backup_last_success_timestamp_seconds\{{env="{name}"\}} (\d+)$', text, re.M)
    assert m and int(m.group(1)) >= int(backed_up["t0"])
    assert re.search(rf'^swarmops_backup_last_run_success\{{env="{name}"\}} 1$', text, re.M)


def test_restore_playbook_restores_into_scratch_and_verifies(test_env_a: Env, backed_up: Env,
                                                             tools: Any) -> None:
    res = tools.run(["bash", "infra/restore.sh", test_env_a["name"]], env=test_env_a["vault_env"],
                    timeout=600)
    assert "tables restored" in res.stdout
    for db in ("jupyterhub.sqlite", "basic_auth.db"):
        assert re.search(rf"{re.escape(db)}: [1-9][0-9]* tables restored \(integrity ok\)", res.stdout), db
    scratch = sorted((test_env_a["prefix"] / "backup/restore-scratch").iterdir())[-1]
    restored = scratch / "files" / str(backed_up["artifact"]).lstrip("/")
    assert restored.read_text() == backed_up["content"]
    assert backed_up["artifact"].read_text() == backed_up["content"], "restore touched the live artifact"


def test_failed_backup_keeps_the_last_success_time_and_adds_no_snapshot(test_env_a: Env, backed_up: Env,
                                                                        tools: Any) -> None:
    prefix, name = test_env_a["prefix"], test_env_a["name"]
    metric = prefix / "node_exporter/textfile/backup.prom"
    before = metric.read_text()
    n_before = len(json.loads(_restic(prefix, "snapshots", "--json").stdout))
    conf = str(prefix / "etc/supervisord.conf")
    tools.run(["supervisorctl", "-c", conf, "stop", "postgres"])
    try:
        res = tools.run([str(prefix / "bin/swarmops-backup")], check=False, timeout=300)
    finally:
        tools.run(["supervisorctl", "-c", conf, "start", "postgres"])
    assert res.returncode != 0
    after = metric.read_text()
    ts = re.compile(r"^swarmops_backup_last_success_timestamp_seconds\S* (\d+)$", re.M)
    assert ts.search(after).group(1) == ts.search(before).group(1)
    assert re.search(rf'^swarmops_backup_last_run_success\{{env="{name}"\}} 0$', after, re.M)
    assert len(json.loads(_restic(prefix, "snapshots", "--json").stdout)) == n_before


def test_deploy_stops_when_the_restic_password_no_longer_opens_the_repository(test_env_a: Env, backed_up: Env,
                                                                              tools: Any) -> None:
    """A regenerated vault must not silently replace the password of existing backups."""
    password_file = test_env_a["prefix"] / "etc/restic.password"
    before = password_file.read_bytes()
    res = tools.run(["bash", "infra/deploy.sh", test_env_a["name"], "-e", test_env_a["monitoring_flag"],
                     "-e", f"vault_restic_password={secrets.token_hex(24)}"],
                    env=test_env_a["vault_env"], check=False, timeout=900)
    assert res.returncode != 0
    assert "does not open with the restic password" in res.stdout, res.stdout[-3000:]
    assert password_file.read_bytes() == before, "the repository password was replaced"
    assert _restic(test_env_a["prefix"], "cat", "config").returncode == 0
