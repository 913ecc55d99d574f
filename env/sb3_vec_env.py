"""Stable-baselines3 VecEnv over the batched simulator: one row per drone, one shared policy.

Finished fields are reset inside ``step_wait`` like SB3's DummyVecEnv: the rows of a finished field
report ``done`` and carry ``terminal_observation`` (and ``TimeLimit.truncated``) in their info; the
first row of the field also carries ``field_metrics`` (the task metrics of the finished episode).
With ``terminal_obs="truncated"`` only truncated fields carry ``terminal_observation``: PPO reads it
only to bootstrap those, and training saves an observation pass on most steps (docs/scaling.md).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from env.config import FieldConfig
from env.core import OBS_DIM, SwarmSim


class SwarmVecEnv(VecEnv):
    """``num_fields`` fields x ``config.n_drones`` drones as ``num_envs`` rows (parameter sharing)."""

    def __init__(
        self,
        scenario: str,
        config: FieldConfig,
        num_fields: int,
        seed: int | None = None,
        layouts: list | None = None,
        render_mode: str | None = None,
        terminal_obs: str = "all",
    ) -> None:
        if terminal_obs not in ("all", "truncated"):
            raise ValueError(f"terminal_obs={terminal_obs!r}; allowed: 'all', 'truncated'")
        self.sim = SwarmSim(scenario, config, num_fields, seed=seed, layouts=layouts, auto_reset=True,
                            observe_terminated=terminal_obs == "all")
        self.render_mode = render_mode
        self.scenario = self.sim.scenario.name
        self.config = config
        self.num_fields = num_fields
        observation_space = spaces.Box(low=0.0, high=1.0, shape=(OBS_DIM,), dtype=np.float32)
        action_space = spaces.Discrete(self.sim.scenario.n_actions)
        super().__init__(num_fields * config.n_drones, observation_space, action_space)
        self._actions: np.ndarray | None = None

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> np.ndarray:
        """Reset every field; a seed set by ``seed()`` is used once."""
        seed = self._seeds[0]
        obs = self.sim.reset(seed=seed)
        self._reset_seeds()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions (one per drone row)."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step all fields at once; auto-reset finished ones."""
        res = self.sim.step(self._actions)
        n = self.config.n_drones
        done_field = res.terminated | res.truncated
        dones = np.repeat(done_field, n)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for j, f in enumerate(res.done_fields.tolist()):
            trunc = bool(res.truncated[f])
            for d in range(n):
                infos[f * n + d]["TimeLimit.truncated"] = trunc
            infos[f * n]["field_metrics"] = res.metrics[j]
        for j, f in enumerate(res.terminal_fields.tolist()):
            assert res.terminal_obs is not None
            for d in range(n):
                infos[f * n + d]["terminal_observation"] = res.terminal_obs[j * n + d]
        return res.obs, res.rewards, dones, infos

    def close(self) -> None:
        """Nothing to release (no subprocesses)."""

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed used at the next reset (the whole batch derives from one seed)."""
        return super().seed(seed)

    def _indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Attributes are shared by all rows."""
        return [getattr(self, attr_name) for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set a shared attribute."""
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of this env once per requested row."""
        return [getattr(self, method_name)(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Rows are not gymnasium envs, hence never wrapped."""
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One rgb frame per field (for VecVideoRecorder & co)."""
        from env.render import render_rgb

        return [render_rgb(self.sim, f) for f in range(self.num_fields)]
