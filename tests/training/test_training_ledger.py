"""Run ledger on SQLite and real PostgreSQL: migrations up/down, reads/writes, concurrency, bad URLs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from training.ledger import Ledger, LedgerError, downgrade, upgrade

TABLES = {"runs", "training_metrics", "evaluation_results", "promotions"}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _exercise(ledger: Ledger) -> None:
    ledger.create_run(
        id="recon-smoke-1", scenario="recon", profile="smoke", seed=0, device="cpu", total_timesteps=100
    )
    ledger.add_metrics("recon-smoke-1", 10, {"loss": 0.5, "episode_reward": 1.5})
    ledger.add_metrics("recon-smoke-1", 20, {"loss": 0.25})
    ledger.update_run("recon-smoke-1", status="finished", timesteps_done=100, agent_steps_per_second=1e4)
    ledger.add_evaluation(
        "recon-smoke-1",
        "h1",
        [
            {
                "scenario_id": "recon-train-8x8-d2",
                "split": "train",
                "policy": "ppo",
                "seed": 0,
                "metric": "score",
                "value": 0.7,
            }
        ],
    )
    ledger.add_promotion(
        {"pairs": []},
        model_name="swarmops-recon-ppo",
        scenario="recon",
        candidate_run_id="recon-smoke-1",
        candidate_version="1",
        decision="first",
        metric="score",
        n_pairs=0,
    )
    run = ledger.resolve_run("latest", "recon")
    assert (run.id, run.status, run.timesteps_done) == ("recon-smoke-1", "finished", 100)
    assert ledger.resolve_run("recon-sm").id == "recon-smoke-1"
    assert [(m.step, m.name, m.value) for m in ledger.metrics(run.id)] == [
        (10, "loss", 0.5),
        (10, "episode_reward", 1.5),
        (20, "loss", 0.25),
    ]
    assert ledger.evaluation(run.id, "h1")[0].value == 0.7
    assert ledger.promotions("recon")[0].decision == "first"
    with pytest.raises(LookupError, match="not found"):
        ledger.resolve_run("nope")
    with pytest.raises(ValueError, match="status"):
        ledger.update_run(run.id, status="weird")


@pytest.mark.unit
def test_sqlite_ledger_roundtrip_and_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url)
    assert _tables(url) == TABLES
    _exercise(ledger)
    ledger.close()
    downgrade(url)
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == TABLES


@pytest.mark.infra
def test_postgres_migrations_up_down_and_roundtrip(postgres_url: str) -> None:
    ledger = Ledger(postgres_url)
    assert _tables(postgres_url) == TABLES
    _exercise(ledger)
    with ledger.engine.connect() as conn:  # the Grafana view works on PostgreSQL too
        latest = conn.execute(sa.text("SELECT name, step FROM run_latest_metrics ORDER BY name")).all()
    assert [tuple(r) for r in latest] == [("episode_reward", 10), ("loss", 20)]
    ledger.close()
    downgrade(postgres_url)
    assert _tables(postgres_url) == set()
    upgrade(postgres_url)
    assert _tables(postgres_url) == TABLES


WRITER = textwrap.dedent("""
    import sys
    from training.ledger import Ledger
    url, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ledger = Ledger(url)
    run_id = f"run-{worker}"
    ledger.create_run(id=run_id, scenario="recon", profile="smoke", seed=worker, device="cpu",
                      total_timesteps=n)
    for step in range(n):
        ledger.add_metrics(run_id, step, {"loss": step / n, "coverage": worker})
    ledger.update_run(run_id, status="finished", timesteps_done=n)
""")


def _concurrent_writers(url: str, workers: int = 4, n: int = 60) -> None:
    Ledger(url).close()  # migrate once up front; writers then race only on rows
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(w), str(n)]) for w in range(workers)]
    assert [p.wait(timeout=120) for p in procs] == [0] * workers
    ledger = Ledger(url)
    runs = ledger.list_runs(limit=100)
    assert sorted(r.id for r in runs) == [f"run-{w}" for w in range(workers)]
    assert all(r.status == "finished" for r in runs)
    for w in range(workers):
        rows = ledger.metrics(f"run-{w}")
        assert len(rows) == 2 * n
        assert sorted({r.step for r in rows}) == list(range(n))
    ledger.close()


@pytest.mark.infra
def test_postgres_concurrent_writers_lose_no_row(postgres_url: str) -> None:
    _concurrent_writers(postgres_url)


@pytest.mark.unit
def test_sqlite_concurrent_writers_lose_no_row(tmp_path: Path) -> None:
    _concurrent_writers(f"sqlite:///{tmp_path / 'ledger.db'}", workers=3, n=30)


@pytest.mark.unit
@pytest.mark.parametrize(
    "url, expected",
    [
        ("not a url", "invalid ledger database URL"),
        ("mysql://u:p@127.0.0.1/x", "unsupported ledger database 'mysql'"),
        ("postgresql://u:p@127.0.0.1/x", "must use the psycopg2 driver"),
        ("postgresql+psycopg2://u:secret@127.0.0.1:1/x", "cannot reach the ledger database"),
    ],
)
def test_bad_database_urls_are_one_line_without_password(url: str, expected: str) -> None:
    with pytest.raises(LedgerError) as info:
        Ledger(url)
    message = str(info.value)
    assert expected in message and "\n" not in message and "secret" not in message


@pytest.mark.unit
def test_train_with_unreachable_database_starts_nothing(runs_home: Path) -> None:
    """The CLI refuses to start: one line, exit 2, no run folder, no MLflow store."""
    env = {
        "SWARMOPS_DB_URL": "postgresql+psycopg2://u:pw@127.0.0.1:1/ledger",
        "SWARMOPS_RUNS_DIR": str(runs_home),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "swarmops", "train", "--profile", "smoke", "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith(
        "error: cannot reach the ledger database postgresql+psycopg2://u:***@"
    )
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not runs_home.exists()


def test_metric_rows_are_written_once_and_old_duplicates_are_merged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    upgrade(url, "0001")
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a ledger from before 0002: a resumed run logged step 8 twice
        conn.execute(sa.text(
            "INSERT INTO runs (id, status, scenario, profile, seed, device, total_timesteps, timesteps_done, "
            "started_at) VALUES ('r', 'running', 'recon', 'p', 0, 'cpu', 1, 0, '2026-11-30')"))
        for value in (1.0, 2.0):
            conn.execute(sa.text("INSERT INTO training_metrics (run_id, step, name, value, recorded_at) "
                                 f"VALUES ('r', 8, 'loss', {value}, '2026-11-30')"))
    engine.dispose()
    ledger = Ledger(url)  # migrates to head: duplicates merged (first kept), then unique
    assert [(m.step, m.value) for m in ledger.metrics("r")] == [(8, 1.0)]
    ledger.add_metrics("r", 8, {"loss": 9.0, "coverage": 0.5})  # a retried / re-sent write
    ledger.add_metrics("r", 8, {"coverage": 0.7})
    rows = {(m.step, m.name): m.value for m in ledger.metrics("r")}
    assert rows == {(8, "loss"): 1.0, (8, "coverage"): 0.5}  # the first write wins, nothing doubled
    ledger.close()


def test_a_metric_write_waits_for_an_unreachable_database_then_says_so(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    ledger.create_run(id="r", scenario="recon", profile="p", seed=0, device="cpu", total_timesteps=1)
    calls: list[int] = []

    def broken(*_: object) -> None:
        calls.append(1)
        raise sa.exc.OperationalError("INSERT", {}, Exception("could not connect to server"))

    ledger._execute = broken  # type: ignore[method-assign]
    with pytest.raises(LedgerError, match=r"^cannot write metrics of run r at step 3 to sqlite:.* after "
                                          r"\d+ attempts in 1 s: could not connect to server$"):
        ledger.add_metrics("r", 3, {"loss": 1.0}, retry_s=1.0)
    assert len(calls) >= 2
    ledger.close()


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_bad_retry_budget_is_one_line_before_anything_connects(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWARMOPS_LEDGER_RETRY_S", value)
    with pytest.raises(LedgerError, match=rf"^SWARMOPS_LEDGER_RETRY_S='{value}' is not a number of seconds "
                                          r"\(allowed: 0 or more, default 120\)$"):
        Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    assert not (tmp_path / "l.db").exists()
