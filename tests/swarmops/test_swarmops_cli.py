"""The top-level CLI: every sub-command has --help; usage errors are one line with exit code 2."""
from __future__ import annotations

import subprocess
import sys

import pytest

from swarmops.cli import app

pytestmark = pytest.mark.unit


def _swarmops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "swarmops", *args], capture_output=True, text=True,
                          timeout=120)


def _command_names() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)


def test_every_subcommand_has_help() -> None:
    names = _command_names()
    assert {"demo", "train", "evaluate", "gate", "pipeline", "mission", "serve"} <= set(names)
    for name in names:
        result = _swarmops(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "Usage" in result.stdout, name


@pytest.mark.parametrize("args, fragment", [
    (["nosuch"], "No such command 'nosuch'"),
    (["demo", "--width", "abc"], "--width"),
    (["demo", "--no-such-flag"], "--no-such-flag"),
])
def test_usage_errors_are_one_line(args: list[str], fragment: str) -> None:
    result = _swarmops(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
