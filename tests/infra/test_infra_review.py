"""Two review environments at once: MR 7 and MR 107 (the suite's test-review-7 / test-review-107, never a
real review-<mr>), deployed by infra/review.sh, reached through the test namespace's front door by Host
header only, then torn down by exact name. The old allocation (17000 + 100 (MR mod 100)) gave both the
same ports; the slot registry gives each its own address and ports. The front door verifies each
environment's own certificate (trusting another environment's makes the route fail)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = [
    pytest.mark.infra, pytest.mark.slow,
    # measured: 255 s on a quiet 2-core machine (up 167 s, down 42 s; the venvs already built, as in a full
    # run), 800 s while four other sessions deployed. Opt-in (`make review-test`, SWARMOPS_TEST_REVIEW=1):
    # with it `make test` took 34 min on a fresh clone beside a training run (~30 idle): over budget.
    pytest.mark.skipif(os.environ.get("SWARMOPS_TEST_REVIEW") != "1",
                       reason="opt-in: the two review environments take ~4-5 min; run `make review-test` "
                              "(SWARMOPS_TEST_REVIEW=1)"),
]

SLOTS = Path("/opt/swarmops/review-slots")
FRONTDOOR = Path("/opt/swarmops/test-review-frontdoor")
FRONT = "https://127.0.2.253"  # the test-review namespace's front door (inventories/review)
DOMAIN = "test-review.invalid"
MRS = ("7", "107")


def _slots() -> dict[str, int]:
    """test-review environments in the slot registry: name -> slot."""
    found = {}
    for d in SLOTS.glob("*/env"):
        name = d.read_text().strip()
        if name.startswith("test-review-"):
            found[name] = int(d.parent.name)
    return found


def _get(mr: str, path: str, auth: tuple[str, str] | None = None, **kw: Any) -> requests.Response:
    """A request to the front door for mr-<mr>.<domain>: only the Host header names the environment. The
    wildcard certificate names *.<domain>, not the address asked, hence no verification here."""
    return requests.request(kw.pop("method", "GET"), f"{FRONT}{path}", headers={"Host": f"mr-{mr}.{DOMAIN}"},
                            auth=auth, verify=False, timeout=30, **kw)


def _reload_front_door() -> None:
    subprocess.run(["nginx", "-c", str(FRONTDOOR / "nginx.conf"), "-s", "reload"], check=True,
                   capture_output=True, timeout=60)


def _status_soon(mr: str, expected: int) -> int:
    """/health through the front door, asked again for up to 10 s while a reload takes effect."""
    for _ in range(20):
        status = _get(mr, "/health").status_code
        if status == expected:
            break
        time.sleep(0.5)
    return status


def _front_door_verifies_each_environments_certificate() -> None:
    """mr-7's route trusts only test-review-7's certificate: made to trust 107's instead, it fails."""
    conf = FRONTDOOR / "nginx.conf"
    original = conf.read_text()
    cert7, cert107 = (f"/opt/swarmops/test-review-{mr}/nginx/server.crt" for mr in MRS)
    assert original.count("proxy_ssl_verify on;") == 2 and cert7 in original and cert107 in original
    try:
        conf.write_text(original.replace(cert7, cert107))
        _reload_front_door()
        assert _status_soon("7", 502) == 502, "the front door accepted a certificate it does not trust"
        assert _get("107", "/health").status_code == 200
    finally:
        conf.write_text(original)
        _reload_front_door()
    assert _status_soon("7", 200) == 200


def test_mr_7_and_mr_107_run_at_once_behind_one_front_door(vault_env: dict[str, str], tools: Any) -> None:
    env = {**vault_env, "SWARMOPS_REVIEW_ENV_PREFIX": "test-"}
    tools.run(["bash", "infra/vault.sh", "test-review"], env=env)
    password = tools.vault("test-review", vault_env)["vault_nginx_password"]
    auth = ("swarmops", password)
    try:
        t0 = time.monotonic()
        for mr in MRS:
            tools.run(["bash", "infra/review.sh", "up", mr], env=env, timeout=1200)
        up_s = time.monotonic() - t0
        slots = _slots()
        assert set(slots) == {"test-review-7", "test-review-107"} and len(set(slots.values())) == 2, slots

        marker = f"only-in-mr-7-{uuid.uuid4().hex[:8]}"
        for mr in MRS:
            assert _get(mr, "/health").status_code == 200
            search = "/api/2.0/mlflow/experiments/search?max_results=1000"
            assert _get(mr, search).status_code == 401  # the environment's own nginx authenticates
            assert _get(mr, search, auth=auth).status_code == 200, _get(mr, search, auth=auth).text[:300]
        made = _get("7", "/api/2.0/mlflow/experiments/create", auth=auth, method="POST",
                    json={"name": marker})
        assert made.status_code == 200, made.text[:300]

        def names(mr: str) -> set[str]:
            reply = _get(mr, "/api/2.0/mlflow/experiments/search?max_results=1000", auth=auth).json()
            return {e["name"] for e in reply.get("experiments", [])}

        assert marker in names("7") and marker not in names("107")  # each name reaches its own MLflow
        assert _get("999", "/health").status_code == 421  # no environment, no route
        _front_door_verifies_each_environments_certificate()

        t1 = time.monotonic()
        tools.run(["bash", "infra/review.sh", "down", "7"], env=env, timeout=600)
        assert set(_slots()) == {"test-review-107"}
        assert _get("7", "/health").status_code == 421
        assert marker not in names("107") and _get("107", "/health").status_code == 200  # 107 untouched
        assert Path("/opt/swarmops/test-review-107").is_dir()
        assert not Path("/opt/swarmops/test-review-7").exists()
        tools.run(["bash", "infra/review.sh", "down", "107"], env=env, timeout=600)
        down_s = time.monotonic() - t1
        assert _slots() == {}
        print(f"\nreview: two environments up in {up_s:.0f} s, both down in {down_s:.0f} s")
    finally:
        for mr in MRS:
            tools.run(["bash", "infra/review.sh", "down", mr], env=env, timeout=600, check=False)
        if not _slots():  # the test namespace's front door serves nothing any more: stop it, remove it
            subprocess.run(["nginx", "-c", str(FRONTDOOR / "nginx.conf"), "-s", "quit"], capture_output=True,
                           timeout=60)
            shutil.rmtree(FRONTDOOR, ignore_errors=True)
