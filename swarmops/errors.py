"""The CLI's error boundary: which exceptions are the user's input (one line, exit 2) and which are bugs.

Areas keep their own error classes (``ProfileError``, ``LedgerError``, ``ConfigError`` ...); they are
named here as ``module:Class`` and looked up only in modules already imported, so a module that never
ran cannot have raised its error and the boundary imports nothing heavy.
"""

from __future__ import annotations

import sys
import traceback
from typing import Iterable

# Exit codes of `swarmops` (documented in docs/cli.md).
EXIT_OK = 0
EXIT_REJECTED = 1  # the command ran and said no (gate rejected the candidate, stale dashboards)
EXIT_USAGE = 2  # bad flag, config, file, URL or unreachable service: one line on stderr
EXIT_BUG = 70  # an unexpected exception (EX_SOFTWARE): traceback + how to report it
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

REPORT_HINT = (
    "this is a bug in swarmops, not in your input: please report it (swarmops --version, the command "
    "and the traceback above) to the SwarmOps maintainers' issue tracker"
)


class SwarmOpsError(Exception):
    """Base of domain errors that any area may raise: the CLI prints the message as one line, exit 2."""

    exit_code = EXIT_USAGE


class NotFoundError(SwarmOpsError, LookupError):
    """A run, model version, alias or file the user named does not exist."""


class InputError(SwarmOpsError, ValueError):
    """A value the user gave is not allowed (the message names it and what is allowed)."""


# Domain errors of the areas, as (module, class) so that the boundary stays import-light.
DOMAIN_ERRORS: tuple[tuple[str, str], ...] = (
    ("env.config", "ConfigError"),
    ("training.config", "ProfileError"),
    ("training.scenarios", "SuiteError"),
    ("training.ledger", "LedgerError"),
    ("training.errors", "TrackingError"),
    ("training.errors", "CheckpointError"),
    ("training.errors", "TrainingInterrupted"),
    ("training.tune", "TuneError"),
    ("training.tune_space", "SearchSpaceError"),
    ("mission.settings", "SettingsError"),
    ("mission.policies", "PolicyError"),
    ("ci.errors", "CIError"),
)


def domain_error_types(names: Iterable[tuple[str, str]] = DOMAIN_ERRORS) -> tuple[type[BaseException], ...]:
    """The domain error classes of every already-imported area, plus SwarmOpsError and OSError.

    OSError counts as the user's environment (a path that is not writable, a full disk): its message
    names the file.
    """
    found: list[type[BaseException]] = [SwarmOpsError, OSError]
    for module_name, class_name in names:
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None) if module is not None else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def one_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (its class name when it has none)."""
    text = str(exc).strip()
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    return line.strip("'\"")


def report_bug(exc: BaseException) -> None:
    """Print the full traceback of an unexpected exception and how to report it (stderr)."""
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    print(f"swarmops: unexpected {type(exc).__name__}: {REPORT_HINT}", file=sys.stderr)
