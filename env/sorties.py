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

from env.waves import compiled

Stop = list[int]  # [padded cell of the plant, units of water still planned for it]
Sortie = list[Stop]


START_TRIES = 8
"""The angular order is cut from this many starting plants, each way round, and the cut that flies
the fewest estimated steps in all is kept (Gillett & Miller try every start; on fresh held-out fields
with obstacles 8 starts took 2.3 % fewer steps than one, 4 starts 1.6 %: docs/policy.md)."""


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
    next START_TRIES - 1 plants on and the other way round: the cut with the fewest steps in all (each
    cut is compiled and keeps its sortie's cells sorted as plants join: the 16 cuts of 13,000 plants on
    a 512 x 512 field take 0.09 s)."""
    plants = np.flatnonzero((need > 0) & (2 * dist + 3 <= battery))
    if not plants.size:
        return []
    by, bx = divmod(int(base_cell), width)
    angle = np.arctan2(plants // width - by, plants % width - bx)
    ordered = np.sort(angle)
    gaps = np.diff(np.r_[ordered, ordered[0] + 2 * np.pi])
    start = ordered[(int(np.argmax(gaps)) + 1) % ordered.size]
    order = plants[np.argsort(np.mod(angle - start, 2 * np.pi), kind="stable")]
    starts = min(START_TRIES, len(order))
    tries = [(way, shift) for way in (order, order[::-1].copy()) for shift in range(starts)]
    stops = np.empty((3, int(need[plants].sum())), dtype=np.int64)  # cell, amount, sortie of each stop
    lengths = np.empty(stops.shape[1], dtype=np.int64)
    scratch = np.empty(len(order), dtype=np.int64)
    args = (need.astype(np.int64), dist.astype(np.int64), width, tank, battery, stops, lengths, scratch)
    steps = [_cut(cells, shift, *args)[2] for cells, shift in tries]
    count, sorties, _ = _cut(*tries[int(np.argmin(steps))], *args)  # the first of the fewest steps
    return _sorties(stops[:, :count], lengths[:sorties], dist)


def _sorties(stops: np.ndarray, lengths: np.ndarray, dist: np.ndarray) -> list[Sortie]:
    """The cut's stops (rows: cell, amount, sortie) as sorties, stops nearest the base first (ties in
    the order cut), longest sortie first (ties in the order cut)."""
    out: list[Sortie] = [[] for _ in range(len(lengths))]
    for cell, amount, sortie in stops.T.tolist():
        out[sortie].append([cell, amount])
    for sortie in out:
        sortie.sort(key=lambda stop: int(dist[stop[0]]))
    return [out[i] for i in np.argsort(-lengths, kind="stable").tolist()]


def sortie_length(sortie: Sortie, dist: np.ndarray, width: int) -> int:
    """Estimated steps of a sortie: from the base to its plants nearest first (ties in the sortie's
    order) and back (BFS distance to and from the base, Manhattan between plants, so a little short
    where obstacles lie between)."""
    cells = list(dict.fromkeys(stop[0] for stop in sorted(sortie, key=lambda stop: int(dist[stop[0]]))))
    legs = sum(abs(a // width - b // width) + abs(a % width - b % width) for a, b in zip(cells, cells[1:]))
    return int(dist[cells[0]]) + legs + int(dist[cells[-1]])


@compiled
def _manhattan(a: int, b: int, width: int) -> int:
    return abs(a // width - b // width) + abs(a % width - b % width)


@compiled
def _cut(cells: np.ndarray, shift: int, need: np.ndarray, dist: np.ndarray, width: int, tank: int,
         battery: int, stops: np.ndarray, lengths: np.ndarray, near: np.ndarray) -> tuple:
    """``cells`` (plants, in the order to cut, from index ``shift`` on and round) cut into sorties of
    one tank's water (a need may be split between two), each closed early where one more plant would
    leave no way home on ``battery``. Fills ``stops`` (3, n: cell, amount, sortie) and ``lengths``
    (each sortie's :func:`sortie_length`); returns (stops, sorties, their steps in all). ``near``:
    scratch, the current sortie's cells nearest the base first (ties in the order cut), kept sorted
    as cells join, with the length of its legs, so a plant's test costs one insertion, not a sort."""
    count = sorties = total = k = legs = 0
    room = tank
    n = cells.shape[0]
    for q in range(n):
        cell = cells[(shift + q) % n]
        if k > 0:  # would one more plant leave the way home? (the sortie with it, estimated)
            pos = k
            while pos > 0 and dist[near[pos - 1]] > dist[cell]:
                pos -= 1
            first = cell if pos == 0 else near[0]
            last = cell if pos == k else near[k - 1]
            if pos == 0:
                extra = _manhattan(cell, near[0], width)
            elif pos == k:
                extra = _manhattan(near[k - 1], cell, width)
            else:
                extra = (_manhattan(near[pos - 1], cell, width) + _manhattan(cell, near[pos], width)
                         - _manhattan(near[pos - 1], near[pos], width))
            if dist[first] + legs + extra + dist[last] > battery - 3:
                lengths[sorties] = dist[near[0]] + legs + dist[near[k - 1]]
                total += lengths[sorties]
                sorties += 1
                k = legs = 0
                room = tank
        left = need[cell]
        while left > 0:
            amount = min(left, room)
            stops[0, count], stops[1, count], stops[2, count] = cell, amount, sorties
            count += 1
            pos = k  # the cell joins the sortie's cells, after those no farther from the base
            while pos > 0 and dist[near[pos - 1]] > dist[cell]:
                pos -= 1
            if k > 0:
                if pos == 0:
                    legs += _manhattan(cell, near[0], width)
                elif pos == k:
                    legs += _manhattan(near[k - 1], cell, width)
                else:
                    legs += (_manhattan(near[pos - 1], cell, width) + _manhattan(cell, near[pos], width)
                             - _manhattan(near[pos - 1], near[pos], width))
            for j in range(k, pos, -1):
                near[j] = near[j - 1]
            near[pos] = cell
            k += 1
            left -= amount
            room -= amount
            if room == 0:
                lengths[sorties] = dist[near[0]] + legs + dist[near[k - 1]]
                total += lengths[sorties]
                sorties += 1
                k = legs = 0
                room = tank
    if k > 0:
        lengths[sorties] = dist[near[0]] + legs + dist[near[k - 1]]
        total += lengths[sorties]
        sorties += 1
    return count, sorties, total


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
