"""Shields: override a learned policy's actions where they would strand or crash a drone.

Battery shield: overrides a learned policy's action when the drone must fly home.

A policy trained on small fields never meets a battery that runs out (the base is always near), so on
a large field it flies until the battery is empty and the drone is grounded. The shield applies the
heuristics' rule (env.baselines) to the observation rows alone: when the battery barely covers the way
home, take the observation's home direction; at the base, hover until recharged. It reads only the
observation (env.core layout), so it wraps any policy: evaluation, mission and the demo.

Yield shield (:func:`yield_moves`): a learned policy's drones do not wait for each other, so two may
end a step in the same cell (the simulator counts a collision and moves on; real drones would not).
It applies the heuristics' rule jointly: of the drones that would share a cell (the base excepted), one
goes and the others hover. It needs the whole swarm's positions, so env.rollout applies it to every
learned policy's actions (evaluation, the gate, missions), not to the observation rows.
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


def battery_shield(obs: np.ndarray, actions: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """``actions`` with the rows that must go home (or keep charging) replaced; obs is (rows, OBS_DIM)."""
    obs = np.asarray(obs)
    actions = np.asarray(actions).reshape(-1).copy()
    battery, dist = obs[:, BATTERY], obs[:, DIST_HOME]
    at_base = obs[:, AT_BASE] > 0.5
    home_dir = obs[:, HOME_DIR:HOME_DIR + 4]
    low = ~at_base & (battery <= dist + margin) & (home_dir.max(axis=1) > 0.5)
    actions[low] = 1 + np.argmax(home_dir[low], axis=1)  # UP, DOWN, LEFT, RIGHT follow HOVER
    actions[at_base & (battery < 1.0)] = HOVER
    return actions


def yield_moves(sim: "SwarmSim", actions: np.ndarray) -> np.ndarray:
    """``actions`` (one per drone row of ``sim``) with the moves that would end in a cell another active
    drone holds or enters replaced by HOVER, so no two active drones share a cell off the base after
    the step. A drone that stays keeps its cell; of the movers into one cell the lowest index goes. A
    drone made to hover keeps its own cell, which may stop a mover behind it: repeated until stable
    (each pass only turns moves into hovers). Two drones already sharing a cell stay as they are."""
    b, n = sim.B, sim.N
    out = np.asarray(actions).reshape(b, n).astype(np.int64).copy()
    active = sim.active
    target = sim.cell + sim.move_delta[out]
    blocked = (np.take_along_axis(sim.packed.reshape(b, sim.C), target, axis=1) & BIT_BLOCKED) > 0
    moving = active & (target != sim.cell) & ~blocked
    field = np.repeat(np.arange(b, dtype=np.int64), n).reshape(b, n)
    index = np.tile(np.arange(n, dtype=np.int64), b).reshape(b, n)
    while True:
        end = np.where(moving, target, sim.cell)
        counted = active & (end != sim.base_cell[:, None])
        key = (field * sim.C + end)[counted]
        rank = np.where(moving, 1 + index, 0)[counted]  # drones that stay first, then by index
        rows = np.flatnonzero(counted.ravel())
        order = np.lexsort((rank, key))
        later = np.zeros(order.size, dtype=bool)  # not the first drone in its cell
        later[1:] = key[order][1:] == key[order][:-1]
        losers = rows[order[later]]
        losers = losers[moving.ravel()[losers]]  # only a mover can give way
        if losers.size == 0:
            break
        moving.ravel()[losers] = False
        out.ravel()[losers] = HOVER
    return out.reshape(-1)
