"""A plain per-drone Python implementation of the same rules as env.core (lists, loops).

It is the yardstick of the benchmark (``swarmops bench env`` times both in the same run) and the
oracle of the tests: stepped with the same actions it must give the same observations, rewards
and counters as the vectorised simulator. Layouts come from the same generator, so both see the
same fields. Written the straightforward way on purpose: one drone at a time, one cell at a time.
"""
from __future__ import annotations

from collections import deque

from typing import Any

import numpy as np

from env.config import OBS_RADIUS, FieldConfig
from env.core import (
    COARSE,
    COMPASS_FEATURES,
    FAR_BLOCK,
    FAR_FEATURES,
    FAR_GRID,
    GLOBAL_FEATURES,
    GOLDEN,
    ID_FEATURES,
    OBS_DIM,
    OWN_FEATURES,
    REGION_REACH,
    SwarmSim,
    line_of_sight_matrix,
)
from env.layout import UNREACHABLE, LayoutBatch, generate_batch, sector_owners
from env.scenarios import WATER, get_scenario
from env.sorties import plan_sorties

_MOVES = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (0, 0)]


class PlainField:
    """One field and its drones, state in Python lists."""

    def __init__(self, sim: "PlainSwarm", index: int) -> None:
        self.sim, self.index, self.episode = sim, index, -1
        self.reset()

    def reset(self) -> None:
        """Next episode: same layout as field ``index`` of the vectorised simulator."""
        sim, cfg = self.sim, self.sim.config
        self.episode += 1
        lay: LayoutBatch = generate_batch(cfg, sim.seed, np.array([self.index]), np.array([self.episode]))
        h, w = cfg.height, cfg.width
        self.obst = lay.obstacles[0].tolist()
        self.dist = lay.dist[0].tolist()
        plants = lay.plants[0].tolist()
        needs = lay.needs[0].tolist()
        self.base = (int(lay.base[0, 0]), int(lay.base[0, 1]))
        owners = sector_owners(lay.dist[0].ravel(), self.base[0] * w + self.base[1], w, cfg.n_drones)
        self.sector = owners.reshape(h, w).tolist()  # each cell's owner (recon compass, layout v7)
        watering = sim.scenario.watering
        self.plant = [[bool(plants[y][x]) and watering for x in range(w)] for y in range(h)]
        self.hidden = [[bool(plants[y][x]) and not watering for x in range(w)] for y in range(h)]
        self.need = [[int(needs[y][x]) if watering else 0 for x in range(w)] for y in range(h)]
        self.covered = [[False] * w for _ in range(h)]
        n = cfg.n_drones
        self.y, self.x = [self.base[0]] * n, [self.base[1]] * n
        self.battery = [cfg.battery_capacity] * n
        self.tank = [cfg.tank_capacity if watering else 0] * n
        self.active, self.on_trip, self.trip_delivered = [True] * n, [False] * n, [0] * n
        self.occupancy = {self.base: n}
        free = sum(1 for y in range(h) for x in range(w) if not self.obst[y][x])
        names = ("step", "covered", "plants_found", "delivered", "wasted", "collisions", "depletions",
                 "energy", "wasted_trips", "bumps", "plants_watered", "drone_steps_to_95", "idle_steps_to_95")
        self.c: dict[str, Any] = {k: 0 for k in names}
        self.c["free"] = free
        self.c["goal"] = int(np.ceil(cfg.coverage_target * free - 1e-9))
        self.c["plants_total"] = sum(1 for y in range(h) for x in range(w) if plants[y][x])
        self.c["need_total"] = sum(int(needs[y][x]) for y in range(h) for x in range(w))
        self.c["drawn"] = n * cfg.tank_capacity if watering else 0
        self.c["steps_to_95"] = -1
        self.ret = 0.0
        nb = COARSE * COARSE
        self.tot = [0.0] * nb
        for y in range(h):
            for x in range(w):
                if not self.obst[y][x]:
                    self.tot[self.block(y, x)] += needs[y][x] if watering else 1.0
        self.rem = list(self.tot)
        for i in range(n):
            self.sense(i)
        self.c["lower_bound"] = self._lower_bound()
        self.planned = sim.scenario.name in SwarmSim.PLANNED_WORK
        self.queue: list[list[list[Any]]] = []  # sorties no drone has taken: [[(y, x), water], ...]
        self.route: list[list[list[Any]]] = [[] for _ in range(n)]  # what is left of each drone's sortie
        if self.planned:
            need = np.array([v for row in self.need for v in row])
            dist = np.array([d for row in self.dist for d in row])
            base = self.base[0] * w + self.base[1]
            sorties = plan_sorties(need, dist, base, w, cfg.tank_capacity, cfg.battery_capacity)
            self.queue = [[[divmod(cell, w), amount] for cell, amount in sortie] for sortie in sorties]
            self.advance_plan()

    def advance_plan(self) -> None:
        """Drone by drone: stops given their water (or needing none) are done; a drone whose battery
        sends it home gives the rest of its sortie back, at the front of the queue; a drone at the
        base with a full tank and battery and no sortie takes the next (env.sorties.SortieBook)."""
        cfg = self.sim.config
        for i, route in enumerate(self.route):
            while route and (route[0][1] <= 0 or self.need[route[0][0][0]][route[0][0][1]] <= 0):
                route.pop(0)
            at_base = (self.y[i], self.x[i]) == self.base
            here = self.dist[self.y[i]][self.x[i]]
            low = self.battery[i] <= here + 2 or (at_base and self.battery[i] < cfg.battery_capacity)
            if route and low and not at_base:
                self.queue.insert(0, [stop[:] for stop in route])
                route.clear()
            if not route and at_base and not low and self.active[i] and self.tank[i] == cfg.tank_capacity \
                    and self.queue:
                route.extend(self.queue.pop(0))

    def _lower_bound(self) -> int:
        """Fewest steps to the coverage goal: each step senses at most drones x (one side of the sensor
        square; the whole square when obstacles block the sensor, since a move can uncover what an
        obstacle hid) new cells, and a cell only once some drone can stand within sensor range of it."""
        cfg, r = self.sim.config, self.sim.config.sensor_radius
        side = 2 * r + 1
        per_step = cfg.n_drones * (side * side if cfg.obstacles_block_sensor and r > 1 else side)
        reach = self._bfs([self.base], lambda cell: True)
        release: dict[int, int] = {}  # step -> free cells first within range then
        for (y, x) in ((y, x) for y in range(cfg.height) for x in range(cfg.width) if not self.obst[y][x]):
            near = [reach[(y + dy, x + dx)] for dy in range(-r, r + 1) for dx in range(-r, r + 1)
                    if (y + dy, x + dx) in reach]
            if near:
                release[min(near)] = release.get(min(near), 0) + 1
        sensed, step = self.c["covered"], 0
        backlog = max(release.get(0, 0) - sensed, 0)
        while sensed < self.c["goal"]:
            step += 1
            backlog += release.get(step, 0)
            if step > max(release, default=0) and backlog == 0:  # the goal is out of range
                return -(-max(self.c["goal"] - self.c["covered"], 0) // per_step)
            served = min(backlog, per_step)
            backlog, sensed = backlog - served, sensed + served
        return step

    def block(self, y: int, x: int) -> int:
        """Coarse block of a cell."""
        cfg = self.sim.config
        return (y * COARSE // cfg.height) * COARSE + x * COARSE // cfg.width

    def sense(self, i: int) -> tuple[int, int]:
        """Drone i senses its square; returns (new cells, new plants) credited to it."""
        cfg, r = self.sim.config, self.sim.config.sensor_radius
        cells = plants = 0
        for k, (dy, dx) in enumerate(self.sim.sense_offsets):
            y, x = self.y[i] + dy, self.x[i] + dx
            if not (0 <= y < cfg.height and 0 <= x < cfg.width) or self.obst[y][x] or self.covered[y][x]:
                continue
            if self.sim.los is not None and r > 1:
                hidden = False
                for j in self.sim.los[k]:
                    oy, ox = self.sim.sense_offsets[j]
                    yy, xx = self.y[i] + oy, self.x[i] + ox
                    if not (0 <= yy < cfg.height and 0 <= xx < cfg.width) or self.obst[yy][xx]:
                        hidden = True
                        break
                if hidden:
                    continue
            self.covered[y][x] = True
            cells += 1
            self.c["covered"] += 1
            if self.hidden[y][x]:
                self.hidden[y][x] = False
                self.plant[y][x] = True
                plants += 1
                self.c["plants_found"] += 1
            if not self.sim.scenario.watering:
                self.rem[self.block(y, x)] -= 1
        return cells, plants

    def step(self, actions: list[int]) -> list[float]:
        """One step of this field; returns the drones' rewards."""
        cfg, rw, n = self.sim.config, self.sim.scenario.rewards, self.sim.config.n_drones
        watering = self.sim.scenario.watering
        act = list(self.active)
        was_base = [(self.y[i], self.x[i]) == self.base for i in range(n)]
        phi_before = [act[i] and self.need[self.y[i]][self.x[i]] > 0 and self.tank[i] > 0 for i in range(n)]
        bump, drained, depleted = [False] * n, [False] * n, [False] * n
        for i in range(n):
            if not act[i]:
                continue
            dy, dx = _MOVES[actions[i]]
            ny, nx = self.y[i] + dy, self.x[i] + dx
            if not (0 <= ny < cfg.height and 0 <= nx < cfg.width) or self.obst[ny][nx]:
                bump[i] = (dy, dx) != (0, 0)
                continue
            self.occupancy[(self.y[i], self.x[i])] -= 1
            self.y[i], self.x[i] = ny, nx
            self.occupancy[(ny, nx)] = self.occupancy.get((ny, nx), 0) + 1
        for i in range(n):
            if not act[i]:
                continue
            if (self.y[i], self.x[i]) != self.base:
                self.battery[i] -= 1
                drained[i] = True
                if self.battery[i] <= 0:
                    depleted[i] = True
                    self.active[i] = False
            else:
                self.battery[i] = min(self.battery[i] + cfg.recharge_rate, cfg.battery_capacity)
        flying: dict[tuple[int, int], int] = {}
        for i in range(n):
            if act[i]:
                flying[(self.y[i], self.x[i])] = flying.get((self.y[i], self.x[i]), 0) + 1
        rew = [0.0] * n
        for i in range(n):
            if not act[i]:
                sensed = (0, 0)
            else:
                sensed = self.sense(i)
                if self.c["steps_to_95"] < 0:  # until the coverage target (this step counts)
                    self.c["drone_steps_to_95"] += 1
                    self.c["idle_steps_to_95"] += sensed[0] == 0
            coll = act[i] and flying[(self.y[i], self.x[i])] > 1 and (self.y[i], self.x[i]) != self.base
            self.c["collisions"] += coll
            rew[i] = (rw.step * act[i] + rw.bump * bump[i] + rw.collision * coll + rw.depletion * depleted[i]
                      + (rw.explore if watering else rw.new_cell) * sensed[0] + rw.new_plant * sensed[1])
        if watering:
            for i in range(n):
                if not (act[i] and actions[i] == WATER):
                    continue
                if self.tank[i] <= 0:
                    rew[i] += rw.empty_release
                    continue
                y, x = self.y[i], self.x[i]
                if self.route[i] and self.route[i][0][0] == (y, x):  # counts against its sortie's stop
                    self.route[i][0][1] -= 1
                self.tank[i] -= 1
                if self.need[y][x] > 0:
                    self.need[y][x] -= 1
                    self.c["delivered"] += 1
                    self.trip_delivered[i] += 1
                    self.rem[self.block(y, x)] -= 1
                    self.c["plants_watered"] += self.need[y][x] == 0
                    rew[i] += rw.delivered
                else:
                    self.c["wasted"] += 1
                    rew[i] += rw.over_watering if self.plant[y][x] else rw.spilled
            for i in range(n):
                if not act[i]:
                    continue
                at_base = (self.y[i], self.x[i]) == self.base
                if was_base[i] and not at_base:
                    self.on_trip[i] = self.tank[i] > 0
                    self.trip_delivered[i] = 0
                if not was_base[i] and at_base:
                    if self.on_trip[i] and self.trip_delivered[i] == 0:
                        rew[i] += rw.wasted_trip
                        self.c["wasted_trips"] += 1
                    self.on_trip[i] = False
                if at_base:
                    self.c["drawn"] += cfg.tank_capacity - self.tank[i]
                    self.tank[i] = cfg.tank_capacity
            for i in range(n):
                phi_after = act[i] and self.need[self.y[i]][self.x[i]] > 0 and self.tank[i] > 0
                rew[i] += rw.at_needy_plant * (float(phi_after) - float(phi_before[i]))
            if self.planned:
                self.advance_plan()
        c = self.c
        c["step"] += 1
        c["energy"] += sum(drained)
        c["depletions"] += sum(depleted)
        c["bumps"] += sum(bump)
        complete = c["delivered"] >= c["need_total"] if watering else c["covered"] >= c["goal"]
        if c["covered"] * 100 >= 95 * c["free"] and c["steps_to_95"] < 0:
            c["steps_to_95"] = c["step"]
        for i in range(n):
            if complete and self.active[i]:
                rew[i] += rw.completion
        self.terminated = complete or not any(self.active)
        self.truncated = c["step"] >= cfg.max_steps and not self.terminated
        rew32 = [float(np.float32(r)) for r in rew]
        self.ret += float(np.sum(np.array(rew32, dtype=np.float32), dtype=np.float32))
        return rew32

    def observe(self) -> list[list[float]]:
        """The drones' observation rows, built cell by cell."""
        cfg, n, R = self.sim.config, self.sim.config.n_drones, OBS_RADIUS
        h, w, watering = cfg.height, cfg.width, self.sim.scenario.watering
        c = self.c
        progress = (c["delivered"] / max(c["need_total"], 1)) if watering else \
            (c["plants_found"] / max(c["plants_total"], 1))
        glob = [c["step"] / cfg.max_steps, c["covered"] / max(c["free"], 1), progress, sum(self.active) / n]
        glob += [self.rem[b] / max(self.tot[b], 1.0) for b in range(COARSE * COARSE)]
        # each cell's owner (own regions, env.waves.compass_waves) and the work the owners claim: one map
        name, work = self.sim.scenario.name, self._work()
        claimed: set[tuple[int, int]] = set()
        ways: list[dict[tuple[int, int], int] | None] = [None] * n  # planned: :meth:`_plan_compass`
        if not self.planned and name in SwarmSim.OWN_REGIONS and name in SwarmSim.SECTOR_REGIONS:
            ways = [self._sector_way(i, work) for i in range(n)]
        elif not self.planned:
            owner, ring = self._owners() if name in SwarmSim.OWN_REGIONS else ({}, {})
            ways = [self._region_way(i, owner, work) for i in range(n)]  # one region search per drone
            if name in SwarmSim.CLAIMED_WORK:
                claimed = self._claims(ways, owner, ring, work)
        rows = []
        for i in range(n):
            planes: list[list[float]] = [[], [], [], [], []]  # blocked, covered, plant, drone, need/7
            for dy in range(-R, R + 1):
                for dx in range(-R, R + 1):
                    y, x = self.y[i] + dy, self.x[i] + dx
                    if not (0 <= y < h and 0 <= x < w):
                        cell = (1.0, 0.0, 0.0, 0.0, 0.0)
                    else:
                        cell = (float(self.obst[y][x]), float(self.covered[y][x]), float(self.plant[y][x]),
                                float(self.occupancy.get((y, x), 0) > 0), min(self.need[y][x], 7) / 7.0)
                    for ch in range(5):
                        planes[ch].append(cell[ch])
            row = [v for plane in planes for v in plane]
            here = self.dist[self.y[i]][self.x[i]]
            nd = []
            for dy, dx in _MOVES[1:5]:
                y, x = self.y[i] + dy, self.x[i] + dx
                inside = 0 <= y < h and 0 <= x < w and not self.obst[y][x]
                nd.append(self.dist[y][x] if inside else UNREACHABLE)
            best = nd.index(min(nd))
            home = [float(d == best and here != 0) for d in range(4)]
            row += [self.y[i] / max(h - 1, 1), self.x[i] / max(w - 1, 1),
                    self.battery[i] / cfg.battery_capacity,
                    self.tank[i] / cfg.tank_capacity, min(here / cfg.battery_capacity, 1.0), *home,
                    float(here == 0), float(self.active[i]), self._need_here(i) / 7.0]
            ids = [i / max(n - 1, 1), (i * GOLDEN) % 1.0]
            route = self.route[i]
            if watering and (self.tank[i] == 0 or (self.planned and not route)) and here != 0:
                compass = [float(d < here) for d in nd] + [min(here / (h + w), 1.0)]  # the way home
            elif self.planned:
                compass = self._plan_compass(i)
            else:
                compass = self._compass(i, ways[i], work, claimed)
            rows.append(row + glob + self._far(i) + ids + compass)
        return rows

    def _need_here(self, i: int) -> int:
        """Own feature 11 (times 7): the water still needed on drone i's cell; planned (v8): the water
        its sortie plans for it there, if that is its next stop and it carries water."""
        need = self.need[self.y[i]][self.x[i]]
        if not self.planned:
            return need
        route = self.route[i]
        mine = route and route[0][0] == (self.y[i], self.x[i]) and self.tank[i] > 0
        return min(route[0][1], need) if mine else 0

    def _plan_compass(self, i: int) -> list[float]:
        """Layout v8: the way to the next plant of drone i's sortie (zeros: none, no water, grounded,
        or no way there)."""
        route = self.route[i]
        if not (route and self.tank[i] > 0 and self.active[i]):
            return [0.0] * COMPASS_FEATURES
        dist = self._bfs([route[0][0]], lambda c: True)
        return self._way(i, dist) if (self.y[i], self.x[i]) in dist else [0.0] * COMPASS_FEATURES

    def _work(self) -> list[tuple[int, int]]:
        """Free cells with work left (watering: a plant needing water; recon: not covered)."""
        cfg, watering = self.sim.config, self.sim.scenario.watering
        return [(y, x) for y in range(cfg.height) for x in range(cfg.width) if not self.obst[y][x]
                and ((self.need[y][x] > 0) if watering else not self.covered[y][x])]

    def _region_way(self, i: int, owner: dict[tuple[int, int], int],
                    work: list[tuple[int, int]]) -> dict[tuple[int, int], int] | None:
        """Distances to drone i's own work through its own region, if it owns its cell and that work
        reaches it (owners are carriers; a shared cell is the first's)."""
        if owner.get((self.y[i], self.x[i])) != i:
            return None
        mine = self._bfs([c for c in work if owner.get(c) == i], lambda c: owner.get(c) == i)
        return mine if (self.y[i], self.x[i]) in mine else None

    def _sector_way(self, i: int, work: list[tuple[int, int]]) -> dict[tuple[int, int], int] | None:
        """Distances to the work of drone i's own sector (any way through free cells), if it is a
        carrier and its sector has work left (layout v7)."""
        mine = [(y, x) for (y, x) in work if self.sector[y][x] == i]
        if not self._carrier(i) or not mine:
            return None
        return self._bfs(mine, lambda c: True)

    def _claims(self, ways: list[dict[tuple[int, int], int] | None], owner: dict[tuple[int, int], int],
                ring: dict[tuple[int, int], int], work: list[tuple[int, int]]) -> set[tuple[int, int]]:
        """The work each owner's compass leads to: its region's work at its own distance (``ways``: each
        drone's :meth:`_region_way`; ``ring``: a cell's distance to its owner)."""
        claimed: set[tuple[int, int]] = set()
        for i, mine in enumerate(ways):
            if mine is not None:
                here = mine[(self.y[i], self.x[i])]
                claimed |= {c for c in work if owner.get(c) == i and ring[c] == here}
        return claimed

    def _compass(self, i: int, mine: dict[tuple[int, int], int] | None, work: list[tuple[int, int]],
                 claimed: set[tuple[int, int]]) -> list[float]:
        """The way to the nearest cell with work left around obstacles: a breadth-first search from
        every free cell with work left; the moves to a neighbour one step closer, then the distance.
        A drone that owns cells looks in its own region first (``mine``: its :meth:`_region_way` or
        :meth:`_sector_way`); the others (unless they stand on work) look for the nearest work no
        owner's compass leads to (``claimed``), then for any work (env.core SwarmSim._compass)."""
        if mine is not None:
            return self._way(i, mine)
        if (self.y[i], self.x[i]) in work:  # work right here, claimed or not: distance 0
            return [0.0] * COMPASS_FEATURES
        for sources in ([c for c in work if c not in claimed], work):
            dist = self._bfs(sources, lambda c: True)
            if (self.y[i], self.x[i]) in dist:
                return self._way(i, dist)
        return [0.0] * COMPASS_FEATURES

    def _way(self, i: int, dist: dict[tuple[int, int], int]) -> list[float]:
        """Compass features of drone i from a distance map: moves one step closer, then the distance."""
        cfg = self.sim.config
        here = dist[(self.y[i], self.x[i])]
        closer = [float(dist.get((self.y[i] + dy, self.x[i] + dx), here) < here) for dy, dx in _MOVES[1:5]]
        return closer + [min(here / (cfg.height + cfg.width), 1.0)]

    def _bfs(self, sources: list[tuple[int, int]], allowed: Any,
             limit: int | None = None) -> dict[tuple[int, int], int]:
        """Geodesic distances from ``sources`` through free cells for which ``allowed(cell)``."""
        cfg = self.sim.config
        dist = {c: 0 for c in sources}
        queue: deque[tuple[int, int]] = deque(sources)
        while queue:
            y, x = queue.popleft()
            if limit is not None and dist[(y, x)] >= limit:
                continue
            for dy, dx in _MOVES[1:5]:
                nb = (y + dy, x + dx)
                if (0 <= nb[0] < cfg.height and 0 <= nb[1] < cfg.width and not self.obst[nb[0]][nb[1]]
                        and nb not in dist and allowed(nb)):
                    dist[nb] = dist[(y, x)] + 1
                    queue.append(nb)
        return dist

    def _carrier(self, d: int) -> bool:
        """Drone d has a region: it is active and (watering) carries water."""
        return bool(self.active[d]) and (self.tank[d] > 0 or not self.sim.scenario.watering)

    def _owners(self) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
        """Each cell's nearest carrier (lowest index on a tie), within REGION_REACH steps, and its
        distance to that carrier."""
        best: dict[tuple[int, int], tuple[int, int]] = {}
        for d in range(self.sim.config.n_drones):
            if self._carrier(d):
                for c, t in self._bfs([(self.y[d], self.x[d])], lambda c: True, REGION_REACH).items():
                    best[c] = min(best.get(c, (t, d)), (t, d))
        return {c: d for c, (_, d) in best.items()}, {c: t for c, (t, _) in best.items()}

    def _far(self, i: int) -> list[float]:
        """Far-field block fractions of drone i, cell by cell (work left, then blocked/outside)."""
        cfg, watering = self.sim.config, self.sim.scenario.watering
        h, w, half = cfg.height, cfg.width, FAR_GRID // 2
        work, blocked = [], []
        for by in range(-half, half + 1):
            for bx in range(-half, half + 1):
                nw = nb = 0
                for dy in range(FAR_BLOCK):
                    for dx in range(FAR_BLOCK):
                        y = self.y[i] + by * FAR_BLOCK - FAR_BLOCK // 2 + dy
                        x = self.x[i] + bx * FAR_BLOCK - FAR_BLOCK // 2 + dx
                        if not (0 <= y < h and 0 <= x < w) or self.obst[y][x]:
                            nb += 1
                        elif (self.need[y][x] > 0) if watering else not self.covered[y][x]:
                            nw += 1
                work.append(nw / FAR_BLOCK**2)
                blocked.append(nb / FAR_BLOCK**2)
        return work + blocked


class PlainSwarm:
    """B PlainFields with auto-reset, the same interface shape as SwarmSim.step."""

    def __init__(self, scenario: str, config: FieldConfig, num_fields: int, seed: int | None = None) -> None:
        self.scenario, self.config = get_scenario(scenario), config
        self.seed = config.seed if seed is None else int(seed)
        r = config.sensor_radius
        self.sense_offsets = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]
        self.los = None
        if config.obstacles_block_sensor and r > 1:
            m = line_of_sight_matrix(r)
            self.los = [list(np.flatnonzero(m[:, k])) for k in range(m.shape[1])]
        self.fields = [PlainField(self, f) for f in range(num_fields)]

    def observe(self) -> np.ndarray:
        """All observation rows (B*N, OBS_DIM)."""
        rows = [row for f in self.fields for row in f.observe()]
        out = np.array(rows, dtype=np.float32)
        assert out.shape[1] == OBS_DIM == (
            5 * (2 * OBS_RADIUS + 1) ** 2 + OWN_FEATURES + GLOBAL_FEATURES + FAR_FEATURES + ID_FEATURES
            + COMPASS_FEATURES
        )
        return out

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[bool]]:
        """Step every field drone by drone; finished fields start their next episode."""
        n = self.config.n_drones
        acts = np.asarray(actions).reshape(-1).tolist()
        rewards: list[float] = []
        done = []
        for f, fld in enumerate(self.fields):
            rewards += fld.step(acts[f * n:(f + 1) * n])
            done.append(fld.terminated or fld.truncated)
            if done[-1]:
                fld.reset()
        return self.observe(), np.array(rewards, dtype=np.float32), done
