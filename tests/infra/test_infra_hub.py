"""JupyterHub behind the front door: sign-up waits for admin approval, then the user gets a server running
as its own system account with the SwarmOps kernel."""
from __future__ import annotations

import pwd
import secrets
import time
from typing import Any

import pytest
import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
Env = dict[str, Any]
pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _session(base: str, cert: str) -> requests.Session:
    s = requests.Session()
    s.verify = cert
    s.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides s.verify
    s.get(f"{base}/hub/login", timeout=30)
    return s


def _login(base: str, cert: str, user: str, password: str) -> requests.Session | None:
    s = _session(base, cert)
    form = {"username": user, "password": password, "_xsrf": s.cookies.get("_xsrf")}
    r = s.post(f"{base}/hub/login", data=form,
               allow_redirects=False, timeout=30)
    return s if r.status_code == 302 and "/hub/login" not in r.headers.get("Location", "") else None


def test_signup_needs_admin_approval_then_user_gets_a_server(staging: Env) -> None:
    base = f"https://127.0.0.1:{staging['ports']['nginx_port']}"
    cert = str(staging["prefix"] / "nginx/server.crt")
    user, password = f"u{secrets.token_hex(3)}", secrets.token_urlsafe(12)

    s = _session(base, cert)
    r = s.get(f"{base}/hub/signup", timeout=30)
    r = s.post(f"{base}/hub/signup", timeout=30, data={
        "username": user, "signup_password": password, "signup_password_confirmation": password,
        "_xsrf": s.cookies.get("_xsrf")})
    assert r.status_code == 200, r.text[:500]
    assert _login(base, cert, user, password) is None, "an unapproved user could log in"

    admin = _login(base, cert, "hubadmin", staging["vault"]["vault_jupyterhub_admin_password"])
    assert admin is not None, "the inventory's admin (created at deploy time) cannot log in"
    assert admin.get(f"{base}/hub/authorize/{user}", timeout=30).status_code == 200

    me = _login(base, cert, user, password)
    assert me is not None, "the approved user cannot log in"
    me.get(f"{base}/hub/spawn", timeout=120)
    deadline, status = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        status = me.get(f"{base}/user/{user}/api/status", timeout=30)
        if status.status_code == 200 and "json" in status.headers.get("content-type", ""):
            break
        time.sleep(2)
    assert status is not None and status.status_code == 200, f"server of {user} never came up: {status}"
    account = pwd.getpwnam(f"jstaging-{user}")
    assert account.pw_dir == str(staging["prefix"] / "home" / user)
    specs = me.get(f"{base}/user/{user}/api/kernelspecs", timeout=30).json()
    assert specs["default"] == "swarmops" and "swarmops" in specs["kernelspecs"]
