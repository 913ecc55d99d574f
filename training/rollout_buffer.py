"""SB3's rollout buffer without its second copy of every minibatch.

``RolloutBuffer._get_samples`` gathers a minibatch with numpy fancy indexing (a fresh array) and then
hands it to ``to_torch``, which copies it again. For the default profile that second copy is a
4,096 x 334 float32 block per minibatch, about a tenth of the PPO update's time on this machine
(torch profiler; docs/scaling.md). Sharing the fresh array's memory gives the same tensors.
"""
from __future__ import annotations

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer


class FreshSamplesRolloutBuffer(RolloutBuffer):
    """``RolloutBuffer`` whose minibatch tensors share the memory of the freshly gathered arrays."""

    def to_torch(self, array: np.ndarray, copy: bool = True) -> th.Tensor:
        # Only _get_samples calls this, always with arrays made by fancy indexing or flatten()
        # copies, never with a view of the buffer: no caller can see the sharing.
        return th.as_tensor(array, device=self.device)
