"""PettingZoo ParallelEnv over one field: one agent per drone (``drone_0`` ...).

The per-agent dicts exist only at this boundary; inside, the step is the batched simulator.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from env.config import FieldConfig
from env.core import OBS_DIM, SwarmSim
from env.render import RENDER_MODES, check_render_mode, render_mode_frame
from env.scenarios import HOVER, get_scenario


class SwarmParallelEnv(ParallelEnv):
    """N drones of one field as PettingZoo agents with individual rewards."""

    metadata = {"name": "swarm_v0", "render_modes": list(RENDER_MODES), "is_parallelizable": True,
                "render_fps": 8}

    def __init__(self, scenario: str = "recon", config: FieldConfig | None = None,
                 render_mode: str | None = None, **field: Any) -> None:
        self.scenario = get_scenario(scenario)
        config = FieldConfig.resolve(config, field)
        check_render_mode(render_mode)
        self.config, self.render_mode = config, render_mode
        self.possible_agents = [f"drone_{i}" for i in range(config.n_drones)]
        self.agents: list[str] = []
        self.sim = SwarmSim(scenario, config, 1, seed=config.seed, auto_reset=False)
        self._started = False

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> spaces.Box:
        """Same fixed-size Box for every drone."""
        return spaces.Box(0.0, 1.0, shape=(OBS_DIM,), dtype=np.float32)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> spaces.Discrete:
        """Discrete(5) for recon, Discrete(6) for watering."""
        return spaces.Discrete(self.scenario.n_actions)

    def _split(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {a: obs[i] for i, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """New episode; a seed restarts the layout sequence, no seed draws the next layout."""
        if seed is not None or not self._started:
            obs = self.sim.reset(seed=seed if seed is not None else self.config.seed)
        else:
            obs = self.sim.reset_fields(np.array([0]))
        self._started = True
        self.agents = list(self.possible_agents)
        return self._split(obs), {a: {} for a in self.agents}

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        """Agents missing from ``actions`` hover."""
        act = np.array([int(actions.get(a, HOVER)) for a in self.possible_agents], dtype=np.int64)
        res = self.sim.step(act[None, :])
        obs = self._split(res.obs)
        term, trunc = bool(res.terminated[0]), bool(res.truncated[0])
        rewards = {a: float(res.rewards[i]) for i, a in enumerate(self.possible_agents)}
        info = {"metrics": res.metrics[0]} if res.metrics else {}
        agents = self.agents
        out = ({a: obs[a] for a in agents}, {a: rewards[a] for a in agents}, {a: term for a in agents},
               {a: trunc for a in agents}, {a: dict(info) for a in agents})
        if term or trunc:
            self.agents = []
        return out

    def render(self) -> np.ndarray | str | None:
        """rgb_array frame or ANSI text, per ``render_mode``."""
        return render_mode_frame(self.sim, self.render_mode)

    def close(self) -> None:
        """Nothing to release."""

    def state(self) -> np.ndarray:
        """Global state: all drones' observations stacked."""
        return self.sim.observe(np.array([0]))
