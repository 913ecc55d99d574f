"""The web page's JSON API: validation refusals, a background job from queued to done, its replay files."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mission.web.app import create_app

pytestmark = pytest.mark.unit
SMALL = {"width": "8", "height": "8", "drones": "2", "plants": "4", "obstacles": "0.1", "seed": "3",
         "mode": "mission", "policy": "champion"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("SWARMOPS_RUNS_DIR", str(tmp_path / "runs"))  # empty registry: heuristic fallback
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with TestClient(create_app()) as c:
        yield c


def wait_done(client: TestClient, job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        seen.append(job["progress"])
        if job["state"] in ("done", "failed"):
            assert seen == sorted(seen), "progress never goes backwards"
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not finished after {timeout_s}s")


def test_page_and_options(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="run-form"' in page.text
    assert client.get("/static/app.js").status_code == 200
    opts = client.get("/api/options").json()
    assert opts["modes"] == ["mission", "recon", "watering"]
    assert [p["value"] for p in opts["policies"]["recon"]] == ["champion", "heuristic"]
    assert opts["defaults"]["width"] == 12


@pytest.mark.parametrize("change, field, words", [
    ({"drones": "0"}, "drones", "n_drones=0 is out of range; allowed: 1..256"),
    ({"obstacles": "0.7"}, "obstacles", "obstacle_density=0.7 is out of range"),
    ({"mode": "fly"}, "mode", "allowed: mission, recon, watering"),
])
def test_invalid_settings_are_refused_with_the_reason(client: TestClient, change: dict, field: str,
                                                      words: str) -> None:
    for url in ("/api/validate", "/api/jobs"):
        resp = client.post(url, json={**SMALL, **change})
        assert resp.status_code == 422
        assert resp.json()["field"] == field and words in resp.json()["error"]
    assert client.post("/api/jobs", content=b"not json").status_code == 422


def test_mission_job_runs_in_the_background_and_serves_its_replay(client: TestClient) -> None:
    resp = client.post("/api/jobs", json=SMALL)
    assert resp.status_code == 202
    job_id = resp.json()["id"]
    assert client.get(f"/api/jobs/{job_id}/result").status_code in (409, 200)
    job = wait_done(client, job_id)
    assert job["state"] == "done", job["error"]
    assert job["progress"] == 1.0 and job["message"] == "done"
    result = client.get(f"/api/jobs/{job_id}/result").json()
    assert result["phases"] == ["recon", "watering"]
    assert [t["key"] for t in result["tracks"]] == ["recon-policy", "recon-heuristic", "watering-policy",
                                                    "watering-heuristic"]
    assert len(result["warnings"]) == 2  # no registry: both phases fall back, and say so
    for track in result["tracks"]:
        assert track["frames"] == len(track["status"]) >= 2
        steps = [s["step"] for s in track["status"]]
        assert steps == sorted(steps) and steps[-1] == track["metrics"]["steps"]
        png = client.get(f"/api/jobs/{job_id}/frames/{track['key']}/{track['frames'] - 1}.png")
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/api/jobs/{job_id}/frames/recon-policy/99999.png").status_code == 404
    assert client.get(f"/api/jobs/{job_id}/frames/nope/0.png").status_code == 404
    fig = client.get(f"/api/jobs/{job_id}/figures/{result['figures'][0]['name']}.png")
    assert fig.status_code == 200 and fig.content[:4] == b"\x89PNG"
    metrics = {row["metric"] for row in result["comparison"] if row["phase"] == "mission"}
    assert {"plants found", "plants watered", "plants missed by recon", "water used", "energy"} <= metrics
    md = client.get(f"/api/jobs/{job_id}/report.md")
    assert md.status_code == 200 and "| mission | plants watered |" in md.text
    assert client.get(f"/api/jobs/{job_id}/report.json").json()["field"]["plants_total"] == 4
    assert client.get("/api/jobs/unknown").status_code == 404
