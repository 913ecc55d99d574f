"""Sweep routes for watering: the field's water planned as sorties of one tank each, longest first.

Greedy (env.baselines.GreedyWatering) decides as it goes: a drone leaving the base takes the nearest
plant still needing water, and the water left in its tank goes to the nearest plant from there. The
drones' ways then grow outwards together, and the far plants are left to whichever drone still has
water near them, often none: a refill trip at the end while the others are idle. Here the whole
field's need is planned when an episode starts, as the sweep algorithm of vehicle routing does
(Gillett & Miller, 1974):

- the plants a drone can reach and come back from on one battery, in the order of their angle
  around the base, are cut into sorties of one tank's water each (a plant's need may be split
  between two consecutive sorties), from the start among a few that flies the fewest steps;
- each sortie visits its plants nearest to the base first;
- a drone at the base with a full tank and battery takes the longest sortie left (longest first, as
  LPT scheduling does: the long trips do not come last, when the other drones are idle);
- it releases the water its sortie plans for each plant, then flies home; a drone whose battery
  sends it home first gives the rest of its sortie back, at the front of the queue.

The plan and the book that hands out its sorties live in env.sorties and in the simulator
(``SwarmSim.book``), because since observation layout v8 the learned swarm flies the same plan: its
compass leads to the next plant of a drone's sortie. Moves, giving way and flying home are the other
heuristics' (env.baselines.Navigator). On the suite's
held-out fields with obstacles it needs about 0.85x greedy's steps to deliver the same water; with
two or three drones on small fields, where each drone flies many sorties and greedy's choices as it
goes fit better, up to 1.05x (docs/policy.md, "Sweep routes"). The evaluation takes the best
heuristic of each suite entry as the bar, so both stay.
"""

from __future__ import annotations

import numpy as np

from env.baselines import _NONE, Navigator, _needs_home, _sync_episodes, require_scenario
from env.core import SwarmSim
from env.scenarios import WATER


class SweepRoutes:
    """Drones fly the sorties of the simulator's plan (``SwarmSim.book``, env.sorties), the longest
    left first, releasing the water each sortie plans for each plant."""

    name = "routes"

    def __init__(self, sim: SwarmSim) -> None:
        require_scenario(self.name, sim, "watering")
        self.sim, self.nav = sim, Navigator(sim)
        self.episode = np.full(sim.B, -2, dtype=np.int64)  # episode each field's paths belong to

    def reset_fields(self, fields: np.ndarray) -> None:
        """Forget the paths of the fields that began a new episode (the simulator planned them)."""
        self.nav.forget(fields)

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        _sync_episodes(self, sim)
        low = _needs_home(sim)
        stop = sim.book.stop
        target = np.where((stop >= 0) & (sim.tank > 0) & ~low & sim.active, stop, _NONE)
        release = (target != _NONE) & (target == sim.cell)
        self.nav.set_targets(target)
        act = self.nav.moves(low | (target == _NONE))
        return np.where(release, WATER, act).ravel()
