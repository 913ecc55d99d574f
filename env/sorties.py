"""The field's water planned as sorties of one tank each (the sweep algorithm of vehicle routing),
and the book that hands them out to the drones.

The plan (:func:`plan_sorties`): the plants a drone can reach and come back from on one battery, in
the order of their angle around the base, cut into sorties of one tank's water each (a plant's need
may be split between two consecutive sorties), each visiting its plants nearest the base first,
longest sortie first (Gillett & Miller, 1974; LPT scheduling). The book (:class:`SortieBook`): a drone
at the base with a full tank and battery takes the longest sortie left; one whose battery sends it
home first gives the rest back, at the front of the queue. The simulator keeps a book for watering
(observation layout v8: a drone's compass leads to the next plant of its sortie, and it may release
only the water planned for it there), and the sweep-routes heuristic (env.routes) flies it.

No import of env.core here: the simulator builds on this module.
"""

from __future__ import annotations

import numpy as np

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


class SortieBook:
    """Each field's sorties no drone has taken yet, and each drone's own (what is left of it).

    ``stop``/``amount``: (fields, drones) arrays of each drone's next stop, a padded cell of its field
    (-1: no sortie), and the water its sortie still plans for it there, read by the simulator's
    observation and by the heuristic that flies the plan."""

    def __init__(self, fields: int, drones: int) -> None:
        self.queue: list[list[Sortie]] = [[] for _ in range(fields)]
        self.route: list[list[Sortie]] = [[[] for _ in range(drones)] for _ in range(fields)]
        self.stop = np.full((fields, drones), -1, dtype=np.int64)
        self.amount = np.zeros((fields, drones), dtype=np.int64)
        self.left = np.zeros(fields, dtype=np.int64)  # sorties in each field's queue

    def plan(self, field: int, need: np.ndarray, dist: np.ndarray, base_cell: int, width: int, tank: int,
             battery: int) -> None:
        """A new episode on ``field`` (its flat ``need`` and ``dist`` maps): plan it, no drone on a sortie."""
        self.queue[field] = plan_sorties(need, dist, base_cell, width, tank, battery)
        self.route[field] = [[] for _ in self.route[field]]
        self.stop[field], self.amount[field] = -1, 0
        self.left[field] = len(self.queue[field])

    def released(self, fields: np.ndarray, drones: np.ndarray) -> None:
        """One unit of water released by each of these drones at its stop."""
        for f, d in zip(fields.tolist(), drones.tolist()):
            self.route[f][d][0][1] -= 1
        self.amount[fields, drones] -= 1

    def advance(self, need: np.ndarray, at_base: np.ndarray, ready: np.ndarray, low: np.ndarray) -> None:
        """Bring every drone's sortie up to date: stops given their water (or no longer needing any)
        are done; a drone whose battery sends it home (``low``, away from the base) gives the rest of
        its sortie back, at the front of the queue; a drone at the base that is ``ready`` (full tank and
        battery) and has none takes the longest left. ``need``: (fields, cells) water still needed;
        the others (fields, drones) bool."""
        has = self.stop >= 0
        stop_need = np.take_along_axis(need, np.maximum(self.stop, 0), axis=1)
        done = has & ((self.amount <= 0) | (stop_need <= 0))
        give_back = has & low & ~at_base
        take = ~has & ready & ((self.left > 0) | give_back.any(axis=1))[:, None]
        for f, d in zip(*np.nonzero(done | give_back | take)):
            route = self.route[f][d]
            while route and (route[0][1] <= 0 or need[f, route[0][0]] <= 0):
                route.pop(0)  # its planned water given, or the plant needs none any more
            if route and give_back[f, d]:
                self.queue[f].insert(0, route[:])  # going home to recharge: another drone carries the rest
                route.clear()
            if not route and ready[f, d] and self.queue[f]:
                route = self.route[f][d] = self.queue[f].pop(0)
            self.left[f] = len(self.queue[f])
            self.stop[f, d], self.amount[f, d] = (route[0][0], route[0][1]) if route else (-1, 0)
