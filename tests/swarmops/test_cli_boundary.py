"""The CLI's error boundary and conventions: domain errors are one line (exit 2), a bug keeps its traceback
and says how to report it (exit 70), --version, shell completion, tables that survive a pipe."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from swarmops.errors import EXIT_BUG, REPORT_HINT, domain_error_types, one_line

from .conftest import REPO, one_error_line, swarmops

pytestmark = pytest.mark.unit

# A forced bug: the ledger's list_runs raises an exception no area declares as a domain error.
_FORCE_BUG = (
    "import sys, training.ledger as l\n"
    "def boom(*a, **k):\n"
    "    raise ZeroDivisionError('forced by the test')\n"
    "l.Ledger.list_runs = boom\n"
    "from swarmops.cli import main\n"
    "sys.argv = ['swarmops', 'runs']\n"
    "main()\n"
)


def test_an_unexpected_exception_keeps_its_traceback_and_says_how_to_report(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from .conftest import ISOLATED_VARS

    env = {k: v for k, v in os.environ.items() if k not in ISOLATED_VARS}
    env["SWARMOPS_RUNS_DIR"] = str(tmp_path / "runs")
    result = subprocess.run([sys.executable, "-c", _FORCE_BUG], capture_output=True, text=True, timeout=120,
                            env=env, cwd=REPO)
    assert result.returncode == EXIT_BUG, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: forced by the test" in result.stderr
    assert REPORT_HINT in result.stderr.splitlines()[-1]
    assert "AttributeError" not in result.stderr  # the boundary itself must not break (typer._click drift)


def test_the_boundary_also_guards_commands_under_typers_runner(runs_home: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import training.ledger
    from swarmops.cli import app

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyError("forced")

    monkeypatch.setattr(training.ledger.Ledger, "list_runs", boom)
    result = CliRunner().invoke(app, ["runs"])
    assert result.exit_code == EXIT_BUG
    assert "KeyError" in result.output


def test_domain_errors_are_the_declared_ones_only() -> None:
    import training.config  # noqa: F401 - imported so that its ProfileError is known
    from training.config import ProfileError

    types = domain_error_types()
    assert ProfileError in types and OSError in types
    assert not issubclass(ZeroDivisionError, types) and not issubclass(KeyError, types)
    missing = FileNotFoundError(2, "No such file or directory", "/x/y")
    assert one_line(missing) == "/x/y: No such file or directory"


def test_version(tmp_path: Path) -> None:
    from swarmops import __version__

    result = swarmops("--version", home=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"swarmops {__version__}"


def test_shell_completion_script(tmp_path: Path) -> None:
    # Without a shell among its ancestors (a runner's process tree, a detached job) typer's shell
    # detection fails and the explicit "bash" is ignored; typer's own switch makes it take the value.
    result = swarmops("--show-completion", "bash", home=tmp_path,
                      _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert result.returncode == 0, result.stderr
    assert "_SWARMOPS_COMPLETE" in result.stdout and "complete" in result.stdout


def _seed_runs(home: Path) -> None:
    from training.ledger import Ledger, utcnow

    ledger = Ledger(f"sqlite:///{home / 'swarmops.db'}")
    long_profile = "a-profile-name-long-enough-to-squeeze-a-table-of-nine-columns"
    for i in range(2):
        ledger.create_run(id=f"recon-20261130-00000{i}-abcdef", scenario="recon", profile=long_profile,
                          seed=0, device="cpu", total_timesteps=262_144, timesteps_done=262_144,
                          status="finished", agent_steps_per_second=15_291.4, started_at=utcnow())
    ledger.close()


def test_runs_table_keeps_its_columns_in_a_pipe(tmp_path: Path) -> None:
    home = tmp_path / "runs"
    home.mkdir()
    _seed_runs(home)
    result = swarmops("runs", home=home)  # stdout is a pipe here
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "recon-20261130-000000-abcdef" in line)
    assert "a-profile-name-long-enough-to-squeeze-a-table-of-nine-columns" in row  # not folded
    assert "262,144" in row and "15,291" in row


def test_runs_csv_and_json(tmp_path: Path) -> None:
    home = tmp_path / "runs"
    home.mkdir()
    _seed_runs(home)
    rows = list(csv.DictReader(io.StringIO(swarmops("runs", "--format", "csv", home=home).stdout)))
    assert len(rows) == 2 and rows[0]["steps"] == "262144" and rows[0]["version"] == ""
    data = json.loads(swarmops("runs", "--format", "json", home=home).stdout)
    assert data[0]["agent-steps/s"] == 15291 and data[0]["version"] is None
    assert one_error_line(swarmops("runs", "--format", "xml", home=home)).startswith("swarmops runs: error:")


@pytest.mark.parametrize("args, fragment", [
    (["runs", "--status", "bogus"], "--status 'bogus' is unknown (allowed: running, finished, failed, "
                                    "interrupted)"),
    (["runs", "--limit", "99999999999999999999"], "--limit"),
    (["runs", "--scenario", "bogus"], "--scenario 'bogus' is unknown (allowed: recon, watering)"),
    (["evaluate", "latest", "--scenario", "bogus"], "--scenario 'bogus' is unknown"),
    (["gate", "--scenario", "bogus"], "--scenario 'bogus' is unknown"),
    (["train", "--export", "/proc/swarmops-x"], "--export: cannot write in /proc"),
    (["train", "--export", "/nonexistent-swarmops/x"], "folder /nonexistent-swarmops does not exist"),
    (["report", "dashboard", "--out", "README.md"], "--out README.md is an existing file"),
    (["demo", "--out", "/nonexistent-swarmops/dir/d.gif"], "folder /nonexistent-swarmops/dir does not exist"),
    (["mission", "--out", "/nonexistent-swarmops/m", "--policy", "heuristic"], "does not exist"),
    (["train", "--set", "ppo.foo=1"],
     "--set ppo.foo=1: unknown key 'ppo.foo' (allowed here: learning_rate"),
])
def test_bad_inputs_are_one_line_and_write_nothing(tmp_path: Path, args: list[str], fragment: str) -> None:
    home = tmp_path / "runs"
    line = one_error_line(swarmops(*args, home=home))
    assert fragment in line
    assert not Path("/nonexistent-swarmops").exists()
    if args[0] in ("train", "demo", "mission"):
        folders = list(home.iterdir()) if home.exists() else []
        assert not [p for p in folders if p.is_dir() and p.name.startswith("recon-")]


def test_resume_with_another_profile_is_refused(tmp_path: Path) -> None:
    from training.ledger import Ledger, utcnow

    home = tmp_path / "runs"
    home.mkdir()
    ledger = Ledger(f"sqlite:///{home / 'swarmops.db'}")
    ledger.create_run(id="recon-smoke-20261130-000000-abcd", scenario="recon", profile="smoke", seed=0,
                      device="cpu", total_timesteps=262_144, status="interrupted", started_at=utcnow())
    ledger.close()
    result = swarmops("train", "--resume", "recon-smoke-2026", "--profile", "default", home=home)
    line = one_error_line(result)
    assert "saved profile 'smoke', not --profile default (drop --profile" in line
