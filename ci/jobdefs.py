"""Jenkins job definitions kept as code (jenkins-job-builder YAML under ci/jobs/) rendered to XML."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ci.errors import CIError

JOBS_DIR = Path(__file__).resolve().parent / "jobs"


def jenkins_jobs_command() -> str:
    """The `jenkins-jobs` executable next to this Python (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("jenkins-jobs")
    found = str(local) if local.exists() else shutil.which("jenkins-jobs")
    if not found:
        raise CIError("jenkins-jobs not found: install jenkins-job-builder (pip install -e '.[dev]')")
    return found


def render_jobs(jobs_dir: Path = JOBS_DIR) -> dict[str, str]:
    """Render every job in ``jobs_dir`` with `jenkins-jobs test`; returns {job name: config XML}."""
    if not jobs_dir.is_dir():
        raise CIError(f"job definitions folder {jobs_dir} does not exist")
    with tempfile.TemporaryDirectory(prefix="swarmops-jjb-") as out:
        proc = subprocess.run([jenkins_jobs_command(), "--conf", "/dev/null", "test", str(jobs_dir),
                               "-o", out], capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CIError(f"jenkins-jobs could not render {jobs_dir}: {last}")
        return {p.name: p.read_text() for p in sorted(Path(out).iterdir()) if p.is_file()}


def write_jobs(jobs: dict[str, str], out_dir: Path) -> list[Path]:
    """Write each job's XML to ``out_dir/<name>.xml``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, xml in jobs.items():
        path = out_dir / f"{name.replace('/', '_')}.xml"
        path.write_text(xml)
        paths.append(path)
    return paths
