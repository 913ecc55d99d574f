"""Settings read from environment variables, with one-line errors that name the variable and the value."""
from __future__ import annotations

import os
from typing import Callable


def seconds_from_env(name: str, default: float, error: Callable[[str], Exception]) -> float:
    """``$name`` as seconds (>= 0, finite), ``default`` when unset or empty; ``error`` names a bad value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise error(f"{name}={raw!r} is not a number of seconds (allowed: 0 or more, default {default:.0f})")
    return value


def mlflow_tls_verify() -> bool | str:
    """What ``requests`` should verify the MLflow server's TLS against: the variables MLflow's own
    client reads (MLFLOW_TRACKING_SERVER_CERT_PATH, then MLFLOW_TRACKING_INSECURE_TLS)."""
    cert = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH")
    if cert:
        return cert
    return os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() not in ("true", "1")
