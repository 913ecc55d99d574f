"""What a person asks for (CLI flags or the web form), validated once, with env's own rules.

Field rules live in ``env.config.FieldConfig``: this module maps the form's names onto it so that
the page and the CLI show exactly the simulator's one-line error, plus the few rules that belong to
the mission itself (mode, policy, seed).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

#: What a run can be: one scenario alone, or reconnaissance feeding watering.
MODES = ("mission", "recon", "watering")
HEURISTIC = "heuristic"
CHAMPION = "champion"
#: form name -> FieldConfig field name
FORM_TO_FIELD = {"width": "width", "height": "height", "drones": "n_drones", "plants": "n_plants",
                 "obstacles": "obstacle_density", "seed": "seed", "max_steps": "max_steps",
                 "battery": "battery_capacity"}
_MODEL_URI = re.compile(r"^models:/swarmops-(recon|watering)-ppo(/\d+|@[A-Za-z0-9_-]+)$")


class SettingsError(ValueError):
    """Invalid run settings; ``field`` is the form field to point at, the message is one line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RunSettings:
    """One run: the field, the swarm, what to run and with which policy."""

    width: int = 12
    """Field width in cells."""
    height: int = 12
    """Field height in cells."""
    drones: int = 3
    """Drones in the swarm."""
    plants: int = 10
    """Plants hidden in the field."""
    obstacles: float = 0.0
    """Obstacle density (fraction of cells), 0 for an open field."""
    seed: int = 0
    """Seed of the field layout; the heuristic comparison uses the same field."""
    max_steps: int = 300
    """Step limit of each phase (env's FieldConfig default; larger fields need more)."""
    battery: int = 200
    """Battery capacity in steps (env's FieldConfig default). A drone reaches cells about
    (battery - 3) / 2 steps from the base and back: 200 covers ~7 % of a 512 x 512 field."""
    mode: str = "mission"
    """`mission` (recon then watering), `recon` or `watering`."""
    policy: str = CHAMPION
    """Policy of the (first) phase: `champion` (registry @champion, heuristic fallback), `heuristic`,
    or a registered model `models:/swarmops-<scenario>-ppo/<version>` of that phase's scenario."""
    watering_policy: str = ""
    """Mission only: the watering phase's policy, same choices; empty = like `policy` when that is
    `champion` or `heuristic`, else `champion`."""

    def policy_for(self, scenario: str) -> str:
        """The policy setting that drives ``scenario``."""
        if self.mode == "mission" and scenario == "watering":
            if self.watering_policy:
                return self.watering_policy
            return self.policy if self.policy in (CHAMPION, HEURISTIC) else CHAMPION
        return self.policy

    def field_config(self) -> Any:
        """The simulator's ``FieldConfig`` for this field; raises ``SettingsError`` naming the form field."""
        from env.config import ConfigError, FieldConfig

        kwargs = {FORM_TO_FIELD[name]: getattr(self, name) for name in FORM_TO_FIELD}
        try:
            return FieldConfig(**kwargs)
        except ConfigError as exc:
            raise SettingsError(_form_field_of(exc), str(exc).splitlines()[0]) from None

    def layout(self) -> Any:
        """The field of this seed (``env.layout.Layout``); a refused field raises SettingsError."""
        from env.config import ConfigError
        from env.layout import generate_layout

        config = self.field_config()
        try:
            return generate_layout(config, self.seed)
        except ConfigError as exc:
            raise SettingsError(_form_field_of(exc), str(exc).splitlines()[0]) from None

    def scenarios(self) -> tuple[str, ...]:
        """The scenarios this run goes through, in order."""
        return ("recon", "watering") if self.mode == "mission" else (self.mode,)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return dataclasses.asdict(self)


def _form_field_of(exc: Exception) -> str:
    """The form field an env ConfigError is about (its ``field`` attribute), else the whole form."""
    named = getattr(exc, "field", None)
    return next((form for form, cfg in FORM_TO_FIELD.items() if named == cfg), "form")


def _env_message(name: str, raw: Any, fallback: str) -> SettingsError:
    """The simulator's own message for a value that is not even a number (same words as the CLI)."""
    from env.config import ConfigError, FieldConfig

    try:
        FieldConfig(**{FORM_TO_FIELD[name]: raw})
    except ConfigError as exc:
        return SettingsError(name, str(exc).splitlines()[0])
    except TypeError:
        pass
    return SettingsError(name, fallback)


def _as_int(name: str, value: Any) -> int:
    try:
        number = float(value)
        if isinstance(value, bool) or not number.is_integer():
            raise ValueError(value)
    except (TypeError, ValueError, OverflowError):
        raise _env_message(name, value, f"{name}={value!r} is not an integer") from None
    return int(number)


def _as_float(name: str, value: Any) -> float:
    try:
        number = float(value)
        if isinstance(value, bool) or number != number or abs(number) == float("inf"):
            raise ValueError(value)
    except (TypeError, ValueError):
        raise _env_message(name, value, f"{name}={value!r} is not a finite number") from None
    return number


def parse_settings(data: Mapping[str, Any]) -> RunSettings:
    """Validate raw values (form strings or CLI numbers) into ``RunSettings``.

    Raises ``SettingsError`` with one line naming the field, the value and what is allowed.
    """
    known = {f.name for f in dataclasses.fields(RunSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError("form", f"unknown setting {unknown[0]!r}; allowed: {', '.join(sorted(known))}")
    defaults = RunSettings()
    values: dict[str, Any] = {}
    for name in ("width", "height", "drones", "plants", "seed", "max_steps", "battery"):
        raw = data.get(name, getattr(defaults, name))
        values[name] = _as_int(name, getattr(defaults, name) if raw is None else raw)
    raw = data.get("obstacles", defaults.obstacles)
    values["obstacles"] = _as_float("obstacles", defaults.obstacles if raw is None else raw)
    mode = str(data.get("mode", defaults.mode) or defaults.mode)
    if mode not in MODES:
        raise SettingsError("mode", f"mode={mode!r} is not allowed; allowed: {', '.join(MODES)}")
    policy = str(data.get("policy", defaults.policy) or defaults.policy).strip()
    _check_policy("policy", policy, "recon" if mode == "mission" else mode)
    watering_policy = str(data.get("watering_policy") or "").strip()
    if watering_policy and mode != "mission":
        raise SettingsError("watering_policy", f"watering_policy={watering_policy!r} is only for mode "
                                               f"mission; with mode={mode!r} use policy")
    if watering_policy:
        _check_policy("watering_policy", watering_policy, "watering")
    settings = RunSettings(mode=mode, policy=policy, watering_policy=watering_policy, **values)
    settings.layout()  # the simulator's own rules (config and reachability), raised as SettingsError
    return settings


def _check_policy(name: str, policy: str, scenario: str) -> None:
    """``policy`` must be champion, heuristic, or a registered model of ``scenario``."""
    if policy in (HEURISTIC, CHAMPION):
        return
    match = _MODEL_URI.match(policy)
    if not match:
        raise SettingsError(name, f"{name}={policy!r} is not allowed; allowed: {HEURISTIC}, {CHAMPION} "
                                  f"or models:/swarmops-{scenario}-ppo/<version>")
    if match.group(1) != scenario:
        raise SettingsError(name, f"{name}={policy!r} is a {match.group(1)} model but it would drive the "
                                  f"{scenario} phase; allowed: models:/swarmops-{scenario}-ppo/<version>")
