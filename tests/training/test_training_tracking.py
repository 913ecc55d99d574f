"""Tracking: MLflow on a real PostgreSQL backend, the SB3 logger output, Pushgateway metric names."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from training.ledger import Ledger
from training.errors import TrackingError
from training.sb3_output import TrackingOutputFormat
from training.tracking import PushgatewayReporter, check_tracking_uri


def _sb3_dump(writer: TrackingOutputFormat, step: int, values: dict) -> None:
    from stable_baselines3.common.logger import Logger

    logger = Logger(folder=None, output_formats=[writer])
    for key, value in values.items():
        logger.record(key, value)
    logger.record("time/iterations", 3, exclude="tensorboard")
    logger.dump(step=step)


@pytest.fixture
def mlflow_pg_url(pg_admin_url: str) -> Iterator[str]:
    """A second fresh database for MLflow (its schema has its own `runs` table: never share one)."""
    import uuid

    import sqlalchemy as sa

    name = f"mlflow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{pg_admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.infra
def test_mlflow_and_ledger_on_postgres(
    postgres_url: str, mlflow_pg_url: str, runs_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-update metrics go through the SB3 logger into MLflow (PostgreSQL store) and the ledger."""
    import mlflow

    from training.tracking import setup_mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_pg_url)
    ledger = Ledger(postgres_url)
    ledger.create_run(id="r1", scenario="recon", profile="smoke", seed=0, device="cpu", total_timesteps=10)
    setup_mlflow("swarmops-recon")
    with mlflow.start_run(tags={"profile": "smoke"}) as run:
        writer = TrackingOutputFormat(ledger, "r1")
        _sb3_dump(writer, 1024, {"train/loss": 0.5, "rollout/ep_rew_mean": 2.0, "time/fps": 900})
        _sb3_dump(writer, 2048, {"train/loss": 0.25, "rollout/ep_rew_mean": 3.0, "time/fps": 950})
    client = mlflow.MlflowClient()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1024, 0.5), (2048, 0.25)]
    assert client.get_run(run.info.run_id).data.tags["profile"] == "smoke"
    assert mlflow.get_tracking_uri().startswith("postgresql+psycopg2://")
    names = {(m.step, m.name) for m in ledger.metrics("r1")}
    assert {(1024, "episode_reward"), (2048, "loss"), (2048, "time_fps"), (2048, "time_iterations")} <= names
    ledger.close()


@pytest.mark.unit
def test_unreachable_or_wrong_mlflow_uri_is_one_line() -> None:
    with pytest.raises(
        TrackingError, match=r"cannot reach the MLflow store postgresql\+psycopg2://u:\*\*\*@"
    ):
        check_tracking_uri("postgresql+psycopg2://u:pw@127.0.0.1:1/mlflow")
    with pytest.raises(TrackingError, match="must use postgresql\\+psycopg2"):
        check_tracking_uri("postgresql://u:pw@127.0.0.1:1/mlflow")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_pushgateway(*flags: str, auth: tuple[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("prometheus-pushgateway")
    if binary is None:
        pytest.skip("prometheus-pushgateway not installed (scripts/bootstrap.sh)")
    port = _free_port()
    proc = subprocess.Popen(
        # Debian's default --persistence.file is one shared file: every gateway would see older pushes
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file=", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/-/ready", timeout=1, auth=auth).raise_for_status()
            break
        except requests.RequestException:
            time.sleep(0.1)
    return proc, url


@pytest.fixture
def pushgateway() -> Iterator[str]:
    """A real Prometheus Pushgateway on a free loopback port."""
    proc, url = _start_pushgateway()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.infra
def test_pushgateway_with_basic_auth_takes_pushes_only_with_the_configured_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As deployed (--web.config.file, bcrypt): no credentials -> nothing stored; the account from
    SWARMOPS_PUSHGATEWAY_USERNAME / _PASSWORD -> the metrics arrive."""
    from passlib.hash import bcrypt

    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  pusher: '{bcrypt.using(rounds=4).hash('push-secret-123')}'\n")
    proc, url = _start_pushgateway(f"--web.config.file={web}", auth=("pusher", "push-secret-123"))
    try:
        assert requests.get(f"{url}/metrics", timeout=5).status_code == 401
        PushgatewayReporter("anon-run", "recon", url=url).push({"loss": 1.0})
        monkeypatch.setenv("SWARMOPS_PUSHGATEWAY_USERNAME", "pusher")
        monkeypatch.setenv("SWARMOPS_PUSHGATEWAY_PASSWORD", "wrong-password")
        PushgatewayReporter("wrong-run", "recon", url=url).push({"loss": 1.0})
        monkeypatch.setenv("SWARMOPS_PUSHGATEWAY_PASSWORD", "push-secret-123")
        PushgatewayReporter("auth-run", "recon", url=url).push({"loss": 2.0})
        text = requests.get(f"{url}/metrics", timeout=5, auth=("pusher", "push-secret-123")).text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    losses = [ln for ln in text.splitlines() if ln.startswith("swarmops_training_loss{")]
    assert [ln.split()[-1] for ln in losses if 'run_id="auth-run"' in ln] == ["2"], losses
    assert not [ln for ln in losses if 'run_id="anon-run"' in ln or 'run_id="wrong-run"' in ln], losses


@pytest.mark.infra
def test_pushgateway_receives_the_documented_metric_names(pushgateway: str) -> None:
    reporter = PushgatewayReporter("recon-smoke-x", "recon", url=pushgateway)
    writer = TrackingOutputFormat(None, "recon-smoke-x", reporter, mlflow_enabled=False)
    _sb3_dump(
        writer,
        4096,
        {
            "train/loss": 0.5,
            "rollout/ep_rew_mean": 2.0,
            "rollout/coverage": 0.8,
            "time/agent_steps_per_second": 6000.0,
            "time/total_timesteps": 4096,
        },
    )
    reporter.push({}, status="interrupted")
    text = requests.get(f"{pushgateway}/metrics", timeout=5).text
    labels = 'job="swarmops_training",run_id="recon-smoke-x",scenario="recon"'
    for name, value in (
        ("agent_steps_per_second", "6000"),
        ("episode_reward", "2"),
        ("coverage", "0.8"),
        ("loss", "0.5"),
        ("timesteps_total", "4096"),
    ):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"swarmops_training_{name}{{"))
        assert labels in line and line.split()[-1] == value, line
    assert any(
        ln.startswith("swarmops_training_last_progress_timestamp_seconds{") for ln in text.splitlines()
    )
    status = {
        ln.split('status="')[1].split('"')[0]: ln.split()[-1]
        for ln in text.splitlines()
        if ln.startswith("swarmops_training_status{")
    }
    assert status == {"running": "0", "finished": "0", "failed": "0", "interrupted": "1"}


@pytest.mark.unit
def test_dead_pushgateway_never_breaks_training() -> None:
    reporter = PushgatewayReporter("r", "recon", url=f"http://127.0.0.1:{_free_port()}")
    reporter.push({"loss": 1.0})  # logs one warning, raises nothing
    reporter.push({"loss": 2.0})


@pytest.mark.unit
def test_ledger_and_mlflow_may_not_share_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from training.tracking import check_separate_stores

    url = "postgresql+psycopg2://u:pw@db.example:5432/swarmops"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    with pytest.raises(TrackingError, match="name the same database"):
        check_separate_stores(url)
    check_separate_stores(url.replace("/swarmops", "/ledger"))
