"""The simulator through its public interfaces: Gymnasium, PettingZoo, stable-baselines3."""
from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import env
import env.gym_env
from env.config import FieldConfig
from env.core import OBS_DIM
from env.parallel_env import SwarmParallelEnv
from env.rollout import run_episodes

pytestmark = pytest.mark.unit
SMALL = dict(width=8, height=7, n_drones=3, n_plants=5, obstacle_density=0.1, max_steps=30)


@pytest.mark.parametrize("scenario", env.SCENARIOS)
def test_gymnasium_ids_pass_env_checker(scenario: str) -> None:
    e = gym.make(env.gym_env.ENV_IDS[scenario], **SMALL)
    check_env(e.unwrapped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 only warns that (N, D) observations are not 1-D
        sb3_check_env(e.unwrapped)
    obs, _ = e.reset(seed=3)
    assert obs.shape == (3, OBS_DIM) and e.action_space.nvec.tolist() == [5 + (scenario == "watering")] * 3
    again, _ = e.reset(seed=3)
    np.testing.assert_array_equal(obs, again)
    e.close()


def test_gymnasium_make_by_module_path_and_render_modes() -> None:
    e = gym.make("env.gym_env:SwarmOps/Watering-v0", render_mode="rgb_array", **SMALL)
    e.reset(seed=0)
    frame = e.render()
    assert frame.ndim == 3 and frame.dtype == np.uint8
    e2 = gym.make("SwarmOps/Recon-v0", render_mode="ansi", **SMALL)
    e2.reset(seed=0)
    assert "coverage" in e2.render()


@pytest.mark.parametrize("scenario", env.SCENARIOS)
def test_pettingzoo_parallel_api_and_seed(scenario: str) -> None:
    parallel_api_test(SwarmParallelEnv(scenario, **SMALL), num_cycles=60)
    parallel_seed_test(lambda: SwarmParallelEnv(scenario, **SMALL))


def test_vec_env_shapes_do_not_depend_on_field_or_swarm_size() -> None:
    a = env.make_vec_env("recon", FieldConfig(width=8, height=8, n_drones=2, n_plants=3), 3, seed=0)
    b = env.make_vec_env("recon", FieldConfig(width=40, height=17, n_drones=7, n_plants=30), 2, seed=0)
    assert a.num_envs == 6 and b.num_envs == 14
    assert a.observation_space == b.observation_space and a.observation_space.shape == (OBS_DIM,)
    assert a.action_space == b.action_space == gym.spaces.Discrete(5)
    w = env.make_vec_env("watering", FieldConfig(), num_fields=1, seed=0)
    assert w.action_space == gym.spaces.Discrete(6)
    obs = b.reset()
    assert obs.shape == (14, OBS_DIM) and obs.dtype == np.float32
    assert b.observation_space.contains(obs[0])


def test_vec_env_auto_reset_like_dummy_vec_env() -> None:
    cfg = FieldConfig(width=6, height=6, n_drones=2, n_plants=2, max_steps=4)
    v = env.make_vec_env("recon", cfg, num_fields=2, seed=1)
    v.seed(11)
    first = v.reset()
    for t in range(4):
        obs, rew, dones, infos = v.step(np.zeros(4, dtype=int))
        assert rew.shape == (4,) and rew.dtype == np.float32
    assert dones.all()
    for i, info in enumerate(infos):
        assert info["terminal_observation"].shape == (OBS_DIM,)
        assert info["TimeLimit.truncated"] is True
    assert infos[0]["field_metrics"]["steps"] == 4 and "field_metrics" not in infos[1]
    assert not np.array_equal(obs, infos[0]["terminal_observation"][None].repeat(4, 0))
    v.seed(11)
    np.testing.assert_array_equal(v.reset(), first)


@pytest.mark.parametrize("scenario", env.SCENARIOS)
def test_vec_env_with_truncated_terminal_obs_steps_alike_and_keeps_what_ppo_reads(scenario: str) -> None:
    """terminal_obs="truncated" (training's setting): the same steps as "all"; the rows of truncated
    fields carry the same terminal_observation, terminated ones none."""
    cfg = FieldConfig(width=5, height=5, n_drones=2, n_plants=3, max_steps=30, battery_capacity=10)
    full, lean = (env.make_vec_env(scenario, cfg, num_fields=6, seed=3, terminal_obs=kind)
                  for kind in ("all", "truncated"))
    np.testing.assert_array_equal(full.reset(), lean.reset())
    rng = np.random.default_rng(0)
    seen = {"terminated": 0, "truncated": 0}
    for _ in range(120):
        actions = rng.integers(0, full.action_space.n, size=full.num_envs)
        a, b = full.step(actions), lean.step(actions)
        for x, y in zip(a[:3], b[:3]):
            np.testing.assert_array_equal(x, y)
        for info_all, info_lean in zip(a[3], b[3]):
            if info_all.get("TimeLimit.truncated") is True:
                seen["truncated"] += 1
                np.testing.assert_array_equal(info_lean["terminal_observation"],
                                              info_all["terminal_observation"])
            elif "terminal_observation" in info_all:
                seen["terminated"] += 1
                assert "terminal_observation" not in info_lean and info_lean["TimeLimit.truncated"] is False
    assert seen["terminated"] and seen["truncated"], seen  # both kinds of ending were exercised
    with pytest.raises(ValueError, match="terminal_obs='some'.*allowed: 'all', 'truncated'"):
        env.make_vec_env(scenario, cfg, num_fields=1, terminal_obs="some")


def test_ppo_trains_a_few_hundred_steps_and_runs_through_run_episodes() -> None:
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    cfg = FieldConfig(width=8, height=8, n_drones=2, n_plants=4, max_steps=40)
    venv = env.make_vec_env("watering", cfg, num_fields=4, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512
    metrics = run_episodes("watering", cfg, lambda o: model.predict(o, deterministic=True)[0], num_fields=2,
                           seed=5)
    assert len(metrics) == 2 and all(0 <= m["water_delivered"] <= m["water_need"] for m in metrics)
