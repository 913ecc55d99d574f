"""MLflow metric buffer: training never waits for MLflow, an outage is retried, a resent batch is not doubled.

A real MLflow store (SQLite) behind a client wrapper that fails on purpose: before the write (server
down) and after it (the reply lost, so the same batch is sent again).
"""
from __future__ import annotations

import time

import pytest

from training.errors import TrackingError
from training.mlflow_buffer import MlflowMetricBuffer, mlflow_retry_s

pytestmark = pytest.mark.unit


class FlakyClient:
    """Delegates log_batch to a real client, failing ``down`` times before and ``lost`` times after it."""

    def __init__(self, client: object, down: int = 0, lost: int = 0) -> None:
        self.client, self.down, self.lost, self.calls = client, down, lost, 0

    def log_batch(self, run_id: str, metrics: list, synchronous: bool = True) -> None:
        self.calls += 1
        if self.down:
            self.down -= 1
            raise ConnectionError("connection refused")
        self.client.log_batch(run_id, metrics=metrics, synchronous=True)  # type: ignore[attr-defined]
        if self.lost:
            self.lost -= 1
            raise ConnectionError("reply lost")


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    client = mlflow.MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")  # migrations once: ~5 s
    return client, client.create_experiment("buffer", artifact_location=str(folder / "a"))


@pytest.fixture()
def store(mlflow_store: tuple[object, str]) -> tuple[object, str]:
    client, experiment = mlflow_store
    return client, client.create_run(experiment).info.run_id  # type: ignore[attr-defined]


def test_outage_and_lost_replies_deliver_every_metric_exactly_once(store: tuple[object, str]) -> None:
    client, run_id = store
    flaky = FlakyClient(client, down=3, lost=2)
    buffer = MlflowMetricBuffer(run_id, "sqlite:///unused", retry_s=30, client=flaky)
    started = time.perf_counter()
    for step in range(5):
        buffer.log({"loss": 1.0 / (step + 1), "reward": float(step)}, step)
    assert time.perf_counter() - started < 0.5  # training does not wait for the outage
    buffer.flush(timeout_s=60)
    buffer.close()
    for key in ("loss", "reward"):
        history = client.get_metric_history(run_id, key)  # type: ignore[attr-defined]
        assert sorted(m.step for m in history) == list(range(5))  # each step once, none lost
    assert flaky.calls >= 6 and buffer.sent == 10


def test_an_outage_longer_than_the_budget_is_one_clear_error(store: tuple[object, str]) -> None:
    _, run_id = store
    buffer = MlflowMetricBuffer(run_id, "sqlite:///unused", retry_s=0, client=FlakyClient(None, down=99))
    buffer.log({"loss": 1.0}, 0)
    with pytest.raises(TrackingError, match=r"cannot send 1 metrics of MLflow run .* after 0 s of retries: "
                                            r"connection refused"):
        buffer.flush(timeout_s=30)
    with pytest.raises(TrackingError):
        buffer.log({"loss": 0.5}, 1)  # the next update fails too: training stops with that line
    buffer.close()


@pytest.mark.parametrize("raw", ["-1", "soon", "inf", "nan"])
def test_bad_retry_budget_names_the_value(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SWARMOPS_MLFLOW_RETRY_S", raw)
    with pytest.raises(TrackingError, match=rf"SWARMOPS_MLFLOW_RETRY_S='{raw}' is not a number of seconds "
                                            r"\(allowed: 0 or more, default 120\)"):
        mlflow_retry_s()
