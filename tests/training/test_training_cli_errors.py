"""training/cli's error wrapper: domain errors are one line and exit 2, a bug keeps its traceback."""

from __future__ import annotations

import pytest
import typer

from env.config import ConfigError
from training.cli import _clean_errors
from training.errors import NotFoundError, UsageError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("error", [NotFoundError("run x not found"), UsageError("give --scenario"),
                                   ConfigError("width=2 is out of range", field="width")])
def test_domain_errors_are_one_line_and_exit_2(error: Exception, capsys: pytest.CaptureFixture) -> None:
    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as info:
        _clean_errors(command)()
    assert info.value.exit_code == 2
    assert capsys.readouterr().err == f"error: {error}\n"


@pytest.mark.parametrize("bug", [KeyError("status"), IndexError("list index out of range"),
                                 ValueError("not a domain error")])
def test_a_bug_keeps_its_traceback(bug: Exception) -> None:
    def command() -> None:
        raise bug

    with pytest.raises(type(bug)):
        _clean_errors(command)()
