"""Initial ledger schema: runs, training_metrics, evaluation_results, promotions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scenario", sa.String(32), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("git_sha", sa.String(64)),
        sa.Column("data_hash", sa.String(64)),
        sa.Column("total_timesteps", sa.BigInteger, nullable=False),
        sa.Column("timesteps_done", sa.BigInteger, nullable=False),
        sa.Column("agent_steps_per_second", sa.Float),
        sa.Column("mlflow_run_id", sa.String(64)),
        sa.Column("model_version", sa.String(16)),
        sa.Column("run_dir", sa.Text),
        sa.Column("config_json", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed', 'interrupted')", name="ck_runs_status"
        ),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_scenario", "runs", ["scenario"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "training_metrics",
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_training_metrics_run_id", "training_metrics", ["run_id"])
    op.create_index("ix_training_metrics_recorded_at", "training_metrics", ["recorded_at"])
    op.create_table(
        "evaluation_results",
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("suite_hash", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("split", sa.String(16), nullable=False),
        sa.Column("policy", sa.String(32), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_evaluation_results_run_id", "evaluation_results", ["run_id"])
    op.create_index("ix_evaluation_results_recorded_at", "evaluation_results", ["recorded_at"])
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("scenario", sa.String(32), nullable=False),
        sa.Column("candidate_run_id", sa.String(64), nullable=False),
        sa.Column("candidate_version", sa.String(16)),
        sa.Column("champion_run_id", sa.String(64)),
        sa.Column("champion_version", sa.String(16)),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("mean_difference", sa.Float),
        sa.Column("ci_low", sa.Float),
        sa.Column("ci_high", sa.Float),
        sa.Column("n_pairs", sa.Integer, nullable=False),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_promotions_decided_at", "promotions", ["decided_at"])
    # Grafana-friendly view: latest value of each training metric per run.
    op.execute(
        "CREATE VIEW run_latest_metrics AS "
        "SELECT m.run_id, m.name, m.step, m.value, m.recorded_at FROM training_metrics m "
        "JOIN (SELECT run_id, name, MAX(step) AS step FROM training_metrics GROUP BY run_id, name) l "
        "ON m.run_id = l.run_id AND m.name = l.name AND m.step = l.step"
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS run_latest_metrics")
    op.drop_table("promotions")
    op.drop_table("evaluation_results")
    op.drop_table("training_metrics")
    op.drop_table("runs")
