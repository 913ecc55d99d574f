"""One-line errors for the CI tooling; URLs are shown without any credentials they might carry."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class CIError(Exception):
    """A failure the CLI prints as one line (no traceback). Messages never contain a token."""


def safe_url(url: str) -> str:
    """``url`` without user:password@ (so an URL with embedded credentials can be printed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
