"""`swarmops bench env --ref REV`: another revision's simulator is loaded and compared byte for byte."""
from __future__ import annotations

import numpy as np
import pytest

from env.bench import _same_observations, load_ref_sim
from env.config import FieldConfig
from env.core import SwarmSim

pytestmark = pytest.mark.unit


def test_the_committed_simulator_is_loaded_and_compared() -> None:
    # HEAD exists in any checkout (a named old revision may be missing from a shallow clone); the
    # bit-identity to the code before the speed work is tests/env/test_env_obs_golden.py's job.
    ref = load_ref_sim("HEAD")
    assert ref is not SwarmSim and ref.__module__ == "env._ref_core"
    cfg = FieldConfig(width=20, height=13, n_drones=4, n_plants=8, obstacle_density=0.2, max_steps=30)
    rng = np.random.default_rng(0)
    acts = [rng.integers(0, 5, 3 * 4) for _ in range(40)]  # crosses an auto-reset (max_steps 30)
    assert _same_observations(SwarmSim("recon", cfg, 3, seed=2), ref("recon", cfg, 3, seed=2), acts)


def test_a_changed_observation_is_caught() -> None:
    cfg = FieldConfig(width=12, height=12, n_drones=2, n_plants=4)
    acts = [np.zeros(2, dtype=np.int64)] * 3
    assert not _same_observations(SwarmSim("recon", cfg, 1, seed=1), SwarmSim("recon", cfg, 1, seed=2), acts)


def test_an_unknown_revision_is_one_line() -> None:
    with pytest.raises(ValueError, match=r"^--ref='no-such-rev' has no env/core.py; allowed: a git revision"):
        load_ref_sim("no-such-rev")
