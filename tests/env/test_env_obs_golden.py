"""Observations, rewards and resets stay bit-identical across speed work on the simulator.

The digests were recorded from the simulator before its observation path was optimised (issue 17):
a changed bit in any observation would change every trained model's inputs (and the DVC smoke
model). If you change the observation on purpose, bump ``OBS_LAYOUT_VERSION`` and re-record with
``python tests/env/test_env_obs_golden.py`` (prints the new table).
"""
from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from env.config import FieldConfig
from env.core import OBS_LAYOUT_VERSION, SwarmSim

# name: (scenario, fields, steps, FieldConfig keywords). Chosen so that auto-resets happen, that
# work left becomes sparse and far from some drones (the compass's long-range path), and that the
# sensor's line of sight and non-square fields are exercised.
CASES: dict[str, tuple[str, int, int, dict]] = {
    "recon-10x9-los": ("recon", 3, 150, dict(width=10, height=9, n_drones=4, n_plants=12, max_steps=40,
                                             battery_capacity=25, recharge_rate=5, obstacle_density=0.25,
                                             obstacles_block_sensor=True, sensor_radius=3)),
    "recon-24x24-late": ("recon", 4, 220, dict(width=24, height=24, n_drones=16, n_plants=20,
                                               max_steps=400, sensor_radius=2, obstacle_density=0.1)),
    "recon-40x17": ("recon", 2, 60, dict(width=40, height=17, n_drones=3, n_plants=10, max_steps=50,
                                         obstacle_density=0.2)),
    "water-12x12": ("watering", 4, 150, dict(width=12, height=12, n_drones=4, n_plants=8, max_steps=60,
                                             tank_capacity=2, obstacle_density=0.1)),
    "water-30x20-sparse": ("watering", 2, 80, dict(width=30, height=20, n_drones=5, n_plants=3,
                                                   max_steps=300, obstacle_density=0.1)),
    "recon-96-big": ("recon", 1, 20, dict(width=96, height=96, n_drones=32, n_plants=50, max_steps=300,
                                          obstacle_density=0.1)),
}

# v4: geodesic compass; v5: own regions first (both scenarios), and in watering an empty tank's
# compass leads home; v6: regions reach 48 steps instead of 24, and in watering a drone without work
# in its own region is led to the nearest plant no region's compass leads to (claimed), if any
# (the recon cases kept their v5 digests); v7: a recon drone's region is its sector around the base
# (the watering cases kept their v6 digests); v8: watering drones fly the field's plan (env.sorties:
# the compass leads to a sortie's next plant, own feature 11 shows the water planned there; the recon
# cases kept their v7 digests).
# Checked against env/reference.py.
GOLDEN_VERSION = 8
GOLDEN: dict[str, str] = {
    "recon-10x9-los": "6b39215fc92d33304324a130b5ed4b33bc2baedee8d2ee56c05d2ba8af2623d0",
    "recon-24x24-late": "12363cbd98e71f68ea949f5b223ca64ff91b0e74c84898545428aeb44fe15be8",
    "recon-40x17": "b8409f61ecd0f0ed046d5672856e98b7ddfa0949b37faa7fa714b5e216d1ad55",
    "recon-96-big": "b088a48b04d5324a915e282ec6ac6c6e7855b90ba30f144bfe986e2afd74d4ef",
    "water-12x12": "a015ce93213ef59d59712403dbee7415cc52842aa3aa53c99539b0d01df7ad5d",
    "water-30x20-sparse": "fd19dc5ba84d1b94930d2d85fe73e4497e0f9d49c8ef45221bd2bc02f5188ebf",
}


def trajectory_digest(name: str) -> str:
    """sha256 over every observation, reward, terminal observation and done set of a case."""
    scenario, fields, steps, kw = CASES[name]
    sim = SwarmSim(scenario, FieldConfig(**kw), fields, seed=7)
    rng = np.random.default_rng(3)
    h = hashlib.sha256(sim.observe(np.arange(fields)).tobytes())
    for _ in range(steps):
        res = sim.step(rng.integers(0, sim.scenario.n_actions, sim.num_rows))
        h.update(res.obs.tobytes())
        h.update(res.rewards.tobytes())
        h.update(res.done_fields.astype(np.int64).tobytes())
        if res.terminal_obs is not None:
            h.update(res.terminal_obs.tobytes())
    return h.hexdigest()


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(CASES))
def test_observations_are_bit_identical_to_the_recorded_ones(name: str) -> None:
    if OBS_LAYOUT_VERSION != GOLDEN_VERSION:
        pytest.skip(f"observation layout {OBS_LAYOUT_VERSION} != recorded {GOLDEN_VERSION}: re-record")
    assert trajectory_digest(name) == GOLDEN[name]


if __name__ == "__main__":
    for case in sorted(CASES):
        print(f'    "{case}": "{trajectory_digest(case)}",', file=sys.stdout)
