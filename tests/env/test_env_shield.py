"""The battery shield sends a drone home from the observation alone, and keeps it charging at base."""

from __future__ import annotations

import numpy as np
import pytest

from env.config import FieldConfig
from env.core import SwarmSim
from env.rollout import run_episodes
from env.scenarios import HOVER
from env.shield import battery_shield

pytestmark = pytest.mark.unit


def test_low_battery_goes_home_and_charges_at_base() -> None:
    cfg = FieldConfig(width=40, height=12, n_drones=1, n_plants=0, battery_capacity=100, recharge_rate=5)
    sim = SwarmSim("recon", cfg, 1, seed=3, auto_reset=False)
    away = np.full(1, 4)  # always fly right: far from the base, then the battery is low
    for _ in range(100):
        obs = sim.observe(np.arange(1))
        act = battery_shield(obs, away)
        if act[0] != 4:
            break
        sim.step(act)
    here = sim.dist[sim.cell[0, 0] + sim.field_off[0]]
    assert act[0] != 4 and 0 < here and sim.battery[0, 0] <= here + 0.02 * 100
    while sim.cell[0, 0] != sim.base_cell[0]:  # the shield's moves lead home before the battery dies
        sim.step(battery_shield(sim.observe(np.arange(1)), away))
        assert sim.active[0, 0]
    assert battery_shield(sim.observe(np.arange(1)), away)[0] == HOVER  # recharging at the base


def test_shielded_random_swarm_never_depletes_where_random_does() -> None:
    # the reserve (2 % of the battery) must be >= 2 steps: one step can widen the gap by two
    cfg = FieldConfig(width=24, height=24, n_drones=3, battery_capacity=100, max_steps=300)
    rng = np.random.default_rng(0)

    def wander(obs: np.ndarray) -> np.ndarray:
        return rng.integers(1, 5, size=len(obs))

    plain = run_episodes("recon", cfg, wander, num_fields=4, seed=1)
    shielded = run_episodes("recon", cfg, lambda obs: battery_shield(obs, wander(obs)), num_fields=4, seed=1)
    assert sum(m["battery_depletions"] for m in plain) > 0
    assert sum(m["battery_depletions"] for m in shielded) == 0
