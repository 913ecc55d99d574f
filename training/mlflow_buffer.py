"""MLflow metric writes that survive an MLflow outage: buffered, sent by a thread, retried, sent once.

Training calls ``log(values, step)`` once per PPO update and never waits for MLflow. A daemon thread
sends the queue in batches (``MlflowClient.log_batch``). When the server is down, the thread keeps the
metrics and retries (backoff 0.5 s .. 5 s) for ``SWARMOPS_MLFLOW_RETRY_S`` seconds (default 120,
counted from the first failure of an outage), like the ledger's write retries; after that the next
``log``/``flush`` raises a TrackingError (one line). Each metric's timestamp is fixed when it is
queued, so a batch resent after a lost reply is a duplicate of (key, timestamp, step, value) that
MLflow's SQL store drops: every metric arrives exactly once. Before each send to an http(s) server the
thread asks its unauthenticated ``/health`` (2 s timeout) so that a down server costs no long client-side
HTTP retries.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Any

from training.envconfig import mlflow_tls_verify, seconds_from_env
from training.errors import TrackingError

DEFAULT_RETRY_S = 120.0
BATCH = 1000  # MLflow's log_batch limit on metrics per request


def mlflow_retry_s() -> float:
    """SWARMOPS_MLFLOW_RETRY_S (seconds, >= 0; default 120) or a TrackingError naming the bad value."""
    return seconds_from_env("SWARMOPS_MLFLOW_RETRY_S", DEFAULT_RETRY_S, TrackingError)


class MlflowMetricBuffer:
    """Queue of one MLflow run's metrics, sent in the background and retried through outages."""

    def __init__(self, run_id: str, tracking_uri: str, retry_s: float | None = None,
                 client: Any = None) -> None:
        import mlflow

        self.run_id = run_id
        self.retry_s = mlflow_retry_s() if retry_s is None else retry_s
        self._client = client or mlflow.MlflowClient(tracking_uri)
        self._health = tracking_uri.rstrip("/") + "/health" if tracking_uri.startswith("http") else None
        self._queue: list[Any] = []
        self._cond = threading.Condition()
        self._error: str | None = None
        self._closed = False
        self.sent = 0
        self.retried_batches = 0
        self._thread = threading.Thread(target=self._send_loop, name="mlflow-metrics", daemon=True)
        self._thread.start()

    def log(self, values: dict[str, float], step: int) -> None:
        """Queue ``values`` at ``step`` (timestamp: now); TrackingError once the retry budget ran out."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        with self._cond:
            self._raise_if_failed()
            self._queue.extend(Metric(key, float(value), now, int(step)) for key, value in values.items())
            self._cond.notify()

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every queued metric is on the server (at most the retry budget plus a margin)."""
        wait_s = self.retry_s + 60 if timeout_s is None else timeout_s
        limit = time.monotonic() + wait_s
        with self._cond:
            while self._queue and self._error is None:
                if time.monotonic() >= limit:
                    raise TrackingError(f"MLflow run {self.run_id}: {len(self._queue)} metrics still unsent "
                                        f"after waiting {wait_s:.0f} s")
                self._cond.wait(timeout=min(1.0, limit - time.monotonic()))
            self._raise_if_failed()

    def close(self) -> None:
        """Stop the sender thread (call after ``flush``; unsent metrics are dropped)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise TrackingError(self._error)

    def _send_loop(self) -> None:
        outage_since: float | None = None
        delay = 0.5
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batch = list(self._queue[:BATCH])
            try:
                self._send(batch)
            except Exception as exc:  # noqa: BLE001 - any failure to deliver is retried within the budget
                now = time.monotonic()
                outage_since = outage_since or now
                if now + delay - outage_since > self.retry_s:
                    with self._cond:
                        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                        self._error = (f"cannot send {len(self._queue)} metrics of MLflow run {self.run_id} "
                                       f"after {self.retry_s:.0f} s of retries: {reason[:200]}")
                        self._cond.notify_all()
                    return
                if delay == 0.5:  # the first failure of this outage
                    print(f"mlflow: tracking server unreachable, buffering metrics and retrying for up to "
                          f"{self.retry_s:.0f} s", file=sys.stderr)
                self.retried_batches += 1
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if outage_since is not None:
                print(f"mlflow: server back after {time.monotonic() - outage_since:.0f} s; sending "
                      f"the buffered metrics", file=sys.stderr)
            outage_since, delay = None, 0.5
            with self._cond:
                del self._queue[:len(batch)]
                self.sent += len(batch)
                self._cond.notify_all()

    def _send(self, batch: list[Any]) -> None:
        if self._health is not None:
            import requests

            requests.get(self._health, timeout=2, verify=mlflow_tls_verify()).raise_for_status()
        self._client.log_batch(self.run_id, metrics=batch, synchronous=True)
