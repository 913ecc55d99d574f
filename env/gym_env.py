"""Gymnasium view of one field: the whole swarm is one agent (obs (N, D), MultiDiscrete actions).

Importing this module registers ``SwarmOps/Recon-v0`` and ``SwarmOps/Watering-v0``; without the
import, ``gymnasium.make("env.gym_env:SwarmOps/Recon-v0")`` does it. Field parameters are keyword
arguments of ``gymnasium.make`` (any FieldConfig field) or ``config=FieldConfig(...)``.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from env.config import FieldConfig
from env.core import OBS_DIM, SwarmSim
from env.render import RENDER_MODES, check_render_mode, render_mode_frame
from env.scenarios import get_scenario

ENV_IDS = {"recon": "SwarmOps/Recon-v0", "watering": "SwarmOps/Watering-v0"}


class SwarmGymEnv(gym.Env):
    """One field, N drones; reward = sum of the drones' rewards (team reward)."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 8}

    def __init__(self, scenario: str = "recon", config: FieldConfig | None = None,
                 render_mode: str | None = None, **field: Any) -> None:
        self.spec_scenario = get_scenario(scenario)
        config = FieldConfig.resolve(config, field)
        check_render_mode(render_mode)
        self.config, self.render_mode = config, render_mode
        n = config.n_drones
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n, OBS_DIM), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(np.full(n, self.spec_scenario.n_actions))
        self.sim = SwarmSim(scenario, config, 1, seed=config.seed, auto_reset=False)
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """New episode; a seed restarts the layout sequence, no seed draws the next layout."""
        super().reset(seed=seed)
        if seed is not None or not self._started:
            obs = self.sim.reset(seed=seed if seed is not None else self.config.seed)
        else:
            obs = self.sim.reset_fields(np.array([0]))
        self._started = True
        return obs.reshape(self.config.n_drones, OBS_DIM), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """All drones act at once."""
        res = self.sim.step(np.asarray(action, dtype=np.int64).reshape(1, -1))
        info: dict[str, Any] = {"metrics": res.metrics[0]} if res.metrics else {}
        obs = res.obs.reshape(self.config.n_drones, OBS_DIM)
        return obs, float(res.rewards.sum()), bool(res.terminated[0]), bool(res.truncated[0]), info

    def render(self) -> np.ndarray | str | None:
        """rgb_array frame or ANSI text, per ``render_mode``."""
        return render_mode_frame(self.sim, self.render_mode)


def register_envs() -> None:
    """Register both scenario ids with gymnasium (idempotent)."""
    for scenario, env_id in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="env.gym_env:SwarmGymEnv", kwargs={"scenario": scenario})


register_envs()
