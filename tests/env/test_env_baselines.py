"""Baselines do their job: the heuristics finish the task and beat random; metrics are complete."""
from __future__ import annotations

import numpy as np
import pytest

from env.config import ConfigError, FieldConfig
from env.layout import bfs_distance, layout_for
from env.rollout import run_episodes

pytestmark = pytest.mark.unit
KEYS = {"coverage", "coverage_curve", "steps", "steps_to_95", "plants_found", "plants_total",
        "water_delivered", "water_wasted", "collisions", "battery_depletions", "episode_return",
        "lower_bound_steps", "energy"}


@pytest.mark.parametrize("density", [0.0, 0.2])
def test_lawnmower_reaches_the_target_near_the_bound_and_beats_random(density: float) -> None:
    cfg = FieldConfig(width=20, height=16, n_drones=4, n_plants=25, obstacle_density=density, max_steps=300)
    mow = run_episodes("recon", cfg, "lawnmower", num_fields=4, seed=2)
    rnd = run_episodes("recon", cfg, "random", num_fields=4, seed=2)
    for m in mow:
        assert KEYS <= set(m) and len(m["coverage_curve"]) == m["steps"]
        assert m["coverage"] >= cfg.coverage_target and m["steps_to_95"] is not None
        assert m["lower_bound_steps"] <= m["steps"] <= 3 * m["lower_bound_steps"]
        assert m["battery_depletions"] == 0 and m["plants_found"] == len(m["found_plants"])
        assert np.all(np.diff(m["coverage_curve"]) >= 0)
    assert np.mean([m["steps"] for m in mow]) < np.mean([m["steps"] for m in rnd])
    assert np.mean([m["plants_found"] for m in mow]) > np.mean([m["plants_found"] for m in rnd])


@pytest.mark.parametrize("policy", ["lawnmower", "partition", "sectors"])
def test_sweeps_respect_battery_by_going_home(policy: str) -> None:
    cfg = FieldConfig(width=16, height=16, n_drones=2, n_plants=10, max_steps=800, obstacle_density=0.1)
    lay = layout_for(cfg, seed=4)
    far = int(bfs_distance(~lay.obstacles[None], np.array([lay.base[0]]), np.array([lay.base[1]]))[0][
        ~lay.obstacles].max())
    cfg = cfg.replace(battery_capacity=2 * far + 6, recharge_rate=10)  # every cell reachable, not all at once
    m = run_episodes("recon", cfg, policy, num_fields=1, seed=4, layouts=[lay])[0]
    assert m["battery_depletions"] == 0 and m["coverage"] >= 0.95
    assert m["energy"] > cfg.battery_capacity * cfg.n_drones  # it did have to recharge on the way


@pytest.mark.parametrize("density", [0.0, 0.2])
def test_greedy_waters_every_plant_without_waste(density: float) -> None:
    cfg = FieldConfig(width=16, height=12, n_drones=3, n_plants=15, tank_capacity=3, obstacle_density=density,
                      max_steps=400)
    greedy = run_episodes("watering", cfg, "greedy", num_fields=3, seed=1)
    rnd = run_episodes("watering", cfg, "random", num_fields=3, seed=1)
    for m in greedy:
        assert m["water_delivered"] == m["water_need"] and m["water_wasted"] == 0
        assert m["plants_watered"] == m["plants_total"] == 15 and m["battery_depletions"] == 0
        assert m["water_drawn"] == m["water_delivered"] + m["water_wasted"] + m["water_in_tanks"]
    assert sum(m["episode_return"] for m in greedy) > sum(m["episode_return"] for m in rnd)


def test_policy_errors_are_one_line() -> None:
    cfg = FieldConfig(width=8, height=8, n_drones=2, n_plants=3)
    for scenario, policy, msg in (("recon", "greedy", "for recon: random, sectors, lawnmower, partition$"),
                                  ("watering", "lawnmower", "allowed for watering: random, routes, greedy$"),
                                  ("watering", "sectors", "^policy='sectors' is for scenario recon"),
                                  ("recon", "smart", "policy='smart' is unknown"),
                                  ("orbit", "random", "scenario='orbit' is unknown")):
        with pytest.raises(ConfigError, match=msg):
            run_episodes(scenario, cfg, policy, num_fields=1, seed=0)


def test_heuristic_alias_and_callable_policy() -> None:
    cfg = FieldConfig(width=8, height=8, n_drones=2, n_plants=3, max_steps=20)
    assert run_episodes("watering", cfg, "heuristic", 1, seed=0)[0]["water_wasted"] == 0
    m = run_episodes("recon", cfg, lambda obs: np.zeros(len(obs), dtype=int), 2, seed=0)
    assert [x["steps"] for x in m] == [20, 20] and m[0]["energy"] == 0


@pytest.mark.parametrize("policy", ["lawnmower", "partition", "sectors"])
def test_recon_heuristics_never_collide_on_a_crowded_field(policy: str) -> None:
    """The heuristics' drones give way by the learned policies' rule (env.shield.yield_moves), so the
    comparison is between swarms that do not crash: before, their navigator went anyway after three
    waits (9-117 collisions per field on the suite's larger entries)."""
    cfg = FieldConfig(width=20, height=20, n_drones=12, obstacle_density=0.2, max_steps=120)
    metrics = run_episodes("recon", cfg, policy, num_fields=4, seed=3)
    assert sum(m["collisions"] for m in metrics) == 0
    assert all(m["steps_to_95"] is not None and m["battery_depletions"] == 0 for m in metrics)


def test_drones_flying_home_give_way_while_their_battery_can_afford_it() -> None:
    """Greedy's drones fly home when the battery barely covers the way; they give way to others as long
    as a step of waiting still leaves them a step beyond the way home (env.baselines._cannot_wait).
    Before, none of them waited: two that met flew home in one cell, a collision at every step (30 on
    one of these fields, 28 on the suite's 32x32 entry's layouts). The water delivered is the same."""
    from env.baselines import _cannot_wait
    from env.core import SwarmSim

    cfg = FieldConfig(width=32, height=32, n_drones=12, n_plants=20, obstacle_density=0.1, max_steps=300)
    metrics = run_episodes("watering", cfg, "greedy", num_fields=4, seed=1)
    assert [m["collisions"] for m in metrics] == [0, 0, 0, 0]
    assert [m["battery_depletions"] for m in metrics] == [0, 0, 0, 0]
    assert [m["water_delivered"] for m in metrics] == [42, 39, 41, 36]
    sim = SwarmSim("watering", cfg, 1, seed=1, auto_reset=False)
    d = int(sim.dist[sim.cell[0, 0] + sim.field_off[0] + 1])
    assert d == 1  # a free cell next to the base
    sim.cell[0, 0] += 1
    for battery, urgent in ((d + 1, True), (d + 2, False)):
        sim.battery[0, 0] = battery
        assert bool(_cannot_wait(sim)[0, 0]) is urgent
    sim.cell[0, 0] -= 1  # at the base: nothing to wait for
    assert not _cannot_wait(sim)[0, 0]


def test_drones_that_cannot_wait_spread_over_the_shortest_ways_home() -> None:
    """Two drones in one cell, two rows and two columns from the base, both unable to wait (battery =
    distance + 1): one flies up, the other left, both a step nearer. Before, both took the first
    shortest move and flew home in one cell; on fields where batteries bind (96 x 96, 48 drones, a
    100-unit battery) the sweep's collisions fell from 558 + 670 to 212 + 519 (512 x 512 with 128
    drones: 4,606 -> 2,007, docs/scaling.md), with no drone run flat."""
    from env.baselines import Navigator
    from env.core import SwarmSim
    from env.scenarios import HOVER, LEFT, UP

    sim = SwarmSim("recon", FieldConfig(width=12, height=12, n_drones=2), 1, seed=0, auto_reset=False)
    cell = sim.base_cell[0] + 2 * sim.Wp + 2
    sim.cell[0] = [cell, cell]
    d = int(sim.dist[cell + sim.field_off[0]])
    assert d == 4
    sim.battery[0] = d + 1
    actions = Navigator(sim).follow(np.full((1, 2), HOVER), np.ones((1, 2), dtype=bool))
    assert actions.tolist() == [[UP, LEFT]]
    cfg = FieldConfig(width=96, height=96, n_drones=48, n_plants=50, obstacle_density=0.1, max_steps=250,
                      battery_capacity=100)
    metrics = run_episodes("recon", cfg, "sectors", num_fields=2, seed=3)
    assert sum(m["collisions"] for m in metrics) < 900 and sum(m["battery_depletions"] for m in metrics) == 0


def test_greedy_drones_without_a_plant_fly_home_instead_of_blocking_a_corridor() -> None:
    """On 64x64 fields with 20 % obstacles, greedy's drones left without a plant used to hover where
    they were; the drone with the last plant gave way to them (a drone that stays) in one-cell
    corridors until batteries sent them home: 202, 259 and 275 steps on these fields (the suite's 64x64
    entry: 433 on average, 3.3x the learned policy's). Now they fly home: 80, 108 and 205 steps, with the
    same water delivered and no collision."""
    cfg = FieldConfig(width=64, height=64, n_drones=16, n_plants=20, obstacle_density=0.2, max_steps=600)
    metrics = run_episodes("watering", cfg, "greedy", num_fields=4, seed=7)
    finished = [m for m in metrics if m["steps"] < cfg.max_steps]  # either way, one field ends with 2 dry
    assert len(finished) == 3 and sum(m["steps"] for m in finished) <= 450
    assert [m["water_delivered"] for m in metrics] == [37, 43, 43, 39]
    assert sum(m["collisions"] for m in metrics) == 0


@pytest.mark.parametrize("scenario, policy", [("recon", "heuristic"), ("watering", "greedy"),
                                              ("watering", "heuristic")])
def test_heuristics_steer_the_largest_swarm_on_the_largest_field(scenario: str, policy: str) -> None:
    """512 x 512 with 256 drones: paths are planned once per target, so 60 steps take about a second
    (per-drone BFS maps over the whole field took minutes here). The drones give way to each other:
    no collision, so at most one drone per free side of the base takes off per step (at most 240 of
    the 256 in 60 steps; before they gave way strictly, all left in a crowd: 7,000-11,000 collisions).
    Watering's heuristic (env.routes) sends each drone on the longest sortie left: in 60 steps none
    has reached its first plant yet, but every drone in the air is on its way to one."""
    from env.baselines import make_baseline
    from env.core import SwarmSim

    cfg = FieldConfig(width=512, height=512, n_drones=256, n_plants=2000, obstacle_density=0.1, max_steps=60,
                      battery_capacity=2000)  # every cell within a round trip
    sim = SwarmSim(scenario, cfg, 1, seed=5, auto_reset=False)
    ctrl = make_baseline(policy, sim, 5)
    start = sim.cell.copy()
    while not sim.finished.all():
        sim.step(ctrl(sim))
    m = sim.metrics([0])[0]
    assert m["collisions"] == 0 and m["battery_depletions"] == 0
    assert 0.4 < (sim.cell != start).mean() <= 4 * 60 / 256
    assert ctrl.nav.book.planned <= 60 * 256 / 4  # paths are kept: not one search per drone and step
    if policy == "greedy":
        assert m["water_delivered"] > 0 and m["water_wasted"] == 0
    elif scenario == "watering":  # the sweep routes
        assert m["water_wasted"] == 0 and sim.book.queue[0]  # sorties left for drones at the base
        in_air = sim.cell[0] != sim.base_cell[0]
        assert np.all(ctrl.nav.target[0][in_air] >= 0)
    else:
        assert m["coverage"] * m["free_cells"] > 1500  # the swarm spreads out (at take-off: ~9 cells)


def test_sectors_split_the_reachable_cells_into_equal_wedges_around_the_base() -> None:
    """A base in a corner: the empty three quarters of the circle are not inside any sector, each
    drone owns a quarter of the cells, and its wedge is one run of angles (no cell of it lies between
    two cells of another drone's wedge)."""
    from env.layout import sector_owners

    side, pad = 12, 1
    dist = np.full((side + 2 * pad, side + 2 * pad), np.iinfo(np.int32).max // 4, dtype=np.int32)
    ys, xs = np.mgrid[0:side, 0:side]
    dist[pad:-pad, pad:-pad] = ys + xs  # an open field, base at its top-left corner
    dist[pad + 5, pad + 5] = np.iinfo(np.int32).max // 4  # one rock: neither reachable nor owned
    owner = sector_owners(dist.ravel(), pad * (side + 2 * pad) + pad, side + 2 * pad, 4).reshape(dist.shape)
    assert (owner[0] == -1).all() and owner[pad + 5, pad + 5] == -1
    counts = np.bincount(owner[owner >= 0])
    assert counts.tolist() == [36, 36, 36, 35]  # 143 reachable cells
    angle = np.arctan2(ys, xs)[owner[pad:-pad, pad:-pad] >= 0]
    own = owner[pad:-pad, pad:-pad][owner[pad:-pad, pad:-pad] >= 0]
    ranges = [(angle[own == d].min(), angle[own == d].max()) for d in range(4)]
    assert all(hi1 <= lo2 for (_, hi1), (lo2, _) in zip(ranges, ranges[1:]))  # one run of angles each


def test_sectors_take_only_moves_their_compass_shows_and_differ_on_ties_by_seed() -> None:
    """The sector sweep follows the simulator's compass (layout v7): every move a drone makes on its
    own (not flying home) is one its compass shows; it hovers only to let another drone pass. The
    tie breaks come from the seed: another seed, other moves (same field, same first step)."""
    from env.baselines import _needs_home
    from env.core import SwarmSim
    from env.scenarios import DOWN, HOVER, LEFT, RIGHT, UP
    from env.sectors import Sectors

    cfg = FieldConfig(width=24, height=20, n_drones=6, n_plants=10, obstacle_density=0.15, max_steps=200)
    other = SwarmSim("recon", cfg, 3, seed=4)
    other_sweep = Sectors(other, seed=1)
    sim = SwarmSim("recon", cfg, 3, seed=4)
    sweep = Sectors(sim, seed=0)
    differ = False
    for _ in range(30):  # the same field, another seed: other moves where gains tie
        mine, theirs = sweep(sim), other_sweep(other)
        differ |= bool((mine != theirs).any())
        sim.step(mine)
        other.step(theirs)
    assert differ
    sim = SwarmSim("recon", cfg, 3, seed=4)
    sweep = Sectors(sim, seed=0)
    moved = 0
    for _ in range(60):
        bits = sim.compass_moves(np.arange(sim.B)).ravel()
        home = _needs_home(sim).ravel()
        actions = sweep(sim)
        for row in np.flatnonzero((actions != HOVER) & ~home):
            assert bits[row] >> (actions[row] - UP) & 1, (row, actions[row], bits[row])
            moved += 1
        assert set(np.unique(actions)) <= {HOVER, UP, DOWN, LEFT, RIGHT}
        sim.step(actions)
    assert moved > 0.8 * 60 * sim.num_rows  # it hovers only to yield


def _hemmed_weights(todo: np.ndarray) -> np.ndarray:
    """Per cell of an unpadded map: 0 with nothing to sense, else 1 + its eight neighbours with nothing
    to sense (off the map counts as nothing to sense), counted one by one."""
    h, w = todo.shape
    out = np.zeros((h, w), dtype=int)
    for y, x in zip(*np.nonzero(todo)):
        out[y, x] = 1 + sum(not (0 <= y + dy < h and 0 <= x + dx < w and todo[y + dy, x + dx])
                            for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    return out


@pytest.mark.parametrize(("radius", "hemmed"), [(0, False), (1, False), (3, False), (0, True), (1, True),
                                                (3, True)])
def test_move_gains_count_the_cells_each_move_would_newly_sense(radius: int, hemmed: bool) -> None:
    """SwarmSim.move_gains against a count on the unpadded maps (field_view), on fields part-sensed by
    random moves, drones on the edges included (a sensor square there leaves the padding); hemmed:
    each cell weighted by 1 + its neighbours with nothing to sense."""
    from env.core import SwarmSim

    cfg = FieldConfig(width=9, height=7, n_drones=5, n_plants=4, obstacle_density=0.2, max_steps=100,
                      sensor_radius=radius)
    sim = SwarmSim("recon", cfg, 3, seed=2)
    rng = np.random.default_rng(0)
    for _ in range(12):
        gains = sim.move_gains(np.arange(sim.B), hemmed=hemmed)
        for f in range(sim.B):
            view = sim.field_view(f)
            todo = ~view["obstacles"] & ~view["covered"]
            weight = _hemmed_weights(todo) if hemmed else todo.astype(int)
            for i, (y, x) in enumerate(zip(view["drones_y"], view["drones_x"])):
                for j, (dy, dx) in enumerate(((-1, 0), (1, 0), (0, -1), (0, 1))):
                    ty, tx = y + dy, x + dx
                    if not (0 <= ty < cfg.height and 0 <= tx < cfg.width) or view["obstacles"][ty, tx]:
                        assert gains[f, i, j] == 0
                        continue
                    square = weight[max(ty - radius, 0):ty + radius + 1, max(tx - radius, 0):tx + radius + 1]
                    assert gains[f, i, j] == square.sum(), (f, i, j)
        sim.step(rng.integers(0, 5, size=sim.num_rows))


def test_sectors_take_the_shown_move_that_senses_the_most() -> None:
    """Of the moves its compass shows, a drone of the sector sweep takes one with the largest hemmed
    gain."""
    from env.baselines import _needs_home
    from env.core import SwarmSim
    from env.scenarios import HOVER, UP
    from env.sectors import Sectors

    cfg = FieldConfig(width=24, height=20, n_drones=6, n_plants=10, obstacle_density=0.15, max_steps=200)
    sim = SwarmSim("recon", cfg, 3, seed=4)
    sweep, checked = Sectors(sim, seed=0), 0
    for _ in range(40):
        bits = sim.compass_moves(np.arange(sim.B)).reshape(-1)
        gains = sim.move_gains(np.arange(sim.B), hemmed=True).reshape(-1, 4)
        home = _needs_home(sim).ravel()
        actions = sweep(sim)
        for row in np.flatnonzero((actions != HOVER) & ~home):
            shown = [j for j in range(4) if bits[row] >> j & 1]
            assert gains[row, actions[row] - UP] == max(gains[row, j] for j in shown), row
            checked += int(len(shown) > 1)
        sim.step(actions)
    assert checked > 20  # rows where the gain had a choice to make


def test_sectors_beat_both_sweeps_on_a_large_field_with_obstacles() -> None:
    """The sweeps send most drones across the others' stretches before they sense anything new; the
    sector sweep senses from take-off. On 40x40 fields with 20 % obstacles and 12 drones it needs
    fewer steps to 95 % than the better of lawnmower and partition (0.81-0.95x on the held-out suite
    entries)."""
    cfg = FieldConfig(width=40, height=40, n_drones=12, n_plants=30, obstacle_density=0.2, max_steps=600,
                      battery_capacity=600)
    steps = {}
    for policy in ("lawnmower", "partition", "sectors"):
        runs = run_episodes("recon", cfg, policy, num_fields=4, seed=3)
        assert all(m["steps_to_95"] is not None and m["battery_depletions"] == 0 for m in runs), policy
        assert all(m["lower_bound_steps"] <= m["steps_to_95"] for m in runs)
        steps[policy] = np.mean([m["steps_to_95"] for m in runs])
    assert steps["sectors"] < 0.95 * min(steps["lawnmower"], steps["partition"]), steps
