"""FreshSamplesRolloutBuffer: the same minibatches as SB3's RolloutBuffer, never a view of the buffer."""
from __future__ import annotations

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer

from training.rollout_buffer import FreshSamplesRolloutBuffer


def _filled(cls: type[RolloutBuffer]) -> RolloutBuffer:
    rng = np.random.default_rng(0)
    buf = cls(8, spaces.Box(0.0, 1.0, (5,), np.float32), spaces.Discrete(4), n_envs=3, gamma=0.9)
    for _ in range(8):
        buf.add(rng.random((3, 5), dtype=np.float32), rng.integers(0, 4, (3, 1)), rng.random(3),
                np.zeros(3, dtype=bool), th.as_tensor(rng.random(3)), th.as_tensor(rng.random(3)))
    buf.compute_returns_and_advantage(th.as_tensor(rng.random(3)), np.zeros(3, dtype=bool))
    return buf


def test_minibatches_equal_sb3s_and_do_not_alias_the_buffer() -> None:
    ours, sb3 = _filled(FreshSamplesRolloutBuffer), _filled(RolloutBuffer)
    np.random.seed(1)
    mine = list(ours.get(batch_size=6))
    np.random.seed(1)
    theirs = list(sb3.get(batch_size=6))
    assert len(mine) == len(theirs) == 4
    for a, b in zip(mine, theirs):
        for x, y in zip(a, b):
            assert th.equal(x, y)
    before = ours.observations.copy()
    for sample in mine:
        for tensor in sample:
            tensor.add_(1.0)  # a caller writing into its minibatch must not change the rollout
    assert np.array_equal(ours.observations, before)
