"""Run whole episodes of a baseline or a policy and report task metrics per field."""

from __future__ import annotations

from typing import Any, Callable, Union

import numpy as np

from env import shield
from env.baselines import BASELINES, make_baseline
from env.config import ConfigError, FieldConfig
from env.core import SwarmSim
from env.scenarios import get_scenario

Policy = Union[str, Callable[[np.ndarray], np.ndarray]]


def _controller(policy: Policy, sim: SwarmSim, seed: int,
                yield_moves: bool = True) -> Callable[[SwarmSim, np.ndarray], np.ndarray]:
    if isinstance(policy, str):
        base = make_baseline(policy, sim, seed)
        return lambda s, obs: base(s)
    if callable(policy) and yield_moves:
        return lambda s, obs: shield.yield_moves(
            s, policy(obs), keep=shield.low_battery(obs, shield.WAIT_MARGIN))
    if callable(policy):
        return lambda s, obs: np.asarray(policy(obs)).reshape(-1)
    raise ConfigError(
        f"policy={policy!r} is invalid; allowed: {', '.join(BASELINES)}, heuristic or a callable"
    )


def run_episodes(
    scenario: str,
    config: FieldConfig,
    policy: Policy,
    num_fields: int,
    seed: int | None = None,
    layouts: list | None = None,
    progress: bool = False,
    on_step: Callable[[SwarmSim], None] | None = None,
    yield_moves: bool = True,
) -> list[dict[str, Any]]:
    """One episode on each of ``num_fields`` fields; returns one metrics dict per field.

    Keys: coverage, coverage_curve (coverage after each step), steps, steps_to_95 (None if never),
    plants_found, plants_total, plants_watered, water_delivered, water_wasted, water_drawn,
    water_in_tanks, wasted_trips, collisions, battery_depletions, bumps, energy, episode_return,
    lower_bound_steps (recon: the fewest steps any swarm needs to the coverage goal, env/bounds.py),
    bound_ratio (steps / lower bound, recon), found_plants ([y, x] discovered, recon).
    ``policy``: a baseline name or a callable obs[num_envs, D] -> actions[num_envs].
    ``on_step(sim)`` is called after every step (e.g. to record frames).
    ``yield_moves``: a callable policy's drones give way to each other by the heuristics' rule
    (env.shield.yield_moves: no two share a cell off the base; drones flying home that cannot afford
    to wait never do); False: its actions as they come.
    """
    get_scenario(scenario)
    if isinstance(num_fields, bool) or not isinstance(num_fields, int) or num_fields < 1:
        raise ConfigError(f"num_fields={num_fields!r} is out of range; allowed: >= 1")
    seed = config.seed if seed is None else int(seed)
    sim = SwarmSim(scenario, config, num_fields, seed=seed, layouts=layouts, auto_reset=False)
    ctrl = _controller(policy, sim, seed, yield_moves)
    obs = sim.observe(np.arange(num_fields))
    results: list[dict[str, Any] | None] = [None] * num_fields
    curves = [[] for _ in range(num_fields)]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.max_steps, desc=f"{scenario} episodes", unit="step")
    while not sim.finished.all():
        live = np.flatnonzero(~sim.finished)
        res = sim.step(ctrl(sim, obs))
        obs = res.obs
        cov = sim.coverage()
        for f in live.tolist():
            curves[f].append(round(float(cov[f]), 6))
        for f, m in zip(res.done_fields.tolist(), res.metrics):
            results[f] = m
        if on_step is not None:
            on_step(sim)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    out = []
    for f, m in enumerate(results):
        assert m is not None
        m = dict(m)
        m["coverage_curve"] = curves[f]
        lb = m["lower_bound_steps"]
        m["bound_ratio"] = (m["steps"] / lb) if lb > 0 else None
        if not sim.scenario.watering:
            view = sim.field_view(f)
            m["found_plants"] = np.argwhere(view["plants_known"]).tolist()
        out.append(m)
    return out
