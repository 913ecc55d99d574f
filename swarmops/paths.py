"""Checks of output paths before any work starts: a mistyped path is refused, never created silently.

Rule: a command may create the folders of its own default output (``runs/``, ``reports/``...), but a
path the user typed must sit in a folder that already exists and can be written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal, Optional

from swarmops.errors import InputError


def _probe_writable(folder: Path, what: str) -> None:
    """Create and remove a temporary file in ``folder``; an OSError becomes one InputError line."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".swarmops-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"{what}: cannot write in {folder} ({exc.strerror or exc})") from None


def check_output(
    path: Path | str,
    what: str,
    *,
    kind: Literal["file", "dir"] = "file",
    default: Optional[Path | str] = None,
) -> Path:
    """Refuse an output ``path`` (named ``what`` in the message, e.g. ``--out``) that cannot be written.

    ``kind`` says whether the command writes a file or fills a folder there. A missing parent folder
    is an error unless ``path`` is the command's ``default`` (which the command creates itself).
    Returns the path unchanged.
    """
    path = Path(path)
    is_default = default is not None and os.path.abspath(path) == os.path.abspath(default)
    if path.exists():
        if kind == "file" and path.is_dir():
            raise InputError(f"{what} {path} is a folder; allowed: a file path")
        if kind == "dir" and not path.is_dir():
            raise InputError(f"{what} {path} is an existing file; allowed: a folder (new or existing)")
        _probe_writable(path if kind == "dir" else path.parent, what)
        return path
    parent = path.absolute().parent
    if not parent.is_dir():
        if is_default:
            return path
        if parent.exists():
            raise InputError(f"{what} {path}: {parent} is not a folder")
        raise InputError(f"{what} {path}: folder {parent} does not exist (create it first)")
    _probe_writable(parent, what)
    return path


def check_database_file(database: str, what: str, may_create_under: Path) -> Path:
    """The file of an SQLite URL: its folder must exist, unless it lies under ``may_create_under``
    (the runs root, whose folders SwarmOps owns and creates). Returns the path; creates nothing."""
    if not database or database == ":memory:":
        raise InputError(f"{what} names no database file (expected sqlite:///PATH/TO/FILE.db)")
    path = Path(database).absolute()
    root = Path(may_create_under).absolute()
    if path.parent.is_dir() or path.parent == root or root in path.parents:
        return path
    raise InputError(f"{what}: folder {path.parent} does not exist (create it first)")
