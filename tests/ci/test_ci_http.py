"""ci.http's retry policy against a real HTTP server on loopback (urllib3 does the retrying, not a mock)."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
import requests

from ci.http import MAX_RETRY_AFTER_S, install_retries

pytestmark = pytest.mark.unit


class Script:
    """Answers to hand out in order (status, headers), and the requests that arrived."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.seen: list[tuple[str, str]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            script.seen.append((self.command, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, headers = script.answers.pop(0) if script.answers else (200, {})
            self.send_response(status)
            for key, value in {"Content-Length": "2", **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's naming)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def _session(waits: list[float], attempts: int = 3) -> requests.Session:
    session = requests.Session()
    install_retries(session, attempts=attempts, backoff=1.0, sleep=waits.append)
    return session


def test_get_retried_on_gateway_errors_with_exponential_backoff(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}), (502, {})]
    waits: list[float] = []
    assert _session(waits).get(f"{url}/api/pipelines?private_token=secret").status_code == 200
    assert [method for method, _ in script.seen] == ["GET", "GET", "GET"]
    assert waits == [1.0, 2.0]


def test_gives_up_after_the_attempts_and_returns_the_last_answer(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(500, {})] * 5
    waits: list[float] = []
    assert _session(waits).get(f"{url}/x").status_code == 500
    assert len(script.seen) == 3 and waits == [1.0, 2.0]


def test_retry_after_is_honoured_and_capped(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "7"}), (503, {"Retry-After": "86400"})]
    waits: list[float] = []
    assert _session(waits).get(f"{url}/x").status_code == 200
    assert waits == [7.0, MAX_RETRY_AFTER_S]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_post_is_never_sent_twice(server: tuple[str, Script], status: int) -> None:
    # A POST answered 502 may still have queued a build or written a note: sending it again could
    # duplicate it, so the caller gets the answer and decides.
    url, script = server
    script.answers = [(status, {"Retry-After": "1"})]
    waits: list[float] = []
    assert _session(waits).post(f"{url}/notes", data={"body": "x"}).status_code == status
    assert script.seen == [("POST", "/notes")] and waits == []


def test_put_is_idempotent_and_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(502, {})]
    waits: list[float] = []
    assert _session(waits).put(f"{url}/notes/1", data={"body": "x"}).status_code == 200
    assert script.seen == [("PUT", "/notes/1")] * 2


def test_connection_errors_are_retried_even_for_post(capsys: pytest.CaptureFixture) -> None:
    # Connection refused means the request never left: resending cannot duplicate anything.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits: list[float] = []
    with pytest.raises(requests.ConnectionError):
        _session(waits).post(f"http://127.0.0.1:{port}/notes?private_token=secret", data={"a": 1})
    assert waits == [1.0, 2.0]
    err = capsys.readouterr().err
    assert err.count("retry ") == 2 and "secret" not in err


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="attempts must be >= 1, got 0"):
        install_retries(requests.Session(), attempts=0)
