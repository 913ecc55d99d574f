"""training.team_reward: each drone's reward mixes its own with its field's mean, in training only."""
from __future__ import annotations

import numpy as np
import pytest

from training.config import load_profile
from training.train import build_env

pytestmark = pytest.mark.unit


def _rewards_of(share: float, steps: int = 12) -> list[np.ndarray]:
    """Rewards of the smoke profile's first stage under seeded random actions, with ``share``."""
    profile = load_profile("smoke", [f"team_reward={share}"])
    vec = build_env("recon", profile, 0, seed=5)
    vec.reset()
    rng = np.random.default_rng(0)
    out = []
    for _ in range(steps):
        _, rewards, _, _ = vec.step(rng.integers(0, 5, size=vec.num_envs))
        out.append(rewards)
    return out


def test_team_reward_mixes_each_field_and_keeps_the_swarm_total() -> None:
    n = load_profile("smoke").curriculum[0].n_drones
    own, mixed = _rewards_of(0.0), _rewards_of(0.25)
    assert any(np.ptp(r.reshape(-1, n), axis=1).max() > 0 for r in own)  # drones earned different rewards
    for r, m in zip(own, mixed):
        fields = r.reshape(-1, n)
        want = 0.75 * fields + 0.25 * fields.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(m.reshape(-1, n), want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(m.reshape(-1, n).sum(axis=1), fields.sum(axis=1), rtol=1e-5, atol=1e-5)


def test_no_team_reward_leaves_the_simulator_env_unwrapped() -> None:
    from stable_baselines3.common.vec_env import VecMonitor

    assert type(build_env("recon", load_profile("smoke"), 0, seed=5)) is VecMonitor
