"""Baselines do their job: the heuristics finish the task and beat random; metrics are complete."""
from __future__ import annotations

import numpy as np
import pytest

from env.config import ConfigError, FieldConfig
from env.layout import bfs_distance, layout_for
from env.rollout import run_episodes

pytestmark = pytest.mark.unit
KEYS = {"coverage", "coverage_curve", "steps", "steps_to_95", "plants_found", "plants_total",
        "water_delivered", "water_wasted", "collisions", "battery_depletions", "episode_return",
        "lower_bound_steps", "energy"}


@pytest.mark.parametrize("density", [0.0, 0.2])
def test_lawnmower_reaches_the_target_near_the_bound_and_beats_random(density: float) -> None:
    cfg = FieldConfig(width=20, height=16, n_drones=4, n_plants=25, obstacle_density=density, max_steps=300)
    mow = run_episodes("recon", cfg, "lawnmower", num_fields=4, seed=2)
    rnd = run_episodes("recon", cfg, "random", num_fields=4, seed=2)
    for m in mow:
        assert KEYS <= set(m) and len(m["coverage_curve"]) == m["steps"]
        assert m["coverage"] >= cfg.coverage_target and m["steps_to_95"] is not None
        assert m["lower_bound_steps"] <= m["steps"] <= 3 * m["lower_bound_steps"]
        assert m["battery_depletions"] == 0 and m["plants_found"] == len(m["found_plants"])
        assert np.all(np.diff(m["coverage_curve"]) >= 0)
    assert np.mean([m["steps"] for m in mow]) < np.mean([m["steps"] for m in rnd])
    assert np.mean([m["plants_found"] for m in mow]) > np.mean([m["plants_found"] for m in rnd])


def test_lawnmower_respects_battery_by_going_home() -> None:
    cfg = FieldConfig(width=16, height=16, n_drones=2, n_plants=10, max_steps=800, obstacle_density=0.1)
    lay = layout_for(cfg, seed=4)
    far = int(bfs_distance(~lay.obstacles[None], np.array([lay.base[0]]), np.array([lay.base[1]]))[0][
        ~lay.obstacles].max())
    cfg = cfg.replace(battery_capacity=2 * far + 6, recharge_rate=10)  # every cell reachable, not all at once
    m = run_episodes("recon", cfg, "lawnmower", num_fields=1, seed=4, layouts=[lay])[0]
    assert m["battery_depletions"] == 0 and m["coverage"] >= 0.95
    assert m["energy"] > cfg.battery_capacity * cfg.n_drones  # it did have to recharge on the way


@pytest.mark.parametrize("density", [0.0, 0.2])
def test_greedy_waters_every_plant_without_waste(density: float) -> None:
    cfg = FieldConfig(width=16, height=12, n_drones=3, n_plants=15, tank_capacity=3, obstacle_density=density,
                      max_steps=400)
    greedy = run_episodes("watering", cfg, "greedy", num_fields=3, seed=1)
    rnd = run_episodes("watering", cfg, "random", num_fields=3, seed=1)
    for m in greedy:
        assert m["water_delivered"] == m["water_need"] and m["water_wasted"] == 0
        assert m["plants_watered"] == m["plants_total"] == 15 and m["battery_depletions"] == 0
        assert m["water_drawn"] == m["water_delivered"] + m["water_wasted"] + m["water_in_tanks"]
    assert sum(m["episode_return"] for m in greedy) > sum(m["episode_return"] for m in rnd)


def test_policy_errors_are_one_line() -> None:
    cfg = FieldConfig(width=8, height=8, n_drones=2, n_plants=3)
    for scenario, policy, msg in (("recon", "greedy", "allowed for recon: random, lawnmower"),
                                  ("watering", "lawnmower", "allowed for watering: random, greedy"),
                                  ("recon", "smart", "policy='smart' is unknown"),
                                  ("orbit", "random", "scenario='orbit' is unknown")):
        with pytest.raises(ConfigError, match=msg):
            run_episodes(scenario, cfg, policy, num_fields=1, seed=0)


def test_heuristic_alias_and_callable_policy() -> None:
    cfg = FieldConfig(width=8, height=8, n_drones=2, n_plants=3, max_steps=20)
    assert run_episodes("watering", cfg, "heuristic", 1, seed=0)[0]["water_wasted"] == 0
    m = run_episodes("recon", cfg, lambda obs: np.zeros(len(obs), dtype=int), 2, seed=0)
    assert [x["steps"] for x in m] == [20, 20] and m[0]["energy"] == 0


@pytest.mark.parametrize("scenario", ["recon", "watering"])
def test_heuristics_steer_the_largest_swarm_on_the_largest_field(scenario: str) -> None:
    """512 x 512 with 256 drones: paths are planned once per target, so 60 steps take about a second
    (per-drone BFS maps over the whole field took minutes here)."""
    from env.baselines import make_baseline
    from env.core import SwarmSim

    cfg = FieldConfig(width=512, height=512, n_drones=256, n_plants=2000, obstacle_density=0.1, max_steps=60,
                      battery_capacity=2000)  # every cell within a round trip
    sim = SwarmSim(scenario, cfg, 1, seed=5, auto_reset=False)
    ctrl = make_baseline("heuristic", sim, 5)
    start = sim.cell.copy()
    while not sim.finished.all():
        sim.step(ctrl(sim))
    m = sim.metrics([0])[0]
    assert (sim.cell != start).mean() > 0.9 and m["battery_depletions"] == 0
    assert ctrl.nav.book.planned <= 60 * 256 / 4  # paths are kept: not one search per drone and step
    if scenario == "watering":
        assert m["water_delivered"] > 0 and m["water_wasted"] == 0
    else:
        assert m["coverage"] * m["free_cells"] > 1500  # the swarm spreads out (at take-off: ~9 cells)
