"""`swarmops mission` end to end in a subprocess on a small field, and its refusals."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.unit


def swarmops(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SWARMOPS_RUNS_DIR": str(tmp_path / "runs")}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run([sys.executable, "-m", "swarmops", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_mission_end_to_end_on_a_small_field(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = swarmops(["mission", "--width", "12", "--height", "9", "--drones", "3", "--plants", "10",
                     "--obstacles", "0.1", "--seed", "3", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # No model registered: both phases fall back to the heuristic, with a warning on stderr.
    assert proc.stderr.count("falls back to the heuristic") == 2
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "recon.gif", "report.json", "report.md",
                                                     "watering.gif"]
    rep = json.loads((out / "report.json").read_text())
    assert rep["settings"]["drones"] == 3 and rep["field"]["width"] == 12 and rep["field"]["height"] == 9
    for role in ("policy", "heuristic"):
        recon, water, total = (rep["phases"]["recon"][role], rep["phases"]["watering"][role],
                               rep["mission"][role])
        assert total["plants_found"] == recon["plants_found"] == water["plants_total"]
        assert total["plants_found"] + total["plants_missed"] == 10
        assert total["plants_watered"] <= total["plants_found"]
        assert recon["wall_s"] > 0 and water["steps"] >= 1
    assert rep["gifs"] == {"recon": "recon.gif", "watering": "watering.gif"}
    for phase in ("recon", "watering"):
        gif = Image.open(out / f"{phase}.gif")
        assert gif.n_frames >= 2 and gif.width > gif.height  # policy and heuristic side by side
    md = (out / "report.md").read_text()
    assert md.startswith("# SwarmOps mission report")
    assert "| mission | plants missed by recon |" in md and "![recon](recon.gif)" in md
    assert "| mission | plants watered |" in proc.stdout
    # stderr is not a terminal here: progress comes as plain lines, from the first moment on.
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert lines[0].endswith("0% preparing the field") and lines[-1].endswith("100% done")
    assert any("recon · heuristic" in ln for ln in lines)


@pytest.mark.parametrize("args, words", [
    (["--drones", "0"], "--drones: n_drones=0 is out of range; allowed: 1..256"),
    (["--obstacles", "0.5"], "--obstacles: obstacle_density=0.5 is out of range; allowed: [0.0, 0.4]"),
    (["--mode", "fly"], "--mode: mode='fly' is not allowed; allowed: mission, recon, watering"),
])
def test_bad_flags_fail_in_one_line_without_writing(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "report"
    proc = swarmops(["mission", *args, "--out", str(out)], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {words}"
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_refuses_a_non_empty_report_folder(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = swarmops(["mission", "--width", "6", "--height", "6", "--plants", "3", "--out", str(out)],
                    tmp_path)
    assert proc.returncode == 2 and "is not an empty folder" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
