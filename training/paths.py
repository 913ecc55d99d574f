"""Where run outputs live: one root (``SWARMOPS_RUNS_DIR``, default ``./runs``) for everything local."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def runs_root() -> Path:
    """Root of local run outputs: ledger, MLflow store and artifacts, run folders."""
    return Path(os.environ.get("SWARMOPS_RUNS_DIR") or "runs").resolve()


def run_dir(run_id: str) -> Path:
    """Folder of one training run (config, checkpoints, model, evaluation)."""
    return runs_root() / run_id


def directory_hash(path: Path) -> str:
    """md5 over the relative names and contents of every file under ``path`` (the suite's data hash)."""
    digest = hashlib.md5()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else [Path(path)]
    for file in files:
        rel = file.relative_to(path).as_posix() if Path(path).is_dir() else file.name
        digest.update(rel.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()
