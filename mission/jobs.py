"""Background jobs for the web page: one worker thread runs settings through a runner, the page polls.

Why a thread and not a process: a run is numpy/torch work that releases the GIL for the heavy parts,
the results (PNG frames, figures) stay in memory for the page to fetch, and a single worker keeps
a 2-core machine responsive (later jobs queue instead of competing for the CPUs).
"""
from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

R = TypeVar("R")
#: progress(fraction in [0, 1], one-line message)
ProgressFn = Callable[[float, str], None]

STATES = ("queued", "running", "done", "failed")


class JobCancelled(RuntimeError):
    """Raised from the progress callback when the server shuts down, so a long run stops early."""


@dataclass
class Job(Generic[R]):
    """One submitted run and what the page may show about it while it runs."""

    id: str
    settings: Any
    state: str = "queued"
    progress: float = 0.0
    message: str = "queued"
    error: str | None = None
    result: R | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready status (without the result payload)."""
        return {"id": self.id, "state": self.state, "progress": round(self.progress, 4),
                "message": self.message, "error": self.error,
                "elapsed_s": round((self.finished or time.time()) - self.created, 2)}


class JobManager(Generic[R]):
    """Runs ``runner(settings, progress)`` in the background, keeping the last ``keep`` jobs."""

    def __init__(self, runner: Callable[[Any, ProgressFn], R], workers: int = 1, keep: int = 8) -> None:
        self._runner = runner
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="swarmops-job")
        self._jobs: "OrderedDict[str, Job[R]]" = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep
        self._stopping = threading.Event()

    def submit(self, settings: Any) -> Job[R]:
        """Queue a run and return its job at once."""
        job: Job[R] = Job(id=uuid.uuid4().hex[:12], settings=settings)
        with self._lock:
            self._jobs[job.id] = job
            # Bound memory: finished jobs beyond `keep` are dropped, oldest first.
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs.values()))
                if oldest.state not in ("done", "failed"):
                    break
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job[R] | None:
        """The job with this id, or None when unknown (or already dropped)."""
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job[R]) -> None:
        def progress(fraction: float, message: str) -> None:
            if self._stopping.is_set():
                raise JobCancelled("the server is shutting down")
            job.progress = min(max(float(fraction), 0.0), 1.0)
            job.message = message

        job.state, job.message = "running", "starting"
        try:
            job.result = self._runner(job.settings, progress)
        except Exception as exc:  # the page shows the one-line reason; the log keeps the traceback
            traceback.print_exc()
            job.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            job.state, job.message = "failed", "failed"
        else:
            job.state, job.progress, job.message = "done", 1.0, "done"
        finally:
            job.finished = time.time()

    def shutdown(self) -> None:
        """Stop accepting jobs, drop queued ones, and make a running one stop at its next progress report."""
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
