"""Search spaces of `swarmops tune`: YAML files beside the profiles (training/profiles/search/).

A search space names the profile keys to tune (``ppo.*``) with their ranges, the per-trial budget
and the pruner. It is validated once at load: an unknown parameter, an empty range or a sampled
corner that makes an invalid profile raises :class:`SearchSpaceError` with one line, before any
study, database file or MLflow run exists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from training.config import PROFILE_DIR, PPOParams, ProfileError, load_profile
from training.yamlfile import read_mapping, resolve_named

SEARCH_DIR = PROFILE_DIR / "search"
#: Profile keys a search space may tune (dotted, as in `swarmops train --set`).
TUNABLE = tuple(f"ppo.{name}" for name in PPOParams.model_fields)


class SearchSpaceError(ValueError):
    """A search space file is missing, malformed or names an unknown parameter or an empty range."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FloatParam(_Strict):
    """A float sampled in [low, high] (log-uniformly when ``log``)."""

    type: Literal["float"]
    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _range(self) -> "FloatParam":
        _check_range(self.low, self.high, self.log)
        return self


class IntParam(_Strict):
    """An integer sampled in [low, high] with ``step``."""

    type: Literal["int"]
    low: int
    high: int
    step: int = Field(1, ge=1)
    log: bool = False

    @model_validator(mode="after")
    def _range(self) -> "IntParam":
        _check_range(self.low, self.high, self.log)
        return self


class CategoricalParam(_Strict):
    """One of ``choices`` (numbers, strings or lists such as a net_arch)."""

    type: Literal["categorical"]
    choices: list[Any] = Field(min_length=1)


Param = Annotated[Union[FloatParam, IntParam, CategoricalParam], Field(discriminator="type")]


def _check_range(low: float, high: float, log: bool) -> None:
    if not low < high:
        raise ValueError(f"empty range low={low} high={high} (need low < high)")
    if log and low <= 0:
        raise ValueError(f"log scale needs low > 0 (got low={low})")


class TrialBudget(_Strict):
    """What one trial trains and how it is scored."""

    total_timesteps: int = Field(ge=1, description="agent-steps per trial")
    eval_every: int = Field(ge=1, description="agent-steps between intermediate evaluations")
    suite_entries: int | None = Field(None, ge=1, description="first N suite files (None: all)")


class SearchSpace(_Strict):
    """A validated search space."""

    name: str
    description: str = ""
    trial: TrialBudget
    pruner: Literal["median", "hyperband"] = "median"
    startup_trials: int = Field(3, ge=0, le=1000)
    params: dict[str, Param] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_params(self) -> "SearchSpace":
        for key in self.params:
            if key not in TUNABLE:
                raise ValueError(f"unknown parameter '{key}' (allowed: {', '.join(TUNABLE)})")
        return self

    def corners(self) -> list[dict[str, Any]]:
        """The lowest and the highest value of every parameter (checked against the base profile)."""
        def pick(p: Any, end: int) -> Any:
            return p.choices[end] if isinstance(p, CategoricalParam) else (p.low, p.high)[end]

        return [{k: pick(p, end) for k, p in self.params.items()} for end in (0, -1)]


def available_spaces() -> list[str]:
    """Names of the search spaces shipped in training/profiles/search/."""
    return sorted(p.stem for p in SEARCH_DIR.glob("*.yaml"))


def _format(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if p not in ("float", "int", "categorical"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown key {loc!r}"
    if err["type"] == "missing":
        return f"{source}: missing required key '{loc}'"
    if err["type"] == "union_tag_invalid" or err["type"] == "union_tag_not_found":
        return f"{source}: {loc}: 'type' must be one of float, int, categorical"
    value = err.get("input")
    shown = "" if isinstance(value, (dict, list)) or err["type"] == "value_error" else f" (got {value!r})"
    return f"{source}: {loc + ': ' if loc else ''}{msg}{shown}"


def load_space(name_or_path: str | Path) -> SearchSpace:
    """Load a search space by name (training/profiles/search/NAME.yaml) or path, and validate it."""
    path = resolve_named(name_or_path, SEARCH_DIR, "search space", SearchSpaceError)
    data = read_mapping(path, SearchSpaceError)
    source = f"search space {path.name}"
    data.setdefault("name", path.stem)
    try:
        return SearchSpace.model_validate(data)
    except ValidationError as exc:
        raise SearchSpaceError(_format(exc, source)) from None


def trial_profile(
    base: str | Path, scenario: str, values: dict[str, Any], total_timesteps: int | None = None
) -> Any:
    """The base profile (with its scenario section) with ``values`` set; optionally another budget."""
    overrides = [f"{key}={json.dumps(value)}" for key, value in values.items()]  # JSON is YAML
    if total_timesteps is not None:
        overrides.append(f"total_timesteps={total_timesteps}")
    return load_profile(base, overrides, scenario=scenario)


def check_space(space: SearchSpace, base: str | Path, scenario: str) -> None:
    """Both corners of the space must give valid profiles (e.g. batch_size divides the rollout)."""
    for values in space.corners():
        try:
            trial_profile(base, scenario, values, space.trial.total_timesteps)
        except ProfileError as exc:
            raise SearchSpaceError(f"search space {space.name}: with {values}: {exc}") from None
