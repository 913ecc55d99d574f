"""Property-based tests (hypothesis) of the simulator's invariants."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from env.baselines import make_baseline
from env.config import ConfigError, FieldConfig
from env.core import SwarmSim
from env.layout import UNREACHABLE, LayoutPrefetch, bfs_distance, generate_batch, layout_for

pytestmark = pytest.mark.unit
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def configs(draw: st.DrawFn) -> FieldConfig:
    """Small random but valid field configs."""
    w, h = draw(st.integers(4, 11)), draw(st.integers(4, 11))
    dens = draw(st.sampled_from([0.0, 0.0, 0.1, 0.2, 0.3]))
    n_drones = draw(st.integers(1, 5))
    n_plants = draw(st.integers(0, max(0, int(w * h * 0.25))))
    return FieldConfig(width=w, height=h, n_drones=n_drones, n_plants=n_plants, obstacle_density=dens,
                       sensor_radius=draw(st.integers(0, 3)), obstacles_block_sensor=draw(st.booleans()),
                       tank_capacity=draw(st.integers(1, 4)), battery_capacity=draw(st.integers(10, 40)),
                       recharge_rate=draw(st.integers(1, 15)), max_steps=draw(st.integers(5, 50)),
                       coverage_target=draw(st.sampled_from([0.5, 0.9, 1.0])))


def _sim_or_refused(scenario: str, cfg: FieldConfig, fields: int, seed: int, **kw: object) -> SwarmSim | None:
    try:
        return SwarmSim(scenario, cfg, fields, seed=seed, **kw)
    except ConfigError as exc:  # e.g. obstacles leave too few free cells for the plants
        assert "allowed" in str(exc) and "\n" not in str(exc)
        return None


@PROPS
@given(cfg=configs(), scenario=st.sampled_from(["recon", "watering"]), seed=st.integers(0, 2**31))
def test_invariants_hold_every_step(cfg: FieldConfig, scenario: str, seed: int) -> None:
    """In bounds, never inside an obstacle, battery within [0, capacity], coverage never decreases,
    water conserved (delivered + in tanks + wasted = drawn)."""
    sim = _sim_or_refused(scenario, cfg, 3, seed, auto_reset=False)
    if sim is None:
        return
    rng = np.random.default_rng(seed)
    last_cov = sim.coverage().copy()
    for _ in range(cfg.max_steps + 1):
        sim.step(rng.integers(0, sim.scenario.n_actions, sim.num_rows))
        y, x = sim.positions()
        assert ((y >= 0) & (y < cfg.height) & (x >= 0) & (x < cfg.width)).all()
        for f in range(sim.B):
            assert not sim.field_view(f)["obstacles"][y[f], x[f]].any()
        assert (sim.battery >= 0).all() and (sim.battery <= cfg.battery_capacity).all()
        cov = sim.coverage()
        assert (cov >= last_cov - 1e-12).all()
        last_cov = cov.copy()
        c = sim.counters
        assert (c["drawn"] == c["delivered"] + c["wasted"] + sim.tank.sum(axis=1)).all()
        if sim.finished.all():
            break
    assert sim.finished.all()


@PROPS
@given(cfg=configs(), scenario=st.sampled_from(["recon", "watering"]), seed=st.integers(0, 2**31),
       n_fields=st.integers(2, 4))
def test_batch_equals_fields_stepped_alone(cfg: FieldConfig, scenario: str, seed: int, n_fields: int) -> None:
    try:
        layouts = [layout_for(cfg, seed, field=f) for f in range(n_fields)]
    except ConfigError:
        return
    batch = SwarmSim(scenario, cfg, n_fields, layouts=layouts)
    alone = [SwarmSim(scenario, cfg, 1, layouts=[lay]) for lay in layouts]
    rng = np.random.default_rng(seed)
    n = cfg.n_drones
    for _ in range(2 * cfg.max_steps):
        a = rng.integers(0, batch.scenario.n_actions, batch.num_rows)
        rb = batch.step(a)
        for f, sim in enumerate(alone):
            rs = sim.step(a[f * n:(f + 1) * n])
            np.testing.assert_array_equal(rb.obs[f * n:(f + 1) * n], rs.obs)
            np.testing.assert_array_equal(rb.rewards[f * n:(f + 1) * n], rs.rewards)
            assert rb.terminated[f] == rs.terminated[0] and rb.truncated[f] == rs.truncated[0]


@PROPS
@given(cfg=configs(), scenario=st.sampled_from(["recon", "watering"]), seed=st.integers(0, 2**31),
       small=st.integers(1, 3), extra=st.integers(1, 4))
def test_same_seed_same_trajectory_on_any_batch_size(cfg: FieldConfig, scenario: str, seed: int, small: int,
                                                     extra: int) -> None:
    """Field i follows the same trajectory (across auto-resets too) whatever the batch size."""
    a_sim = _sim_or_refused(scenario, cfg, small, seed)
    b_sim = _sim_or_refused(scenario, cfg, small + extra, seed)
    if a_sim is None or b_sim is None:
        return
    rows = small * cfg.n_drones
    act_a, act_b = make_baseline("random", a_sim, seed), make_baseline("random", b_sim, seed)
    for _ in range(2 * cfg.max_steps + 3):
        aa, ab = act_a(a_sim), act_b(b_sim)
        np.testing.assert_array_equal(aa, ab[:rows])
        ra, rb = a_sim.step(aa), b_sim.step(ab)
        np.testing.assert_array_equal(ra.obs, rb.obs[:rows])
        np.testing.assert_array_equal(ra.rewards, rb.rewards[:rows])


@PROPS
@given(cfg=configs(), seed=st.integers(0, 2**31))
def test_generated_layouts_reachable_or_refused(cfg: FieldConfig, seed: int) -> None:
    """Every free cell (and so every plant) is reachable from the base, or the config is refused."""
    try:
        lay = generate_batch(cfg, seed, np.arange(4), np.zeros(4, dtype=np.int64))
    except ConfigError as exc:
        assert "allowed" in str(exc)
        return
    d = bfs_distance(~lay.obstacles, lay.base[:, 0], lay.base[:, 1])
    assert not (~lay.obstacles & (d >= UNREACHABLE)).any()
    assert not (lay.plants & lay.obstacles).any()
    assert not lay.plants[np.arange(4), lay.base[:, 0], lay.base[:, 1]].any()
    assert (lay.plants.reshape(4, -1).sum(axis=1) == cfg.plants).all()
    np.testing.assert_array_equal(d, lay.dist)
    assert ((lay.needs[lay.plants] >= 1) & (lay.needs[lay.plants] <= cfg.max_water_need)).all()


@PROPS
@given(cfg=configs(), seeds=st.lists(st.integers(0, 2**31), min_size=1, max_size=2),
       picks=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True),
                      min_size=1, max_size=60))
def test_prefetched_layouts_are_the_ones_drawn_alone(
        cfg: FieldConfig, seeds: list[int], picks: list[list[int]]) -> None:
    """LayoutPrefetch hands out exactly generate_batch's layouts, across blocks, restarts and seeds."""
    prefetch = LayoutPrefetch(cfg, 4)
    episode = np.full(4, -1, dtype=np.int64)
    for i, pick in enumerate(picks):
        seed = seeds[i * len(seeds) // len(picks)]
        if i and seed != seeds[(i - 1) * len(seeds) // len(picks)]:
            episode[:] = -1  # a reset with a new seed restarts the episode counters
        fields = np.array(sorted(pick), dtype=np.int64)
        episode[fields] += 1
        try:
            want = generate_batch(cfg, seed, fields, episode[fields])
        except ConfigError:  # this episode's obstacles leave too few free cells: refused alike
            with pytest.raises(ConfigError):
                prefetch.get(seed, fields, episode[fields])
            return
        got = prefetch.get(seed, fields, episode[fields])
        for name in ("obstacles", "base", "plants", "needs", "dist"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


@PROPS
@given(cfg=configs(), seed=st.integers(0, 2**31), policy=st.sampled_from(["random", "lawnmower"]))
# found by this test: with obstacles blocking the sensor a move uncovers more than one side of the square
@example(cfg=FieldConfig(width=8, height=8, n_drones=1, n_plants=0, sensor_radius=3, tank_capacity=1,
                         max_water_need=3, battery_capacity=10, max_steps=5, obstacle_density=0.2,
                         obstacles_block_sensor=True, coverage_target=0.5, seed=0), seed=19, policy="random")
def test_lower_bound_is_at_least_the_capacity_bound_and_never_beaten(
        cfg: FieldConfig, seed: int, policy: str) -> None:
    cfg = cfg.replace(max_steps=200, battery_capacity=400)
    sim = _sim_or_refused("recon", cfg, 2, seed, auto_reset=False)
    if sim is None:
        return
    free = np.array([(~sim.field_view(f)["obstacles"]).sum() for f in range(2)])
    goal = np.ceil(cfg.coverage_target * free - 1e-9)
    side = 2 * cfg.sensor_radius + 1
    per_move = cfg.n_drones * (side * side if cfg.obstacles_block_sensor and cfg.sensor_radius > 1 else side)
    capacity = np.ceil(np.maximum(goal - sim.counters["covered"], 0) / per_move)
    assert (sim.lower_bound_steps() >= capacity).all()  # travel from the base only adds to it
    ctrl = make_baseline(policy, sim, seed)
    while not sim.finished.all():
        res = sim.step(ctrl(sim))
        for f, m in zip(res.done_fields, res.metrics):
            if res.terminated[f] and m["coverage"] >= cfg.coverage_target - 1e-9:
                assert m["steps"] >= m["lower_bound_steps"]


def test_prefetch_refuses_exactly_the_episodes_that_cannot_be_drawn() -> None:
    """A block holding one undrawable layout must not refuse its drawable neighbours (nor hide it)."""
    cfg = FieldConfig(width=4, height=4, n_drones=9, obstacle_density=0.4, n_plants=0)
    prefetch, refused = LayoutPrefetch(cfg, 1), []
    for e in range(64):
        one = (np.array([0]), np.array([e]))
        try:
            generate_batch(cfg, 0, *one)
        except ConfigError:
            refused.append(e)
            with pytest.raises(ConfigError):
                prefetch.get(0, *one)
            continue
        assert prefetch.get(0, *one).base.shape == (1, 2)
    assert refused, "no undrawable episode in this config any more: pick a denser one"
