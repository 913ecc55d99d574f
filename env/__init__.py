"""SwarmOps drone-swarm simulator: batched fields x drones, two scenarios (recon, watering).

Entry points (see docs/architecture.md):

- ``env.config.FieldConfig`` / ``env.config.ConfigError``: validated parameters.
- ``env.layout.Layout`` / ``env.layout.generate_layout``: one concrete field.
- ``env.make_vec_env(...)``: stable-baselines3 VecEnv, one row per drone (parameter sharing).
- ``env.rollout.run_episodes(...)``: metrics of a baseline or a policy callable.
- ``env.gym_env`` (registers ``SwarmOps/Recon-v0`` and ``SwarmOps/Watering-v0`` on import),
  ``env.parallel_env.SwarmParallelEnv`` (PettingZoo), ``env.render``.

This module stays import-light (no numpy/gymnasium at import) so ``swarmops --help`` is fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from env.scenarios import SCENARIOS

if TYPE_CHECKING:  # pragma: no cover
    from env.config import FieldConfig
    from env.layout import Layout
    from env.sb3_vec_env import SwarmVecEnv


def make_vec_env(
    scenario: str,
    config: "FieldConfig",
    num_fields: int,
    seed: int | None = None,
    layouts: "list[Layout] | None" = None,
    render_mode: str | None = None,
    terminal_obs: str = "all",
) -> "SwarmVecEnv":
    """SB3 VecEnv of ``num_fields`` fields; ``num_envs = num_fields * config.n_drones`` rows.

    The observation is a fixed-size float32 Box (independent of field and swarm size); the action
    space is Discrete(5) for recon and Discrete(6) for watering. ``layouts`` (one per field) fixes
    the fields; otherwise each episode of field i draws a layout from (seed, i, episode).
    ``terminal_obs``: which finished fields' rows carry ``terminal_observation`` ("all", or
    "truncated": all PPO needs, and one observation pass fewer per step).
    """
    from env.sb3_vec_env import SwarmVecEnv

    return SwarmVecEnv(scenario, config, num_fields, seed=seed, layouts=layouts, render_mode=render_mode,
                       terminal_obs=terminal_obs)


__all__ = ["SCENARIOS", "make_vec_env"]
