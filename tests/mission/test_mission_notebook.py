"""The example notebook runs top to bottom (its code cells, in order, in a fresh interpreter)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "mission.ipynb"


def test_example_notebook_runs(tmp_path: Path) -> None:
    # No Jupyter kernel in the test venv: the cells run as one script, which is what a kernel executes.
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] for c in nb["cells"] if c["cell_type"] == "code"), "commit the notebook clean"
    script = tmp_path / "notebook.py"
    script.write_text("\n\n".join(cells) + "\n")
    env = {**os.environ, "SWARMOPS_RUNS_DIR": str(tmp_path / "runs"), "PYTHONPATH": str(NOTEBOOK.parents[1])}
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning:" in proc.stdout and "falls back to the heuristic" in proc.stdout
    folders = list((tmp_path / "runs" / "missions").iterdir())
    assert len(folders) == 1
    assert {"report.md", "report.json", "recon.gif", "watering.gif", "curves.png"} <= \
        {p.name for p in folders[0].iterdir()}
