"""Dashboards as code: the committed JSON is what monitoring.grafana generates, panels are well
formed and use the provisioned datasources, every PromQL expression parses (promtool), every SQL
query of the training dashboard runs on a real ledger and returns rows, and the static rendering
writes a PNG + HTML (and nothing on bad input)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring import grafana
from monitoring.dashboard_render import HTML_NAME, PNG_NAME, render_training_dashboard
from monitoring.ledger_queries import QUERIES
from tests.monitoring.ledger_seed import seed_ledger
from tests.monitoring.monitoring_testlib import MONITORING_DIR, load_yaml

PROVISIONING = MONITORING_DIR / "grafana" / "provisioning"
DASHBOARDS = {name: json.loads((grafana.DASHBOARD_DIR / name).read_text()) for name in grafana.DASHBOARDS}


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(grafana.DASHBOARDS))
def test_committed_json_is_generated(name: str) -> None:
    committed = (grafana.DASHBOARD_DIR / name).read_text()
    assert committed == grafana.render_json(grafana.DASHBOARDS[name]), \
        "run `python -m monitoring.grafana` and commit monitoring/dashboards"


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_structure(name: str) -> None:
    board = DASHBOARDS[name]
    uids = {d["uid"] for d in load_yaml(PROVISIONING / "datasources" / "swarmops.yml")["datasources"]}
    assert board["uid"].startswith("swarmops-") and board["title"] and board["schemaVersion"] >= 36
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) >= 6
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, panel["title"]
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & mine, f"panel {panel['title']!r} overlaps another"
        cells |= mine
        assert panel["type"] in ("stat", "table", "timeseries", "barchart"), panel["type"]
        assert panel["datasource"]["uid"] in uids
        assert panel["targets"]
        assert all(t["refId"] and t["datasource"] == panel["datasource"] for t in panel["targets"])


@pytest.mark.unit
def test_training_dashboard_shows_runs_curves_evaluation_and_promotions() -> None:
    sql = grafana.sql_queries(DASHBOARDS["training.json"])
    assert sorted(sql) == sorted(q.sql for q in QUERIES.values())
    text = " ".join(sql)
    for table in ("FROM runs", "training_metrics", "evaluation_results", "FROM promotions"):
        assert table in text


@pytest.mark.unit
def test_every_promql_expression_parses(tmp_path: Path) -> None:
    exprs = grafana.promql_expressions(DASHBOARDS["infrastructure.json"])
    assert len(exprs) >= 12
    records = [{"record": f"dashboard:expr_{i}", "expr": e} for i, e in enumerate(exprs)]
    rules = {"groups": [{"name": "dashboard", "rules": records}]}
    path = tmp_path / "dashboard-exprs.yml"
    path.write_text(yaml.safe_dump(rules))
    check = ["promtool", "check", "rules", str(path)]
    result = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # and the check can fail
    bad_rule = {"record": "x:y", "expr": "rate(up[5m]"}
    path.write_text(yaml.safe_dump({"groups": [{"name": "bad", "rules": [bad_rule]}]}))
    bad = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0


@pytest.mark.unit
def test_provisioning_files_hold_no_secret() -> None:
    datasources = load_yaml(PROVISIONING / "datasources" / "swarmops.yml")["datasources"]
    ledger = next(d for d in datasources if d["uid"] == grafana.LEDGER["uid"])
    assert ledger["type"] == grafana.LEDGER["type"]
    assert ledger["secureJsonData"]["password"] == "${SWARMOPS_LEDGER_PASSWORD}"
    assert next(d for d in datasources if d["uid"] == grafana.PROMETHEUS["uid"])["url"].startswith("${")
    provider = load_yaml(PROVISIONING / "dashboards" / "swarmops.yml")["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"]


def _check_queries(url: str) -> None:
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for name, query in QUERIES.items():
                df = pd.read_sql(sa.text(query.sql), conn)
                assert tuple(df.columns) == query.columns, name
                assert len(df) > 0, f"query {name} returned no rows"
    finally:
        engine.dispose()


def _check_rendering(url: str, out: Path, run_ids: dict[str, list[str]]) -> None:
    html_path = render_training_dashboard(url, out)
    assert html_path == out / HTML_NAME
    png = out / PNG_NAME
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert png.stat().st_mode & 0o044 == 0o044  # readable by others, like any report
    page = html_path.read_text()
    assert f"src='{PNG_NAME}'" in page
    for run_id in run_ids["finished"] + run_ids["failed"] + run_ids["running"]:
        assert run_id in page
    assert all(word in page for word in ("first", "promoted", "rejected", "lawnmower"))
    assert "secret" not in page  # the ledger URL is shown with its password hidden


@pytest.mark.infra
def test_training_dashboard_sql_on_postgres_ledger(postgres_url: str, tmp_path: Path) -> None:
    run_ids = seed_ledger(postgres_url)
    _check_queries(postgres_url)
    _check_rendering(postgres_url, tmp_path / "out", run_ids)


@pytest.mark.infra
def test_evaluation_panel_shows_latest_evaluation_per_scenario(postgres_url: str) -> None:
    import pandas as pd
    import sqlalchemy as sa

    seed_ledger(postgres_url)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        df = pd.read_sql(sa.text(QUERIES["evaluation_vs_baselines"].sql), conn)
    engine.dispose()
    # recon was evaluated three times (runs 00, 04, 05): only the latest evaluation is shown
    assert set(df[df.scenario == "recon"].run_id) == {"recon-05-finished"}
    best = df[df.scenario == "recon"].sort_values("mean_time_ratio").iloc[0]  # lower is better
    assert best.policy == "ppo" and best.fields == 3
    assert set(df.policy) == {"ppo", "random", "lawnmower", "greedy"}


def _seeded_panel(tmp_path: Path, name: str) -> Any:
    """The rows of the ledger query ``name`` on a seeded embedded ledger (a DataFrame)."""
    import pandas as pd
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    seed_ledger(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        df = pd.read_sql(sa.text(QUERIES[name].sql), conn)
    engine.dispose()
    return df


@pytest.mark.unit
def test_lower_bound_panel_shows_the_latest_recon_evaluation(tmp_path: Path) -> None:
    """The second evaluation panel: per policy, the latest recon evaluation's ratio to the lower bound
    (watering has no bound, so no rows), on the embedded ledger."""
    df = _seeded_panel(tmp_path, "evaluation_vs_lower_bound")
    assert set(df.scenario) == {"recon"} and set(df.run_id) == {"recon-05-finished"}
    best = df.sort_values("mean_time_ratio_lb").iloc[0]
    assert best.policy == "ppo" and best.fields == 3 and best.mean_time_ratio_lb >= 1.0


@pytest.mark.unit
def test_idle_share_panel_shows_the_latest_recon_evaluation(tmp_path: Path) -> None:
    """The idle-share panel: per policy, the latest recon evaluation's share of drone-steps that sensed
    nothing (a share, 0..1; watering has none), on the embedded ledger."""
    df = _seeded_panel(tmp_path, "evaluation_idle_share")
    assert set(df.scenario) == {"recon"} and set(df.run_id) == {"recon-05-finished"}
    assert df.min_idle_share.min() >= 0 and df.max_idle_share.max() <= 1
    best = df.sort_values("mean_idle_share").iloc[0]
    assert best.policy == "ppo" and best.fields == 3


@pytest.mark.unit
def test_training_dashboard_sql_on_sqlite_ledger(tmp_path: Path) -> None:
    """The embedded default ledger (what `swarmops report dashboard` reads without a server)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    seed_ledger(url)
    _check_queries(url)
    from monitoring.dashboard_render import fetch_panels

    panels = fetch_panels(url)
    assert str(panels["runs"]["started_at"].dtype).startswith("datetime64")  # text timestamps parsed


@pytest.mark.unit
@pytest.mark.parametrize("url, message", [
    ("mysql://u:secret@h/db", "unsupported ledger database 'mysql'"),
    ("not a url", "invalid ledger database URL"),
    ("sqlite:///{tmp}/missing/ledger.db", "no ledger file at"),
], ids=["backend", "syntax", "missing-file"])
def test_bad_ledger_url_writes_nothing(tmp_path: Path, url: str, message: str) -> None:
    from training.ledger import LedgerError

    out = tmp_path / "out"
    with pytest.raises(LedgerError) as err:
        render_training_dashboard(url.format(tmp=tmp_path), out)
    assert message in str(err.value) and "\n" not in str(err.value) and "secret" not in str(err.value)
    assert not out.exists() and not (tmp_path / "missing").exists()


@pytest.mark.infra
def test_database_without_ledger_is_refused(postgres_url: str, tmp_path: Path) -> None:
    from training.ledger import LedgerError

    with pytest.raises(LedgerError, match="holds no run ledger"):
        render_training_dashboard(postgres_url, tmp_path / "out")
    assert not (tmp_path / "out").exists()
