"""Run settings: the form/CLI values go through env's FieldConfig rules and keep its one-line errors."""
from __future__ import annotations

import pytest

from env.config import ConfigError, FieldConfig
from mission.settings import RunSettings, SettingsError, parse_settings

pytestmark = pytest.mark.unit


def env_message(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        FieldConfig(**kwargs)
    return str(info.value)


def test_strings_from_the_form_are_parsed() -> None:
    s = parse_settings({"width": "10", "height": "8", "drones": "2", "plants": "5", "obstacles": "0.1",
                        "seed": "7", "mode": "recon", "policy": "heuristic"})
    assert s == RunSettings(width=10, height=8, drones=2, plants=5, obstacles=0.1, seed=7, mode="recon",
                            policy="heuristic")
    assert s.scenarios() == ("recon",)
    assert parse_settings({}).scenarios() == ("recon", "watering")


@pytest.mark.parametrize("form, field, env_kwargs", [
    ({"drones": "0"}, "drones", {"n_drones": 0}),
    ({"width": "3"}, "width", {"width": 3}),
    ({"height": "600"}, "height", {"height": 600}),
    ({"obstacles": "0.9"}, "obstacles", {"obstacle_density": 0.9}),
    ({"seed": "-1"}, "seed", {"seed": -1}),
    ({"width": "abc"}, "width", {"width": "abc"}),
    ({"drones": "2.5"}, "drones", {"n_drones": "2.5"}),
    ({"plants": ""}, "plants", {"n_plants": ""}),
    ({"max_steps": "0"}, "max_steps", {"max_steps": 0}),
    ({"battery": "5"}, "battery", {"battery_capacity": 5}),
])
def test_field_errors_are_env_errors_on_the_right_field(form: dict, field: str, env_kwargs: dict) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(form)
    assert info.value.field == field
    assert str(info.value) == env_message(**env_kwargs)
    assert "\n" not in str(info.value) and "allowed" in str(info.value)


def test_battery_reaches_the_simulator() -> None:
    assert parse_settings({}).field_config().battery_capacity == FieldConfig().battery_capacity
    assert parse_settings({"battery": "1100"}).field_config().battery_capacity == 1100


def test_too_many_plants_names_plants_and_the_limit() -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings({"width": "6", "height": "6", "plants": "40"})
    assert info.value.field == "plants"
    assert str(info.value).startswith("n_plants=40 is out of range; allowed: 0..35")


def test_layout_refused_by_the_generator_is_a_form_error() -> None:
    # Density passes FieldConfig's estimate, but after obstacles and pocket filling the plants cannot fit.
    with pytest.raises(SettingsError) as info:
        parse_settings({"width": "6", "height": "6", "plants": "21", "obstacles": "0.4", "drones": "2",
                        "seed": "12"})
    assert info.value.field == "plants"
    assert "does not fit" in str(info.value) and "allowed" in str(info.value)


@pytest.mark.parametrize("form, field, words", [
    ({"mode": "fly"}, "mode", "allowed: mission, recon, watering"),
    ({"policy": "ppo"}, "policy", "allowed: heuristic, champion"),
    ({"policy": "models:/swarmops-watering-ppo/3"}, "policy", "would drive the recon phase"),
    ({"policy": "models:/swarmops-recon-ppo/3", "mode": "watering"}, "policy", "is a recon model"),
    ({"watering_policy": "heuristic", "mode": "recon"}, "watering_policy", "only for mode mission"),
    ({"watering_policy": "models:/swarmops-recon-ppo/1"}, "watering_policy", "would drive the watering"),
    ({"watering_policy": "best"}, "watering_policy", "allowed: heuristic, champion"),
    ({"colour": "red"}, "form", "unknown setting 'colour'"),
])
def test_mission_rules(form: dict, field: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(form)
    assert info.value.field == field
    assert words in str(info.value)


def test_model_uri_accepted_for_its_scenario() -> None:
    s = parse_settings({"mode": "watering", "policy": "models:/swarmops-watering-ppo@challenger"})
    assert s.policy == "models:/swarmops-watering-ppo@challenger"


@pytest.mark.parametrize("form, recon, watering", [
    ({}, "champion", "champion"),
    ({"policy": "heuristic"}, "heuristic", "heuristic"),
    ({"policy": "models:/swarmops-recon-ppo/2"}, "models:/swarmops-recon-ppo/2", "champion"),
    ({"policy": "heuristic", "watering_policy": "models:/swarmops-watering-ppo/5"}, "heuristic",
     "models:/swarmops-watering-ppo/5"),
])
def test_each_mission_phase_gets_its_policy(form: dict, recon: str, watering: str) -> None:
    s = parse_settings(form)
    assert (s.policy_for("recon"), s.policy_for("watering")) == (recon, watering)
