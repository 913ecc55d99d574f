"""The ``mlflow-upgrade`` drill: an MLflow database on an older schema is migrated before the server
starts (the mlflow role's ``mlflow-db-upgrade`` script, rendered as Ansible would), the server serves it,
and a rollback across the upgrade restores the pre-upgrade dump that the script took.

The older schema is made with MLflow's own Alembic migrations stopped ``OLD_BEHIND`` revisions before
the head (MLflow's downgrades are mostly empty, so going down from the head would not be honest), with
an experiment written into it by SQL.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from swarmops.drillbase import DrillContext, DrillResult
from swarmops.drills_backup import REPO_ROOT, pg_fingerprint

UPGRADE_TEMPLATE = REPO_ROOT / "infra/ansible/roles/mlflow/templates/mlflow-db-upgrade.sh.j2"
OLD_BEHIND = 10  # migrations between the simulated old release and this one


def _old_schema(url: str) -> tuple[str, str]:
    """Create MLflow's tables at the revision OLD_BEHIND before the head; returns (old, head)."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    config = _get_alembic_config(url)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())  # head first
    old, head = revisions[OLD_BEHIND].revision, revisions[0].revision
    engine = sa.create_engine(url)
    InitialBase.metadata.create_all(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, old)
        conn.execute(sa.text("INSERT INTO experiments (name, artifact_location, lifecycle_stage) "
                             "VALUES ('drill-before-upgrade', '/nonexistent', 'active')"))
    engine.dispose()
    return old, head


def _render(values: dict[str, object]) -> str:
    import jinja2

    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(UPGRADE_TEMPLATE.read_text())
    return template.render(ansible_managed="rendered by swarmops drills", **values)


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def mlflow_upgrade(ctx: DrillContext) -> DrillResult:
    """Old schema -> the role's migration step -> server up -> rollback to the pre-upgrade dump."""
    from swarmops.mlflowtemp import ThrowawayMlflow

    db = "drill_mlflow_upgrade"
    url = ctx.database(db)
    old, head = _old_schema(url)
    before = pg_fingerprint(url)
    root = ctx.workdir / "mlflow-upgrade"
    dumps = root / "pre-upgrade"
    dumps.mkdir(parents=True)
    script = root / "mlflow-db-upgrade"
    script.write_text(_render({"swarmops_env": "drill", "mlflow_venv": str(Path(sys.executable).parents[1]),
                               "mlflow_preupgrade_dir": str(dumps),
                               "swarmops_release": {"postgres_major": 15}}))
    began = time.perf_counter()
    migrated = subprocess.CompletedProcess(["skipped"], 0, "", "")
    if "mlflow-upgrade" not in ctx.sabotage:  # sabotage: the server is started without the migration
        migrated = subprocess.run(["bash", str(script)], env={**os.environ, "MLFLOW_BACKEND_STORE_URI": url},
                                  capture_output=True, text=True, timeout=300)
    upgrade_s = time.perf_counter() - began
    server = ThrowawayMlflow(url, root / "server")
    served, why = False, ""
    try:
        server.start(timeout_s=90)
        answer = requests.get(server.url + "/api/2.0/mlflow/experiments/get-by-name",
                              params={"experiment_name": "drill-before-upgrade"},
                              auth=("admin", server.password), timeout=10)
        served = answer.ok
        why = "" if served else f"HTTP {answer.status_code}"
    except (RuntimeError, TimeoutError) as exc:
        why = str(exc)[-200:]
    finally:
        server.stop()
    upgraded_to = _revision(url)
    # rollback across the upgrade: the database back to the dump taken before it
    pre = sorted(dumps.glob("mlflow-pre-upgrade-*.sql"))
    rollback_s = 0.0
    if pre:
        began = time.perf_counter()
        url = ctx.database(db)  # dropped and created empty
        psql = ["/usr/lib/postgresql/15/bin/psql", "-h", str(ctx.server.workdir), "-p", str(ctx.server.port),
                "-U", "postgres", "-d", db, "-qAtX", "-v", "ON_ERROR_STOP=1", "-f", str(pre[-1])]
        subprocess.run(psql, env={**os.environ, "PGPASSWORD": ctx.server.password}, check=True,
                       capture_output=True, timeout=300)
        rollback_s = time.perf_counter() - began
    checks = {
        "migration ran before the start, after a dump": migrated.returncode == 0 and len(pre) == 1
        and upgraded_to == head,
        "server serves the migrated data": served,
        "rollback restores the old schema and every row": bool(pre) and _revision(url) == old
        and pg_fingerprint(url) == before,
    }
    passed = all(checks.values())
    return DrillResult(
        "mlflow-upgrade", f"an MLflow DB {OLD_BEHIND} migrations old; the mlflow role's mlflow-db-upgrade "
        "(pg_dump, then mlflow db upgrade), the server started; then rolled back to the dump",
        "schema at head before the server starts; the server serves the old experiment; after the rollback "
        "the old revision and every table's rows and md5 are back", passed,
        {"from": old, "to": head, "upgrade_s": round(upgrade_s, 1), "rollback_s": round(rollback_s, 1),
         "tables": len(before or {})},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {why} {migrated.stderr.strip()[-200:]}")
