"""A share of the swarm's reward in each drone's training reward (profile key ``team_reward``)."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.vec_env import VecEnvWrapper


class TeamReward(VecEnvWrapper):
    """Each drone's reward becomes (1 - share) x its own + share x the mean over its field's drones.

    The simulator credits a drone for the cells it senses first, which also rewards taking a
    neighbour's cells; a share of the swarm's reward makes helping the swarm pay. Rows are fields x
    drones (env.sb3_vec_env.SwarmVecEnv), and a field's drones start and end their episodes together.
    """

    def __init__(self, venv: Any, n_drones: int, share: float) -> None:
        super().__init__(venv)
        if venv.num_envs % n_drones or not 0.0 <= share <= 1.0:
            raise ValueError(f"n_drones={n_drones} must divide {venv.num_envs} rows; share={share} in [0, 1]")
        self.n_drones, self.share = int(n_drones), float(share)

    def reset(self) -> Any:
        """Reset every field (unchanged)."""
        return self.venv.reset()

    def step_wait(self) -> Any:
        """The wrapped step, with the rewards mixed per field."""
        obs, rewards, dones, infos = self.venv.step_wait()
        per_field = rewards.reshape(-1, self.n_drones)
        mixed = (1.0 - self.share) * per_field + self.share * per_field.mean(axis=1, keepdims=True)
        return obs, mixed.reshape(rewards.shape).astype(rewards.dtype), dones, infos
