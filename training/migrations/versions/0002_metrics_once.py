"""One row per (run, step, metric): retried and resumed writes never duplicate a metric value.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Older ledgers may hold duplicates (a resumed run re-logged its last steps): keep the first row.
    op.execute(sa.text(
        "DELETE FROM training_metrics WHERE id NOT IN "
        "(SELECT MIN(id) FROM training_metrics GROUP BY run_id, step, name)"))
    op.create_index("ux_training_metrics_run_step_name", "training_metrics", ["run_id", "step", "name"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ux_training_metrics_run_step_name", table_name="training_metrics")
