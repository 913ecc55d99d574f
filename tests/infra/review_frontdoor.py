"""The test-review namespace as the infra tests see it: its slot registry (on the test review host, which
is this machine), its front door, and requests routed by Host header. Shared by the review tests."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import requests

SLOTS = Path("/opt/swarmops/review-slots")  # the registry review-slot.yml keeps on the review host
FRONTDOOR = Path("/opt/swarmops/test-review-frontdoor")
FRONT = "https://127.0.2.253"  # the test-review namespace's front door (inventories/review)
DOMAIN = "test-review.invalid"


def review_slots() -> dict[str, int]:
    """test-review environments in the slot registry: name -> slot."""
    found = {}
    for d in SLOTS.glob("*/env"):
        name = d.read_text().strip()
        if name.startswith("test-review-"):
            found[name] = int(d.parent.name)
    return found


def via_front_door(mr: str, path: str, auth: tuple[str, str] | None = None, **kw: Any) -> requests.Response:
    """A request to the front door for mr-<mr>.<domain>: only the Host header names the environment. The
    wildcard certificate names *.<domain>, not the address asked, hence no verification here."""
    return requests.request(kw.pop("method", "GET"), f"{FRONT}{path}", headers={"Host": f"mr-{mr}.{DOMAIN}"},
                            auth=auth, verify=False, timeout=30, **kw)


def reload_front_door() -> None:
    """Make the front door read its configuration and route files again."""
    subprocess.run(["nginx", "-c", str(FRONTDOOR / "nginx.conf"), "-s", "reload"], check=True,
                   capture_output=True, timeout=60)


def remove_idle_front_door() -> None:
    """Stop and remove the test namespace's front door once no test-review environment holds a slot."""
    if not review_slots():
        subprocess.run(["nginx", "-c", str(FRONTDOOR / "nginx.conf"), "-s", "quit"], capture_output=True,
                       timeout=60)
        shutil.rmtree(FRONTDOOR, ignore_errors=True)
