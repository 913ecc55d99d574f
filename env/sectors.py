"""Sector sweep for recon: each drone senses its own sector of the field, outwards from the base.

The lawnmower and the partition (env.partition) give each drone one stretch of a serpentine path over
the whole field, so most drones first cross the others' stretches to reach their own: travel over
cells already sensed, or soon to be sensed by their owner. Here each field's reachable cells are
split into one angular sector around the base per drone, each holding the same number of cells
(env.layout.sector_owners; the simulator cuts them at each reset). A drone starts on its own work as
it leaves the base and always takes a step along a shortest way (around obstacles) to the nearest
cell still to sense in its sector; once its sector is done, to the nearest cell still to sense
anywhere. Those are the moves of the simulator's compass (layout v7, ``SwarmSim.compass_moves``),
so the heuristic and the policy's observation share one rule. Of the moves it shows, a drone takes
the one that newly senses the most cells, each weighted by how hemmed in it is (1 + its neighbours
with nothing left to sense: ``SwarmSim.move_gains(hemmed=True)``), ties at random (a seeded stream
per field), and it yields to others and flies home to recharge as the lawnmower's drones do
(env.baselines.Navigator). Counting plain cells took 1-3 % fewer steps than a random pick on 7 of
the 8 suite entries; weighting them, the cells that would become scattered leftovers go first:
another 0-8 % fewer on the suite's entries (docs/policy.md, "Hemmed cells first").

The first version flew to the nearest cell by Manhattan distance and then along an A* path: on
fields with obstacles that cell is often far by any real way. Figures: docs/policy.md.
"""

from __future__ import annotations

import numpy as np

from env import rng as crng
from env.baselines import _MOVES, Navigator, _needs_home, _sync_episodes, require_scenario
from env.core import SwarmSim
from env.scenarios import HOVER

_TIE_STREAM = 97  # random stream of the tie breaks (env.rng; random_actions uses 99)


class Sectors:
    """Each drone follows its compass to the work of its own sector, then to the nearest work."""

    name = "sectors"
    hemmed = True  # weight new cells by how hemmed in they are (bench/sweep_gains.py measures both)

    def __init__(self, sim: SwarmSim, seed: int = 0) -> None:
        require_scenario(self.name, sim, "recon")
        self.sim, self.nav, self.seed = sim, Navigator(sim), int(seed)
        self.episode = np.full(sim.B, -2, dtype=np.int64)  # episode each field's memory belongs to

    def reset_fields(self, fields: np.ndarray) -> None:
        """New episodes: forget the navigator's waits and paths of ``fields``."""
        self.nav.forget(fields)

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        _sync_episodes(self, sim)
        fields = np.arange(sim.B)
        bits = sim.compass_moves(fields)  # (B, N): bit j = move j (up, down, left, right) leads closer
        key = crng.keys(self.seed, fields, sim.episode * 1_000_003 + sim.counters["step"], _TIE_STREAM)
        # of the shown moves, the one that senses the most (hemmed) new cells; ties in a random order
        score = sim.move_gains(fields, self.hemmed) + crng.uniform(key, sim.N * 4).reshape(sim.B, sim.N, 4)
        shown = (bits[..., None] >> np.arange(4, dtype=np.uint8)) & 1 > 0
        pick = np.argmax(np.where(shown, score, -1.0), axis=2)
        want = np.where(shown.any(axis=2), _MOVES[pick], HOVER)
        return self.nav.follow(want, _needs_home(sim)).ravel()
