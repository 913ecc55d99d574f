"""What the pipeline tests run with: the tracking stack as CI sees it, a runner user, a GitLab stand-in.

- ``TrackingStack``: the ledger URL and the MLflow front door (URL, credentials, CA) of a deployed
  environment, as a team hands them to CI (tests/infra/test_infra_pipeline_tracking.py builds it from
  the infra suite's test environment A).
- ``runner_user``: an unprivileged system user that owns a clone of the repo, and an *overlay* venv it
  can execute: the test venv's interpreter lives under /root (mode 0700), so the overlay uses Debian's
  /usr/bin/python3 (same 3.11 ABI) with the test venv's site-packages and the clone first on sys.path.
- ``GitlabRecorder``: a loopback HTTP server answering the few GitLab REST v4 calls the MR note makes
  (shapes from GitLab's API docs) and recording every request.
"""
from __future__ import annotations

import json
import pwd
import secrets
import shutil
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

import requests
import sqlalchemy as sa

from swarmops.pgtemp import free_port

DEBIAN_PYTHON = Path("/usr/bin/python3")
PROJECT_ID = 4242  # the recorder's numeric project id (python-gitlab addresses an MR's notes by it)


@dataclass
class TrackingStack:
    """URLs and credentials of the ledger and the MLflow front door, as a team hands them to CI."""

    ledger_url: str
    mlflow_url: str
    username: str
    password: str = field(repr=False)
    ca_cert: Path
    ledger_ca: Path | None = None  # the ledger cluster's certificate: TLS with it pinned

    def ci_variables(self) -> dict[str, str]:
        """The CI/CD variables docs/ci-setup.md lists for tracking."""
        return {
            "SWARMOPS_DB_URL": self.ledger_url,
            "MLFLOW_TRACKING_URI": self.mlflow_url,
            "MLFLOW_TRACKING_USERNAME": self.username,
            "MLFLOW_TRACKING_PASSWORD": self.password,
            "MLFLOW_TRACKING_SERVER_CERT_PATH": str(self.ca_cert),
            # libpq reads these (the URL stays maskable in GitLab)
            **({"PGSSLMODE": "verify-full", "PGSSLROOTCERT": str(self.ledger_ca)} if self.ledger_ca else {}),
        }

    def api(self, endpoint: str, auth: bool = True, **params: Any) -> requests.Response:
        """GET MLflow's REST API through the front door (the pipeline's credentials unless auth=False)."""
        return requests.get(f"{self.mlflow_url}/api/2.0/mlflow/{endpoint}", params=params, timeout=30,
                            verify=str(self.ca_cert), auth=(self.username, self.password) if auth else None)

    def ledger_rows(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a query on the ledger database, as dicts."""
        engine = sa.create_engine(self.ledger_url)
        try:
            with engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(sa.text(sql))]
        finally:
            engine.dispose()


# ---- the runner: an unprivileged user, its clone and a venv it can execute ----------------------------
@dataclass
class RunnerUser:
    """An unprivileged local user playing the GitLab runner (shell executor) and its work directory."""

    name: str
    base: Path  # 0711, root-owned: home/ and the clone below belong to the user

    @property
    def home(self) -> Path:
        """The user's home (gitlab-ci-local's --home and the jobs' HOME)."""
        return self.base / "home"

    def command(self, *cmd: str) -> list[str]:
        """``cmd`` as this user with a clean environment (nothing of root's environment leaks in)."""
        return ["runuser", "-u", self.name, "--", "env", "-i", f"HOME={self.home}", f"USER={self.name}",
                "LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin", *cmd]


@contextmanager
def runner_user() -> Iterator[RunnerUser]:
    """A fresh system user swarmops-ci-<hex> with no login shell and no sudo; removed afterwards."""
    name = f"swarmops-ci-{secrets.token_hex(3)}"
    base = Path(tempfile.mkdtemp(prefix="swarmops-e2e-runner-"))
    base.chmod(0o711)
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", str(base / "home"),
                    "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True, timeout=60)
    try:
        (base / "home").mkdir(mode=0o700)
        shutil.chown(base / "home", name, name)
        yield RunnerUser(name, base)
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)  # only this user's strays
        subprocess.run(["userdel", name], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(f"/tmp/torchinductor_{name}", ignore_errors=True)  # torch's per-user cache of the jobs


def overlay_venv(dest: Path, test_venv: Path, first_on_path: Path) -> Path:
    """A venv on Debian's python that sees ``test_venv``'s packages, with ``first_on_path`` ahead of them.

    Console scripts are copied with their shebang pointing at the overlay's interpreter, so
    ``$(VENV)/bin/swarmops`` and friends (the Makefile's tools) work for a user who cannot enter /root.
    """
    subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", "--without-pip", str(dest)], check=True,
                   capture_output=True, timeout=120)
    ask = "import sys; print('python%d.%d' % sys.version_info[:2])"
    version = subprocess.run([str(DEBIAN_PYTHON), "-c", ask], check=True, capture_output=True,
                             text=True).stdout.strip()
    base_site = test_venv / "lib" / version / "site-packages"
    if not base_site.is_dir():
        raise FileNotFoundError(f"{base_site}: the test venv has no {version} site-packages")
    site = dest / "lib" / version / "site-packages"
    # .pth files are read in name order: the clone first, then the test venv's packages (addsitedir also
    # runs that venv's own .pth files: the editable install of swarmops, which the clone shadows).
    (site / "00-clone.pth").write_text(f"{first_on_path}\n")
    (site / "zz-test-venv.pth").write_text(f"import site; site.addsitedir({str(base_site)!r})\n")
    python = str(test_venv / "bin" / "python")
    for script in (test_venv / "bin").iterdir():
        target = dest / "bin" / script.name
        if script.is_symlink() or not script.is_file() or target.exists():
            continue
        first, _, rest = script.read_bytes().partition(b"\n")
        if first.decode(errors="replace").removeprefix("#!").strip() in (python, python + "3"):
            target.write_bytes(f"#!{dest}/bin/python\n".encode() + rest)
            target.chmod(0o755)
    return dest


def chown_tree(path: Path, user: str) -> None:
    """Give ``path`` and everything below to ``user``."""
    subprocess.run(["chown", "-R", f"{user}:{pwd.getpwnam(user).pw_gid}", str(path)], check=True, timeout=120)


# ---- GitLab's API, recorded ------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    """One request the recorder received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class GitlabRecorder:
    """Answers python-gitlab's MR-note calls (GET MR, list notes, create/update a note) and records them."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.notes: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest's output clean
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Any = raw.decode(errors="replace")
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or b"null")
                path = urlsplit(self.path).path
                recorder.requests.append(RecordedRequest(self.command, unquote(path), dict(self.headers),
                                                         body))
                status, payload = recorder.route(self.command, path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """GitLab REST v4 shapes for /projects/:id/merge_requests/:iid and its /notes (list, create)."""
        parts = path.removeprefix("/api/v4/").split("/")  # the project id stays url-encoded: one part
        if len(parts) < 4 or parts[0] != "projects" or parts[2] != "merge_requests":
            return 404, {"message": "404 Not Found"}
        iid, rest = int(parts[3]), parts[4:]
        if rest == [] and method == "GET":
            return 200, {"id": 1000 + iid, "iid": iid, "project_id": PROJECT_ID, "state": "opened",
                         "title": "MR"}
        if rest == ["notes"] and method == "GET":
            return 200, self.notes
        if rest == ["notes"] and method == "POST":
            text = body.get("body") if isinstance(body, dict) else body
            note = {"id": len(self.notes) + 1, "body": text, "system": False, "noteable_iid": iid}
            self.notes.append(note)
            return 201, note
        return 404, {"message": "404 Not Found"}

    def __enter__(self) -> "GitlabRecorder":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
