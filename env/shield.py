"""Battery shield: overrides a learned policy's action when the drone must fly home.

A policy trained on small fields never meets a battery that runs out (the base is always near), so on
a large field it flies until the battery is empty and the drone is grounded. The shield applies the
heuristics' rule (env.baselines) to the observation rows alone: when the battery barely covers the way
home, take the observation's home direction; at the base, hover until recharged. It reads only the
observation (env.core layout), so it wraps any policy: evaluation, mission and the demo.
"""

from __future__ import annotations

import numpy as np

from env.core import N_CHANNELS, WINDOW
from env.scenarios import HOVER

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
