"""Retries for the CI tooling's HTTP calls: urllib3's Retry, mounted on both clients' requests sessions.

Done at the transport level so that every request of python-jenkins and python-gitlab is covered.
The policy, in urllib3's own terms:

- connection errors (the request never reached the server) are retried for every method;
- 429 and 5xx answers, and read errors, are retried only for idempotent methods: a POST that got a
  502 may still have queued a build or written a merge-request note, so it is never sent twice;
- a ``Retry-After`` header (429/503) is honoured, capped at ``MAX_RETRY_AFTER_S`` so a confused proxy
  cannot park a pipeline for hours; otherwise exponential backoff.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
MAX_RETRY_AFTER_S = 120.0


class LoggedRetry(Retry):
    """urllib3 Retry that says each retry on stderr and sleeps through an injectable function.

    ``sleeper`` is a plain attribute (not a Retry constructor argument), so ``new()`` carries it over.
    """

    sleeper: Callable[[float], None] = staticmethod(time.sleep)

    def new(self, **kwargs: Any) -> "LoggedRetry":
        """A copy with updated counters that keeps the sleeper (urllib3 copies only its own params)."""
        fresh = super().new(**kwargs)
        fresh.sleeper = self.sleeper
        return fresh

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        """Count one retry (urllib3 raises MaxRetryError when none is left) and say why on stderr."""
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        why = f"HTTP {response.status}" if response is not None and response.status else (
            type(error).__name__ if error is not None else "error")
        path = (url or "").split("?", 1)[0]  # the query string could hold a token
        done = len(fresh.history)
        print(f"{why} on {method} {path}: retry {done}/{done + (fresh.total or 0)}", file=sys.stderr)
        return fresh

    def sleep_for_retry(self, response: Any = None) -> bool:
        """Honour Retry-After (capped at MAX_RETRY_AFTER_S); False when the answer has none."""
        retry_after = self.get_retry_after(response) if response is not None else None
        if retry_after is None:
            return False
        self.sleeper(min(retry_after, MAX_RETRY_AFTER_S))
        return True

    def get_backoff_time(self) -> float:
        """``backoff_factor * 2**(n-1)`` after the n-th consecutive failure (urllib3 skips n=1)."""
        failures = len(self.history)
        return 0.0 if failures == 0 else min(self.backoff_factor * 2 ** (failures - 1), self.backoff_max)

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.sleeper(backoff)


def retry_policy(attempts: int = 4, backoff: float = 1.0,
                 sleep: Callable[[float], None] | None = None) -> LoggedRetry:
    """The retry policy of the CI clients: at most ``attempts`` sends of one request.

    Backoff between attempts k and k+1 is ``backoff * 2**(k-1)`` seconds (backoff, 2*backoff, ...).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    retries = attempts - 1
    policy = LoggedRetry(total=retries, connect=retries, read=retries, status=retries, other=0,
                         redirect=0, allowed_methods=IDEMPOTENT, status_forcelist=RETRY_STATUSES,
                         backoff_factor=backoff, backoff_max=MAX_RETRY_AFTER_S,
                         respect_retry_after_header=True, raise_on_status=False,
                         raise_on_redirect=False)
    policy.sleeper = sleep or time.sleep
    return policy


def install_retries(session: requests.Session, attempts: int = 4, backoff: float = 1.0,
                    sleep: Callable[[float], None] | None = None) -> HTTPAdapter:
    """Mount an HTTPAdapter with ``retry_policy`` for http:// and https:// on ``session``."""
    adapter = HTTPAdapter(max_retries=retry_policy(attempts, backoff, sleep))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return adapter
