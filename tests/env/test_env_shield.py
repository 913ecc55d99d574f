"""The battery shield sends a drone home from the observation alone, and keeps it charging at base; the
yield shield keeps a learned policy's drones out of each other's cells."""

from __future__ import annotations

import numpy as np
import pytest

from env.config import FieldConfig
from env.core import BIT_BLOCKED, SwarmSim
from env.rollout import run_episodes
from env.scenarios import HOVER
from env.shield import battery_shield, yield_moves

pytestmark = pytest.mark.unit


def test_low_battery_goes_home_and_charges_at_base() -> None:
    cfg = FieldConfig(width=40, height=12, n_drones=1, n_plants=0, battery_capacity=100, recharge_rate=5)
    sim = SwarmSim("recon", cfg, 1, seed=3, auto_reset=False)
    away = np.full(1, 4)  # always fly right: far from the base, then the battery is low
    for _ in range(100):
        obs = sim.observe(np.arange(1))
        act = battery_shield(obs, away)
        if act[0] != 4:
            break
        sim.step(act)
    here = sim.dist[sim.cell[0, 0] + sim.field_off[0]]
    assert act[0] != 4 and 0 < here and sim.battery[0, 0] <= here + 0.02 * 100
    while sim.cell[0, 0] != sim.base_cell[0]:  # the shield's moves lead home before the battery dies
        sim.step(battery_shield(sim.observe(np.arange(1)), away))
        assert sim.active[0, 0]
    assert battery_shield(sim.observe(np.arange(1)), away)[0] == HOVER  # recharging at the base


def test_shielded_random_swarm_never_depletes_where_random_does() -> None:
    # the reserve (2 % of the battery) must be >= 2 steps: one step can widen the gap by two
    cfg = FieldConfig(width=24, height=24, n_drones=3, battery_capacity=100, max_steps=300)
    rng = np.random.default_rng(0)

    def wander(obs: np.ndarray) -> np.ndarray:
        return rng.integers(1, 5, size=len(obs))

    plain = run_episodes("recon", cfg, wander, num_fields=4, seed=1)
    shielded = run_episodes("recon", cfg, lambda obs: battery_shield(obs, wander(obs)), num_fields=4, seed=1)
    assert sum(m["battery_depletions"] for m in plain) > 0
    assert sum(m["battery_depletions"] for m in shielded) == 0


@pytest.mark.parametrize("scenario", ["recon", "watering"])
def test_yield_moves_leave_no_two_drones_in_one_cell_and_give_way_only_where_needed(scenario: str) -> None:
    """Random actions of crowded swarms: after the yield shield no step has a collision (the same
    actions unshielded have many); it only turns moves into hovers, and each drone it stops was heading
    for a cell (not the base) where another drone ends the step."""
    cfg = FieldConfig(width=9, height=7, n_drones=10, n_plants=6, obstacle_density=0.15, max_steps=60)
    sim = SwarmSim(scenario, cfg, 6, seed=5, auto_reset=False)
    plain = SwarmSim(scenario, cfg, 6, seed=5, auto_reset=False)
    rng = np.random.default_rng(1)
    stopped = 0
    for _ in range(50):
        actions = rng.integers(0, 5, sim.num_rows)
        kept = yield_moves(sim, actions)
        changed = np.flatnonzero(kept != actions)
        assert (kept[changed] == HOVER).all()
        target = (sim.cell + sim.move_delta[actions.reshape(sim.B, sim.N)]).ravel()
        blocked = (np.take_along_axis(sim.packed.reshape(sim.B, sim.C), target.reshape(sim.B, sim.N), axis=1)
                   & BIT_BLOCKED).ravel() > 0  # a blocked move stays where it is
        end = np.where(blocked | (kept == HOVER), sim.cell.ravel(), target).reshape(sim.B, sim.N)
        for row in changed:
            f, i = divmod(int(row), sim.N)
            others = np.delete(end[f][sim.active[f]], np.flatnonzero(np.flatnonzero(sim.active[f]) == i))
            assert target[row] != sim.base_cell[f] and target[row] in others, (f, i)
        stopped += len(changed)
        sim.step(kept)
        plain.step(actions)
    assert sim.counters["collisions"].sum() == 0 and stopped > 20
    assert plain.counters["collisions"].sum() > 20


def test_yield_moves_at_take_off() -> None:
    """At take-off every drone is on the base, which drones may share: a hovering swarm has nothing to
    check (an empty case the loop must survive); of three drones leaving by the same free side, the
    first goes and the other two wait."""
    sim = SwarmSim("recon", FieldConfig(width=8, height=8, n_drones=3), 4, seed=0, auto_reset=False)
    hover = np.full(sim.num_rows, HOVER)
    np.testing.assert_array_equal(yield_moves(sim, hover), hover)
    checked = 0
    for move in (1, 2, 3, 4):  # UP, DOWN, LEFT, RIGHT
        side = sim.packed.reshape(sim.B, sim.C)[np.arange(sim.B), sim.base_cell + sim.move_delta[move]]
        free = (side & BIT_BLOCKED) == 0  # per field: that side of its base is open
        kept = yield_moves(sim, np.full(sim.num_rows, move)).reshape(sim.B, sim.N)
        for f in range(sim.B):
            expected = [move, HOVER, HOVER] if free[f] else [move] * 3
            assert kept[f].tolist() == expected, (move, f)
            checked += int(free[f])
    assert checked > 0


def test_rollouts_of_a_learned_policy_yield_unless_told_not_to() -> None:
    """run_episodes passes a callable policy's actions through the yield shield (evaluation, gate and
    missions act so); yield_moves=False gives the raw actions, with their collisions."""
    cfg = FieldConfig(width=10, height=10, n_drones=8, max_steps=80)

    def wander(obs: np.ndarray) -> np.ndarray:
        return np.random.default_rng(len(obs)).integers(1, 5, size=len(obs))

    shielded = run_episodes("recon", cfg, wander, num_fields=3, seed=2)
    raw = run_episodes("recon", cfg, wander, num_fields=3, seed=2, yield_moves=False)
    assert sum(m["collisions"] for m in shielded) == 0
    assert sum(m["collisions"] for m in raw) > 0


def _row_of_three(turn_step: int) -> tuple[SwarmSim, np.ndarray]:
    """Three drones side by side on an open field, away from the base: drone 1 (left) flies right, drones
    2 (middle) and 0 (right) fly left; the step counter sets whose turn it is first."""
    cfg = FieldConfig(width=12, height=12, n_drones=3, obstacle_density=0.0)
    sim = SwarmSim("recon", cfg, 1, seed=0, auto_reset=False)
    pad = (sim.Wp - cfg.width) // 2  # padded cells: the field starts at (pad, pad)
    row = pad + ((sim.base_cell[0] // sim.Wp - pad + 6) % cfg.height)  # a field row not the base's
    sim.cell[0] = row * sim.Wp + pad + np.array([6, 4, 5])  # right, left, middle
    sim.counters["step"][0] = turn_step
    return sim, np.array([3, 4, 3])  # LEFT, RIGHT, LEFT


def test_whose_turn_it_is_rotates_so_a_locked_chain_moves() -> None:
    """Drones 0 and 1 want the middle cell, whose holder (2) swaps with drone 1. If drone 0 goes first,
    drone 1 waits, so 2 cannot leave and 0 cannot enter: all three hover, and with a fixed order they
    would every step (the sector sweep stalled for 70 steps on a suite field so). The first turn rotates
    with the step: when drone 1's turn comes first, 1 and 2 swap and 0 waits."""
    outcomes = []
    for step in range(3):
        sim, actions = _row_of_three(step)
        outcomes.append(yield_moves(sim, actions).tolist())
    assert outcomes[0] == [HOVER, HOVER, HOVER]  # drone 0 first: locked
    assert [HOVER, 4, 3] in outcomes[1:]  # drone 1 first: the swap


def test_a_drone_flying_home_on_a_low_battery_never_waits() -> None:
    """``keep``: the middle drone stays and the left one flies into it: it goes anyway (a collision
    costs less than a grounded drone); another mover into the cell a kept drone enters gives way."""
    sim, _ = _row_of_three(0)
    hold = np.array([3, 4, HOVER])  # 0 and 1 both head for the middle, where 2 stays
    np.testing.assert_array_equal(yield_moves(sim, hold), [HOVER, HOVER, HOVER])
    keep = np.array([[False, True, False]])
    np.testing.assert_array_equal(yield_moves(sim, hold, keep=keep), [HOVER, 4, HOVER])
