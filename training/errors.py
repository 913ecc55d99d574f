"""Errors of the training area that the CLI turns into one line (kept import-light)."""

from __future__ import annotations

import signal
from pathlib import Path

from swarmops.errors import InputError, NotFoundError  # noqa: F401 - re-exported for the training area


class TrackingError(RuntimeError):
    """The MLflow tracking URI is invalid or its store cannot be reached."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt or does not belong to this run."""


class TrainingInterrupted(RuntimeError):
    """Training stopped on SIGINT/SIGTERM after saving a checkpoint."""

    def __init__(self, run_id: str, signum: int, checkpoint: Path) -> None:
        super().__init__(
            f"run {run_id} interrupted by {signal.Signals(signum).name}; checkpoint saved at "
            f"{checkpoint} (continue with: swarmops train --resume {run_id})"
        )
        self.run_id, self.signum, self.checkpoint = run_id, signum, checkpoint

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process stopped by a signal: 128 + its number (130, 143)."""
        return 128 + int(self.signum)
