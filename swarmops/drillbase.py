"""What every drill gets (DrillContext) and gives back (DrillResult): one row of the drill table."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from swarmops.pgtemp import ThrowawayPostgres


@dataclass
class DrillResult:
    """One row of the drill table."""

    drill: str
    done: str
    checked: str
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


@dataclass
class DrillContext:
    """What a drill may use: the drills' own PostgreSQL server, a scratch folder, the sabotage set."""

    server: ThrowawayPostgres
    workdir: Path
    sabotage: frozenset[str] = frozenset()
    scale: float = 1.0  # tests run smaller drills

    def database(self, name: str) -> str:
        """URL of a fresh database ``name`` on the drills' server."""
        admin = sa.create_engine(self.server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.server.admin_url.rsplit("/", 1)[0] + f"/{name}"
