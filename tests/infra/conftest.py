"""Fixtures of the infra tests. They touch only throw-away environments of their own.

- `sentinel` (session; every deploying test gets it through `vault_env` or `review_env`: up first, down
  last): fingerprints staging and production without writing anything into them (prefix, configuration
  and release digests, supervisord pid, cluster roles, databases and tables; a prefix that does not
  exist must stay absent) and the operators' vaults; after the whole session all must be unchanged.
  test_zz_sentinel.py asserts the same as the last test of the infra-hosts group.
- `vault_env` (session): two free test environments test-<n> (A and B), their vaults in a throw-away
  secrets dir with a vault password generated now, and SWARMOPS_TEST_ENVS_ONLY=1 so infra/*.sh refuse
  every other env. Each test env is a host: this machine is provisioned with infra/ansible/target.yml
  (deploy user, sudo rule, python3-* modules), and an sshd is started on each env's address with a host
  key and the deploy user's authorised key generated for this session (under /run: sshd's StrictModes
  refuses keys below the world-writable /tmp). Ansible then deploys over SSH as the deploy user, exactly
  as it reaches staging; the sshds stop after the teardown.
- `review_env` (session): the same for the test review host alone (the review tests' test-review-<mr>
  environments): it shares nothing with A and B, so its tests form their own xdist group.
- `test_env_a`: the first test env ("a" in these tests: the one promoted from) deployed twice (the second
  run must change nothing); both test envs are torn down at the end.

Set SWARMOPS_TEST_MONITORING=1/0 to force the monitoring role on/off; by default it is on once
infra/ansible/roles/monitoring is committed.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import random
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
ANSIBLE = INFRA / "ansible"
REAL_ENVS = ("staging", "production")
RECAP = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
TEST_INVENTORY = ANSIBLE / "inventories/test/hosts.yml"
DEPLOY_USER = "swarmops-deploy"  # infra/ansible/group_vars/swarmops/connection.yml
# The first deploy on a bare machine also builds the shared MLflow, JupyterHub and kernel venvs
# (/opt/swarmops/venvs, reused by every later deploy): on a fresh 2-core machine that ran other
# work beside it, it was still going after pytest's 900 s (2026-12-02), later ones take ~2 min.
FIRST_DEPLOY_TIMEOUT = 2400


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that may deploy first on this machine (those using test env A's deployment, and the
    review tests, which deploy their own environment beside it) get FIRST_DEPLOY_TIMEOUT; a test's
    own timeout mark wins."""
    for item in items:
        first_deploy = {"test_env_a", "review_env"} & set(getattr(item, "fixturenames", ()))
        if first_deploy and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(FIRST_DEPLOY_TIMEOUT))


def run(cmd: list[str], timeout: int = 900, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
    """Run a command with the venv on PATH and SWARMOPS_TEST_ENVS_ONLY=1 (infra/*.sh then refuse any
    environment but test-<n>); an inventory other than the test one is refused before anything runs.
    On an unexpected exit code fail with the output's tail."""
    for arg in map(str, cmd):
        if "inventories/" in arg and not arg.startswith(str(ANSIBLE / "inventories/test/")):
            pytest.fail(f"tests use only the test inventory, not {arg}")
    env = {**os.environ, "PATH": f"{REPO / '.venv/bin'}:{os.environ['PATH']}", "ANSIBLE_FORCE_COLOR": "0"}
    env.update(kw.pop("env", {}))
    env["SWARMOPS_TEST_ENVS_ONLY"] = "1"
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env, **kw)
    if check and res.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} -> rc {res.returncode}\n{res.stdout[-6000:]}\n{res.stderr[-3000:]}")
    return res


def recap(output: str) -> dict[str, int]:
    """ok/changed/unreachable/failed counts of an ansible-playbook run (one host)."""
    m = RECAP.search(output)
    assert m, f"no PLAY RECAP in output:\n{output[-3000:]}"
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups())))


def monitoring_enabled() -> bool:
    """Monitoring role on iff forced by SWARMOPS_TEST_MONITORING or committed to git."""
    forced = os.environ.get("SWARMOPS_TEST_MONITORING")
    if forced in ("0", "1"):
        return forced == "1"
    tracked = subprocess.run(["git", "ls-files", "infra/ansible/roles/monitoring/tasks"], cwd=REPO,
                             capture_output=True, text=True).stdout
    return bool(tracked.strip())


def number(env: str) -> int:
    """n of test-<n>."""
    m = re.fullmatch(r"test-([1-9][0-9]?)", env)
    assert m, f"{env} is not a test environment"
    return int(m.group(1))


TEST_REVIEW_HOST = "test-review-host"  # the host of the suite's test-review-<mr> (inventories/review)


def address(env: str) -> str:
    """Loopback address of test-<n> (inventories/test/group_vars/swarmops/main.yml), or of the test
    review host."""
    return "127.0.1.200" if env == TEST_REVIEW_HOST else f"127.0.1.{number(env)}"


def ports(env: str) -> dict[str, int]:
    """Ports of an environment: the one layout of every environment (group_vars/all/ports.yml)."""
    layout = yaml.safe_load((ANSIBLE / "group_vars/all/ports.yml").read_text())
    base = int(layout.pop("swarmops_port_base"))
    return {k: base + int(re.search(r"\+ (\d+)", v).group(1)) for k, v in layout.items()}


def teardown(env: str, vault_env: dict[str, str], *extra: str,
             check: bool = True) -> subprocess.CompletedProcess:
    """Remove a test environment (processes, cluster, users, prefix)."""
    number(env)
    return run(["ansible-playbook", "-i", str(TEST_INVENTORY), "-e", f"swarmops_test_env={env}", *extra,
                str(ANSIBLE / "teardown.yml")], env=vault_env, timeout=300, check=check)


def _listening() -> str:
    return subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout


def _free_test_envs(count: int) -> list[str]:
    """test-<n> names with nothing of theirs on this host: no prefix, cluster or listener."""
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    listening = _listening()
    free = [f"test-{n}" for n in random.sample(range(1, 100), 99)
            if not Path(f"/opt/swarmops/test-{n}").exists() and f" test_{n} " not in f" {clusters} "
            and f"127.0.1.{n}:" not in listening]
    assert len(free) >= count, "no free test-<n> environment left on this host"
    return free[:count]


# ---- the sentinel: proof that the session left staging and production alone ----
# Read-only: the session writes nothing into a real environment, not even a marker. It fingerprints
# what any deploy, teardown, promotion or secret rotation would change, and compares at the end.

def _fingerprint_vaults() -> dict[str, str]:
    """sha256 of every real environment's vault an operator may have (secrets dir and legacy location)."""
    home = Path(os.environ.get("HOME", "/root"))
    paths = [Path(os.environ.get("SWARMOPS_SECRETS_DIR", home / ".swarmops/secrets")) / f"{e}.vault.yml"
             for e in (*REAL_ENVS, "review")]
    paths += [ANSIBLE / f"inventories/{e}/group_vars/swarmops/vault.yml" for e in (*REAL_ENVS, "review")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _psql(env: str, port: str, sql: str, database: str = "postgres") -> subprocess.CompletedProcess:
    """A read-only query as postgres on ``env``'s cluster (the session's transactions cannot write),
    through its own socket directory (the old shared one for a cluster deployed before the directories
    were per environment)."""
    own = Path(f"/opt/swarmops/{env}/postgres/run")
    socket_dir = str(own) if (own / f".s.PGSQL.{port}").exists() else "/var/run/postgresql"
    return subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-t", "-A",
                           "-h", socket_dir, "-p", port, "-d", database, "-v", "ON_ERROR_STOP=1",
                           "-c", sql],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PGOPTIONS": "-c default_transaction_read_only=on"})


def _cluster(env: str) -> tuple[str, str] | None:
    """(port, status) of ``env``'s PostgreSQL cluster (pg_lsclusters), None when it has none."""
    cluster = env.replace("-", "_")
    for line in subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[1] == cluster:
            return f[2], f[3]
    return None


_ROLES = ("SELECT rolname || ':' || oid || ':' || rolcanlogin || rolsuper || rolcreaterole || rolcreatedb"
          " || ':' || md5(coalesce(rolpassword, '')) FROM pg_authid ORDER BY 1")
_DATABASES = "SELECT datname || ':' || oid FROM pg_database WHERE datallowconn ORDER BY 1"
_TABLES = ("SELECT n.nspname || '.' || c.relname || ':' || c.oid || ':' || c.relowner FROM pg_class c"
           " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm')"
           " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
           " ORDER BY 1")


def _tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` (relative path -> digest); empty when it does not exist."""
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def fingerprint(env: str) -> dict[str, Any]:
    """What a deploy, teardown, promotion or secret rotation of ``env`` would change, read without
    writing: whether its prefix exists (and its inode: removed and made again shows), the digests of
    its configuration and release record (etc/, state/) and of its cluster's configuration, its
    supervisord's pid, and, when its cluster is online, its roles (with password digests), databases
    and tables (with oids: dropped and made again shows). Logs, data and backups are left out: a running
    environment changes those on its own."""
    prefix = Path(f"/opt/swarmops/{env}")
    if not prefix.exists():
        return {"prefix": None, "cluster": _cluster(env)}
    pid = prefix / "run/supervisord.pid"
    found: dict[str, Any] = {
        "prefix": prefix.stat().st_ino, "etc": _tree_digest(prefix / "etc"),
        "state": _tree_digest(prefix / "state"), "supervisord": pid.read_text() if pid.is_file() else None,
        "cluster": _cluster(env),
        "cluster_conf": _tree_digest(Path("/etc/postgresql/15") / env.replace("-", "_"))}
    if found["cluster"] and found["cluster"][1] == "online":
        port = found["cluster"][0]
        queried = {"roles": _psql(env, port, _ROLES), "databases": _psql(env, port, _DATABASES)}
        for line in queried["databases"].stdout.split():
            database = line.rsplit(":", 1)[0]
            queried[f"tables {database}"] = _psql(env, port, _TABLES, database)
        for key, res in queried.items():
            assert res.returncode == 0, f"cannot read the {key} of {env}'s cluster: {res.stderr.strip()}"
            found[key] = res.stdout.split("\n")
    return found


def fingerprint_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The keys whose values differ between two fingerprints of one environment."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def fingerprint_real_envs() -> dict[str, Any]:
    """The fingerprints of staging and production as they are now, and of the operators' vaults."""
    return {"envs": {env: fingerprint(env) for env in REAL_ENVS}, "vaults": _fingerprint_vaults()}


def sentinel_problems(planted: dict[str, Any]) -> list[str]:
    """What changed in staging/production since the session started (empty: untouched), one line each."""
    now = fingerprint_real_envs()
    problems = []
    for env, before in planted["envs"].items():
        changed = fingerprint_changes(before, now["envs"][env])
        if changed:
            problems.append(f"{env} changed during the session: {', '.join(changed)}")
    if now["vaults"] != planted["vaults"]:
        problems.append(f"a real environment's vault changed: {planted['vaults']} -> {now['vaults']}")
    return problems


@pytest.fixture(scope="session")
def sentinel() -> Iterator[dict[str, Any]]:
    """Staging's and production's fingerprints before the first infra test, compared after the last
    fixture of the session is gone."""
    planted = fingerprint_real_envs()
    yield planted
    problems = sentinel_problems(planted)
    assert not problems, "the infra tests touched a real environment: " + "; ".join(problems)


# ---- the test hosts: an sshd per test environment address, keys of this session ----

def _keygen(path: Path, comment: str) -> str:
    """A new ed25519 key pair at path; returns the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, timeout=60)
    return path.with_suffix(".pub").read_text().strip()


def session_ssh_keys() -> tuple[Path, dict[str, str]]:
    """A host key, a client key and its authorized_keys file in a fresh root-owned directory; returns
    the directory and the Ansible environment that uses them (key, known_hosts checked strictly)."""
    ssh_dir = Path(tempfile.mkdtemp(prefix="swarmops-test-ssh-", dir="/run"))
    ssh_dir.chmod(0o755)  # sshd reads authorized_keys as the deploy user
    (ssh_dir / "client").mkdir(mode=0o700)
    host_pub = _keygen(ssh_dir / "host_ed25519_key", "swarmops-test-host")
    client_pub = _keygen(ssh_dir / "client/id_ed25519", "swarmops-test-controller")
    (ssh_dir / "authorized_keys").write_text(client_pub + "\n")
    (ssh_dir / "authorized_keys").chmod(0o644)
    (ssh_dir / "host_key.pub").write_text(host_pub + "\n")
    known = ssh_dir / "client/known_hosts"
    env = {"ANSIBLE_PRIVATE_KEY_FILE": str(ssh_dir / "client/id_ed25519"),
           "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes "
                                      "-o IdentitiesOnly=yes"}
    return ssh_dir, env


def start_sshd(ssh_dir: Path, env_name: str) -> None:
    """An sshd bound to the test environment's address (port 22) that lets only the deploy user in,
    with this session's key; its host key goes to the controller's known_hosts of the session."""
    addr = address(env_name)
    conf = ssh_dir / f"sshd-{env_name}.conf"
    pidfile = ssh_dir / f"sshd-{env_name}.pid"
    conf.write_text("\n".join([
        f"ListenAddress {addr}", "Port 22", f"HostKey {ssh_dir / 'host_ed25519_key'}", f"PidFile {pidfile}",
        f"AuthorizedKeysFile {ssh_dir / 'authorized_keys'}", f"AllowUsers {DEPLOY_USER}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin no",
        "StrictModes yes", "UsePAM yes", "Subsystem sftp /usr/lib/openssh/sftp-server", ""]))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    subprocess.run(["/usr/sbin/sshd", "-f", str(conf), "-E", str(ssh_dir / f"sshd-{env_name}.log")],
                   check=True, capture_output=True, timeout=30)
    with open(ssh_dir / "client/known_hosts", "a") as known:
        known.write(f"{addr} {(ssh_dir / 'host_key.pub').read_text()}")
    for _ in range(100):
        if f"{addr}:22 " in _listening():
            return
        time.sleep(0.1)
    log = (ssh_dir / f"sshd-{env_name}.log").read_text()
    pytest.fail(f"sshd for {env_name} does not listen on {addr}:22: {log}")


def stop_sshd(ssh_dir: Path, env_name: str) -> None:
    """Stop the test environment's sshd (only the one this session started, by its pid file)."""
    pidfile = ssh_dir / f"sshd-{env_name}.pid"
    if pidfile.is_file():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass


def provision_test_host() -> None:
    """This machine as an environment host: infra/ansible/target.yml (deploy user, its sudo rule, the
    python3-* modules), run locally as root, the way an operator provisions a new host. One session at a
    time (the infra groups of two xdist workers would create the same user at once)."""
    with open("/run/swarmops-test-provision.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run(["ansible-playbook", "-i", "localhost,", "-c", "local",
             "-e", "ansible_python_interpreter=/usr/bin/python3", "-e", f"target_deploy_user={DEPLOY_USER}",
             str(ANSIBLE / "target.yml")], timeout=600)


@contextmanager
def session_hosts(names: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """This machine provisioned as a host, and an sshd of this session for each named environment's
    address; yields the Ansible environment that reaches them (the session's key and known_hosts)."""
    provision_test_host()
    ssh_dir, ssh_env = session_ssh_keys()
    try:
        for name in names:
            start_sshd(ssh_dir, name)
        yield ssh_env
    finally:
        for name in names:
            stop_sshd(ssh_dir, name)
        shutil.rmtree(ssh_dir, ignore_errors=True)


def _secrets_dir() -> tuple[Path, Path]:
    """A throw-away secrets dir and its vault password file (generated now)."""
    secrets_dir = Path(tempfile.mkdtemp(prefix="swarmops-test-secrets-"))
    pw = secrets_dir / "vault-password"
    pw.write_text(secrets.token_hex(32))
    pw.chmod(0o600)
    return secrets_dir, pw


def _session_env(ssh_env: dict[str, str], secrets_dir: Path, pw: Path) -> dict[str, str]:
    """What infra/*.sh and ansible need in a test session: SSH, vaults, config and a pinned commit."""
    # pin the commit for the whole session: others may commit meanwhile, and the idempotence run and the
    # promotion must see the same release
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.strip()
    return {**ssh_env, "SWARMOPS_VAULT_PASSWORD_FILE": str(pw), "SWARMOPS_PROJECT_REF": commit,
            "SWARMOPS_SECRETS_DIR": str(secrets_dir / "vaults"),
            "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg")}


@pytest.fixture(scope="session")
def vault_env(sentinel: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Two free test environments, each a host with its own sshd, with vaults in a throw-away secrets
    dir; both torn down after the session."""
    secrets_dir, pw = _secrets_dir()
    a, b = _free_test_envs(2)
    try:
        with session_hosts((a, b)) as ssh_env:
            env = {**_session_env(ssh_env, secrets_dir, pw), "SWARMOPS_ENV_A": a, "SWARMOPS_ENV_B": b}
            for name in (a, b):
                run(["bash", "infra/vault.sh", name], env=env)
            yield env
            for name in (a, b):
                teardown(name, env, check=False)
    finally:
        shutil.rmtree(secrets_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def review_env(sentinel: dict[str, Any]) -> Iterator[dict[str, str]]:
    """The test review host (its own sshd), with a throw-away secrets dir: the review tests' session. It
    shares nothing with vault_env's environments, so its tests run on another xdist worker."""
    secrets_dir, pw = _secrets_dir()
    try:
        with session_hosts((TEST_REVIEW_HOST,)) as ssh_env:
            yield _session_env(ssh_env, secrets_dir, pw)
    finally:
        shutil.rmtree(secrets_dir, ignore_errors=True)


def vault(env: str, vault_env: dict[str, str]) -> dict[str, str]:
    """Decrypted secrets of a test environment (for the checks)."""
    out = run(["bash", "infra/vault.sh", env, "view"], env=vault_env).stdout
    return yaml.safe_load(out)


@pytest.fixture(scope="session")
def test_env_a(vault_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Test env A (stands in for staging) deployed from scratch, then deployed again."""
    name = vault_env["SWARMOPS_ENV_A"]
    flag = f"swarmops_monitoring_enabled={'true' if monitoring_enabled() else 'false'}"
    t0 = time.monotonic()
    first = run(["bash", "infra/deploy.sh", name, "-e", flag], env=vault_env, timeout=FIRST_DEPLOY_TIMEOUT)
    t1 = time.monotonic()
    second = run(["bash", "infra/deploy.sh", name, "-e", flag], env=vault_env)
    t2 = time.monotonic()
    yield {"name": name, "first": first.stdout, "second": second.stdout, "first_s": t1 - t0,
           "second_s": t2 - t1, "ports": ports(name), "address": address(name),
           "vault": vault(name, vault_env), "prefix": Path(f"/opt/swarmops/{name}"),
           "monitoring_flag": flag, "vault_env": vault_env}


def release(prefix: Path) -> dict[str, Any]:
    """The release record an environment's deploy wrote (state/release.yml under its prefix)."""
    return yaml.safe_load((prefix / "state/release.yml").read_text())


@pytest.fixture(scope="session")
def tools() -> SimpleNamespace:
    """Helpers for the test modules (they cannot import conftest under --import-mode=importlib)."""
    return SimpleNamespace(run=run, recap=recap, release=release, ports=ports, address=address,
                           vault=vault, teardown=teardown, repo=REPO, ansible=ANSIBLE,
                           monitoring_enabled=monitoring_enabled, test_inventory=TEST_INVENTORY,
                           sentinel_problems=sentinel_problems, fingerprint=fingerprint,
                           fingerprint_changes=fingerprint_changes)
