"""Reading the user's named YAML files (profiles, search spaces): one place for "a shipped name or a
path", and for the one-line errors of a missing, malformed or non-mapping file."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml


def resolve_named(name_or_path: str | Path, folder: Path, kind: str,
                  error: Callable[[str], Exception]) -> Path:
    """``folder/NAME.yaml`` for a shipped name, else the given ``.yaml``/``.yml`` path (which must exist).

    ``kind`` names the file in errors ("profile", "search space"); an unknown name lists the shipped ones.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        shipped = sorted(p.stem for p in folder.glob("*.yaml"))
        path = folder / f"{name_or_path}.yaml"
        if not path.exists():
            raise error(f"unknown {kind} '{name_or_path}' (allowed: {', '.join(shipped)}, or a YAML path)")
    if not path.is_file():
        raise error(f"{kind} file {path} does not exist")
    return path


def read_mapping(path: Path, error: Callable[[str], Exception]) -> dict[str, Any]:
    """The YAML mapping in ``path``; a malformed file names its line, anything but a mapping is refused."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # ReaderError: several lines
        raise error(f"{path}:{where} malformed YAML ({problem})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return data
