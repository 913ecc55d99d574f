"""Validated field parameters for the simulator.

Every user-set parameter lives in :class:`FieldConfig`; invalid values raise :class:`ConfigError`
with one line naming the field, the value and the allowed range.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

# Egocentric observation window radius (7 x 7 cells). Fixed so that the observation size never
# depends on the field size or the swarm size; the sensor radius may not exceed it.
OBS_RADIUS = 3
# the largest sensor radius whose square around a neighbour cell still fits the window: a policy can
# read there what one move would newly sense (training.policy.move_gains)
MAX_GAIN_RADIUS = OBS_RADIUS - 1
# ... and, for the hemmed gain, whose cells' eight neighbours must fit the window too
MAX_HEMMED_RADIUS = OBS_RADIUS - 2

MAX_SIDE = 512
MAX_DRONES = 256
MAX_WATER_NEED = 7  # need levels are packed into 3 bits of the observation map


def max_gain_radius(hemmed: bool) -> int:
    """The largest sensor radius whose move gain (hemmed or plain cells) a policy reads from its window."""
    return MAX_HEMMED_RADIUS if hemmed else MAX_GAIN_RADIUS


class ConfigError(ValueError):
    """A field parameter (or a layout/scenario file value) is out of its allowed range.

    ``field`` names the FieldConfig key (or layout key) at fault, when there is one, so callers
    (mission's form, the CLIs) need not parse the message.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FieldConfig:
    """Parameters of one field and its swarm (all fields of a batch share them)."""

    width: int = 16
    """Field width in cells (4..512)."""
    height: int = 16
    """Field height in cells (4..512)."""
    n_drones: int = 4
    """Drones in the swarm (1..256, at most the number of free cells)."""
    n_plants: int | None = 20
    """Number of plants; None means use ``plant_density``."""
    plant_density: float | None = None
    """Fraction of free cells holding a plant (0..1); only when ``n_plants`` is None."""
    sensor_radius: int = 1
    """Sensor sees the (2r+1) x (2r+1) square around the drone (0..3)."""
    tank_capacity: int = 4
    """Water units a drone carries (1..1000)."""
    max_water_need: int = 3
    """Each plant needs 1..max_water_need units (1..7)."""
    battery_capacity: int = 200
    """Battery units; one unit per step spent away from the base (10..1_000_000)."""
    recharge_rate: int = 50
    """Battery units recharged per step at the base (1..1_000_000)."""
    max_steps: int = 300
    """Step limit of an episode (1..1_000_000)."""
    obstacle_density: float = 0.0
    """Fraction of cells sampled as obstacles (0..0.4); enclosed pockets are filled too."""
    obstacles_block_sensor: bool = False
    """If true, obstacles block the sensor's line of sight."""
    coverage_target: float = 0.95
    """Reconnaissance ends when this fraction of free cells is covered (0 < x <= 1)."""
    seed: int = 0
    """Default seed when none is passed explicitly (>= 0)."""

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check every field; raise ConfigError naming the first bad one."""
        _int_range("width", self.width, 4, MAX_SIDE)
        _int_range("height", self.height, 4, MAX_SIDE)
        _int_range("n_drones", self.n_drones, 1, MAX_DRONES)
        _int_range("sensor_radius", self.sensor_radius, 0, OBS_RADIUS)
        _int_range("tank_capacity", self.tank_capacity, 1, 1000)
        _int_range("max_water_need", self.max_water_need, 1, MAX_WATER_NEED)
        _int_range("battery_capacity", self.battery_capacity, 10, 1_000_000)
        _int_range("recharge_rate", self.recharge_rate, 1, 1_000_000)
        _int_range("max_steps", self.max_steps, 1, 1_000_000)
        _int_range("seed", self.seed, 0, 2**63 - 1)
        _float_range("obstacle_density", self.obstacle_density, 0.0, 0.4)
        if not isinstance(self.obstacles_block_sensor, bool):
            raise ConfigError(
                f"obstacles_block_sensor={self.obstacles_block_sensor!r} is invalid; "
                "allowed: true or false",
                field="obstacles_block_sensor",
            )
        _float_range("coverage_target", self.coverage_target, 0.0, 1.0, low_open=True)
        cells = self.width * self.height
        if self.n_drones > cells - 1:
            raise ConfigError(
                f"n_drones={self.n_drones} is out of range; allowed: 1..{cells - 1} "
                f"(fewer than the {cells} cells of a {self.width}x{self.height} field)",
                field="n_drones",
            )
        if self.n_plants is None and self.plant_density is None:
            raise ConfigError(
                "n_plants=None and plant_density=None; allowed: set exactly one of them", field="n_plants"
            )
        if self.n_plants is not None and self.plant_density is not None:
            raise ConfigError(
                f"n_plants={self.n_plants} and plant_density={self.plant_density} are both set; "
                "allowed: set exactly one of them",
                field="n_plants",
            )
        # Plants never sit on the base; obstacles take their share of the remaining cells.
        max_plants = int((cells - 1) * (1.0 - self.obstacle_density))
        if self.plant_density is not None:
            _float_range("plant_density", self.plant_density, 0.0, 1.0)
        else:
            _int_range(
                "n_plants",
                self.n_plants,
                0,
                max_plants,
                hint=f" (free cells of a {self.width}x{self.height} field with "
                f"obstacle_density={self.obstacle_density}, base excluded)",
            )

    # ------------------------------------------------------------------ derived values
    @property
    def plants(self) -> int:
        """Number of plants per field (resolved from n_plants or plant_density)."""
        if self.n_plants is not None:
            return int(self.n_plants)
        free = (self.width * self.height - 1) * (1.0 - self.obstacle_density)
        return int(round(free * float(self.plant_density)))

    def replace(self, **changes: Any) -> "FieldConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def resolve(cls, config: "FieldConfig | None", overrides: Mapping[str, Any]) -> "FieldConfig":
        """``config`` with keyword ``overrides`` applied, or a config built from the overrides alone
        (the constructors of the Gymnasium and PettingZoo views take either)."""
        if config is None:
            return cls.from_dict(overrides)
        return config.replace(**overrides) if overrides else config

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (for scenario files and run logs)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FieldConfig":
        """Build from a mapping; unknown keys are refused, naming the key."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(
                    f"unknown field config key {key!r}; allowed: {', '.join(sorted(known))}", field=key
                )
        return cls(**dict(data))


def _int_range(name: str, value: Any, low: int, high: int, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}={value!r} is not an integer; allowed: {low}..{high}{hint}", field=name)
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range; allowed: {low}..{high}{hint}", field=name)


def _float_range(name: str, value: Any, low: float, high: float, low_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}={value!r} is not a number; allowed: {low}..{high}", field=name)
    bad = value <= low if low_open else value < low
    if bad or value > high or value != value:
        lo = f"({low}" if low_open else f"[{low}"
        raise ConfigError(f"{name}={value} is out of range; allowed: {lo}, {high}]", field=name)
