"""Reliability drills: inject a fault, then check that nothing was lost (``swarmops drills``).

Each drill does something bad on purpose to a throw-away stack it owns (a PostgreSQL server started for
the drills, a run folder in a temporary directory) and checks the guarantee, never assuming it:

- ``ledger-concurrency``: 8 processes x 1,000 ledger writes at once -> every row there once, no deadlock;
- ``kill-resume``: training SIGKILLed after its first checkpoint, then ``--resume`` -> it finishes, no
  checkpoint or ledger row lost, the step count continuous, the interruption visible in the ledger;
- ``postgres-restart``: the ledger's PostgreSQL restarted (twice) while training logs to it -> training
  keeps going and every metric row arrives exactly once.

``sabotage`` breaks a drill's guarantee on purpose (tests use it to show each drill can fail).
Infrastructure drills (backup/restore, off-site copy, failed deploys) need the test environments of
the infra suite and are not here yet.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import sqlalchemy as sa

from swarmops.drillbase import DrillContext, DrillResult
from swarmops.drills_backup import backup_integrity, backup_restore, offsite
from swarmops.drills_upgrade import mlflow_upgrade
from swarmops.pgtemp import ThrowawayPostgres

DRILL_TIMEOUT_S = 300
# A tiny smoke run: 16 PPO updates of 4,096 agent-steps, a checkpoint every 2 updates.
TRAIN_SETTINGS = ("total_timesteps=65536", "checkpoint_every=8192", "episode_gif=false")


# ---- ledger-concurrency ------------------------------------------------------------------------------
def _writer(url: str, run_id: str, worker: int, writes: int, lose_last: bool) -> None:
    from training.ledger import Ledger

    ledger = Ledger(url, migrate=False)
    for i in range(writes):
        if lose_last and i == writes - 1:
            continue  # sabotage: each writer loses its last write
        ledger.add_metrics(run_id, worker * writes + i, {"value": float(i)})
    ledger.close()


def ledger_concurrency(ctx: DrillContext) -> DrillResult:
    """N processes write their own metric rows at the same time; every row must be there exactly once."""
    from training.ledger import Ledger

    processes, writes = 8, max(10, int(1000 * ctx.scale))
    url = ctx.database("drill_concurrency")
    ledger = Ledger(url)
    run_id = f"drill-{uuid.uuid4().hex[:8]}"
    ledger.create_run(id=run_id, scenario="recon", profile="drill", seed=0, device="cpu",
                      total_timesteps=processes * writes)
    lose_last = "ledger-concurrency" in ctx.sabotage
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_writer, args=(url, run_id, w, writes, lose_last))
               for w in range(processes)]
    started = time.perf_counter()
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(timeout=DRILL_TIMEOUT_S)
    seconds = time.perf_counter() - started
    hung = [p.pid for p in workers if p.is_alive()]
    for proc in workers:
        if proc.is_alive():
            proc.kill()
    rows = ledger.metrics(run_id)
    ledger.close()
    expected = processes * writes
    distinct = len({(r.step, r.name) for r in rows})
    stamps = [r.recorded_at for r in rows]
    window = (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0
    passed = not hung and all(p.exitcode == 0 for p in workers) and len(rows) == distinct == expected
    return DrillResult(
        "ledger-concurrency", f"{processes} processes x {writes} ledger writes at once (PostgreSQL)",
        f"{expected} rows, each once; no deadlock (every writer done in {DRILL_TIMEOUT_S} s)", passed,
        {"rows": len(rows), "expected": expected, "seconds": round(seconds, 1),
         "write_window_s": round(window, 1), "writes/s": round(len(rows) / window) if window else 0},
        "" if passed else f"rows {len(rows)} (distinct {distinct}) of {expected}; hung writers {hung}")


# ---- training under faults ---------------------------------------------------------------------------
@dataclass
class _Training:
    proc: subprocess.Popen[str]
    log: Path


def _start_training(url: str, runs: Path, *extra: str, env_extra: dict[str, str] | None = None) -> _Training:
    """``swarmops train`` in a subprocess (a tiny smoke run, or ``extra`` such as --resume ID)."""
    runs.mkdir(parents=True, exist_ok=True)
    log = runs / f"train-{int(time.time() * 1000)}.log"
    env = {**os.environ, "SWARMOPS_DB_URL": url, "SWARMOPS_RUNS_DIR": str(runs),
           "MLFLOW_TRACKING_URI": f"sqlite:///{runs / 'mlflow.db'}", **(env_extra or {})}
    env.pop("MLFLOW_REGISTRY_URI", None)
    sets = [arg for s in TRAIN_SETTINGS for arg in ("--set", s)]
    what = list(extra) if extra else ["--scenario", "recon", "--profile", "smoke", *sets]
    cmd = [sys.executable, "-m", "swarmops", "train", "--no-progress", *what]
    handle = log.open("w")
    proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, text=True)
    handle.close()
    return _Training(proc, log)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


def _metric_rows(url: str) -> list[tuple[str, int, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(
                "SELECT run_id, step, name FROM training_metrics ORDER BY step, name"))]
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []  # server restarting, or training has not created the tables yet
    finally:
        engine.dispose()


_LEDGER_RETRYING = "ledger: database unreachable"  # training.ledger's line on a write's first failure


def _log_count(log: Path, line: str) -> int:
    return log.read_text(errors="replace").count(line) if log.exists() else 0


def _updates_logged(url: str) -> int:
    return len({step for _, step, _ in _metric_rows(url)})


def _run_row(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, status, timesteps_done, total_timesteps FROM runs")).one()
    engine.dispose()
    return dict(row._mapping)


def _continuous(steps: list[int]) -> bool:
    """Metric steps are one per PPO update: equally spaced from the first to the last, none missing."""
    steps = sorted(set(steps))
    return len(steps) >= 2 and len({b - a for a, b in zip(steps, steps[1:])}) == 1


def _tail(path: Path, lines: int = 5) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return " | ".join(text[-lines:])


def kill_resume(ctx: DrillContext) -> DrillResult:
    """SIGKILL a training run after its first checkpoint, resume it, and account for every row."""
    url = ctx.database("drill_kill_resume")
    runs = ctx.workdir / "kill-resume"
    first = _start_training(url, runs)
    try:
        _wait(lambda: any(runs.glob("*/checkpoints/last.zip")) or first.proc.poll() is not None,
              DRILL_TIMEOUT_S, "the first checkpoint")
    finally:
        if first.proc.poll() is None:
            first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
    checkpoints = list(runs.glob("*/checkpoints/last.zip"))
    if not checkpoints:
        return DrillResult("kill-resume", "SIGKILL training", "a checkpoint to resume from", False,
                           detail=f"no checkpoint before the kill: {_tail(first.log)}")
    before = set(_metric_rows(url))
    killed = _run_row(url)
    ckpt_meta = json.loads((checkpoints[0].parent / "last.json").read_text()) \
        if (checkpoints[0].parent / "last.json").exists() else {}
    if "kill-resume" in ctx.sabotage:
        checkpoints[0].unlink()  # sabotage: the checkpoint is lost
    started = time.perf_counter()
    second = _start_training(url, runs, "--resume", killed["id"])
    second.proc.wait(timeout=DRILL_TIMEOUT_S)
    seconds = time.perf_counter() - started
    after_rows = _metric_rows(url)
    after = set(after_rows)
    final = _run_row(url)
    # The update in flight at the kill is lost with the process (SIGKILL); training resumes from the
    # checkpoint, whose step carries the resume marker, so the series has no hole.
    steps = [step for _, step, _ in after_rows]
    resumed = [step for _, step, name in after_rows if name == "resumed_from_step"]
    checks = {
        "killed while running": killed["status"] == "running" and first.proc.returncode == -signal.SIGKILL,
        "resume finished": second.proc.returncode == 0 and final["status"] == "finished",
        "whole budget": final["timesteps_done"] >= final["total_timesteps"],
        "no ledger row lost": before <= after,
        "each row once": len(after_rows) == len(after),
        "steps continuous": _continuous(steps),
        "interruption in the ledger": len(resumed) == 1,
    }
    passed = all(checks.values())
    return DrillResult(
        "kill-resume", "SIGKILL training after its first checkpoint, then swarmops train --resume",
        "finished, whole budget, no ledger row lost, each once, steps continuous, resume recorded", passed,
        {"killed_at_rows": len(before), "rows_after": len(after_rows),
         "checkpoint_step": ckpt_meta.get("timesteps", resumed[0] if resumed else "?"),
         "resume_s": round(seconds, 1)},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {_tail(second.log, 3)}")


def postgres_restart(ctx: DrillContext) -> DrillResult:
    """Restart the ledger's PostgreSQL twice while training logs to it; every metric row arrives once."""
    url = ctx.database("drill_pg_restart")
    runs = ctx.workdir / "pg-restart"
    env_extra = {"SWARMOPS_LEDGER_RETRY_S": "0"} if "postgres-restart" in ctx.sabotage else {}
    training = _start_training(url, runs, env_extra=env_extra)
    restarts, outage = 0, 0.0
    try:
        for target in (2, 6):  # restart after the 2nd and the 6th update were logged
            _wait(lambda: _updates_logged(url) >= target or training.proc.poll() is not None,
                  DRILL_TIMEOUT_S, f"{target} logged updates")
            if training.proc.poll() is not None:
                break
            began = time.perf_counter()
            felt = _log_count(training.log, _LEDGER_RETRYING)
            # down until the training has met the outage (or ended): a restart shorter than the time
            # between two updates would test nothing on a slow machine
            ctx.server.restart(down_until=lambda: _log_count(training.log, _LEDGER_RETRYING) > felt
                               or training.proc.poll() is not None)
            outage += time.perf_counter() - began
            restarts += 1
        training.proc.wait(timeout=DRILL_TIMEOUT_S)
    finally:
        if training.proc.poll() is None:
            training.proc.kill()
            training.proc.wait()
    rows = _metric_rows(url)
    final = _run_row(url)
    steps = [step for _, step, _ in rows]
    log = training.log.read_text(errors="replace")
    checks = {
        "two restarts during training": restarts == 2,
        "training finished": training.proc.returncode == 0 and final["status"] == "finished",
        "each row once": len(rows) == len(set(rows)),
        "steps continuous": _continuous(steps),
        "all updates logged": len(set(steps)) * 4096 >= final["total_timesteps"],
    }
    passed = all(checks.values())
    return DrillResult(
        "postgres-restart", "PostgreSQL restarted twice (pg_ctl restart -m fast) while training logs to it",
        "training finishes; every update's metric rows present, each once, steps continuous", passed,
        {"restarts": restarts, "restart_s": round(outage, 1), "rows": len(rows),
         "updates": len(set(steps)), "retried_writes": log.count("ledger: wrote ")},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {_tail(training.log, 3)}")


def _mlflow_metric_counts(url: str, mlflow_run_id: str) -> dict[tuple[int, str], int]:
    """(step, key) -> number of rows in the MLflow backend's metrics table for one run."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT step, key, count(*) FROM metrics WHERE run_uuid = :run "
                                    "GROUP BY step, key"), {"run": mlflow_run_id}).all()
    engine.dispose()
    return {(int(step), key): int(n) for step, key, n in rows}


def mlflow_down(ctx: DrillContext) -> DrillResult:
    """Stop the MLflow server for about a minute during a training run; every metric arrives once."""
    from swarmops.mlflowtemp import ThrowawayMlflow

    ledger_url = ctx.database("drill_mlflow_down_ledger")
    backend_url = ctx.database("drill_mlflow_down_store")
    server = ThrowawayMlflow(backend_url, ctx.workdir / "mlflow-down-server")
    outage_s = max(10.0, 60.0 * ctx.scale)
    server.start()
    # Short client-side HTTP retries: the drill measures the buffer's retries, not urllib3's.
    # The retry budget covers the outage plus the server's start, which takes a minute or more on a
    # loaded 2-core machine (default budget: 120 s; the drill reports the real downtime).
    env_extra = {**server.client_env(), "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "SWARMOPS_MLFLOW_RETRY_S": f"{outage_s + 240:.0f}"}
    if "mlflow-down" in ctx.sabotage:
        env_extra["SWARMOPS_MLFLOW_RETRY_S"] = "0"  # sabotage: MLflow writes are not retried
    training = _start_training(ledger_url, ctx.workdir / "mlflow-down", env_extra=env_extra)
    during, downtime = 0, 0.0
    try:
        _wait(lambda: _updates_logged(ledger_url) >= 2 or training.proc.poll() is not None,
              DRILL_TIMEOUT_S, "2 logged updates")
        stopped = time.perf_counter()
        server.stop()
        before = _updates_logged(ledger_url)
        down_until = time.monotonic() + outage_s
        while time.monotonic() < down_until and training.proc.poll() is None:
            time.sleep(0.5)
        during = _updates_logged(ledger_url) - before
        if training.proc.poll() is None:  # (a training that gave up needs no server: counts read its DB)
            server.start()
        downtime = time.perf_counter() - stopped
        training.proc.wait(timeout=DRILL_TIMEOUT_S)
    finally:
        if training.proc.poll() is None:
            training.proc.kill()
            training.proc.wait()
        counts: dict[tuple[int, str], int] = {}
        try:
            run = _run_row(ledger_url)
            engine = sa.create_engine(ledger_url)
            with engine.connect() as conn:
                mlflow_run_id = conn.execute(sa.text("SELECT mlflow_run_id FROM runs")).scalar_one()
            engine.dispose()
            counts = _mlflow_metric_counts(backend_url, mlflow_run_id)
        finally:
            server.stop()
    ledger_rows = {(step, name) for _, step, name in _metric_rows(ledger_url)}
    log = training.log.read_text(errors="replace")
    checks = {
        "training kept going while MLflow was down": during >= 1,
        "training finished": training.proc.returncode == 0 and run["status"] == "finished",
        "every ledger metric in MLflow": bool(ledger_rows) and ledger_rows <= set(counts),
        "each MLflow metric once": bool(counts) and max(counts.values()) == 1,
    }
    passed = all(checks.values())
    return DrillResult(
        "mlflow-down", f"MLflow server (basic auth, PostgreSQL store) stopped for {outage_s:.0f} s "
        "during a training run, then started again",
        "training keeps logging updates during the outage and finishes; every ledger metric is in MLflow, "
        "each (step, metric) once", passed,
        {"outage_s": round(outage_s), "downtime_s": round(downtime, 1),
         "updates_during_outage": during, "ledger_rows": len(ledger_rows),
         "mlflow_rows": sum(counts.values()), "duplicates": sum(n - 1 for n in counts.values()),
         "outages_bridged": log.count("mlflow: server back after")},
        "" if passed else "failed: " + ", ".join(k for k, ok in checks.items() if not ok)
        + f" | {_tail(training.log, 3)}")


DRILLS: dict[str, Callable[[DrillContext], DrillResult]] = {
    "ledger-concurrency": ledger_concurrency,
    "kill-resume": kill_resume,
    "postgres-restart": postgres_restart,
    "mlflow-down": mlflow_down,
    "backup-restore": backup_restore,
    "offsite": offsite,
    "backup-integrity": backup_integrity,
    "mlflow-upgrade": mlflow_upgrade,
}


@contextmanager
def drill_context(sabotage: frozenset[str] = frozenset(), scale: float = 1.0) -> Iterator[DrillContext]:
    """A throw-away PostgreSQL server and scratch folder for the drills; both removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="swarmops-drills-") as tmp:
        server = ThrowawayPostgres().start()
        try:
            yield DrillContext(server, Path(tmp), sabotage, scale)
        finally:
            server.stop()


def run_drills(names: list[str], sabotage: frozenset[str] = frozenset(), scale: float = 1.0,
               on_result: Callable[[DrillResult], None] | None = None) -> list[DrillResult]:
    """Run the named drills in order on one fresh context; a drill that crashes is a failed row."""
    unknown = [n for n in names if n not in DRILLS]
    if unknown:
        raise ValueError(f"unknown drill {unknown[0]!r}; allowed: {', '.join(DRILLS)}")
    results = []
    with drill_context(sabotage, scale) as ctx:
        for name in names:
            try:
                result = DRILLS[name](ctx)
            except Exception as exc:  # noqa: BLE001 - a crashed drill is reported as a failed drill
                result = DrillResult(name, "crashed", "-", False,
                                     detail=f"{type(exc).__name__}: {exc}".splitlines()[0])
            results.append(result)
            if on_result:
                on_result(result)
    return results


def results_json(results: list[DrillResult]) -> str:
    """The drill table as JSON (reports/drills.json)."""
    return json.dumps([asdict(r) for r in results], indent=2) + "\n"
