"""The run ledger: every training run, its metric time series, evaluation results and promotions.

SQLAlchemy models + Alembic migrations (training/migrations). SQLite under runs/ is the embedded
default; ``SWARMOPS_DB_URL`` (e.g. ``postgresql+psycopg2://user:pw@host/db``) selects PostgreSQL.
The schema is plain tables with timestamps so Grafana can query it directly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from swarmops.errors import InputError, NotFoundError
from swarmops.paths import check_database_file
from training.envconfig import seconds_from_env
from training.paths import runs_root

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
RUN_STATUSES = ("running", "finished", "failed", "interrupted")
#: How long metric writes keep retrying while the database is unreachable (a restart, a failover).
DEFAULT_WRITE_RETRY_S = 120.0


def write_retry_s() -> float:
    """SWARMOPS_LEDGER_RETRY_S (seconds, >= 0; default 120), or a LedgerError naming the bad value."""
    return seconds_from_env("SWARMOPS_LEDGER_RETRY_S", DEFAULT_WRITE_RETRY_S, LedgerError)


class LedgerError(RuntimeError):
    """The ledger database URL is invalid or the database cannot be reached or migrated."""


def utcnow() -> dt.datetime:
    """Naive UTC timestamp (SQLite keeps no time zone; PostgreSQL columns are `timestamp`)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of the ledger models."""


class Run(Base):
    """One training run."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    scenario: Mapped[str] = mapped_column(sa.String(32), index=True)
    profile: Mapped[str] = mapped_column(sa.String(64))
    seed: Mapped[int] = mapped_column(sa.Integer)
    device: Mapped[str] = mapped_column(sa.String(32))
    git_sha: Mapped[str | None] = mapped_column(sa.String(64))
    data_hash: Mapped[str | None] = mapped_column(sa.String(64))
    total_timesteps: Mapped[int] = mapped_column(sa.BigInteger)
    timesteps_done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    agent_steps_per_second: Mapped[float | None] = mapped_column(sa.Float)
    mlflow_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    model_version: Mapped[str | None] = mapped_column(sa.String(16))
    run_dir: Mapped[str | None] = mapped_column(sa.Text)
    config_json: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class TrainingMetric(Base):
    """One metric value at one training step (long format: Grafana-friendly)."""

    __tablename__ = "training_metrics"
    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(sa.BigInteger)
    name: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[float] = mapped_column(sa.Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)

    # Migration 0002: a retried or resumed write of the same (run, step, metric) is a no-op.
    __table_args__ = (sa.Index("ux_training_metrics_run_step_name", "run_id", "step", "name", unique=True),)


class EvaluationResult(Base):
    """One metric of one policy on one suite scenario and seed."""

    __tablename__ = "evaluation_results"
    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    suite_hash: Mapped[str] = mapped_column(sa.String(64))
    scenario_id: Mapped[str] = mapped_column(sa.String(64))
    split: Mapped[str] = mapped_column(sa.String(16))
    policy: Mapped[str] = mapped_column(sa.String(32))
    seed: Mapped[int] = mapped_column(sa.Integer)
    metric: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[float] = mapped_column(sa.Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)


class Promotion(Base):
    """One gate decision with its statistical evidence."""

    __tablename__ = "promotions"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(sa.String(128))
    scenario: Mapped[str] = mapped_column(sa.String(32))
    candidate_run_id: Mapped[str] = mapped_column(sa.String(64))
    candidate_version: Mapped[str | None] = mapped_column(sa.String(16))
    champion_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    champion_version: Mapped[str | None] = mapped_column(sa.String(16))
    decision: Mapped[str] = mapped_column(sa.String(16))
    metric: Mapped[str] = mapped_column(sa.String(64))
    mean_difference: Mapped[float | None] = mapped_column(sa.Float)
    ci_low: Mapped[float | None] = mapped_column(sa.Float)
    ci_high: Mapped[float | None] = mapped_column(sa.Float)
    n_pairs: Mapped[int] = mapped_column(sa.Integer)
    evidence_json: Mapped[str] = mapped_column(sa.Text)
    decided_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)


def default_db_url() -> str:
    """SWARMOPS_DB_URL, or the embedded SQLite file under runs/."""
    return os.environ.get("SWARMOPS_DB_URL") or f"sqlite:///{runs_root() / 'swarmops.db'}"


def redact(url: str) -> str:
    """A URL safe to print on one line (password hidden, control characters escaped)."""
    try:
        shown = sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is printed as given, minus nothing secret
        shown = url.split("@")[-1]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)


def make_engine(url: str) -> sa.Engine:
    """Engine for a ledger URL, with a short connect timeout so bad URLs fail fast."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise LedgerError(
            f"invalid ledger database URL {url!r} (expected sqlite:///PATH or "
            "postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DB)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise LedgerError(
            f"unsupported ledger database {backend!r} in {redact(url)} "
            "(allowed: sqlite, postgresql+psycopg2)"
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg2":
        raise LedgerError(
            f"ledger URL {redact(url)} must use the psycopg2 driver (postgresql+psycopg2://...)"
        )
    if backend == "sqlite":
        # A mistyped folder is refused; only the runs root (SwarmOps' own) is created on demand.
        try:
            database = check_database_file(parsed.database or "", f"ledger URL {redact(url)}", runs_root())
        except InputError as exc:
            raise LedgerError(str(exc)) from None
        database.parent.mkdir(parents=True, exist_ok=True)
        # Several processes (training, evaluation, tests) may write: wait for locks instead of failing.
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision``."""
    from alembic import command

    command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert the Alembic migrations down to ``revision``."""
    from alembic import command

    command.downgrade(_alembic_config(url), revision)


class Ledger:
    """Reads and writes the run ledger. Construction checks the database and migrates it."""

    def __init__(self, url: str | None = None, migrate: bool = True) -> None:
        self.url = url or default_db_url()
        self.retry_s = write_retry_s()  # checked before any connection: a bad value costs nothing
        self.engine = make_engine(self.url)
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            self.engine.dispose()
            raise LedgerError(f"cannot reach the ledger database {redact(self.url)}: {reason}") from None
        if migrate:
            try:
                upgrade(self.url)
            except Exception as exc:  # noqa: BLE001 - any migration failure is reported in one line
                self.engine.dispose()
                raise LedgerError(f"cannot migrate the ledger database {redact(self.url)}: {exc}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # runs ---------------------------------------------------------------------------------------
    def create_run(self, **fields: Any) -> Run:
        """Insert a run row (status running unless given)."""
        fields.setdefault("status", "running")
        fields.setdefault("started_at", utcnow())
        fields.setdefault("timesteps_done", 0)
        run = Run(**fields)
        with self.session() as s:
            s.add(run)
        return run

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Update columns of one run."""
        if "status" in fields and fields["status"] not in RUN_STATUSES:
            raise ValueError(f"status {fields['status']!r} not in {RUN_STATUSES}")
        with self.session() as s:
            s.execute(sa.update(Run).where(Run.id == run_id).values(**fields))

    def get_run(self, run_id: str) -> Run | None:
        """One run by id, or None."""
        with self.session() as s:
            return s.get(Run, run_id)

    def list_runs(self, limit: int = 20, scenario: str | None = None, status: str | None = None) -> list[Run]:
        """Most recent runs first."""
        query = sa.select(Run).order_by(Run.started_at.desc()).limit(limit)
        if scenario:
            query = query.where(Run.scenario == scenario)
        if status:
            query = query.where(Run.status == status)
        with self.session() as s:
            return list(s.scalars(query))

    def resolve_run(self, ref: str, scenario: str | None = None) -> Run:
        """A run by id, unique id prefix, or ``latest`` (most recent finished run)."""
        with self.session() as s:
            if ref == "latest":
                query = sa.select(Run).where(Run.status == "finished").order_by(Run.started_at.desc())
                if scenario:
                    query = query.where(Run.scenario == scenario)
                run = s.scalars(query.limit(1)).first()
                if run is None:
                    raise NotFoundError(
                        f"no finished run{' for ' + scenario if scenario else ''} in the ledger "
                        f"{redact(self.url)}: train one first (swarmops train)"
                    )
                return run
            run = s.get(Run, ref)
            if run is not None:
                return run
            matches = list(s.scalars(sa.select(Run).where(Run.id.startswith(ref)).limit(2)))
        if len(matches) == 1:
            return matches[0]
        raise NotFoundError(
            f"run {ref!r} {'is ambiguous' if matches else 'not found'} in the ledger "
            f"{redact(self.url)} (see swarmops runs)"
        )

    # metrics ------------------------------------------------------------------------------------
    def add_metrics(self, run_id: str, step: int, values: dict[str, float],
                    retry_s: float | None = None) -> None:
        """Record one step's metric values exactly once.

        A (run, step, metric) already present is left as it is (the first write wins), so a write that
        is retried after a lost connection, or re-sent by a resumed run, never duplicates a row.
        While the database is unreachable (PostgreSQL restarting), the write is retried with backoff for
        up to ``retry_s`` seconds (SWARMOPS_LEDGER_RETRY_S, default 120) before the error surfaces.
        """
        now = utcnow()
        rows = [
            {"run_id": run_id, "step": step, "name": k, "value": float(v), "recorded_at": now}
            for k, v in values.items()
        ]
        if not rows:
            return
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(TrainingMetric).on_conflict_do_nothing(index_elements=["run_id", "step", "name"])
        self._retrying(lambda: self._execute(statement, rows), self.retry_s if retry_s is None else retry_s,
                       f"metrics of run {run_id} at step {step}")

    def _execute(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        with self.session() as s:
            s.execute(statement, rows)

    def _retrying(self, write: Any, budget_s: float, what: str) -> None:
        """Run ``write``; on a lost or refused connection retry (backoff 0.5 s .. 5 s) for ``budget_s``."""
        deadline, delay, attempt = time.monotonic() + budget_s, 0.5, 0
        while True:
            try:
                write()
                if attempt:
                    print(f"ledger: wrote {what} after {attempt} retr{'y' if attempt == 1 else 'ies'}",
                          file=sys.stderr)
                return
            except sa.exc.OperationalError as exc:  # connection refused / reset / server shutting down
                attempt += 1
                if time.monotonic() + delay > deadline:
                    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                    raise LedgerError(f"cannot write {what} to {redact(self.url)} after {attempt} attempts "
                                      f"in {budget_s:.0f} s: {reason}") from None
                if attempt == 1:
                    print(f"ledger: database unreachable, retrying {what} for up to {budget_s:.0f} s",
                          file=sys.stderr)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def metrics(self, run_id: str) -> list[TrainingMetric]:
        """All metric rows of a run in step order."""
        with self.session() as s:
            return list(
                s.scalars(
                    sa.select(TrainingMetric)
                    .where(TrainingMetric.run_id == run_id)
                    .order_by(TrainingMetric.step, TrainingMetric.id)
                )
            )

    def add_evaluation(self, run_id: str, suite_hash: str, rows: list[dict[str, Any]]) -> None:
        """Replace this run's results on this suite with ``rows`` (scenario_id, split, policy, seed,
        metric, value) in one transaction."""
        now = utcnow()
        with self.session() as s:
            s.execute(
                sa.delete(EvaluationResult).where(
                    EvaluationResult.run_id == run_id, EvaluationResult.suite_hash == suite_hash
                )
            )
            if rows:
                s.execute(
                    sa.insert(EvaluationResult),
                    [{**r, "run_id": run_id, "suite_hash": suite_hash, "recorded_at": now} for r in rows],
                )

    def evaluation(self, run_id: str, suite_hash: str | None = None) -> list[EvaluationResult]:
        """Evaluation rows of a run (optionally on one suite)."""
        query = sa.select(EvaluationResult).where(EvaluationResult.run_id == run_id)
        if suite_hash:
            query = query.where(EvaluationResult.suite_hash == suite_hash)
        with self.session() as s:
            return list(s.scalars(query.order_by(EvaluationResult.id)))

    def add_promotion(self, evidence: dict[str, Any], **fields: Any) -> Promotion:
        """Record one gate decision and its evidence."""
        row = Promotion(evidence_json=json.dumps(evidence, sort_keys=True), decided_at=utcnow(), **fields)
        with self.session() as s:
            s.add(row)
        return row

    def promotions(self, scenario: str | None = None) -> list[Promotion]:
        """Gate decisions, most recent first."""
        query = sa.select(Promotion).order_by(Promotion.decided_at.desc(), Promotion.id.desc())
        if scenario:
            query = query.where(Promotion.scenario == scenario)
        with self.session() as s:
            return list(s.scalars(query))
