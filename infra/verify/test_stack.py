"""Checks of one deployed SwarmOps environment (testinfra). Read-only: safe against production."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def _supervisorctl(ctx: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["supervisorctl", "-c", ctx["supervisor_conf"], *args],
                          capture_output=True, text=True, timeout=30)


def test_every_program_runs_under_the_env_supervisord(ctx: dict[str, Any]) -> None:
    status = _supervisorctl(ctx, "status")
    states = dict(re.findall(r"^(\S+)\s+(\S+)", status.stdout, re.M))
    missing = set(ctx["programs"]) - set(states)
    assert not missing, f"programs not defined under {ctx['supervisor_conf']}: {sorted(missing)}"
    for program in states:  # every program, the monitoring role's included
        if states.get(program) != "RUNNING":
            log = _supervisorctl(ctx, "tail", program).stdout[-2000:]
            pytest.fail(f"{program} is {states.get(program)} under {ctx['supervisor_conf']}:\n{log}")


def test_expected_ports_listen_on_the_env_address(ctx: dict[str, Any], host: Any) -> None:
    for name, port in ctx["ports"].items():
        assert host.socket(f"tcp://{ctx['address']}:{port}").is_listening, \
            f"{name} ({ctx['address']}:{port}) does not listen"


def _env_processes(ctx: dict[str, Any]) -> set[int]:
    """The environment's supervisord and every process below it."""
    root = int(_supervisorctl(ctx, "pid").stdout.strip())
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def test_nothing_of_the_env_listens_beyond_its_address(ctx: dict[str, Any]) -> None:
    """Every environment uses the same ports on its own address: no process of this one listens on
    another address (another environment's, loopback's) or on all of them."""
    mine = _env_processes(ctx)
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    base = ctx["port_base"]
    for line in out.splitlines():
        local = line.split()[3]
        addr, _, port = local.rpartition(":")
        if not base <= int(port) < base + 100 or addr == ctx["address"]:
            continue
        assert addr not in ("0.0.0.0", "*", "[::]"), f"{local} listens on every address"
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        assert not pids & mine, f"{local} (pids {sorted(pids & mine)}) of {ctx['env']} listens beyond " \
                                f"{ctx['address']}"


@pytest.mark.parametrize("key", ["files"])
def test_config_and_secret_files_have_owner_and_mode(ctx: dict[str, Any], host: Any, key: str) -> None:
    for spec in ctx[key]:
        f = host.file(spec["path"])
        assert f.exists, spec["path"]
        got = (f.user, f.group, oct(f.mode))
        assert got == (spec["owner"], spec["group"], spec["mode"]), f"{spec['path']}: {got} != {spec}"


def _connect(ctx: dict[str, Any], user: str, password: str, dbname: str) -> None:
    psycopg2.connect(host=ctx["address"], port=ctx["ports"]["postgres"], user=user, password=password,
                     dbname=dbname, connect_timeout=5).close()


def test_each_postgres_role_reaches_its_own_database_only(ctx: dict[str, Any]) -> None:
    dbs = ctx["databases"]
    for db in dbs:
        _connect(ctx, db["owner"], db["password"], db["name"])
        for other in [d["name"] for d in dbs if d["name"] != db["name"]] + ["postgres"]:
            with pytest.raises(psycopg2.OperationalError):
                _connect(ctx, db["owner"], db["password"], other)
        with pytest.raises(psycopg2.OperationalError):
            _connect(ctx, db["owner"], db["password"] + "x", db["name"])


def test_mlflow_answers_through_nginx_only_with_credentials(ctx: dict[str, Any]) -> None:
    url = f"https://{ctx['address']}:{ctx['ports']['nginx']}/api/2.0/mlflow/experiments/search?max_results=1"
    auth = (ctx["nginx_user"], ctx["nginx_password"])
    ok = requests.get(url, auth=auth, verify=ctx["nginx_cert"], timeout=30)
    assert ok.status_code == 200, ok.text[:300]
    assert "experiments" in ok.json()
    assert requests.get(url, verify=ctx["nginx_cert"], timeout=30).status_code == 401
    assert requests.get(url, auth=(auth[0], "wrong"), verify=ctx["nginx_cert"], timeout=30).status_code == 401


def test_basic_auth_hashes_are_cheap_enough_to_check_on_every_request(ctx: dict[str, Any]) -> None:
    """nginx verifies the password of every request: passlib's 656,000 SHA-512 rounds (the
    community.general.htpasswd module's) cost 0.6 s of CPU each; the role writes 5,000."""
    lines = [line for line in Path(ctx["nginx_htpasswd"]).read_text().splitlines()
             if line and not line.startswith("#")]
    assert [line.split(":", 1)[0] for line in lines] == [ctx["nginx_user"]]
    for line in lines:
        digest = line.split(":", 1)[1]
        assert digest.startswith("$6$"), f"{ctx['nginx_htpasswd']}: not SHA-512 crypt"
        rounds = re.match(r"\$6\$rounds=(\d+)\$", digest)
        assert rounds is None or int(rounds.group(1)) <= 100_000, \
            f"{ctx['nginx_htpasswd']}: {rounds.group(1)} rounds, paid on every request"


def test_front_door_health_and_hub_are_served_over_tls(ctx: dict[str, Any]) -> None:
    base = f"https://{ctx['address']}:{ctx['ports']['nginx']}"
    assert requests.get(f"{base}/health", verify=ctx["nginx_cert"], timeout=10).status_code == 200
    hub = requests.get(f"{base}/hub/health", verify=ctx["nginx_cert"], timeout=30)
    assert hub.status_code == 200, hub.text[:300]
    signup = requests.get(f"{base}/hub/signup", verify=ctx["nginx_cert"], timeout=30)
    assert signup.status_code == 200 and "signup" in signup.text.lower()


def test_kernel_imports_the_project_as_an_unprivileged_user(ctx: dict[str, Any]) -> None:
    code = "import env, training, mission, numpy; print(env.__file__)"
    res = subprocess.run(["runuser", "-u", "nobody", "--", ctx["kernel_python"], "-c", code],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert ctx["kernel_python"].rsplit("/bin/", 1)[0] in res.stdout


def test_backup_repositories_open_with_the_vaulted_password(ctx: dict[str, Any]) -> None:
    for repo in (ctx["backup_repository"], ctx["backup_copy_repository"]):
        res = subprocess.run(["restic", "--repo", repo, "--password-file", ctx["backup_password_file"],
                              "cat", "config"], capture_output=True, text=True, timeout=60,
                             env={"RESTIC_CACHE_DIR": ctx["backup_cache_dir"], "PATH": "/usr/bin:/bin"})
        assert res.returncode == 0, f"{repo}: {res.stderr}"
