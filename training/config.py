"""Training profiles: YAML files under training/profiles/, validated once at load.

A profile holds everything a training run needs (PPO hyperparameters, field sizes seen in
training, budget, device). Unknown keys or bad values raise :class:`ProfileError` with one line
naming the key, the value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from env.config import FieldConfig, max_gain_radius
from training.yamlfile import read_mapping, resolve_named

PROFILE_DIR = Path(__file__).parent / "profiles"


class ProfileError(ValueError):
    """A profile (or a --set override) is missing, malformed or has an invalid value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PPOParams(_Strict):
    """stable-baselines3 PPO hyperparameters (see PPO's docstring for their meaning)."""

    learning_rate: float = Field(3e-4, gt=0, le=1)
    n_steps: int = Field(64, ge=2, description="rollout length per agent row before each update")
    batch_size: int = Field(1024, ge=2)
    n_epochs: int = Field(4, ge=1, le=100)
    gamma: float = Field(0.99, gt=0, le=1)
    gae_lambda: float = Field(0.95, ge=0, le=1)
    clip_range: float = Field(0.2, gt=0, le=1)
    ent_coef: float = Field(0.01, ge=0, le=1)
    vf_coef: float = Field(0.5, ge=0, le=10)
    max_grad_norm: float = Field(0.5, gt=0)
    net_arch: list[int] = Field(default_factory=lambda: [64, 64], min_length=1)
    activation: Literal["tanh", "relu"] = Field(
        "tanh", description="hidden-layer activation of the policy and value nets")
    mask_blocked_moves: bool = Field(
        False, description="never sample a move into an obstacle or off the field, nor (watering) a release "
                           "that cannot deliver (training.policy)")
    acting_temperature: float = Field(
        1.0, gt=0, le=10, description="the trained policy's logits are divided by this when it acts outside "
                                      "training (evaluation, gate, missions); needs mask_blocked_moves")
    compass_prior: float = Field(
        0.0, ge=0, le=10, description="added to the logits of the moves the observation's compass shows "
                                      "(training.policy): the untrained policy already follows its "
                                      "compass; needs mask_blocked_moves")
    gain_prior: float = Field(
        0.0, ge=0, le=10, description="added, per cell it would newly sense, to the logit of each move "
                                      "the compass shows (training.policy.move_gains); needs "
                                      "mask_blocked_moves and a sensor radius <= 2")
    release_prior: float = Field(
        0.0, ge=0, le=10, description="watering: added to the release's logit where the observation says "
                                      "water is the drone's to give here (own feature 11; layout v8: "
                                      "planned by its sortie); needs mask_blocked_moves")
    gain_weight: Literal["cells", "hemmed"] = Field(
        "cells", description="how the gain prior counts a cell: 1 each, or hemmed (1 + its eight "
                             "neighbours with nothing left to sense, as the sector sweep counts; "
                             "needs a sensor radius <= 1)")

    @model_validator(mode="after")
    def _consistent(self) -> "PPOParams":
        """Layer widths in range; an acting temperature and a compass prior only where the masked policy
        applies them."""
        if any(width < 1 or width > 4096 for width in self.net_arch):
            raise ValueError(f"net_arch={self.net_arch}: every layer width must be in 1..4096")
        for name, value, neutral in (("acting_temperature", self.acting_temperature, 1.0),
                                     ("compass_prior", self.compass_prior, 0.0),
                                     ("gain_prior", self.gain_prior, 0.0),
                                     ("release_prior", self.release_prior, 0.0)):
            if value != neutral and not self.mask_blocked_moves:
                raise ValueError(f"{name}={value} needs mask_blocked_moves: true "
                                 "(it is applied by training.policy.MaskedMovesPolicy)")
        return self


class Stage(_Strict):
    """One curriculum stage: a field size and swarm size trained for a share of the budget."""

    width: int = Field(ge=4, le=256)
    height: int = Field(ge=4, le=256)
    n_drones: int = Field(ge=1, le=64)
    share: float = Field(1.0, gt=0, le=1, description="fraction of total_timesteps spent here")
    obstacle_density: float | None = Field(
        None, ge=0.0, le=0.4, description="obstacle density of this stage (None: the profile's field value)"
    )


class Profile(_Strict):
    """A validated training profile."""

    name: str
    description: str = ""
    seed: int = Field(0, ge=0)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    total_timesteps: int = Field(ge=1, description="agent-steps (one drone, one step) to train for")
    num_agents: int = Field(
        ge=1, le=65536, description="VecEnv rows = fields x drones; constant over the curriculum"
    )
    checkpoint_every: int = Field(ge=1, description="agent-steps between periodic checkpoints")
    torch_threads: int = Field(0, ge=0, le=256, description="0 = leave torch's default")
    field: dict[str, Any] = Field(
        default_factory=dict, description="extra env.config.FieldConfig values for every stage"
    )
    curriculum: list[Stage] = Field(min_length=1)
    ppo: PPOParams = PPOParams()
    episode_gif: bool = Field(True, description="render one episode of the final policy as a GIF artifact")
    team_reward: float = Field(
        0.0, ge=0.0, le=1.0,
        description="share of each drone's training reward that is its field's mean drone reward "
                    "(0: its own only; 1: the swarm's; training.team_reward)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Profile":
        for i, stage in enumerate(self.curriculum):
            if self.num_agents % stage.n_drones:
                raise ValueError(
                    f"curriculum[{i}].n_drones={stage.n_drones}: must divide "
                    f"num_agents={self.num_agents} (the VecEnv size is fixed)"
                )
        radius = self.field.get("sensor_radius", FieldConfig.sensor_radius)
        limit = max_gain_radius(self.ppo.gain_weight == "hemmed")
        if self.ppo.gain_prior and not (isinstance(radius, int) and 0 <= radius <= limit):
            raise ValueError(f"ppo.gain_prior={self.ppo.gain_prior} with gain_weight={self.ppo.gain_weight} "
                             f"needs field.sensor_radius in 0..{limit} (the gain is read from the "
                             f"observation window), not {radius}")
        total = sum(stage.share for stage in self.curriculum)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"curriculum shares sum to {total:g}: they must sum to 1")
        if (self.num_agents * self.ppo.n_steps) % self.ppo.batch_size:
            raise ValueError(
                f"ppo.batch_size={self.ppo.batch_size}: must divide num_agents x ppo.n_steps "
                f"= {self.num_agents * self.ppo.n_steps}"
            )
        return self

    @property
    def rollout_size(self) -> int:
        """Agent-steps collected between two PPO updates."""
        return self.num_agents * self.ppo.n_steps

    def training_sizes(self) -> set[tuple[int, int, int]]:
        """(width, height, n_drones) combinations this profile trains on."""
        return {(s.width, s.height, s.n_drones) for s in self.curriculum}

    def stage_field(self, index: int) -> dict[str, Any]:
        """env.config.FieldConfig values of curriculum stage ``index`` (profile.field + the stage's)."""
        stage = self.curriculum[index]
        values = {**self.field, "width": stage.width, "height": stage.height, "n_drones": stage.n_drones}
        if stage.obstacle_density is not None:
            values["obstacle_density"] = stage.obstacle_density
        return values

    def training_densities(self) -> set[float]:
        """Obstacle densities this profile trains on."""
        return {float(self.stage_field(i).get("obstacle_density", 0.0)) for i in range(len(self.curriculum))}


def available_profiles() -> list[str]:
    """Names of the profiles shipped in training/profiles/."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def _allowed_keys(loc: tuple[Any, ...]) -> str:
    """The keys allowed beside the unknown key at ``loc`` (walks the profile's models)."""
    model: Any = Profile
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return "see training/profiles/default.yaml"
        model = annotation
    keys = [k for k in model.model_fields if k != "name"]
    return ", ".join(keys + ([SCENARIO_SECTION] if model is Profile else []))


def _blame(loc: str, overrides: list[str]) -> str | None:
    """The ``--set`` override that wrote the key at ``loc`` (or a section above/below it), if any."""
    for item in reversed(overrides):  # the last override of a key wins, so it is the one to name
        key = item.split("=", 1)[0].strip()
        if loc == key or loc.startswith(key + ".") or key.startswith(loc + "."):
            return item
    return None


def _format_error(exc: ValidationError, source: str, overrides: list[str] | None = None) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(profile)"
    item = _blame(loc, overrides or [])
    if item is not None:  # the user's --set wrote this value, not the profile file
        source = f"--set {item}"
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown key {loc!r} (allowed here: {_allowed_keys(tuple(err['loc']))})"
    if err["type"] == "missing":
        return f"{source}: missing required key {loc!r}"
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
    return f"{source}: {loc}: {msg}{shown}" if loc != "(profile)" else f"{source}: {msg}"


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse one ``--set key.sub=value`` override; the value is read as YAML (numbers, lists...)."""
    if "=" not in item:
        raise ProfileError(f"--set {item!r}: expected key=value, e.g. --set ppo.learning_rate=1e-3")
    key, raw = item.split("=", 1)
    if not key.strip():
        raise ProfileError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def _apply(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ProfileError(f"--set {'.'.join(path)}: '{part}' is not a section")
    node[path[-1]] = value


SCENARIO_SECTION = "scenarios"


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` on top; mapping sections (ppo, field) merge key by key."""
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both else value
    return out


def _scenario_sections(data: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """Pop and check the optional per-scenario override section (``scenarios: {watering: {...}}``)."""
    from env.scenarios import SCENARIOS

    sections = data.pop(SCENARIO_SECTION, None) or {}
    if not isinstance(sections, dict):
        raise ProfileError(f"{source}: '{SCENARIO_SECTION}' must map scenario names to profile keys")
    allowed = sorted(set(Profile.model_fields) - {"name"})
    for name, section in sections.items():
        if name not in SCENARIOS:
            raise ProfileError(
                f"{source}: unknown scenario '{SCENARIO_SECTION}.{name}' (allowed: {', '.join(SCENARIOS)})"
            )
        if not isinstance(section, dict):
            raise ProfileError(f"{source}: '{SCENARIO_SECTION}.{name}' must be a mapping of profile keys")
        for key in section:
            if key not in allowed:
                where = f"{SCENARIO_SECTION}.{name}.{key}"
                raise ProfileError(f"{source}: unknown key {where!r} (allowed: {', '.join(allowed)})")
    return sections


def load_profile(
    name_or_path: str | Path, overrides: list[str] | None = None, scenario: str | None = None
) -> Profile:
    """Load and validate a profile by name (training/profiles/NAME.yaml) or path, applying overrides.

    The profile's optional ``scenarios.<name>`` section is applied on top when ``scenario`` is
    given (every section is validated either way, so a bad one fails for every scenario);
    ``--set`` overrides apply last, except those of a section (``--set scenarios.watering.ppo.x=1``),
    which change that section.
    """
    path = resolve_named(name_or_path, PROFILE_DIR, "profile", ProfileError)
    data = read_mapping(path, ProfileError)
    if path.name != "profile.yaml":  # a run's saved copy already carries its name
        data.setdefault("name", path.stem)
    parsed = [parse_override(item) for item in overrides or []]
    for keys, value in parsed:
        if keys[0] == SCENARIO_SECTION:
            _apply(data, keys, value)
    sections = _scenario_sections(data, path.name)
    _validate(data, path.name)  # the shared keys first, so that their mistakes are blamed on them
    for name, section in sections.items():  # each merged variant must be a valid profile too
        _validate(_merge(data, section), f"{path.name} ({SCENARIO_SECTION}.{name})")
    if scenario is not None:
        data = _merge(data, sections.get(scenario, {}))
    for keys, value in parsed:
        if keys[0] != SCENARIO_SECTION:
            _apply(data, keys, value)
    return _validate(data, path.name, overrides or [])


def _validate(data: dict[str, Any], source: str, overrides: list[str] | None = None) -> Profile:
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(_format_error(exc, source, overrides)) from None
    _check_field_configs(profile, source)
    return profile


def _check_field_configs(profile: Profile, source: str) -> None:
    """Every curriculum stage must make a valid env.config.FieldConfig (field values included)."""
    from env.config import ConfigError, FieldConfig

    for i, stage in enumerate(profile.curriculum):
        try:
            FieldConfig(**profile.stage_field(i))
        except ConfigError as exc:
            raise ProfileError(f"{source}: curriculum[{i}] with field: {exc}") from None
        except TypeError as exc:  # an unknown FieldConfig keyword
            raise ProfileError(f"{source}: field: {exc} (allowed: env.config.FieldConfig fields)") from None


def dump_profile(profile: Profile) -> str:
    """YAML text of a validated profile (saved with each run so it can be reproduced)."""
    return yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=False)
