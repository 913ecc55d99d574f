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
