"""Unit tests of the simulator rules on hand-made fields."""
from __future__ import annotations

import numpy as np
import pytest

from env.config import FieldConfig
from env.core import COMPASS_FEATURES, N_CHANNELS, OBS_DIM, WINDOW, SwarmSim
from env.reference import PlainSwarm
from env.scenarios import DOWN, HOVER, LEFT, RIGHT, UP, WATER

from tests.env.helpers_env import make_layout, make_sim, pos

pytestmark = pytest.mark.unit

COMPASS_INDEX = OBS_DIM - COMPASS_FEATURES  # the compass's move bits (UP, DOWN, LEFT, RIGHT)
NEED_HERE_INDEX = WINDOW * WINDOW * N_CHANNELS + 11  # own feature 11: the water to release here


def test_move_and_bump_on_edge_and_obstacle() -> None:
    sim = make_sim("recon", make_layout(obstacles=[(0, 2)]))
    r = sim.step([UP])  # field edge
    assert pos(sim) == [(0, 0)] and sim.counters["bumps"][0] == 1
    assert r.rewards[0] == pytest.approx(-0.01 - 0.05)
    sim.step([RIGHT])
    assert pos(sim) == [(0, 1)]
    sim.step([RIGHT])  # obstacle at (0, 2)
    assert pos(sim) == [(0, 1)] and sim.counters["bumps"][0] == 2
    sim.step([DOWN])
    sim.step([LEFT])
    assert pos(sim) == [(1, 0)]


def test_collision_counts_every_drone_in_a_shared_cell_but_not_at_base() -> None:
    sim = make_sim("recon", make_layout(), n_drones=3)
    r = sim.step([HOVER, HOVER, HOVER])  # all at the base: no collision
    assert sim.counters["collisions"][0] == 0
    r = sim.step([RIGHT, RIGHT, DOWN])
    assert pos(sim) == [(0, 1), (0, 1), (1, 0)]
    assert sim.counters["collisions"][0] == 2
    assert r.rewards[0] == pytest.approx(r.rewards[2] - 0.5, abs=0.2)


def test_battery_drains_away_from_base_recharges_at_base_and_grounds_when_empty() -> None:
    sim = make_sim("recon", make_layout(width=20, height=4), battery_capacity=10, recharge_rate=3)
    for _ in range(4):
        sim.step([RIGHT])
    assert sim.battery[0, 0] == 6 and sim.counters["energy"][0] == 4
    for _ in range(4):
        sim.step([LEFT])
    assert pos(sim) == [(0, 0)] and sim.battery[0, 0] == 6  # 3 drained on the way, +3 on arrival
    sim.step([HOVER])
    sim.step([HOVER])
    assert sim.battery[0, 0] == 10 and sim.counters["energy"][0] == 7
    for _ in range(9):
        sim.step([RIGHT])
    assert sim.active[0, 0] and sim.battery[0, 0] == 1
    r = sim.step([RIGHT])
    assert not sim.active[0, 0] and sim.battery[0, 0] == 0 and sim.counters["depletions"][0] == 1
    assert r.rewards[0] == pytest.approx(-0.01 - 5.0 + 0.1)  # step, depletion, the cell it still sensed
    assert r.terminated[0]  # every drone grounded


def test_sensing_square_and_plant_discovery_credit_lowest_index() -> None:
    lay = make_layout(width=8, height=8, base=(4, 4), plants=[(4, 6), (0, 0)])
    sim = make_sim("recon", lay, n_drones=2, sensor_radius=1)
    assert sim.counters["covered"][0] == 9 and sim.counters["plants_found"][0] == 0
    r = sim.step([RIGHT, RIGHT])  # both see column 6 for the first time: drone 0 gets the credit
    assert sim.counters["covered"][0] == 12 and sim.counters["plants_found"][0] == 1
    assert r.rewards[0] == pytest.approx(-0.01 - 0.5 + 3 * 0.1 + 0.5)  # incl. the collision
    assert r.rewards[1] == pytest.approx(-0.01 - 0.5)
    assert sim.field_view(0)["plants_known"][4, 6] and not sim.field_view(0)["plants_known"][0, 0]


def test_obstacles_block_line_of_sight_only_when_flag_set() -> None:
    lay = make_layout(width=9, height=9, base=(4, 4), obstacles=[(4, 5)])
    seen = {}
    for flag in (False, True):
        sim = make_sim("recon", lay, sensor_radius=3, obstacles_block_sensor=flag)
        seen[flag] = sim.field_view(0)["covered"]
    assert seen[False][4, 7] and not seen[True][4, 7]  # behind the obstacle, same row
    assert seen[True][4, 3] and seen[True][1, 4]


def test_watering_delivery_over_watering_spill_empty_and_refill() -> None:
    lay = make_layout(width=6, height=4, plants=[(0, 1), (3, 5)], needs=[2, 1])
    sim = make_sim("watering", lay, n_drones=3, tank_capacity=2)
    r = sim.step([RIGHT, RIGHT, RIGHT])
    # new cell (0.02, drone 0 only), 3-drone collision, +0.3 each for reaching a needy plant with water
    expect = [-0.01 + 0.02 - 0.5 + 0.3, -0.01 - 0.5 + 0.3, -0.01 - 0.5 + 0.3]
    assert r.rewards.tolist() == pytest.approx(expect)
    r = sim.step([WATER, WATER, WATER])  # need 2, three drones: two delivered, one over-watered
    assert sim.counters["delivered"][0] == 2 and sim.counters["wasted"][0] == 1
    # step, collision, delivery, and the shaping potential lost now that the plant is satisfied
    assert r.rewards[0] == pytest.approx(-0.01 - 0.5 + 1.0 - 0.3)
    assert r.rewards[2] == pytest.approx(-0.01 - 0.5 - 0.5 - 0.3)
    assert sim.counters["plants_watered"][0] == 1 and not r.terminated[0]
    assert sim.tank[0].tolist() == [1, 1, 1]
    drawn, delivered, wasted = (sim.counters[k][0] for k in ("drawn", "delivered", "wasted"))
    assert drawn == delivered + wasted + sim.tank[0].sum()


def test_spill_off_plant_empty_release_and_wasted_trip() -> None:
    lay = make_layout(width=6, height=4, plants=[(2, 5)], needs=[1])
    sim = make_sim("watering", lay, tank_capacity=1)
    sim.step([RIGHT])
    r = sim.step([WATER])  # no plant here
    assert sim.counters["wasted"][0] == 1 and r.rewards[0] == pytest.approx(-0.01 - 0.1)
    r = sim.step([WATER])  # empty tank
    assert r.rewards[0] == pytest.approx(-0.01 - 0.05)
    r = sim.step([LEFT])  # home without delivering anything: a wasted trip, then refill
    assert sim.counters["wasted_trips"][0] == 1 and r.rewards[0] == pytest.approx(-0.01 - 0.5)
    assert sim.tank[0, 0] == 1 and sim.counters["drawn"][0] == 2


def test_watering_compass_leads_to_the_plant_with_water_and_home_with_an_empty_tank() -> None:
    """Layout v5: the compass's four move bits + distance; with an empty tank they show the way home
    around the obstacle, not to the plant (which still needs water)."""
    from env.core import COMPASS_FEATURES

    lay = make_layout(width=6, height=4, plants=[(0, 5)], needs=[3], obstacles=[(0, 1)])
    sim = make_sim("watering", lay, tank_capacity=1)
    compass = lambda: sim.observe(np.arange(1))[0, OBS_DIM - COMPASS_FEATURES:].tolist()  # noqa: E731
    sim.step([DOWN])
    sim.step([RIGHT])  # at (1, 1), one unit of water: the plant at (0, 5) is 5 steps to the right
    assert compass() == pytest.approx([0.0, 0.0, 0.0, 1.0, 5 / 10])
    for move in (RIGHT, RIGHT, RIGHT, RIGHT, UP):
        sim.step([move])
    sim.step([WATER])  # delivered; the tank is empty and the plant still needs 2
    assert sim.tank[0, 0] == 0 and sim.need.max() == 2
    # on the plant at (0, 5): home is 7 steps away around (0, 1), going down or left
    assert compass() == pytest.approx([0.0, 1.0, 1.0, 0.0, 7 / 10])


@pytest.mark.parametrize("plants, expected", [([(0, 4), (0, 13)], 12), ([(0, 4)], 3)])
def test_a_drone_without_work_in_its_region_skips_the_work_another_region_claims(
        plants: list[tuple[int, int]], expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Layout v6: drone 0 at (0, 2) owns the plant at (0, 4) (its region's nearest: claimed); drone 1
    at (0, 1) owns no plant, so its compass leads to the nearest unclaimed plant, (0, 13), 12 steps
    away, not to the claimed one 3 steps away; when every plant is claimed, to the nearest anyway.
    (Since v8 watering flies its plan; the regions remain bench/ablation.py's ``no_plan`` variant.)"""
    monkeypatch.setattr(SwarmSim, "PLANNED_WORK", ())
    from env.core import COMPASS_FEATURES

    lay = make_layout(width=14, height=4, plants=plants, needs=[1] * len(plants))
    sim = make_sim("watering", lay, n_drones=2)
    sim.step([RIGHT, RIGHT])
    sim.step([RIGHT, HOVER])
    assert pos(sim) == [(0, 2), (0, 1)] and (sim.tank > 0).all()
    compass = sim.observe(np.arange(1))[:, OBS_DIM - COMPASS_FEATURES:]
    assert compass[0].tolist() == pytest.approx([0.0, 0.0, 0.0, 1.0, 2 / 18])
    assert compass[1].tolist() == pytest.approx([0.0, 0.0, 0.0, 1.0, expected / 18])


def test_watering_regions_match_the_reference_beyond_their_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    """One drone flies to the far end of a long field with few plants while the other hovers: regions
    end REGION_REACH steps from their drone, so a plant farther than that is found only by the
    fallback (the nearest plant anywhere), and the compass still equals the oracle's throughout
    (layout v7's watering compass: the ``no_plan`` variant)."""
    monkeypatch.setattr(SwarmSim, "PLANNED_WORK", ())
    from env.core import COMPASS_FEATURES, REGION_REACH

    width = 2 * REGION_REACH + 12
    cfg = FieldConfig(width=width, height=4, n_drones=2, n_plants=3, max_steps=2 * width, tank_capacity=7)
    sim, ref = SwarmSim("watering", cfg, 1, seed=20), PlainSwarm("watering", cfg, 1, seed=20)
    farthest = 0.0
    for _ in range(width - 1):
        obs = sim.observe(np.arange(1))
        np.testing.assert_allclose(obs, ref.observe(), atol=1e-6)
        farthest = max(farthest, float(obs[:, OBS_DIM - 1].max()) * (cfg.width + cfg.height))
        assert (obs[:, OBS_DIM - COMPASS_FEATURES:] != 0).any()
        move = RIGHT if sim.cell_x[sim.cell[0, 0]] < width - 5 else LEFT
        sim.step([move, HOVER])
        ref.step(np.array([move, HOVER]))
    assert farthest > REGION_REACH


def test_recon_ends_at_coverage_target_with_completion_bonus() -> None:
    lay = make_layout(width=4, height=4)
    sim = make_sim("recon", lay, sensor_radius=1, coverage_target=0.5)
    r = sim.step([DOWN])
    assert not r.terminated[0]
    r = sim.step([RIGHT])
    assert sim.counters["covered"][0] >= 8 and r.terminated[0]
    assert r.rewards[0] == pytest.approx(-0.01 + 0.1 * 3 + 1.0)
    assert r.metrics[0]["coverage"] >= 0.5 and r.metrics[0]["steps"] == 2


def test_truncation_at_max_steps_and_auto_reset_gives_terminal_obs() -> None:
    cfg = FieldConfig(width=8, height=8, n_drones=2, n_plants=3, max_steps=3)
    sim = SwarmSim("recon", cfg, 2, seed=1)
    for _ in range(2):
        r = sim.step(np.zeros(4, dtype=int))
        assert not r.done_fields.size
    r = sim.step(np.zeros(4, dtype=int))
    assert r.truncated.all() and not r.terminated.any()
    assert r.terminal_obs.shape == (4, OBS_DIM) and len(r.metrics) == 2
    assert (sim.counters["step"] == 0).all() and (sim.episode == 1).all()


def test_lower_bound_counts_both_sensing_capacity_and_travel_from_the_base() -> None:
    # A 4 x 32 strip, 8 drones, base in a corner: capacity alone allows ceil((128 - 4) / 24) = 6 steps,
    # but the far corner (3, 31) is in sensor range only from (2, 30), 32 moves away.
    sim = make_sim("recon", make_layout(width=32, height=4, base=(0, 0)), n_drones=8, sensor_radius=1,
                   coverage_target=1.0)
    assert sim.lower_bound_steps()[0] == 32
    # 10 x 10, 2 drones (6 new cells a step): all cells are in range of a reachable cell by step 16 and
    # capacity alone says 16 too ((100 - 4) / 6), but cells arrive 4, 4, 5, 6, ..., 11 (step 8), 8, ..., 1
    # a step: from step 4 on more arrive than the swarm can sense, and 3 still wait after step 16.
    sim = make_sim("recon", make_layout(width=10, height=10, base=(0, 0)), n_drones=2, sensor_radius=1,
                   coverage_target=1.0)
    assert sim.lower_bound_steps()[0] == 17


def test_idle_drone_steps_count_until_the_coverage_target() -> None:
    """A drone-step that newly senses nothing (hovering, re-crossing sensed cells) is idle; the step
    that reaches the target still counts, later ones do not."""
    corridor = make_layout(width=4, height=4, obstacles=[(y, x) for y in (1, 2, 3) for x in range(4)])
    sim = make_sim("recon", corridor, coverage_target=1.0)  # 4 free cells in a row; radius 0: its own cell
    for action in (HOVER, RIGHT, LEFT, RIGHT, RIGHT):  # idle, new, idle (back), idle (again), new
        sim.step([action])
    assert (sim.counters["drone_steps_to_95"][0], sim.counters["idle_steps_to_95"][0]) == (5, 3)
    sim.step([RIGHT])  # the 4th cell: 100 % (and 95 %) reached on this step
    assert sim.finished[0]  # without auto-reset a finished field stays frozen
    m = sim.metrics(np.array([0]))[0]
    assert (m["steps_to_95"], m["drone_steps_to_95"], m["idle_steps_to_95"]) == (6, 6, 3)


def test_bad_actions_are_refused() -> None:
    sim = make_sim("recon", make_layout())
    with pytest.raises(ValueError, match="allowed: 0..4"):
        sim.step([5])


@pytest.mark.parametrize("scenario", ["recon", "watering"])
@pytest.mark.parametrize("extra", [{}, {"obstacle_density": 0.25, "obstacles_block_sensor": True,
                                        "sensor_radius": 3}])
@pytest.mark.parametrize("regions, sectors", [
    (("recon", "watering"), ("recon",)),  # layout v7
    (("recon", "watering"), ()),  # v6 (bench/ablation.py's nearest_regions variant)
    (("recon", "watering"), ("recon", "watering")),  # sectors with homebound drones too
    ((), ()),  # no regions (the no_regions variant)
])
def test_vectorised_equals_plain_python_reference(scenario: str, extra: dict, regions: tuple[str, ...],
                                                  sectors: tuple[str, ...],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With own regions (sectors, layout v7; nearest cells, v5/v6) and without; watering without its
    plan (layout v7's compass; the plan: below)."""
    monkeypatch.setattr(SwarmSim, "OWN_REGIONS", regions)
    monkeypatch.setattr(SwarmSim, "SECTOR_REGIONS", sectors)
    monkeypatch.setattr(SwarmSim, "PLANNED_WORK", ())
    _compare_with_reference(scenario, extra, follow=0.0)


@pytest.mark.parametrize("extra", [{}, {"obstacle_density": 0.25, "obstacles_block_sensor": True,
                                        "sensor_radius": 3}])
@pytest.mark.parametrize("follow", [0.0, 0.8])
def test_vectorised_equals_plain_python_reference_flying_the_plan(extra: dict, follow: float) -> None:
    """Watering's plan (layout v8): the sorties drones take, give back and fly, the compass to their
    next stop and the water planned there, under random actions and under actions that mostly
    (``follow``) take a compass move or release where the sortie plans water, so sorties are flown
    to the end, batteries send drones home mid-sortie and drones take sorties again."""
    _compare_with_reference("watering", extra, follow)


def _compare_with_reference(scenario: str, extra: dict, follow: float) -> None:
    """Step the vectorised simulator and env.reference with the same actions: the same observations,
    rewards, ends of episodes and counters (``follow``: the share of drones acting on their compass
    and own feature 11, the others at random)."""
    cfg = FieldConfig(width=10, height=9, n_drones=4, n_plants=12, max_steps=40, battery_capacity=25,
                      recharge_rate=5, tank_capacity=2, **extra)
    sim, ref = SwarmSim(scenario, cfg, 3, seed=5), PlainSwarm(scenario, cfg, 3, seed=5)
    obs = sim.observe(np.arange(3))
    np.testing.assert_allclose(obs, ref.observe(), atol=1e-6)
    rng = np.random.default_rng(1)
    planned = given_back = 0
    queued = [(f.episode, len(f.queue)) for f in ref.fields]
    for _ in range(120):
        # the lower bound of each episode (env.bounds, restated cell by cell in the reference)
        assert sim.counters["lower_bound"].tolist() == [f.c["lower_bound"] for f in ref.fields]
        # where the time went until the coverage target: drone-steps, and those that sensed nothing
        for key in ("drone_steps_to_95", "idle_steps_to_95"):
            assert sim.counters[key].tolist() == [f.c[key] for f in ref.fields], key
        a = rng.integers(0, sim.scenario.n_actions, sim.num_rows)
        bits = obs[:, COMPASS_INDEX:COMPASS_INDEX + 4] > 0.5
        shown = np.argmax(bits + rng.random(bits.shape), axis=1)  # one of the moves shown, at random
        follower = rng.random(sim.num_rows) < follow
        release = obs[:, NEED_HERE_INDEX] > 0
        planned += int(release.sum())
        a = np.where(follower & release, WATER, np.where(follower & bits.any(axis=1), UP + shown, a))
        res = sim.step(a)
        obs, rew, done = ref.step(a)
        np.testing.assert_allclose(res.obs, obs, atol=1e-6)
        np.testing.assert_allclose(res.rewards, rew, atol=1e-6)
        assert res.done_fields.tolist() == np.flatnonzero(done).tolist()
        if sim.planned:  # the same sortie stops, drone by drone (the reference's cells are unpadded)
            stops = [[[(c // sim.Wp - sim.P, c % sim.Wp - sim.P), w] if c >= 0 else None
                      for c, w in zip(cs.tolist(), ws.tolist())]
                     for cs, ws in zip(sim.book.stop, sim.book.amount)]
            assert stops == [[f.route[i][0] if f.route[i] else None for i in range(cfg.n_drones)]
                             for f in ref.fields]
            # a queue that grew within an episode: a drone sent home by its battery gave a sortie back
            now = [(f.episode, len(f.queue)) for f in ref.fields]
            given_back += sum(e == e0 and q > q0 for (e, q), (e0, q0) in zip(now, queued))
            queued = now
    if sim.planned and follow:  # the plan was flown: water released where planned, sorties given back
        assert planned > 50 and given_back > 0, (planned, given_back)


def test_watering_drones_fly_the_plan_and_see_only_the_water_planned_for_them() -> None:
    """Layout v8: a corridor with plants at (0, 2) (need 3) and (0, 6) (need 2), tanks of 4. The plan
    cuts the far end first ([(0, 2) x 2, (0, 6) x 2], 12 steps; then [(0, 2) x 1]); drone 0 takes the
    longest sortie, drone 1 the other. Own feature 11 shows each drone the water planned for it on its
    stop, not the plant's need; a drone whose sortie is flown flies home (its compass) and sees no
    water to release on a plant that still needs some."""
    from env.core import COMPASS_FEATURES

    lay = make_layout(width=8, height=4, plants=[(0, 2), (0, 6)], needs=[3, 2],
                      obstacles=[(y, x) for y in (1, 2, 3) for x in range(8)])
    sim = make_sim("watering", lay, n_drones=2, tank_capacity=4)
    here = WINDOW * WINDOW * N_CHANNELS + 11

    def seen() -> tuple[list[float], list[list[float]]]:
        obs = sim.observe(np.arange(1))
        return (obs[:, here] * 7).round(6).tolist(), obs[:, OBS_DIM - COMPASS_FEATURES:].tolist()

    near = sim.P * sim.Wp + sim.P + 2  # (0, 2), a padded cell
    assert sim.book.stop.tolist() == [[near, near]]  # both go to (0, 2) first
    water, compass = seen()
    assert water == [0.0, 0.0] and compass == [pytest.approx([0.0, 0.0, 0.0, 1.0, 2 / 12])] * 2
    sim.step([RIGHT, RIGHT])
    sim.step([RIGHT, RIGHT])
    assert seen()[0] == [2.0, 1.0]  # the plant needs 3: 2 are drone 0's to give, 1 drone 1's
    sim.step([WATER, WATER])
    water, compass = seen()
    assert sim.need[near] == 1 and water == [1.0, 0.0]  # drone 1's sortie is flown
    assert compass[1] == pytest.approx([0.0, 0.0, 1.0, 0.0, 2 / 12])  # home, to the left
    sim.step([WATER, LEFT])
    water, compass = seen()
    assert water[0] == 0.0 and compass[0] == pytest.approx([0.0, 0.0, 0.0, 1.0, 4 / 12])  # on to (0, 6)
    for _ in range(4):
        sim.step([RIGHT, LEFT])
    assert seen()[0][0] == 2.0
    r = sim.step([WATER, HOVER])
    r = sim.step([WATER, HOVER])
    assert r.terminated[0] and sim.counters["wasted"][0] == 0 and sim.book.stop.tolist() == [[-1, -1]]
