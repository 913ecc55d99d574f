"""Errors of the training area that the CLI turns into one line (kept import-light)."""

from __future__ import annotations

import signal
from pathlib import Path


class TrackingError(RuntimeError):
    """The MLflow tracking URI is invalid or its store cannot be reached."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt or does not belong to this run."""


class NotFoundError(LookupError):
    """A run, model file, registry alias or evaluation that a command names does not exist."""


class UsageError(ValueError):
    """A request that contradicts the data (a run of another scenario, a missing --scenario, ...)."""


class TrainingInterrupted(RuntimeError):
    """Training stopped on SIGINT/SIGTERM after saving a checkpoint."""

    def __init__(self, run_id: str, signum: int, checkpoint: Path) -> None:
        super().__init__(
            f"run {run_id} interrupted by {signal.Signals(signum).name}; checkpoint saved at "
            f"{checkpoint} (continue with: swarmops train --resume {run_id})"
        )
        self.run_id, self.signum, self.checkpoint = run_id, signum, checkpoint
