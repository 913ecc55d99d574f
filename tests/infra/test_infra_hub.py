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


def test_signup_needs_admin_approval_then_user_gets_a_server(test_env_a: Env) -> None:
    base = f"https://{test_env_a['address']}:{test_env_a['ports']['nginx_port']}"
    cert = str(test_env_a["prefix"] / "nginx/server.crt")
    user, password = f"u{secrets.token_hex(3)}", secrets.token_urlsafe(12)

    s = _session(base, cert)
    r = s.get(f"{base}/hub/signup", timeout=30)
    r = s.post(f"{base}/hub/signup", timeout=30, data={
        "username": user, "signup_password": password, "signup_password_confirmation": password,
        "_xsrf": s.cookies.get("_xsrf")})
    assert r.status_code == 200, r.text[:500]
    assert _login(base, cert, user, password) is None, "an unapproved user could log in"

    admin = _login(base, cert, "hubadmin", test_env_a["vault"]["vault_jupyterhub_admin_password"])
    assert admin is not None, "the inventory's admin (created at deploy time) cannot log in"
    assert admin.get(f"{base}/hub/authorize/{user}", timeout=30).status_code == 200

    me = _login(base, cert, user, password)
    assert me is not None, "the approved user cannot log in"
    me.get(f"{base}/hub/spawn", timeout=120)
    deadline, page = time.monotonic() + 150, None
    while time.monotonic() < deadline:  # the lab page completes the OAuth hand-over to the user's server
        page = me.get(f"{base}/user/{user}/lab", timeout=30)
        if page.status_code == 200 and f"/user/{user}/" in page.url:
            break
        time.sleep(2)
    assert page is not None and f"/user/{user}/" in page.url, f"server of {user} never came up: {page}"
    # cookie-authenticated API calls need the server's XSRF token (JupyterHub >= 4.1)
    xsrf = {"X-XSRFToken": me.cookies.get("_xsrf", path=f"/user/{user}/") or ""}
    status = me.get(f"{base}/user/{user}/api/status", headers=xsrf, timeout=30)
    assert status.status_code == 200 and "started" in status.json()
    account = pwd.getpwnam(f"j{test_env_a['name'].replace('-', '')[:9]}-{user}")
    assert account.pw_dir == str(test_env_a["prefix"] / "home" / user)
    specs = me.get(f"{base}/user/{user}/api/kernelspecs", headers=xsrf, timeout=30).json()
    assert specs["default"] == "swarmops" and "swarmops" in specs["kernelspecs"]
