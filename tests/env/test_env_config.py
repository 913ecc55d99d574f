"""Validation of field parameters and layout (scenario file) values: one clear line each."""
from __future__ import annotations

import json

import numpy as np
import pytest

from env.config import ConfigError, FieldConfig
from env.layout import Layout, generate_layout, layout_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("changes, field, allowed", [
    ({"width": 0}, "width", "4..512"),
    ({"height": 3}, "height", "4..512"),
    ({"width": 2.5}, "width", "not an integer"),
    ({"n_drones": 0}, "n_drones", "1..256"),
    ({"width": 4, "height": 4, "n_drones": 16, "n_plants": 0}, "n_drones", "1..15"),
    ({"n_plants": -1}, "n_plants", "0.."),
    ({"n_plants": 10_000}, "n_plants", "free cells"),
    ({"n_plants": None}, "n_plants", "exactly one"),
    ({"plant_density": 0.2}, "n_plants", "exactly one"),
    ({"n_plants": None, "plant_density": 1.5}, "plant_density", "[0.0, 1.0]"),
    ({"sensor_radius": 4}, "sensor_radius", "0..3"),
    ({"tank_capacity": 0}, "tank_capacity", "1..1000"),
    ({"battery_capacity": 5}, "battery_capacity", "10..1000000"),
    ({"max_steps": 0}, "max_steps", "1..1000000"),
    ({"obstacle_density": 0.5}, "obstacle_density", "[0.0, 0.4]"),
    ({"obstacle_density": float("nan")}, "obstacle_density", "0.4"),
    ({"coverage_target": 0.0}, "coverage_target", "(0.0, 1.0]"),
    ({"obstacles_block_sensor": "yes"}, "obstacles_block_sensor", "true or false"),
    ({"max_water_need": 8}, "max_water_need", "1..7"),
    ({"seed": -1}, "seed", "0.."),
])
def test_bad_values_name_field_and_allowed_range(changes: dict, field: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as info:
        FieldConfig(**changes)
    msg = str(info.value)
    assert field in msg and allowed in msg and "\n" not in msg
    assert isinstance(info.value, ValueError)
    assert info.value.field == field  # structured: callers need not parse the message


def test_unknown_key_is_refused_and_round_trip() -> None:
    with pytest.raises(ConfigError, match="unknown field config key 'drones'") as info:
        FieldConfig.from_dict({"drones": 3})
    assert info.value.field == "drones"
    cfg = FieldConfig(width=9, n_plants=None, plant_density=0.3, obstacle_density=0.1)
    assert FieldConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.plants == round((9 * 16 - 1) * 0.9 * 0.3)


def test_too_dense_obstacles_for_the_plants_is_refused_at_generation() -> None:
    cfg = FieldConfig(width=5, height=5, n_drones=2, n_plants=14, obstacle_density=0.4)
    with pytest.raises(ConfigError, match="n_plants=14 does not fit") as info:
        for seed in range(20):
            generate_layout(cfg, seed)
    assert info.value.field == "n_plants"


def test_layout_round_trip_through_json() -> None:
    cfg = FieldConfig(width=12, height=10, n_plants=15, obstacle_density=0.2)
    lay = layout_for(cfg, seed=7)
    back = Layout.from_dict(json.loads(json.dumps(lay.to_dict())), cfg)
    assert back.to_dict() == lay.to_dict()
    assert back.free_cells == lay.free_cells and back.n_plants == 15
    assert generate_layout(cfg, np.random.default_rng(1)).width == 12


def _base_dict() -> dict:
    return {"width": 5, "height": 4, "base": [0, 0], "plants": [[1, 1]], "needs": [2], "obstacles": []}


@pytest.mark.parametrize("patch, message", [
    ({"width": 2}, "layout width=2 is out of range"),
    ({"base": [9, 0]}, "layout base cell [9, 0] is invalid"),
    ({"plants": [[1, 1], [1, 1]], "needs": [1, 1]}, "distinct free cells"),
    ({"plants": [[0, 0]]}, "distinct free cells"),
    ({"needs": [0]}, "layout need 0 is out of range"),
    ({"needs": ["2"]}, "layout need '2' is out of range"),
    ({"needs": [1, 2]}, "one need per plant"),
    ({"obstacles": [[0, 0]]}, "base=[0, 0] is on an obstacle"),
    ({"obstacles": [[0, 2], [1, 2], [2, 2], [3, 2]], "plants": [[1, 4]]}, "not reachable from the base"),
    ({"colour": "red"}, "unknown layout key 'colour'"),
])
def test_bad_layout_files_are_refused(patch: dict, message: str) -> None:
    data = _base_dict()
    data.update(patch)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Layout.from_dict(data)


def test_layout_must_match_config() -> None:
    cfg = FieldConfig(width=6, height=4, n_plants=1)
    with pytest.raises(ConfigError, match="does not match the config"):
        Layout.from_dict(_base_dict(), cfg)
