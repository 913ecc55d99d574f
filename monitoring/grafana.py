"""Grafana dashboards as code: the training dashboard (SQL on the PostgreSQL run ledger) and the
infrastructure dashboard (PromQL on the environment's Prometheus).

``python -m monitoring.grafana`` rewrites monitoring/dashboards/*.json; a test fails when the
committed JSON differs from what this module generates. Datasource uids match
monitoring/grafana/provisioning/datasources/swarmops.yml.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitoring.ledger_queries import QUERIES

DASHBOARD_DIR = Path(__file__).parent / "dashboards"
PROMETHEUS = {"type": "prometheus", "uid": "swarmops-prometheus"}
LEDGER = {"type": "grafana-postgresql-datasource", "uid": "swarmops-ledger"}
SCHEMA_VERSION = 39


class _Layout:
    """Places panels left to right on Grafana's 24-column grid and numbers them."""

    def __init__(self) -> None:
        self.x = self.y = self.row_h = 0
        self.next_id = 1

    def place(self, panel: dict[str, Any], w: int, h: int) -> dict[str, Any]:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel = {"id": self.next_id, **panel, "gridPos": {"x": self.x, "y": self.y, "w": w, "h": h}}
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)
        return panel


def _sql_panel(kind: str, query: str, fmt: str = "table", **extra: Any) -> dict[str, Any]:
    q = QUERIES[query]
    return {"type": kind, "title": q.title, "datasource": LEDGER,
            "targets": [{"refId": "A", "datasource": LEDGER, "rawQuery": True, "editorMode": "code",
                         "format": fmt, "rawSql": q.sql}], **extra}


def _prom_panel(kind: str, title: str, exprs: list[tuple[str, str]], unit: str = "short",
                **extra: Any) -> dict[str, Any]:
    return {"type": kind, "title": title, "datasource": PROMETHEUS,
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(ord("A") + i), "datasource": PROMETHEUS, "expr": expr,
                         "legendFormat": legend} for i, (expr, legend) in enumerate(exprs)], **extra}


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]], time_from: str) -> dict[str, Any]:
    return {"uid": uid, "title": title, "tags": ["swarmops"], "timezone": "utc", "editable": False,
            "schemaVersion": SCHEMA_VERSION, "version": 1, "refresh": "1m",
            "time": {"from": time_from, "to": "now"}, "templating": {"list": []},
            "annotations": {"list": []}, "panels": panels}


# The curve queries also return step/run_id/scenario for the static rendering: Grafana drops them and
# splits the long rows into one series per `metric` (run id + scenario).
_CURVE_TRANSFORMS = [
    {"id": "organize", "options": {"excludeByName": {"step": True, "run_id": True, "scenario": True}}},
    {"id": "prepareTimeSeries", "options": {"format": "multi"}},
]


def training_dashboard() -> dict[str, Any]:
    """Runs, learning curves, evaluation vs baselines and vs the lower bound, recon's idle share,
    throughput and promotion history from the run ledger."""
    lay = _Layout()
    panels = [
        lay.place(_sql_panel("table", "run_status"), 6, 8),
        lay.place(_sql_panel("table", "runs"), 18, 8),
        lay.place(_sql_panel("timeseries", "reward_curves", transformations=_CURVE_TRANSFORMS), 12, 9),
        lay.place(_sql_panel("timeseries", "coverage_curves", transformations=_CURVE_TRANSFORMS,
                             fieldConfig={"defaults": {"unit": "percentunit", "min": 0, "max": 1},
                                          "overrides": []}), 12, 9),
        lay.place(_sql_panel("barchart", "evaluation_vs_baselines",
                             options={"xField": "policy", "orientation": "horizontal"}), 12, 9),
        lay.place(_sql_panel("barchart", "evaluation_vs_lower_bound",
                             options={"xField": "policy", "orientation": "horizontal"}), 12, 9),
        lay.place(_sql_panel("barchart", "evaluation_idle_share",
                             options={"xField": "policy", "orientation": "horizontal"},
                             fieldConfig={"defaults": {"unit": "percentunit", "min": 0, "max": 1},
                                          "overrides": []}), 12, 8),
        lay.place(_sql_panel("timeseries", "throughput", "time_series",
                             fieldConfig={"defaults": {"unit": "short", "custom": {"drawStyle": "points"}},
                                          "overrides": []}), 12, 8),
        lay.place(_sql_panel("table", "promotions"), 24, 8),
    ]
    return _dashboard("swarmops-training", "SwarmOps training", panels, "now-30d")


def infrastructure_dashboard() -> dict[str, Any]:
    """Targets, host, PostgreSQL, backups, service probes and live training progress from Prometheus."""
    lay = _Layout()
    panels = [
        lay.place(_prom_panel("stat", "Targets up", [("up", "{{job}}")]), 8, 6),
        lay.place(_prom_panel("stat", "Service health probes", [("probe_success", "{{service}}")]), 8, 6),
        lay.place(_prom_panel("stat", "Firing alerts", [
            ('count by (severity) (ALERTS{alertstate="firing"}) or vector(0)', "{{severity}}")]), 8, 6),
        lay.place(_prom_panel("timeseries", "CPU utilisation", [
            ("instance:node_cpu_utilisation:rate5m", "{{instance}}")], "percentunit"), 8, 8),
        lay.place(_prom_panel("timeseries", "Memory available", [
            ("instance:node_memory_available:ratio", "{{instance}}")], "percentunit"), 8, 8),
        lay.place(_prom_panel("timeseries", "Disk space available", [
            ("instance:node_filesystem_avail:ratio", "{{mountpoint}}")], "percentunit"), 8, 8),
        lay.place(_prom_panel("timeseries", "PostgreSQL connections / max_connections", [
            ("instance:pg_connections:ratio", "{{server}}")], "percentunit"), 8, 8),
        lay.place(_prom_panel("stat", "PostgreSQL up", [("pg_up", "{{instance}}")]), 4, 8),
        lay.place(_prom_panel("stat", "Last backup age", [
            ("swarmops:backup_age_seconds", "{{env}}")], "s"), 6, 8),
        lay.place(_prom_panel("stat", "Last backup run succeeded", [
            ("swarmops_backup_last_run_success", "{{env}}")]), 6, 8),
        lay.place(_prom_panel("timeseries", "Training throughput (agent-steps/s, running jobs)", [
            ("swarmops:training_agent_steps_per_second:sum", "{{scenario}}")]), 12, 8),
        lay.place(_prom_panel("timeseries", "Training episode reward", [
            ("swarmops_training_episode_reward", "{{run_id}} {{scenario}}")]), 12, 8),
        lay.place(_prom_panel("timeseries", "Training coverage", [
            ("swarmops_training_coverage", "{{run_id}} {{scenario}}")], "percentunit"), 8, 8),
        lay.place(_prom_panel("timeseries", "Training loss", [
            ("swarmops_training_loss", "{{run_id}} {{scenario}}")]), 8, 8),
        lay.place(_prom_panel("table", "Training jobs: status and seconds since last progress", [
            ('swarmops_training_status == 1', "{{run_id}} {{status}}"),
            ("swarmops:training_progress_age_seconds", "{{run_id}}")], "s"), 8, 8),
    ]
    return _dashboard("swarmops-infrastructure", "SwarmOps infrastructure", panels, "now-6h")


DASHBOARDS = {"training.json": training_dashboard, "infrastructure.json": infrastructure_dashboard}


def render_json(build: Any) -> str:
    """A dashboard as the committed JSON text (sorted keys, stable diff)."""
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def write_dashboards(out_dir: Path = DASHBOARD_DIR) -> list[Path]:
    """Write every dashboard's JSON into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in DASHBOARDS.items():
        path = out_dir / name
        path.write_text(render_json(build))
        paths.append(path)
    return paths


def promql_expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard's Prometheus panels."""
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", []) if "expr" in t]


def sql_queries(dashboard: dict[str, Any]) -> list[str]:
    """Every SQL query of a dashboard's ledger panels."""
    return [t["rawSql"] for p in dashboard["panels"] for t in p.get("targets", []) if "rawSql" in t]


if __name__ == "__main__":
    for written in write_dashboards():
        print(written)
