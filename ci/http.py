"""Retries with exponential backoff on HTTP 5xx, mounted on the requests sessions of both clients.

Done at the transport level so that every request of python-jenkins and python-gitlab is covered.
502/503/504 mean the request did not reach (or was not handled by) the application, so every method is
retried; a 500 may have had effects, so only idempotent methods are retried on it.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter

GATEWAY_ERRORS = frozenset({502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class RetryingAdapter(HTTPAdapter):
    """An HTTPAdapter that resends a request on 5xx, sleeping backoff * 2**k between attempts."""

    def __init__(self, attempts: int = 4, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}")
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep

    def _retryable(self, method: str | None, status: int) -> bool:
        return status in GATEWAY_ERRORS or (status >= 500 and (method or "GET").upper() in IDEMPOTENT)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send ``request``; on a retryable 5xx wait and send it again, up to ``attempts`` times."""
        for attempt in range(1, self.attempts + 1):
            response = super().send(request, **kwargs)
            if attempt == self.attempts or not self._retryable(request.method, response.status_code):
                return response
            delay = self.backoff * 2 ** (attempt - 1)
            # The path only: the query string could hold a token.
            path = (request.path_url or "").split("?", 1)[0]
            print(f"HTTP {response.status_code} on {request.method} {path}: retry {attempt}/"
                  f"{self.attempts - 1} in {delay:.1f} s", file=sys.stderr)
            response.close()
            self.sleep(delay)
        raise AssertionError("unreachable")


def install_retries(session: requests.Session, attempts: int = 4, backoff: float = 1.0,
                    sleep: Callable[[float], None] = time.sleep) -> RetryingAdapter:
    """Mount a RetryingAdapter for http:// and https:// on ``session`` (longest prefix wins)."""
    adapter = RetryingAdapter(attempts, backoff, sleep)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return adapter
