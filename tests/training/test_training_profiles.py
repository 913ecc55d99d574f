"""Profiles: every shipped profile loads; bad input gets one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import PROFILE_DIR, ProfileError, available_profiles, load_profile

pytestmark = pytest.mark.unit


def test_shipped_profiles_load_and_build_field_configs() -> None:
    from training.train import field_config, stage_budgets

    assert set(available_profiles()) >= {"smoke", "default", "gpu"}
    for name in available_profiles():
        profile = load_profile(name)
        for i in range(len(profile.curriculum)):
            field_config(profile, i)  # env.config validates the stage sizes
        budgets = stage_budgets(profile)
        assert all(b % profile.rollout_size == 0 for b in budgets)
        assert abs(sum(budgets) - profile.total_timesteps) <= profile.rollout_size * len(budgets)


def test_overrides_apply_as_yaml_values() -> None:
    profile = load_profile("smoke", ["ppo.learning_rate=1e-3", "ppo.net_arch=[32, 32]", "seed=7"])
    assert profile.ppo.learning_rate == 1e-3 and profile.ppo.net_arch == [32, 32] and profile.seed == 7


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["ppo.lerning_rate=1"], "unknown key 'ppo.lerning_rate'"),
        (["ppo.learning_rate=-1"], "ppo.learning_rate"),
        (["device=tpu"], "device"),
        (["num_agents=63"], "must divide num_agents=63"),
        (["ppo.batch_size=1000"], "ppo.batch_size=1000: must divide"),
        (["novalue"], "expected key=value"),
        (["field.sensor_radius=9"], "curriculum[0] with field: sensor_radius=9 is out of range"),
        (["field.wind=3"], "field: "),
        (["ppo.acting_temperature=0"], "ppo.acting_temperature"),
        (["ppo.mask_blocked_moves=false", "ppo.acting_temperature=0.7"],
         "acting_temperature=0.7 needs mask_blocked_moves: true"),
        (["ppo.compass_prior=-1"], "ppo.compass_prior"),
        (["ppo.mask_blocked_moves=false", "ppo.compass_prior=2.0"],
         "compass_prior=2.0 needs mask_blocked_moves: true"),
        (["team_reward=1.5"], "team_reward"),
        (["ppo.gain_prior=1", "field.sensor_radius=3"],
         "ppo.gain_prior=1.0 with gain_weight=cells needs field.sensor_radius in 0..2"),
        (["ppo.gain_prior=1", "ppo.gain_weight=hemmed", "field.sensor_radius=2"],
         "ppo.gain_prior=1.0 with gain_weight=hemmed needs field.sensor_radius in 0..1"),
        (["ppo.gain_weight=area"], "ppo.gain_weight: Input should be 'cells' or 'hemmed'"),
        (["ppo.mask_blocked_moves=false", "ppo.gain_prior=1"],
         "gain_prior=1.0 needs mask_blocked_moves: true"),
        (["ppo.mask_blocked_moves=false", "ppo.release_prior=1"],
         "release_prior=1.0 needs mask_blocked_moves: true"),
        (["ppo.release_prior=-1"], "ppo.release_prior"),
    ],
)
def test_bad_values_are_one_clear_line(overrides: list[str], expected: str) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile("smoke", overrides)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_unknown_profile_lists_the_allowed_ones() -> None:
    allowed = r"\(allowed: default, gpu, smoke, or a YAML path\)"
    with pytest.raises(ProfileError, match=r"unknown profile .tiny. " + allowed):
        load_profile("tiny")


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 0\nppo: {learning_rate: [\n")
    with pytest.raises(ProfileError, match=r"bad.yaml: line \d+ malformed YAML"):
        load_profile(bad)


def test_cli_reports_bad_profile_without_traceback(runs_home: Path) -> None:
    from typer.testing import CliRunner

    from swarmops.cli import app

    result = CliRunner().invoke(app, ["train", "--profile", "smoke", "--set", "ppo.n_epochs=0"])
    assert result.exit_code == 2
    assert "error: --set ppo.n_epochs=0: ppo.n_epochs" in result.output and "Traceback" not in result.output
    assert not runs_home.exists()  # nothing written


def test_scenario_section_merges_over_the_shared_keys() -> None:
    smoke = load_profile("smoke")
    watering = load_profile("smoke", scenario="watering")
    recon = load_profile("smoke", scenario="recon")
    assert recon.ppo.compass_prior == 8.0 and smoke.ppo.compass_prior == 0.0 == watering.ppo.compass_prior
    assert recon.model_copy(update={"ppo": smoke.ppo}) == smoke  # the recon section sets only that key
    assert watering.total_timesteps > smoke.total_timesteps and watering.ppo.gamma == 0.99
    assert watering.ppo.learning_rate == smoke.ppo.learning_rate  # unmentioned ppo keys are kept
    assert watering.curriculum == smoke.curriculum
    # --set applies after the scenario section
    assert load_profile("smoke", ["ppo.gamma=0.9"], scenario="watering").ppo.gamma == 0.9
    # --set into a section changes that scenario only (it used to be refused as an unknown key
    # 'scenarios' while the message listed 'scenarios' as allowed)
    section = ["scenarios.watering.ppo.compass_prior=8"]
    assert load_profile("smoke", section, scenario="watering").ppo.compass_prior == 8.0
    assert load_profile("default", ["scenarios.recon.ppo.learning_rate=1e-3"], scenario="recon").ppo \
        .learning_rate == 1e-3
    assert load_profile("default", ["scenarios.recon.ppo.learning_rate=1e-3"], scenario="watering").ppo \
        .learning_rate == load_profile("default", scenario="watering").ppo.learning_rate
    with pytest.raises(ProfileError, match="unknown scenario 'scenarios.farming'"):
        load_profile("smoke", ["scenarios.farming.seed=1"], scenario="recon")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("scenarios: {farming: {seed: 1}}",
         "unknown scenario 'scenarios.farming' (allowed: recon, watering)"),
        ("scenarios: {watering: {speed: 1}}", "unknown key 'scenarios.watering.speed' (allowed: "),
        ("scenarios: {watering: {name: x}}", "unknown key 'scenarios.watering.name'"),
        ("scenarios: {watering: 3}", "'scenarios.watering' must be a mapping of profile keys"),
        ("scenarios: [watering]", "'scenarios' must map scenario names to profile keys"),
        ("scenarios: {watering: {ppo: {gamma: 2}}}", "p.yaml (scenarios.watering): ppo.gamma: "),
        ("scenarios: {watering: {ppo: {batch_size: 3}}}", "ppo.batch_size=3: must divide"),
    ],
)
def test_bad_scenario_section_is_one_clear_line(tmp_path: Path, section: str, expected: str) -> None:
    """A bad section fails whichever scenario is loaded (also for recon and for none)."""
    base = (PROFILE_DIR / "smoke.yaml").read_text().split("\nscenarios:")[0]
    path = tmp_path / "p.yaml"
    path.write_text(base + "\n" + section + "\n")
    for scenario in (None, "recon", "watering"):
        with pytest.raises(ProfileError) as err:
            load_profile(path, scenario=scenario)
        assert expected in str(err.value) and "\n" not in str(err.value)
