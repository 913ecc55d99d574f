"""The reliability drills pass on a healthy stack and FAIL when their guarantee is broken on purpose.

Real PostgreSQL (a server the drills start and restart), real training subprocesses, real SIGKILL, a
real `mlflow server` (basic auth) stopped mid-run, real restic repositories (one behind a real sshd on
its own loopback address), the backup role's own script, promtool on the monitoring rules.
Sizes are reduced (scale 0.05: 8 x 50 concurrent writes, a 10 s MLflow outage); `make drills` runs the
full 8 x 1,000 writes and a 60 s outage.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swarmops.drills import DRILLS, run_drills

pytestmark = [pytest.mark.slow, pytest.mark.unit]
REPO = Path(__file__).resolve().parents[2]
# Outside `make test`'s time budget (each starts sshd or an MLflow server plus two MLflow schema builds):
# `make drills-test` runs them healthy and sabotaged (SWARMOPS_ALL_DRILLS=1), `make drills` healthy.
HEAVY = ("offsite", "mlflow-upgrade")
TESTED = [d for d in DRILLS if os.environ.get("SWARMOPS_ALL_DRILLS") == "1" or d not in HEAVY]


def _skip_untested(drill: str) -> None:
    if drill not in TESTED:
        pytest.skip(f"{drill} is a heavy drill: `make drills-test` runs it (outside make test's time budget)")


@pytest.fixture(scope="module")
def healthy() -> dict:
    return {r.drill: r for r in run_drills(TESTED, scale=0.05)}


@pytest.fixture(scope="module")
def sabotaged() -> dict:
    return {r.drill: r for r in run_drills(TESTED, sabotage=frozenset(TESTED), scale=0.05)}


@pytest.mark.parametrize("drill", list(DRILLS))
def test_drill_passes_on_a_healthy_stack(healthy: dict, drill: str) -> None:
    _skip_untested(drill)
    result = healthy[drill]
    assert result.passed, f"{drill}: {result.detail}"
    assert result.figures and not result.detail


def test_figures_account_for_every_row(healthy: dict) -> None:
    concurrency = healthy["ledger-concurrency"].figures
    assert concurrency["rows"] == concurrency["expected"] == 8 * 50
    assert healthy["postgres-restart"].figures["restarts"] == 2
    assert healthy["postgres-restart"].figures["retried_writes"] >= 1  # the restarts were felt
    assert healthy["kill-resume"].figures["rows_after"] > healthy["kill-resume"].figures["killed_at_rows"]
    down = healthy["mlflow-down"].figures
    assert down["updates_during_outage"] >= 1 and down["outages_bridged"] == 1  # the outage was felt
    assert down["duplicates"] == 0 and down["mlflow_rows"] >= down["ledger_rows"] > 0
    restored = healthy["backup-restore"].figures
    assert restored["rows"] > 0 and restored["artifacts"] >= 2 and restored["restore_s"] > 0
    assert restored["tables"] >= 6  # ledger + MLflow + the hub's 2 + MLflow auth's 2 SQLite tables
    assert healthy["backup-integrity"].figures["restore_errors"] >= 1
    if "offsite" in healthy:
        assert healthy["offsite"].figures["copy_bytes"] > 0
    if "mlflow-upgrade" in healthy:
        assert healthy["mlflow-upgrade"].figures["from"] != healthy["mlflow-upgrade"].figures["to"]


@pytest.mark.parametrize("drill, symptom", [
    ("ledger-concurrency", "rows 392 (distinct 392) of 400"),  # each writer lost its last write
    ("kill-resume", "resume finished"),  # the checkpoint was deleted before --resume
    ("postgres-restart", "training finished"),  # no write retries: the restart kills training
    ("mlflow-down", "training finished"),  # no MLflow retries (SWARMOPS_MLFLOW_RETRY_S=0)
    ("backup-restore", "every table and artifact identical"),  # the account DBs (hub, MLflow auth) left out
    ("offsite", "restore from the copy without errors"),  # the copy next to the primary, lost with it
    ("backup-integrity", "corrupted pack fails the run"),  # `restic check` of the metadata only
    ("mlflow-upgrade", "migration ran before the start"),  # the server started without mlflow-db-upgrade
])
def test_drill_fails_when_its_guarantee_is_broken(sabotaged: dict, drill: str, symptom: str) -> None:
    _skip_untested(drill)
    result = sabotaged[drill]
    assert not result.passed
    assert symptom in result.detail.split(" | ")[0], result.detail


def test_cli_prints_the_table_writes_json_and_refuses_unknown_drills(tmp_path: Path) -> None:
    bad = subprocess.run([sys.executable, "-m", "swarmops", "drills", "--only", "flood"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        f"error: unknown drill 'flood'; allowed: {', '.join(DRILLS)}")
    out = tmp_path / "drills.json"
    proc = subprocess.run([sys.executable, "-m", "swarmops", "drills", "--only", "ledger-concurrency",
                           "--scale", "0.02", "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "reliability drills" in proc.stdout and "1 passed, 0 failed" in proc.stdout
    assert json.loads(out.read_text())[0]["figures"]["rows"] == 8 * 20
