"""Alembic environment of the run ledger (configured from training.ledger, no alembic.ini)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from training.ledger import Base

config = context.config


def run_migrations() -> None:
    """Run migrations online against the configured URL (SQLite or PostgreSQL)."""
    url = config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
