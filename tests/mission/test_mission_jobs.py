"""Background jobs: progress, failures as one line, bounded memory, cancellation at shutdown."""
from __future__ import annotations

import threading
import time

import pytest

from mission.jobs import JobManager

pytestmark = pytest.mark.unit


def wait(manager: JobManager, job_id: str, states: tuple = ("done", "failed")) -> object:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = manager.get(job_id)
        if job.state in states:
            return job
        time.sleep(0.01)
    raise AssertionError("job did not finish")


def test_progress_result_and_failure() -> None:
    def runner(settings: int, progress) -> int:
        progress(0.5, "half")
        if settings < 0:
            raise ValueError("negative settings\nsecond line")
        return settings * 2

    manager = JobManager(runner)
    ok, bad = manager.submit(21), manager.submit(-1)
    assert wait(manager, ok.id).result == 42 and ok.progress == 1.0 and ok.summary()["state"] == "done"
    job = wait(manager, bad.id)
    assert job.state == "failed" and job.error == "ValueError: negative settings" and job.result is None
    manager.shutdown()


def test_only_the_last_finished_jobs_are_kept() -> None:
    manager = JobManager(lambda s, p: s, keep=3)
    ids = [manager.submit(i).id for i in range(6)]
    wait(manager, ids[-1])
    manager.submit(99)
    assert manager.get(ids[0]) is None and manager.get(ids[-1]) is not None
    manager.shutdown()


def test_shutdown_stops_a_running_job_at_its_next_progress_report() -> None:
    started = threading.Event()

    def runner(settings: int, progress) -> None:
        started.set()
        for i in range(1000):
            progress(i / 1000, "working")
            time.sleep(0.01)

    manager = JobManager(runner)
    job = manager.submit(0)
    assert started.wait(5)
    manager.shutdown()
    assert wait(manager, job.id).state == "failed" and "shutting down" in job.error
