"""The time-based evaluation metric, the headline ratios and the registry's layout check (fast)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from training.evaluate import (
    PENALTY_FACTOR,
    RATIO_CAP,
    field_groups,
    field_values,
    median_interval,
    obstacle_group,
    render_report,
    summarise,
    time_ratios,
)

pytestmark = pytest.mark.unit


def test_recon_score_is_lower_bound_over_steps_with_a_fixed_penalty() -> None:
    fast = field_values("recon", {"steps_to_95": 40, "lower_bound_steps": 20, "coverage": 0.96}, 300, None)
    assert fast["steps_to_target"] == 40 and fast["time_ratio_lb"] == 2.0 and fast["score"] == 0.5
    never = field_values("recon", {"steps_to_95": None, "lower_bound_steps": 20, "coverage": 0.5}, 300, None)
    assert never["steps_to_target"] == PENALTY_FACTOR * 300
    assert never["score"] == pytest.approx(20 / 600)


def test_recon_idle_share_is_the_drone_steps_to_target_that_sensed_nothing() -> None:
    m = {"steps_to_95": 40, "lower_bound_steps": 20, "drone_steps_to_95": 160, "idle_steps_to_95": 40}
    assert field_values("recon", m, 300, None)["idle_share"] == 0.25
    assert "idle_share" not in field_values("recon", {**m, "drone_steps_to_95": 0}, 300, None)


def test_watering_score_is_net_water_per_step_relative_to_greedy() -> None:
    m = {"water_delivered": 30, "water_wasted": 6, "water_drawn": 40, "steps": 100}
    values = field_values("watering", m, 300, greedy_rate=0.4)
    assert values["net_delivered"] == 24 and values["net_rate"] == pytest.approx(0.24)
    assert values["score"] == pytest.approx(0.6) and values["waste_fraction"] == pytest.approx(0.15)


def _rows(entries: dict[str, dict[str, list[float]]]) -> list[dict]:
    """Rows of (scenario_id -> policy -> per-seed steps to the target), lower bound 10 everywhere."""
    rows = []
    for sid, per_policy in entries.items():
        split = "held_out" if "held_out" in sid else "train"
        for policy, steps in per_policy.items():
            for seed, s in enumerate(steps):
                for metric, value in (("score", 10 / s), ("time_ratio_lb", s / 10), ("coverage", 0.95)):
                    rows.append({"scenario_id": sid, "split": split, "policy": policy, "seed": seed,
                                 "metric": metric, "value": value})
    return rows


def test_time_ratio_is_against_the_best_heuristic_of_each_entry() -> None:
    rows = _rows({
        # lawnmower is best here: ratios 30/20, 40/20
        "recon-train-8x8-d2-o0": {"ppo": [30, 40], "lawnmower": [20, 20], "partition": [25, 25]},
        # partition is best here: ratios 20/10 and capped 600/10
        "recon-held_out-20x20-d6-o20": {"ppo": [20, 600], "lawnmower": [30, 30], "partition": [10, 10]},
    })
    ratios = time_ratios(rows)
    by_entry = ratios.groupby("scenario_id")["best_heuristic"].first().to_dict()
    assert by_entry == {"recon-train-8x8-d2-o0": "lawnmower", "recon-held_out-20x20-d6-o20": "partition"}
    assert sorted(ratios["time_ratio"]) == [1.5, 2.0, 2.0, RATIO_CAP]
    m = summarise(rows)
    assert m["time_ratio_to_heuristic"] == pytest.approx(2.0)  # median of the four fields
    assert m["time_ratio_to_heuristic_train"] == pytest.approx(1.75)
    assert m["time_ratio_to_heuristic_held_out"] == pytest.approx((2.0 + RATIO_CAP) / 2)
    assert m["groups"]["held_out/o20"]["fields"] == 2 and "train/o0" in m["groups"]
    assert m["time_ratio_to_lower_bound"] == pytest.approx(np.median([3, 4, 2, 60]))


def test_the_obstacles_group_pools_every_density_above_zero() -> None:
    rows = _rows({
        "recon-held_out-10x14-d3-o0": {"ppo": [40], "lawnmower": [10]},
        "recon-held_out-32x32-d12-o10": {"ppo": [12, 14], "lawnmower": [10, 10]},
        "recon-held_out-64x64-d16-o20": {"ppo": [20], "lawnmower": [10]},
    })
    groups = summarise(rows)["groups"]
    assert groups["held_out/obstacles"]["fields"] == 3  # the o0 field is left out
    assert groups["held_out/obstacles"]["time_ratio_to_lower_bound"] == pytest.approx(1.4)  # 1.2, 1.4, 2.0
    assert groups["held_out/obstacles"]["time_ratio_to_heuristic"] == pytest.approx(1.4)
    assert "train/obstacles" not in groups


def test_field_groups_name_the_whole_each_split_each_density_and_the_fields_with_obstacles() -> None:
    rows = _rows({
        "recon-train-8x8-d2-o0": {"ppo": [30], "lawnmower": [20]},
        "recon-held_out-10x14-d3-o0": {"ppo": [40, 30], "lawnmower": [10, 10]},
        "recon-held_out-32x32-d12-o10": {"ppo": [12], "lawnmower": [10]},
        "recon-held_out-64x64-d16-o20": {"ppo": [20, 25, 30], "lawnmower": [10, 10, 10]},
    })
    groups = field_groups(time_ratios(rows))
    assert {name: len(part) for name, part in groups.items()} == {
        "all": 7, "train": 1, "train/o0": 1,  # no train field has obstacles: no empty train/obstacles
        "held_out": 6, "held_out/o0": 2, "held_out/o10": 1, "held_out/o20": 3, "held_out/obstacles": 4}
    assert sorted(groups["held_out/obstacles"]["time_ratio"]) == [1.2, 2.0, 2.5, 3.0]
    assert field_groups(time_ratios(rows).iloc[0:0]) == {}
    # metrics.json groups the same fields (the splits' own medians are top-level keys)
    assert set(summarise(rows)["groups"]) == {name for name in groups if "/" in name}


def test_each_group_carries_a_bootstrap_interval_that_the_report_prints() -> None:
    rows = _rows({
        "recon-held_out-32x32-d12-o10": {"ppo": [12, 14, 13, 30], "lawnmower": [10] * 4},
        "recon-held_out-64x64-d16-o20": {"ppo": [20, 15, 16, 17], "lawnmower": [10] * 4},
    })
    metrics = summarise(rows)
    g = metrics["groups"]["held_out/obstacles"]
    assert g["time_ratio_to_lower_bound"] == pytest.approx(1.55)  # median of the 8 fields, as before
    assert 1.2 <= g["time_ratio_to_lower_bound_low"] < 1.55 < g["time_ratio_to_lower_bound_high"] <= 3.0
    assert summarise(rows)["groups"] == metrics["groups"]  # fixed seed: a rerun prints the same
    report = render_report("t", "recon", metrics, time_ratios(rows))
    cells = [f"1.550 [{g[k + '_low']:.3f}, {g[k + '_high']:.3f}]"
             for k in ("time_ratio_to_heuristic", "time_ratio_to_lower_bound")]
    assert f"| held_out/obstacles | {cells[0]} | {cells[1]} | 8 |" in report


def test_median_interval_resamples_within_each_entry() -> None:
    import pandas as pd

    # One entry's fields all 1.0, the other's all 3.0: every resample keeps four of each, so the
    # median (2.0) cannot move; pooled resampling would swing it between 1 and 3.
    table = pd.DataFrame({"scenario_id": ["a"] * 4 + ["b"] * 4, "r": [1.0] * 4 + [3.0] * 4})
    assert median_interval(table, "r") == {"median": 2.0, "low": 2.0, "high": 2.0}
    table["r"] = np.nan  # watering has no lower bound: no interval, not a crash
    assert median_interval(table, "r") is None


def test_obstacle_group_of_ids() -> None:
    assert obstacle_group("recon-held_out-64x64-d16-o20") == "o20"
    assert obstacle_group("recon-train-8x8-d2") == "o0"  # suite v1 ids


def _model(version, dim=None, actions=5):
    from env.core import OBS_DIM

    return SimpleNamespace(
        obs_layout_version=version,
        observation_space=SimpleNamespace(shape=(dim or OBS_DIM,)),
        action_space=SimpleNamespace(n=actions),
    )


def test_registry_refuses_another_layout_version_in_one_line() -> None:
    from env.core import OBS_LAYOUT_VERSION
    from training.registry import IncompatibleModel, check_compatible

    check_compatible(_model(OBS_LAYOUT_VERSION), "recon", "m.zip")
    for bad in (_model(None), _model(OBS_LAYOUT_VERSION - 1), _model(OBS_LAYOUT_VERSION, dim=7)):
        with pytest.raises(IncompatibleModel) as info:
            check_compatible(bad, "recon", "m.zip")
        assert "\n" not in str(info.value) and f"layout v{OBS_LAYOUT_VERSION}" in str(info.value)
    # The right layout with the other scenario's actions: named as that scenario's model, not "retrain".
    with pytest.raises(IncompatibleModel, match=r"^model m\.zip has 6 actions: it is a watering model, not "):
        check_compatible(_model(OBS_LAYOUT_VERSION, actions=6), "recon", "m.zip")


def test_trained_model_carries_the_layout_version(tmp_path) -> None:
    """stamp_layout survives SB3's save/load (the attribute travels in the zip)."""
    from stable_baselines3 import PPO

    import env as swarm_env
    from env.config import FieldConfig
    from env.core import OBS_LAYOUT_VERSION
    from training.registry import check_compatible, stamp_layout

    vec = swarm_env.make_vec_env("recon", FieldConfig(width=6, height=6, n_drones=2), num_fields=2, seed=0)
    stamp_layout(PPO("MlpPolicy", vec, n_steps=8, batch_size=8, device="cpu")).save(tmp_path / "m.zip")
    loaded = PPO.load(tmp_path / "m.zip", device="cpu")
    assert loaded.obs_layout_version == OBS_LAYOUT_VERSION
    check_compatible(loaded, "recon", tmp_path / "m.zip")


def test_scores_of_another_score_version_are_evaluated_again_and_reports_read_the_latest(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate never pairs a score stored before the score's meaning changed with a new one."""
    from training import workflow
    from training.ledger import Ledger

    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.create_run(id="r1", scenario="recon", profile="smoke", seed=0, device="cpu", total_timesteps=1)
    suite_hash = "0" * 32
    row = {"scenario_id": "recon-train-8x8-d2-o0", "split": "train", "policy": "ppo", "seed": 0,
           "metric": "score"}
    ledger.add_evaluation("r1", suite_hash, [{**row, "value": 0.5}])  # stored by an older version
    evaluated = []
    monkeypatch.setattr("training.scenarios.load_suite", lambda _dir: SimpleNamespace(hash=suite_hash))
    monkeypatch.setattr(workflow, "run_model_path", lambda run: tmp_path / "model.zip")

    def evaluate(ledger_, run, *_args, **_kw):
        evaluated.append(run.id)
        ledger_.add_evaluation(run.id, workflow.evaluation_key(suite_hash), [{**row, "value": 0.9}])

    monkeypatch.setattr(workflow, "evaluate_model", evaluate)
    run = ledger.get_run("r1")
    key = workflow.ensure_evaluated(ledger, run, tmp_path)
    assert evaluated == ["r1"] and key == f"{suite_hash}+score-v{workflow.SCORE_VERSION}" and len(key) <= 64
    assert workflow.ensure_evaluated(ledger, run, tmp_path) == key and evaluated == ["r1"]  # kept now
    assert [r.value for r in workflow._latest(ledger.evaluation("r1"))] == [0.9]
