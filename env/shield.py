"""Shields: override a learned policy's actions where they would strand or crash a drone.

Battery shield: overrides a learned policy's action when the drone must fly home.

A policy trained on small fields never meets a battery that runs out (the base is always near), so on
a large field it flies until the battery is empty and the drone is grounded. The shield applies the
heuristics' rule (env.baselines) to the observation rows alone: when the battery barely covers the way
home, take the observation's home direction; at the base, hover until recharged. It reads only the
observation (env.core layout), so it wraps any policy: evaluation, mission and the demo.

Yield shield (:func:`yield_moves`): a learned policy's drones do not wait for each other, so two may
end a step in the same cell (the simulator counts a collision and moves on; real drones would not).
Of the drones that would share a cell (the base excepted), one goes and the others hover; drones flying
home whose battery cannot afford a wait (``WAIT_MARGIN``) never wait. The heuristics' drones follow the
same rule (env.baselines.Navigator). It needs the whole swarm's positions, so env.rollout applies it to
every learned policy's actions (evaluation, the gate, missions), not to the observation rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from env.core import BIT_BLOCKED, N_CHANNELS, WINDOW
from env.scenarios import HOVER

if TYPE_CHECKING:
    from env.core import SwarmSim

_OWN = WINDOW * WINDOW * N_CHANNELS  # first own-state feature of a row
BATTERY, DIST_HOME, HOME_DIR, AT_BASE = _OWN + 2, _OWN + 4, _OWN + 5, _OWN + 9
MARGIN = 0.02
"""Battery fraction kept in reserve beyond the way home (4 steps of the default 200-unit battery). It
must be at least 2 steps (one step away can widen the gap by two): batteries of 100 units or more."""
WAIT_MARGIN = MARGIN / 2
"""A drone flying home still gives way to others (:func:`yield_moves`) while its battery exceeds the way
home by more than this fraction (2 steps of the default battery); below it, it never waits. Waiting
while it can keeps two drones flying home from meeting and flying the rest of the way in one cell."""


def low_battery(obs: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """(rows,) bool: the drones whose battery barely covers the way home (obs is (rows, OBS_DIM))."""
    obs = np.asarray(obs)
    at_base = obs[:, AT_BASE] > 0.5
    home_dir = obs[:, HOME_DIR:HOME_DIR + 4]
    return ~at_base & (obs[:, BATTERY] <= obs[:, DIST_HOME] + margin) & (home_dir.max(axis=1) > 0.5)


def battery_shield(obs: np.ndarray, actions: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """``actions`` with the rows that must go home (or keep charging) replaced; obs is (rows, OBS_DIM)."""
    obs = np.asarray(obs)
    actions = np.asarray(actions).reshape(-1).copy()
    low = low_battery(obs, margin)
    actions[low] = 1 + np.argmax(obs[low, HOME_DIR:HOME_DIR + 4], axis=1)  # UP..RIGHT follow HOVER
    actions[(obs[:, AT_BASE] > 0.5) & (obs[:, BATTERY] < 1.0)] = HOVER
    return actions


def yield_moves(sim: "SwarmSim", actions: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """``actions`` (one per drone row of ``sim``) with the moves that would end in a cell another active
    drone holds or enters replaced by HOVER, so no two active drones share a cell off the base after
    the step. A drone that stays keeps its cell; of the movers into one cell, one goes: whose turn it
    is first rotates with the step (a fixed order can lock a chain for good: drone 5 wins a cell that
    only frees up if drone 6, which it beat, swaps places with the cell's holder). A drone made to
    hover keeps its own cell, which may stop a mover behind it: repeated until stable (each pass only
    turns moves into hovers). Two drones already sharing a cell stay as they are.

    ``keep`` (B, N): drones that never give way (those flying home that cannot afford to wait,
    ``low_battery(obs, WAIT_MARGIN)``: a collision costs less than a grounded drone); the others give
    way to them as to a drone that stays."""
    b, n = sim.B, sim.N
    out = np.asarray(actions).reshape(b, n).astype(np.int64).copy()
    active = sim.active
    target = sim.cell + sim.move_delta[out]
    blocked = (np.take_along_axis(sim.packed.reshape(b, sim.C), target, axis=1) & BIT_BLOCKED) > 0
    moving = active & (target != sim.cell) & ~blocked
    kept = np.zeros((b, n), dtype=bool) if keep is None else np.asarray(keep, dtype=bool).reshape(b, n)
    field = np.repeat(np.arange(b, dtype=np.int64), n).reshape(b, n)
    index = np.tile(np.arange(n, dtype=np.int64), b).reshape(b, n)
    turn = (index - sim.counters["step"][:, None]) % n
    while True:
        end = np.where(moving, target, sim.cell)
        counted = active & (end != sim.base_cell[:, None])
        key = (field * sim.C + end)[counted]
        rank = np.where(moving & ~kept, 1 + turn, 0)[counted]  # in each cell: stayers and kept first
        rows = np.flatnonzero(counted.ravel())
        order = np.lexsort((rank, key))
        later = np.zeros(order.size, dtype=bool)  # not the first drone in its cell
        later[1:] = key[order][1:] == key[order][:-1]
        losers = rows[order[later]]
        losers = losers[(moving & ~kept).ravel()[losers]]  # only a mover can give way
        if losers.size == 0:
            break
        moving.ravel()[losers] = False
        out.ravel()[losers] = HOVER
    return out.reshape(-1)
