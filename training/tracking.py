"""MLflow tracking, the Pushgateway reporter and run provenance (git SHA, data hash).

No import side effects: nothing here touches MLflow or the network until a function is called.
Embedded default: ``sqlite:///runs/mlflow.db`` with artifacts under ``runs/mlartifacts``;
``MLFLOW_TRACKING_URI`` selects another store (``postgresql+psycopg2://...`` or an http server).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from training.envconfig import mlflow_tls_verify
from training.errors import TrackingError
from training.paths import directory_hash, runs_root  # noqa: F401 - re-exported

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parent.parent
PUSH_JOB = "swarmops_training"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, or the embedded SQLite store under runs/."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{runs_root() / 'mlflow.db'}"


TRACKING_URIS = (
    "http(s)://HOST:PORT, sqlite:///PATH/mlflow.db or postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DB"
)
PROBE_TIMEOUT_S = 3.0  # connect + read timeout of the reachability probe of a tracking server


def _redact_http(uri: str) -> str:
    """An http(s) URI without its user:password part."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _probe_http(uri: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """One GET of the server's /health with a short timeout: any HTTP answer means reachable."""
    import re

    import requests

    shown = _redact_http(uri)
    try:
        requests.get(uri.rstrip("/") + "/health", timeout=(timeout, timeout), verify=mlflow_tls_verify())
    except requests.exceptions.SSLError:
        raise TrackingError(
            f"TLS verification failed for the MLflow server {shown} (set MLFLOW_TRACKING_SERVER_CERT_PATH "
            "to its certificate)"
        ) from None
    except requests.exceptions.Timeout:
        raise TrackingError(
            f"the MLflow server {shown} did not answer within {timeout:g} s (check MLFLOW_TRACKING_URI)"
        ) from None
    except requests.exceptions.RequestException as exc:
        found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
        reason = found.group(0).strip() if found else type(exc).__name__
        raise TrackingError(
            f"cannot reach the MLflow server {shown}: {reason} (check MLFLOW_TRACKING_URI)"
        ) from None


def check_tracking_uri(uri: str) -> None:
    """Fail fast, in one line, when the tracking URI is malformed or its store is unreachable.

    MLflow itself retries for minutes on a dead server or PostgreSQL, and takes a bare word as a
    folder to create; this check runs before any run is created. Creates nothing except the runs
    root's own folder for the embedded SQLite store.
    """
    import sqlalchemy as sa

    from swarmops.errors import InputError
    from swarmops.paths import check_database_file

    if uri.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        try:
            host = urlsplit(uri).hostname
        except ValueError:  # e.g. a port that is not a number
            host = None
        if not host:
            raise TrackingError(
                f"invalid MLFLOW_TRACKING_URI {_redact_http(uri)!r} (allowed: {TRACKING_URIS})"
            )
        _probe_http(uri)
        return
    if uri.startswith("databricks"):
        return
    if uri.startswith("file:"):
        if os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() not in ("true", "1"):
            raise TrackingError(
                f"MLFLOW_TRACKING_URI {uri!r}: MLflow's file store is in maintenance mode and refuses new "
                "runs; use sqlite:///PATH/mlflow.db (or set MLFLOW_ALLOW_FILE_STORE=true)"
            )
        folder = uri[len("file://"):] if uri.startswith("file://") else ""
        if not folder.startswith("/"):
            raise TrackingError(
                f"MLFLOW_TRACKING_URI {uri!r} needs an absolute folder: file:///ABSOLUTE/FOLDER"
            )
        if not Path(folder).parent.is_dir():
            raise TrackingError(f"MLFLOW_TRACKING_URI {uri!r}: folder {Path(folder).parent} does not exist")
        return
    if "://" not in uri:
        raise TrackingError(f"MLFLOW_TRACKING_URI {uri!r} is not a URI (allowed: {TRACKING_URIS})")
    try:
        url = sa.make_url(uri)
    except sa.exc.ArgumentError:
        raise TrackingError(f"invalid MLFLOW_TRACKING_URI {uri!r} (allowed: {TRACKING_URIS})") from None
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg2":
        raise TrackingError(
            "MLFLOW_TRACKING_URI must use postgresql+psycopg2:// (MLflow's plain "
            "postgresql:// needs psycopg 3, which is not installed)"
        )
    if url.get_backend_name() == "sqlite":
        try:
            path = check_database_file(url.database or "", "MLFLOW_TRACKING_URI", runs_root())
        except InputError as exc:
            raise TrackingError(str(exc)) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    if url.get_backend_name() not in ("postgresql", "mysql", "mssql"):
        raise TrackingError(
            f"unsupported MLFLOW_TRACKING_URI scheme {url.drivername!r} (allowed: {TRACKING_URIS})"
        )
    args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = sa.create_engine(url, connect_args=args)
    except (sa.exc.ArgumentError, ImportError) as exc:  # e.g. a driver that is not installed
        shown = url.render_as_string(hide_password=True)
        raise TrackingError(f"MLFLOW_TRACKING_URI {shown}: {exc}") from None
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise TrackingError(
            f"cannot reach the MLflow store {url.render_as_string(hide_password=True)}: " f"{reason}"
        ) from None
    finally:
        engine.dispose()


def check_separate_stores(ledger_url: str) -> None:
    """MLflow's schema has its own ``runs`` table: the ledger and MLflow must not share a database."""
    import sqlalchemy as sa

    def norm(url: str) -> tuple[str | None, ...] | None:
        try:
            u = sa.make_url(url)
        except sa.exc.ArgumentError:
            return None
        return (u.get_backend_name(), u.host, str(u.port or ""), u.database)

    if norm(ledger_url) is not None and norm(ledger_url) == norm(tracking_uri()):
        raise TrackingError(
            "MLFLOW_TRACKING_URI and SWARMOPS_DB_URL name the same database; use two databases "
            "(MLflow and the ledger both define a table `runs`)"
        )


def setup_mlflow(experiment: str) -> str:
    """Point MLflow at the tracking store and select ``experiment``; returns its id."""
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no store-migration chatter on stderr
    uri = tracking_uri()
    check_tracking_uri(uri)
    if uri.startswith(("http://", "https://")):
        # MLflow's own request settings: its defaults (7 retries, 120 s timeout) turn a server that dies
        # mid-run into minutes of silence; the user's values win.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    existing = mlflow.get_experiment_by_name(experiment)
    if existing is not None:
        mlflow.set_experiment(experiment)
        return existing.experiment_id
    artifact_location = None
    if uri.startswith("sqlite:") or "://" not in uri or uri.startswith("postgresql"):
        # Database stores need an artifact root; keep it under runs/ unless told otherwise.
        root = Path(os.environ.get("SWARMOPS_ARTIFACT_ROOT") or runs_root() / "mlartifacts")
        root.mkdir(parents=True, exist_ok=True)
        artifact_location = root.resolve().as_uri()
    try:
        exp_id = mlflow.create_experiment(experiment, artifact_location=artifact_location)
    except Exception:  # noqa: BLE001 - another process created it between the two calls
        exp_id = mlflow.get_experiment_by_name(experiment).experiment_id
    mlflow.set_experiment(experiment)
    return exp_id


def git_sha() -> str:
    """The repository's HEAD commit (with a -dirty suffix when tracked files changed), or 'unknown'."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", "env", "training"],
            cwd=REPO_ROOT,
            capture_output=True,
            timeout=10,
        ).returncode
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def dvc_data_md5(out: str = "data/scenarios") -> str:
    """The DVC hash of ``out`` recorded in dvc.lock (what `dvc status` compares against), or 'none'."""
    import yaml

    try:
        lock = yaml.safe_load((REPO_ROOT / "dvc.lock").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "none"
    for stage in (lock.get("stages") or {}).values():
        for item in stage.get("outs") or []:
            if item.get("path") == out and item.get("md5"):
                return str(item["md5"])
    return "none"


class PushgatewayReporter:
    """Pushes training progress to the Prometheus Pushgateway named in SWARMOPS_PUSHGATEWAY_URL.

    The deployed gateway requires basic auth: SWARMOPS_PUSHGATEWAY_USERNAME and
    SWARMOPS_PUSHGATEWAY_PASSWORD (the environment's push account, docs/monitoring.md). Without a
    username the push is anonymous (a gateway of your own without --web.config.file).
    Metric names are the seam with monitoring/ (docs/architecture.md). A dead gateway never stops
    training: the first failure is logged, later ones are silent.
    """

    def __init__(self, run_id: str, scenario: str, url: str | None = None,
                 username: str | None = None, password: str | None = None) -> None:
        from prometheus_client import CollectorRegistry, Gauge

        self.url = url if url is not None else os.environ.get("SWARMOPS_PUSHGATEWAY_URL", "")
        env = os.environ.get
        self.username = username if username is not None else env("SWARMOPS_PUSHGATEWAY_USERNAME", "")
        self._password = password if password is not None else env("SWARMOPS_PUSHGATEWAY_PASSWORD", "")
        self.grouping = {"run_id": run_id, "scenario": scenario}
        self.registry = CollectorRegistry()
        self.gauges = {
            name: Gauge(f"swarmops_training_{name}", doc, registry=self.registry)
            for name, doc in (
                ("agent_steps_per_second", "Agent-steps per second over the last update"),
                ("episode_reward", "Mean episode return per drone over recent episodes"),
                ("coverage", "Mean final coverage of recent episodes"),
                ("loss", "PPO total loss of the last update"),
                ("timesteps_total", "Agent-steps trained so far"),
                ("last_progress_timestamp_seconds", "Unix time of the last progress report"),
            )
        }
        self.status = Gauge(
            "swarmops_training_status", "1 for the current run status", ["status"], registry=self.registry
        )
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when a gateway URL is configured."""
        return bool(self.url)

    def _handler(self, basic_auth_handler: Any, default_handler: Any) -> Any:
        """prometheus_client's push handler: basic auth when a username is configured."""
        if not self.username:
            return default_handler

        def handler(url: str, method: str, timeout: float | None, headers: list, data: bytes) -> Any:
            return basic_auth_handler(url, method, timeout, headers, data, self.username, self._password)

        return handler

    def push(self, values: dict[str, float], status: str = "running") -> None:
        """Set the gauges present in ``values`` and push them with the run status."""
        if not self.enabled:
            return
        from prometheus_client import push_to_gateway
        from prometheus_client.exposition import basic_auth_handler, default_handler

        for name, value in values.items():
            if name in self.gauges and value is not None:
                self.gauges[name].set(float(value))
        self.gauges["last_progress_timestamp_seconds"].set(time.time())
        for state in ("running", "finished", "failed", "interrupted"):
            self.status.labels(status=state).set(1.0 if state == status else 0.0)
        try:
            push_to_gateway(
                self.url, job=PUSH_JOB, registry=self.registry, grouping_key=self.grouping, timeout=3,
                handler=self._handler(basic_auth_handler, default_handler),
            )
        except Exception as exc:  # noqa: BLE001 - monitoring must never break training
            if not self._warned:
                log.warning("pushgateway %s unreachable (%s); training continues", self.url, exc)
                self._warned = True
