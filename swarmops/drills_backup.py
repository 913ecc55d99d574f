"""Backup drills: the backup role's own script, run against a throw-away stack, then destroy and restore.

The stack: a ledger database and an MLflow database on the drills' PostgreSQL server, a JupyterHub-like
account database (SQLite: a ``users`` and an ``api_tokens`` table; JupyterHub itself is not installed in
the project's environment) and an artifact store (MLflow artifacts plus a user home). The backup is
``infra/ansible/roles/backup/templates/swarmops-backup.j2`` rendered with Jinja2 (as Ansible does) for
this stack and run as it is; the restore follows ``infra/ansible/restore.yml`` (``restic dump`` of each
database into a fresh database, ``restic restore`` of the files). Fingerprints: per table its row count
and an md5 over its rows in order, per artifact file its sha256.

- ``backup-restore``: back up, destroy every database and the artifact store, restore, compare;
- ``offsite``: the copy repository is on another "host" (its own loopback address and sshd, restic's
  sftp backend, its own ssh key and restic password); destroy the primary repository and the data,
  restore from the copy;
- ``backup-integrity``: a wrong password and a corrupted pack make the backup run fail (``restic check
  --read-data-subset``), the textfile metric says so and the monitoring rule's alert fires.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from swarmops.drillbase import DrillContext, DrillResult

REPO_ROOT = Path(__file__).resolve().parents[1]
BACKUP_TEMPLATE = REPO_ROOT / "infra/ansible/roles/backup/templates/swarmops-backup.j2"
ALERTS = REPO_ROOT / "monitoring/rules/alerts.yml"
OFFSITE_USER = "swarmops-drill-offsite"


def render_backup_script(values: dict[str, Any]) -> str:
    """The backup role's script rendered like Ansible's template module (trim_blocks, undefined = error)."""
    import jinja2

    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["basename"] = lambda p: os.path.basename(str(p))  # the Ansible filters it uses
    template = env.from_string(BACKUP_TEMPLATE.read_text())
    return template.render(ansible_managed="rendered by swarmops drills", **values)


def _restic(args: list[str], password_file: Path, cache: Path, repo: str | None = None,
            extra: list[str] | None = None, stdin: Any = None, stdout: Any = None,
            timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "RESTIC_PASSWORD_FILE": str(password_file), "RESTIC_CACHE_DIR": str(cache)}
    cmd = ["restic", *(["--repo", repo] if repo else []), *(extra or []), *args]
    return subprocess.run(cmd, env=env, stdin=stdin, stdout=stdout or subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def pg_fingerprint(url: str) -> dict[str, tuple[int, str]] | None:
    """Row count and md5 of the rows (in order) of every table of a database; None when it is gone."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                          "ORDER BY 1")).scalars().all()
            return {t: tuple(conn.execute(sa.text(  # type: ignore[misc]
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{t}" t')).one()) for t in tables}
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


def sqlite_fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the rows of every table of a SQLite database."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")]
        return {t: (len(rows := sorted(map(repr, db.execute(f'SELECT * FROM "{t}"')))),
                    hashlib.md5("|".join(rows).encode()).hexdigest()) for t in tables}


class BackupStack:
    """The data a backup must save (two PostgreSQL databases, two SQLite account DBs, artifact files)."""

    def __init__(self, ctx: DrillContext, name: str) -> None:
        self.ctx = ctx
        self.root = ctx.workdir / name
        self.root.mkdir(parents=True)
        self.root.chmod(0o700)
        self.databases = {kind: f"drill_{name.replace('-', '_')}_{kind}" for kind in ("ledger", "mlflow")}
        self.urls: dict[str, str] = {}
        # the SQLite files the backup role copies: JupyterHub's accounts and MLflow's basic-auth users
        self.sqlite_dbs = {"hub": self.root / "jupyterhub/jupyterhub.sqlite",
                           "mlflow_auth": self.root / "mlflow/auth/basic_auth.db"}
        self.artifacts = self.root / "mlflow/artifacts"
        self.home = self.root / "home"
        self.cache = self.root / "cache"
        self.password_file = self.root / "restic.password"
        self.password_file.write_text(secrets.token_hex(16) + "\n")
        self.password_file.chmod(0o600)
        self.repository = str(self.root / "restic-repo")

    # ---- the data ----------------------------------------------------------------------------------
    def populate(self, rows: int) -> None:
        """Fill the ledger, MLflow, the account DBs and the artifact store with ``rows``-sized data."""
        from training.ledger import Ledger

        for kind, db in self.databases.items():
            self.urls[kind] = self.ctx.database(db)
        ledger = Ledger(self.urls["ledger"])
        ledger.create_run(id="drill-run", scenario="recon", profile="drill", seed=0, device="cpu",
                          total_timesteps=rows)
        for step in range(rows):
            ledger.add_metrics("drill-run", step, {"loss": 1.0 / (step + 1), "reward": float(step)})
        ledger.close()
        self._populate_mlflow(rows)
        users = max(3, rows // 10)
        self._populate_sqlite("hub", [
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE, admin INTEGER)",
            "CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, user_id INTEGER, hashed TEXT)"],
            [("INSERT INTO users (name, admin) VALUES (?, ?)", (f"user{i}", int(i == 0)))
             for i in range(users)]
            + [("INSERT INTO api_tokens (user_id, hashed) VALUES (?, ?)",
                (i + 1, hashlib.sha256(f"token{i}".encode()).hexdigest())) for i in range(users)])
        # MLflow's basic-auth schema (users, per-experiment permissions)
        self._populate_sqlite("mlflow_auth", [
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password_hash TEXT, "
            "is_admin INTEGER)",
            "CREATE TABLE experiment_permissions (id INTEGER PRIMARY KEY, experiment_id TEXT, "
            "user_id INTEGER, permission TEXT)"],
            [("INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?)",
              (f"ml{i}", hashlib.sha256(f"pw{i}".encode()).hexdigest(), int(i == 0))) for i in range(users)]
            + [("INSERT INTO experiment_permissions (experiment_id, user_id, permission) VALUES (?, ?, ?)",
                ("1", i + 1, "READ")) for i in range(users)])
        (self.home / "user0").mkdir(parents=True)
        (self.home / "user0/notebook.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4}))

    def _populate_sqlite(self, name: str, schema: list[str], rows: list[tuple[str, tuple]]) -> None:
        """Create the SQLite database ``name`` with ``schema`` and insert ``rows`` (statement, values)."""
        path = self.sqlite_dbs[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            for statement in schema:
                db.execute(statement)
            for statement, values in rows:
                db.execute(statement, values)

    def _populate_mlflow(self, rows: int) -> None:
        import mlflow
        from mlflow.entities import Metric

        client = mlflow.MlflowClient(self.urls["mlflow"])
        exp = client.create_experiment("drill", artifact_location=str(self.artifacts))
        run = client.create_run(exp)
        now = int(time.time() * 1000)
        metrics = [Metric("loss", 1.0 / (i + 1), now, i) for i in range(rows)]
        client.log_batch(run.info.run_id, metrics=metrics)
        model = self.root / "model.zip"
        model.write_bytes(random.Random(0).randbytes(256 * 1024))  # incompressible, like a model
        client.log_artifact(run.info.run_id, str(model), artifact_path="model")
        client.set_terminated(run.info.run_id)
        model.unlink()

    def fingerprint(self) -> dict[str, Any]:
        """Row count and md5 of every table of every database, sha256 of every artifact file."""
        out: dict[str, Any] = {}
        for kind, url in self.urls.items():
            out[kind] = pg_fingerprint(url)
        for name, path in self.sqlite_dbs.items():
            out[name] = sqlite_fingerprint(path) if path.exists() else None
        files = sorted(p for d in (self.artifacts, self.home) if d.exists()
                       for p in d.rglob("*") if p.is_file())
        out["files"] = {str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in files}
        return out

    def destroy(self) -> None:
        """Drop both databases, delete the account DB and the artifact store."""
        admin = sa.create_engine(self.ctx.server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in self.databases.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
        for path in self.sqlite_dbs.values():
            path.unlink()
        shutil.rmtree(self.artifacts)
        shutil.rmtree(self.home)

    # ---- backup and restore ------------------------------------------------------------------------
    def init_repository(self, repo: str, password_file: Path, extra: list[str] | None = None,
                        copy_of: str | None = None) -> None:
        """``restic init`` (a copy repository with the primary's chunker, as the backup role does)."""
        copy = ["--copy-chunker-params", "--from-repo", copy_of,
                "--from-password-file", str(self.password_file)] if copy_of else []
        done = _restic(["init", *copy], password_file, self.cache, repo, extra)
        if done.returncode:
            raise RuntimeError(f"restic init {repo}: {done.stderr.decode(errors='replace').strip()[-300:]}")

    def script(self, **overrides: Any) -> Path:
        """The backup role's script rendered for this stack (``overrides`` replace role variables)."""
        values: dict[str, Any] = {
            "swarmops_env": "drill", "postgres_port": self.ctx.server.port,
            "postgres_socket_dir": str(self.ctx.server.workdir), "swarmops_release": {"postgres_major": 15},
            "swarmops_textfile_dir": str(self.root), "swarmops_run_dir": str(self.root),
            "backup_home": str(self.root), "backup_repository": self.repository,
            "backup_password_file": str(self.password_file), "backup_cache_dir": str(self.cache),
            "backup_copy_repository": str(self.root / "restic-copy"),
            "backup_copy_password_file": str(self.password_file), "backup_copy_sftp_command": "",
            "backup_sqlite_databases": [str(p) for p in self.sqlite_dbs.values()],
            "backup_paths": [str(self.artifacts), str(self.home)],
            "backup_check_read_data_subset": "100%", "backup_keep_last": 3, "backup_keep_daily": 7,
            "backup_keep_weekly": 4, "backup_keep_monthly": 6,
        }
        values.update(overrides)
        path = self.root / "swarmops-backup"
        path.write_text(render_backup_script(values))
        path.chmod(0o700)
        return path

    def run_backup(self, script: Path) -> subprocess.CompletedProcess[str]:
        """Run the rendered script (PGPASSWORD: the drills' server wants a password even on its socket)."""
        env = {**os.environ, "PGPASSWORD": self.ctx.server.password}
        return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600)

    def textfile_metric(self) -> dict[str, float]:
        """The backup.prom values the script wrote (metric name -> value)."""
        path = self.root / "backup.prom"
        if not path.exists():
            return {}
        return {line.split("{")[0]: float(line.rsplit(" ", 1)[1])
                for line in path.read_text().splitlines() if line and not line.startswith("#")}

    def restore(self, repo: str, password_file: Path, extra: list[str] | None = None) -> list[str]:
        """Restore the latest snapshot of each database and the files, like restore.yml; returns errors."""
        errors: list[str] = []
        listed = _restic(["snapshots", "--json", "--host", "drill"], password_file, self.cache, repo, extra)
        if listed.returncode:
            return [f"restic snapshots: {listed.stderr.decode(errors='replace').strip()[-200:]}"]
        latest: dict[str, dict[str, Any]] = {}
        for snap in sorted(json.loads(listed.stdout or b"[]"), key=lambda s: s["time"]):
            key = "files" if "files" in snap.get("tags", []) else snap["paths"][0]
            latest[key] = snap
        psql = [str(Path("/usr/lib/postgresql/15/bin/psql")), "-h", str(self.ctx.server.workdir),
                "-p", str(self.ctx.server.port), "-U", "postgres", "-AtqX", "-v", "ON_ERROR_STOP=1"]
        pg_env = {**os.environ, "PGPASSWORD": self.ctx.server.password}
        for db in self.databases.values():
            snap = latest.get(f"/postgres/{db}.sql")
            if snap is None:
                errors.append(f"no snapshot of database {db}")
                continue
            subprocess.run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{db}"'], env=pg_env, check=True,
                           capture_output=True, timeout=60)
            dump = subprocess.Popen(["restic", *(["--repo", repo]), *(extra or []), "dump", snap["id"],
                                     f"/postgres/{db}.sql"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env={**os.environ, "RESTIC_PASSWORD_FILE": str(password_file),
                                         "RESTIC_CACHE_DIR": str(self.cache)})
            load = subprocess.run([*psql, "-d", db], stdin=dump.stdout, env=pg_env, capture_output=True,
                                  timeout=300)
            dump.stdout.close()  # type: ignore[union-attr]
            if dump.wait(timeout=60) or load.returncode:
                why = (dump.stderr.read() or load.stderr).decode(errors="replace")  # type: ignore[union-attr]
                errors.append(f"restore of {db} failed: {why.strip()[-200:]}")
        for path in self.sqlite_dbs.values():
            snap = latest.get(f"/sqlite/{path.name}")
            if snap is None:
                errors.append(f"no snapshot of {path.name}")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as out:
                done = _restic(["dump", snap["id"], f"/sqlite/{path.name}"], password_file, self.cache,
                               repo, extra, stdout=out)
            if done.returncode:
                errors.append(f"restore of {path.name}: {done.stderr.decode(errors='replace')[-200:]}")
        if "files" not in latest:
            errors.append("no snapshot of the files")
        else:
            done = _restic(["restore", latest["files"]["id"], "--target", "/"], password_file, self.cache,
                           repo, extra)
            if done.returncode:
                errors.append(f"restic restore: {done.stderr.decode(errors='replace').strip()[-200:]}")
        return errors


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, as short strings (empty: identical)."""
    out = []
    for part in sorted(set(before) | set(after)):
        b, a = before.get(part), after.get(part)
        if a is None and b is not None:
            out.append(f"{part}: missing")
        elif a != b:
            keys = sorted(k for k in set(b or {}) | set(a or {}) if (b or {}).get(k) != (a or {}).get(k))
            out.append(f"{part}: {', '.join(keys[:3])} differ")
    return out


def _counts(fp: dict[str, Any]) -> tuple[int, int, int]:
    """(tables, rows, files) of a fingerprint: every part but the files is a database's tables."""
    tables = [v for part, found in fp.items() if part != "files" for v in (found or {}).values()]
    return len(tables), sum(n for n, _ in tables), len(fp.get("files", {}))


def backup_restore(ctx: DrillContext) -> DrillResult:
    """Back up with the role's script, destroy every database and the artifact store, restore, compare."""
    stack = BackupStack(ctx, "backup-restore")
    stack.populate(max(50, int(2000 * ctx.scale)))
    stack.init_repository(stack.repository, stack.password_file)
    stack.init_repository(str(stack.root / "restic-copy"), stack.password_file, copy_of=stack.repository)
    # sabotage: the role as it was, without the account databases (hub, MLflow auth)
    script = stack.script(**({"backup_sqlite_databases": []} if "backup-restore" in ctx.sabotage else {}))
    before = stack.fingerprint()
    began = time.perf_counter()
    backup = stack.run_backup(script)
    backup_s = time.perf_counter() - began
    stack.destroy()
    destroyed = stack.fingerprint()
    began = time.perf_counter()
    errors = stack.restore(stack.repository, stack.password_file)
    restore_s = time.perf_counter() - began
    after = stack.fingerprint()
    tables, rows, files = _counts(before)
    differ = _diff(before, after)
    checks = {
        "backup succeeded": backup.returncode == 0 and stack.textfile_metric().get(
            "swarmops_backup_last_run_success") == 1,
        "everything was destroyed": destroyed["ledger"] is None and destroyed["hub"] is None
        and not destroyed["files"],
        "restore without errors": not errors,
        "every table and artifact identical": not differ and rows > 0 and files > 0,
    }
    passed = all(checks.values())
    return DrillResult(
        "backup-restore", "the backup role's script (pg_dump + sqlite3 .backup + files into restic, check "
        "--read-data-subset 100%); then the ledger and MLflow DBs, the hub's and MLflow auth's account "
        "DBs and the artifact store destroyed and restored",
        "row count and md5 of every table, sha256 of every artifact identical before and after", passed,
        {"tables": tables, "rows": rows, "artifacts": files, "backup_s": round(backup_s, 1),
         "restore_s": round(restore_s, 1), "repo_bytes": _du(Path(stack.repository))},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {'; '.join(differ + errors)[:300]} {backup.stderr.strip()[-200:]}")


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# ---- off-site copy over sftp ---------------------------------------------------------------------------
def _free_loopback_address() -> tuple[str, int]:
    """A 127.x.y.z address other than 127.0.0.1 and a free port on it: the off-site "host"."""
    for _ in range(50):
        address = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
        with socket.socket() as sock:
            try:
                sock.bind((address, 0))
            except OSError:
                continue
            return address, sock.getsockname()[1]
    raise RuntimeError("no free loopback address for the off-site host")


class OffsiteHost:
    """An sshd on its own loopback address that lets one key in, for sftp only, to one user's folder."""

    def __init__(self, base: Path) -> None:
        self.base = base  # root-owned, 0755: sshd's StrictModes checks the path to authorized_keys
        self.address, self.port = _free_loopback_address()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Create the user (once), keys, a config and start ``sshd -D`` on address:port."""
        try:
            pwd.getpwnam(OFFSITE_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                            "--shell", "/usr/sbin/nologin", OFFSITE_USER], check=True, capture_output=True)
        # "*": no password login, yet not locked ("!", which sshd without PAM treats as locked for keys too)
        subprocess.run(["usermod", "-p", "*", OFFSITE_USER], check=True, capture_output=True)
        user = pwd.getpwnam(OFFSITE_USER)
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        self.storage = self.base / "storage"
        self.storage.mkdir()
        os.chown(self.storage, user.pw_uid, user.pw_gid)
        self.storage.chmod(0o700)
        for name in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.base / name)],
                           check=True, capture_output=True)
        keys = self.base / "authorized_keys"
        keys.write_text((self.base / "client_key.pub").read_text())
        os.chown(keys, user.pw_uid, user.pw_gid)
        keys.chmod(0o600)
        (self.base / "known_hosts").write_text(
            f"[{self.address}]:{self.port} {(self.base / 'host_key.pub').read_text()}")
        config = self.base / "sshd_config"
        config.write_text("\n".join([
            f"ListenAddress {self.address}", f"Port {self.port}", f"HostKey {self.base / 'host_key'}",
            f"PidFile {self.base / 'sshd.pid'}", f"AuthorizedKeysFile {keys}", f"AllowUsers {OFFSITE_USER}",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin no",
            "UsePAM no", "AllowTcpForwarding no", "X11Forwarding no", "Subsystem sftp internal-sftp",
            "ForceCommand internal-sftp", ""]))
        Path("/run/sshd").mkdir(exist_ok=True)
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config),
                                      "-E", str(self.base / "log")])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex((self.address, self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"sshd on {self.address}:{self.port} did not start: "
                           f"{(self.base / 'log').read_text(errors='replace')[-300:]}")

    @property
    def repository(self) -> str:
        """The restic sftp repository URL on this host."""
        return f"sftp:{OFFSITE_USER}@{self.address}:{self.storage}/restic"

    @property
    def sftp_command(self) -> str:
        """restic's sftp.command: this host's key, known_hosts and port, no fallback to passwords."""
        return (f"ssh -i {self.base / 'client_key'} -o IdentitiesOnly=yes -o BatchMode=yes "
                f"-o UserKnownHostsFile={self.base / 'known_hosts'} -o StrictHostKeyChecking=yes "
                f"-p {self.port} {OFFSITE_USER}@{self.address} -s sftp")

    def stop(self) -> None:
        """Stop sshd and remove the host's files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        shutil.rmtree(self.base, ignore_errors=True)


def offsite(ctx: DrillContext) -> DrillResult:
    """Copy to another host over sftp with its own credentials; lose the primary; restore from the copy."""
    stack = BackupStack(ctx, "offsite")
    stack.populate(max(50, int(500 * ctx.scale)))
    host = OffsiteHost(Path("/var/lib/swarmops-drills") / f"offsite-{secrets.token_hex(4)}")
    try:
        host.start()
        copy_password = stack.root / "restic-offsite.password"
        copy_password.write_text(secrets.token_hex(16) + "\n")
        copy_password.chmod(0o600)
        sftp = ["-o", f"sftp.command={host.sftp_command}"]
        stack.init_repository(stack.repository, stack.password_file)
        if "offsite" in ctx.sabotage:
            # sabotage: the old stand-in, a folder next to the primary (destroyed along with it)
            copy_repo, copy_extra, overrides = str(stack.root / "restic-copy"), [], {}
            stack.init_repository(copy_repo, copy_password, copy_of=stack.repository)
        else:
            copy_repo, copy_extra = host.repository, sftp
            overrides = {"backup_copy_sftp_command": host.sftp_command}
            stack.init_repository(copy_repo, copy_password, sftp, copy_of=stack.repository)
        script = stack.script(backup_copy_repository=copy_repo, backup_copy_password_file=str(copy_password),
                              **overrides)
        before = stack.fingerprint()
        backup = stack.run_backup(script)
        wrong = _restic(["cat", "config"], stack.password_file, stack.cache, copy_repo, copy_extra)
        stack.destroy()
        shutil.rmtree(stack.repository)  # the primary repository is lost with its host
        if "offsite" in ctx.sabotage:
            shutil.rmtree(copy_repo, ignore_errors=True)
        began = time.perf_counter()
        errors = stack.restore(copy_repo, copy_password, copy_extra)
        restore_s = time.perf_counter() - began
        after = stack.fingerprint()
        copy_bytes = _du(host.storage)
    finally:
        host.stop()
    tables, rows, files = _counts(before)
    differ = _diff(before, after)
    checks = {
        "backup and copy succeeded": backup.returncode == 0,
        "copy does not open with the primary's password": wrong.returncode != 0,
        "restore from the copy without errors": not errors,
        "every table and artifact identical": not differ and rows > 0,
    }
    passed = all(checks.values())
    return DrillResult(
        "offsite", "the backup script copies to another host (own loopback address and sshd, restic sftp, "
        "own key and password); primary repository and data destroyed; restored from the copy",
        "the copy needs its own password; every table and artifact identical after restoring from it", passed,
        {"host": f"{host.address}:{host.port}", "tables": tables, "rows": rows, "artifacts": files,
         "copy_bytes": copy_bytes, "restore_s": round(restore_s, 1)},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {'; '.join(differ + errors)[:300]} {backup.stderr.strip()[-200:]}")


# ---- integrity: wrong password, corrupted pack ---------------------------------------------------------
def _alert_fires(metric_value: float, alert: str = "BackupLastRunFailed") -> tuple[bool, str]:
    """promtool: does the monitoring rule ``alert`` fire for swarmops_backup_last_run_success = value?"""
    import yaml

    rule = next(r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]
                if r.get("alert") == alert)
    annotations = {k: str(v).replace("{{ $labels.env }}", "drill") for k, v in rule["annotations"].items()}
    test = {"rule_files": [str(ALERTS)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": 'swarmops_backup_last_run_success{env="drill"}',
                          "values": f"{metric_value:g}x30"}],
        "alert_rule_test": [{"eval_time": "20m", "alertname": alert, "exp_alerts": [
            {"exp_labels": {**rule["labels"], "env": "drill"}, "exp_annotations": annotations}]}]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        yaml.safe_dump(test, handle)
    try:
        done = subprocess.run(["promtool", "test", "rules", handle.name], capture_output=True, text=True,
                              timeout=60)
    finally:
        os.unlink(handle.name)
    return done.returncode == 0, (done.stdout + done.stderr).strip().splitlines()[-1:][0] if not \
        done.returncode == 0 else ""


def _corrupt_largest_pack(repo: Path) -> Path:
    """Overwrite 64 bytes in the middle of the repository's largest pack file (bit rot on the disk)."""
    pack = max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    pack.chmod(0o600)
    with pack.open("r+b") as handle:
        handle.seek(pack.stat().st_size // 2)
        handle.write(bytes(64))
    return pack


def backup_integrity(ctx: DrillContext) -> DrillResult:
    """A wrong password and a corrupted pack fail the backup run, set its metric to 0, fire the alert."""
    stack = BackupStack(ctx, "backup-integrity")
    stack.populate(50)
    stack.init_repository(stack.repository, stack.password_file)
    stack.init_repository(str(stack.root / "restic-copy"), stack.password_file, copy_of=stack.repository)
    first = stack.run_backup(stack.script())
    good_metric = stack.textfile_metric()
    wrong_password = stack.root / "wrong.password"
    wrong_password.write_text(secrets.token_hex(16) + "\n")
    wrong_run = stack.run_backup(stack.script(backup_password_file=str(wrong_password)))
    wrong_metric = stack.textfile_metric()
    _corrupt_largest_pack(Path(stack.repository))
    # sabotage: the role as it was, `restic check` of the metadata only
    subset = "" if "backup-integrity" in ctx.sabotage else "100%"
    began = time.perf_counter()
    corrupt_run = stack.run_backup(stack.script(backup_check_read_data_subset=subset))
    check_s = time.perf_counter() - began
    corrupt_metric = stack.textfile_metric()
    alert, alert_detail = _alert_fires(corrupt_metric.get("swarmops_backup_last_run_success", 1))
    stack.destroy()
    restore_errors = stack.restore(stack.repository, stack.password_file)
    checks = {
        "healthy backup succeeded": first.returncode == 0
        and good_metric.get("swarmops_backup_last_run_success") == 1,
        "wrong password fails the run": wrong_run.returncode != 0
        and wrong_metric.get("swarmops_backup_last_run_success") == 0
        and "wrong password" in wrong_run.stderr,
        "last success time kept": wrong_metric.get("swarmops_backup_last_success_timestamp_seconds")
        == good_metric.get("swarmops_backup_last_success_timestamp_seconds"),
        "corrupted pack fails the run": corrupt_run.returncode != 0
        and corrupt_metric.get("swarmops_backup_last_run_success") == 0,
        "BackupLastRunFailed fires": alert,
        "restore from the corrupted repository refuses": bool(restore_errors),
    }
    passed = all(checks.values())
    return DrillResult(
        "backup-integrity", "the backup script run with a wrong restic password, then after 64 bytes of "
        "its largest pack were overwritten; a restore tried from that repository",
        "each run exits non-zero and writes swarmops_backup_last_run_success 0 (promtool: "
        "BackupLastRunFailed fires); the restore reports the damage instead of restoring it", passed,
        {"wrong_password_rc": wrong_run.returncode, "corrupt_rc": corrupt_run.returncode,
         "check_s": round(check_s, 1), "restore_errors": len(restore_errors)},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {alert_detail} {corrupt_run.stderr.strip()[-200:]}")
