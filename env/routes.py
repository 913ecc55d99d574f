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

Moves, giving way and flying home are the other heuristics' (env.baselines.Navigator). On the suite's
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

Stop = list[int]  # [padded cell of the plant, units of water still planned for it]
Sortie = list[Stop]


START_TRIES = 8
"""The angular order is cut from this many starting plants, each way round, and the cut that flies
the fewest estimated steps in all is kept (Gillett & Miller try every start; on fresh held-out fields
with obstacles 8 starts took 2.3 % fewer steps than one, 4 starts 1.6 %: docs/policy.md)."""
PLAN_BUDGET = 40_000
"""At most this many plants cut in all when planning a field: fewer starts on fields with thousands
of plants (a 512 x 512 field at 5 % plants, 13,000: one start each way; 16 cost 0.8 s at reset)."""


def plan_sorties(need: np.ndarray, dist: np.ndarray, base_cell: int, width: int, tank: int,
                 battery: int) -> list[Sortie]:
    """The sorties of one field, longest first.

    ``need``: the field's flat water need per (padded) cell; ``dist``: its BFS distance to the base;
    ``width``: its row length; ``tank``: water per sortie; ``battery``: a sortie's estimated length
    (base -> plants nearest first -> base, Manhattan between plants) is kept under it when it can be,
    and plants no drone can reach and come back from are left out (greedy's rule,
    env.baselines._round_trip).
    Plants are taken by their angle around the base, starting after the widest empty direction (as
    env.layout.sector_owners cuts sectors: a base on an edge has half the circle empty), then from the
    next START_TRIES - 1 plants on (fewer beyond PLAN_BUDGET) and the other way round: the cut with
    the fewest steps in all."""
    plants = np.flatnonzero((need > 0) & (2 * dist + 3 <= battery))
    if not plants.size:
        return []
    by, bx = divmod(int(base_cell), width)
    angle = np.arctan2(plants // width - by, plants % width - bx)
    ordered = np.sort(angle)
    gaps = np.diff(np.r_[ordered, ordered[0] + 2 * np.pi])
    start = ordered[(int(np.argmax(gaps)) + 1) % ordered.size]
    order = plants[np.argsort(np.mod(angle - start, 2 * np.pi), kind="stable")].tolist()
    best: list[Sortie] = []
    best_steps = -1
    starts = max(1, min(START_TRIES, len(order), PLAN_BUDGET // (2 * len(order))))
    for way in (order, order[::-1]):
        for shift in range(starts):
            sorties = cut_sorties(way[shift:] + way[:shift], need, dist, width, tank, battery)
            steps = sum(sortie_length(s, dist, width) for s in sorties)
            if best_steps < 0 or steps < best_steps:
                best, best_steps = sorties, steps
    return sorted(best, key=lambda s: sortie_length(s, dist, width), reverse=True)


def cut_sorties(cells: list[int], need: np.ndarray, dist: np.ndarray, width: int, tank: int,
                battery: int) -> list[Sortie]:
    """``cells`` (plants, in the order to cut) cut into sorties of one tank's water (a need may be
    split between two), each closed early where one more plant would leave no way home on
    ``battery``; each sortie's stops nearest the base first."""
    sorties: list[Sortie] = []
    current: Sortie = []
    room = tank
    for cell in cells:
        if current and sortie_length([*current, [cell, 0]], dist, width) > battery - 3:
            sorties.append(current)  # one more plant would not leave the way home: a new sortie
            current, room = [], tank
        left = int(need[cell])
        while left > 0:
            amount = min(left, room)
            current.append([cell, amount])
            left, room = left - amount, room - amount
            if room == 0:
                sorties.append(current)
                current, room = [], tank
    if current:
        sorties.append(current)
    for sortie in sorties:
        sortie.sort(key=lambda stop: int(dist[stop[0]]))
    return sorties


def sortie_length(sortie: Sortie, dist: np.ndarray, width: int) -> int:
    """Estimated steps of a sortie: from the base to its plants nearest first and back (BFS distance
    to and from the base, Manhattan between plants, so a little short where obstacles lie between)."""
    cells = sorted({stop[0] for stop in sortie}, key=lambda c: int(dist[c]))
    legs = sum(abs(a // width - b // width) + abs(a % width - b % width) for a, b in zip(cells, cells[1:]))
    return int(dist[cells[0]]) + legs + int(dist[cells[-1]])


class SweepRoutes:
    """Drones fly the planned sorties (:func:`plan_sorties`), the longest left first."""

    name = "routes"

    def __init__(self, sim: SwarmSim) -> None:
        require_scenario(self.name, sim, "watering")
        self.sim, self.nav = sim, Navigator(sim)
        self.episode = np.full(sim.B, -2, dtype=np.int64)  # episode each field's plan belongs to
        self.queue: dict[int, list[Sortie]] = {}  # field -> sorties no drone has taken yet
        self.route: dict[int, list[Sortie]] = {}  # field -> each drone's sortie (what is left of it)

    def reset_fields(self, fields: np.ndarray) -> None:
        """Plan the fields that began a new episode (and forget their drones' paths)."""
        self.nav.forget(fields)
        sim = self.sim
        for f in np.asarray(fields).tolist():
            part = slice(f * sim.C, (f + 1) * sim.C)
            self.queue[f] = plan_sorties(sim.need[part], sim.dist[part], int(sim.base_cell[f]), sim.Wp,
                                         sim.config.tank_capacity, sim.config.battery_capacity)
            self.route[f] = [[] for _ in range(sim.N)]

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        _sync_episodes(self, sim)
        low = _needs_home(sim)
        target = np.full((sim.B, sim.N), _NONE, dtype=np.int64)
        release = np.zeros((sim.B, sim.N), dtype=bool)
        full = sim.tank == sim.config.tank_capacity
        for f in np.flatnonzero(~sim.finished & sim.active.any(axis=1)).tolist():
            queue, routes, need = self.queue[f], self.route[f], sim.need[f * sim.C:(f + 1) * sim.C]
            base = int(sim.base_cell[f])
            for d in np.flatnonzero(sim.active[f]).tolist():
                route, cell = routes[d], int(sim.cell[f, d])
                while route and (route[0][1] <= 0 or need[route[0][0]] <= 0):
                    route.pop(0)  # its planned water given, or the plant needs none any more
                if route and low[f, d] and cell != base:
                    queue.insert(0, route[:])  # going home to recharge: another drone carries the rest
                    route.clear()
                if not route and queue and cell == base and full[f, d] and not low[f, d]:
                    route = routes[d] = queue.pop(0)
                if route and sim.tank[f, d] > 0 and not low[f, d]:
                    target[f, d] = route[0][0]
                    if cell == route[0][0]:
                        release[f, d] = True
                        route[0][1] -= 1
        self.nav.set_targets(target)
        act = self.nav.moves(low | (target == _NONE))
        return np.where(release, WATER, act).ravel()
