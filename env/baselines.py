"""Baseline swarms: random, boustrophedon (lawnmower) sweep for recon, greedy watering with refill.

Heuristics read the simulator state (not the observation) and return one action per drone row.
They steer each drone to a target cell along shortest paths around obstacles: a BFS distance map
from the target, computed for all drones whose target changed in one batched BFS (env.layout.bfs_distance),
and the move to the neighbour closest to the target. A drone whose battery only just covers the
way home flies home first; drones yield to occupied or already-claimed cells to avoid collisions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from env import rng as crng
from env.config import ConfigError
from env.core import BIT_BLOCKED, BIT_DRONE, SwarmSim
from env.layout import bfs_distance
from env.scenarios import DOWN, HOVER, LEFT, RIGHT, UP, WATER

BASELINES = ("random", "lawnmower", "partition", "greedy")
_MOVES = np.array([UP, DOWN, LEFT, RIGHT])
_NONE = -1


def random_actions(sim: SwarmSim, seed: int) -> np.ndarray:
    """Uniform random actions from a counter-based stream: field i is the same in any batch size."""
    fields = np.arange(sim.B)
    key = crng.keys(seed, fields, sim.episode * 1_000_003 + sim.counters["step"], 99)
    return crng.integers(key, sim.N, sim.scenario.n_actions).ravel()


class Navigator:
    """Per-drone targets and the shortest-path move towards them (batched over fields and drones)."""

    def __init__(self, sim: SwarmSim) -> None:
        self.sim = sim
        b, n = sim.B, sim.N
        self.target = np.full((b, n), _NONE, dtype=np.int64)  # padded cell in the field
        self.maps = np.zeros((b, n, sim.C), dtype=np.int32)
        self.waits = np.zeros((b, n), dtype=np.int64)

    def set_targets(self, new_target: np.ndarray) -> None:
        """Change targets; recompute the distance maps of the drones whose target changed."""
        sim = self.sim
        changed = (new_target != self.target) & (new_target != _NONE)
        self.target = new_target.copy()
        fb, dn = np.nonzero(changed)
        if not fb.size:
            return
        free = (sim.packed.reshape(sim.B, sim.Hp, sim.Wp)[fb] & BIT_BLOCKED) == 0
        t = self.target[fb, dn]
        self.maps[fb, dn] = bfs_distance(free, t // sim.Wp, t % sim.Wp).reshape(len(fb), -1)

    def moves(self, home: np.ndarray, urgent: np.ndarray | None = None) -> np.ndarray:
        """(B, N) actions: towards the target (or home where ``home``), yielding to other drones
        except where ``urgent`` (battery low; defaults to ``home``)."""
        sim = self.sim
        b, n = sim.B, sim.N
        off = sim.field_off[:, None]
        g = sim.cell + off
        nb = g[..., None] + sim.move_delta[None, None, 1:5]  # (B, N, 4) neighbour cells
        d_home = sim.dist[nb]
        fi, di = np.arange(b)[:, None, None], np.arange(n)[None, :, None]
        d_tgt = self.maps[fi, di, nb - off[..., None]]
        cur_tgt = self.maps[np.arange(b)[:, None], np.arange(n)[None, :], sim.cell]
        nd = np.where(home[..., None], d_home, d_tgt)
        cur = np.where(home, sim.dist[g], cur_tgt)
        best = np.argmin(nd, axis=2)
        better = np.take_along_axis(nd, best[..., None], axis=2)[..., 0] < cur
        want = np.where(better, _MOVES[best], HOVER)
        want = np.where((self.target == _NONE) & ~home, HOVER, want)
        return self._yield(want, home if urgent is None else urgent)

    def _yield(self, want: np.ndarray, urgent: np.ndarray) -> np.ndarray:
        """Hover instead of entering an occupied cell or one a lower-index drone also wants.

        Drones flying home on a low battery never wait: a collision costs less than a grounded drone."""
        sim = self.sim
        g = sim.cell + sim.field_off[:, None]
        dest = g + sim.move_delta[want]
        moving = dest != g
        base = (sim.base_cell + sim.field_off)[:, None]
        occupied = ((sim.packed[dest] & BIT_DRONE) > 0) & moving & (dest != base)
        rows = np.flatnonzero(moving.ravel())
        cells = dest.ravel()[rows]
        ids = rows.astype(np.int32)
        np.minimum.at(sim.scratch, cells, ids)
        lost = np.zeros(sim.B * sim.N, dtype=bool)
        lost[rows] = (sim.scratch[cells] != ids) & (cells != base.ravel()[rows // sim.N])
        sim.scratch[cells] = np.iinfo(np.int32).max
        wait = (occupied | lost.reshape(want.shape)) & (self.waits < 3) & ~urgent  # after 3 waits, go anyway
        self.waits = np.where(wait, self.waits + 1, 0)
        return np.where(wait, HOVER, want)


def _needs_home(sim: SwarmSim, margin: int = 2) -> np.ndarray:
    """Drones whose battery barely covers the way back (or that are recharging at the base)."""
    g = sim.cell + sim.field_off[:, None]
    d = sim.dist[g]
    at_base = d == 0
    low = sim.battery <= d + margin
    charging = at_base & (sim.battery < sim.config.battery_capacity)
    return low | charging


class Lawnmower:
    """Boustrophedon sweep: the serpentine lane path is split into one contiguous part per drone.

    Lanes run along rows spaced 2r+1 apart; each drone visits the turn points of its part in order,
    skipping those whose sensor footprint is already covered, then mops up: the nearest uncovered
    free cell. Paths go around obstacles (BFS).
    """

    def __init__(self, sim: SwarmSim) -> None:
        if sim.scenario.watering:
            raise ConfigError(
                "policy='lawnmower' is for scenario recon; allowed for watering: random, greedy"
            )
        self.sim, self.nav = sim, Navigator(sim)
        cfg, n = sim.config, sim.N
        step = 2 * cfg.sensor_radius + 1
        lanes = list(range(min(cfg.sensor_radius, cfg.height - 1), cfg.height, step))
        if lanes[-1] < cfg.height - 1 - cfg.sensor_radius:
            lanes.append(cfg.height - 1 - cfg.sensor_radius)
        path = []
        for i, y in enumerate(lanes):
            xs = range(cfg.width) if i % 2 == 0 else range(cfg.width - 1, -1, -1)
            path.extend((y, x) for x in xs)
        parts = np.array_split(np.arange(len(path)), n)
        # Way points of each drone: start and end of its part and every lane turn in between.
        wps = []
        for part in parts:
            pts = [path[j] for j in part]
            keep = [
                p
                for k, p in enumerate(pts)
                if k in (0, len(pts) - 1) or pts[k - 1][0] != p[0] or pts[k + 1][0] != p[0]
            ]
            wps.append(keep)
        m = max(len(w) for w in wps)
        self.wp = np.full((n, m), _NONE, dtype=np.int64)
        for d, w in enumerate(wps):
            for j, (y, x) in enumerate(w):
                self.wp[d, j] = (y + sim.P) * sim.Wp + x + sim.P
        self.ptr = np.zeros((sim.B, n), dtype=np.int64)
        yy, xx = np.mgrid[0:sim.Hp, 0:sim.Wp]
        self.cy, self.cx = yy.ravel(), xx.ravel()

    def reset_fields(self, fields: np.ndarray) -> None:
        """Restart the sweep of fields that began a new episode."""
        self.ptr[fields] = 0
        self.nav.target[fields] = _NONE

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        b, n = sim.B, sim.N
        covered = (sim.packed.reshape(b, sim.C) & 3) != 0  # covered or blocked: nothing to sense
        # Advance past way points that are reached, blocked, or whose surroundings are all covered.
        m = self.wp.shape[-1]  # way points may be (N, M) or per field (B, N, M): env.partition
        wp = np.broadcast_to(self.wp, (b, n, m))
        done_wp = np.ones((b, n, m), dtype=bool)
        valid = wp != _NONE
        cells = np.where(valid, wp, 0)
        fi = np.arange(b)[:, None, None]
        blocked = (sim.packed.reshape(b, sim.C)[fi, cells] & BIT_BLOCKED) > 0
        open_fp = np.zeros((b, n, m), dtype=bool)
        for off in sim.sense_off:
            open_fp |= ~covered[fi, np.clip(cells + off, 0, sim.C - 1)]
        done_wp = ~valid | blocked | ~open_fp
        idx = np.arange(m)[None, None, :]
        pending = ~done_wp & (idx >= self.ptr[..., None])
        reached = (sim.cell[..., None] == wp) & (idx >= self.ptr[..., None])
        pending &= ~reached
        has = pending.any(axis=2)
        self.ptr = np.where(has, np.argmax(pending, axis=2), m)
        target = np.where(
            has, np.take_along_axis(cells, np.minimum(self.ptr, m - 1)[..., None], 2)[..., 0], _NONE
        )
        # Mop-up: nearest uncovered free cell (Manhattan) for drones past their last way point.
        mop = ~has
        if mop.any():
            fb, dn = np.nonzero(mop)
            unc = ~covered[fb]  # (k, C)
            c = sim.cell[fb, dn]
            dist = np.abs(self.cy[None] - (c // sim.Wp)[:, None]) + np.abs(
                self.cx[None] - (c % sim.Wp)[:, None]
            )
            dist = np.where(unc, dist, 1 << 30)
            best = np.argmin(dist, axis=1)
            ok = unc[np.arange(len(fb)), best]
            keep = self.nav.target[fb, dn]
            keep_ok = (keep != _NONE) & ~covered[fb, np.maximum(keep, 0)]
            target[fb, dn] = np.where(keep_ok, keep, np.where(ok, best, _NONE))
        self.nav.set_targets(target)
        return self.nav.moves(_needs_home(sim)).ravel()


class GreedyWatering:
    """Each drone with water flies to the nearest plant still needing water (not already claimed
    by the water other drones carry there), releases until the plant or the tank is done, and goes
    back to the base to refill when the tank is empty or the battery requires it."""

    def __init__(self, sim: SwarmSim) -> None:
        if not sim.scenario.watering:
            raise ConfigError(
                "policy='greedy' is for scenario watering; allowed for recon: random, lawnmower"
            )
        self.sim, self.nav = sim, Navigator(sim)
        yy, xx = np.mgrid[0:sim.Hp, 0:sim.Wp]
        self.cy, self.cx = yy.ravel(), xx.ravel()

    def reset_fields(self, fields: np.ndarray) -> None:
        """Forget targets of fields that began a new episode."""
        self.nav.target[fields] = _NONE

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        b, n = sim.B, sim.N
        need = sim.need.reshape(b, sim.C).astype(np.int64)
        left = need.copy()
        target = np.full((b, n), _NONE, dtype=np.int64)
        ar = np.arange(b)
        low = _needs_home(sim)
        home = low | (sim.tank == 0)
        # Drones keep a still-needy target; the others pick the nearest unclaimed need, in drone order.
        for d in range(n):  # N is small; fields are vectorised
            keep = self.nav.target[:, d]
            keep_ok = (keep != _NONE) & (left[ar, np.maximum(keep, 0)] > 0)
            c = sim.cell[:, d]
            dist = np.abs(self.cy[None] - (c // sim.Wp)[:, None]) + np.abs(
                self.cx[None] - (c % sim.Wp)[:, None]
            )
            dist = np.where(left > 0, dist, 1 << 30)
            best = np.argmin(dist, axis=1)
            ok = left[ar, best] > 0
            t = np.where(keep_ok, keep, np.where(ok, best, _NONE))
            t = np.where(home[:, d], _NONE, t)
            target[:, d] = t
            sel = t != _NONE
            left[ar[sel], t[sel]] -= np.minimum(sim.tank[sel, d], left[ar[sel], t[sel]])
        self.nav.set_targets(target)
        act = self.nav.moves(home, urgent=low)
        here_need = need[np.arange(b)[:, None], sim.cell] > 0
        release = here_need & (sim.tank > 0) & ~home & (sim.cell == target)
        return np.where(release, WATER, act).ravel()


def make_baseline(name: str, sim: SwarmSim, seed: int) -> Callable[[SwarmSim], np.ndarray]:
    """The baseline called ``name`` bound to ``sim`` ("heuristic" = the scenario's own heuristic)."""
    if name == "heuristic":
        name = sim.scenario.heuristic
    if name == "random":
        return lambda s: random_actions(s, seed)
    if name == "lawnmower":
        return Lawnmower(sim)
    if name == "greedy":
        return GreedyWatering(sim)
    if name == "partition":
        from env.partition import Partition  # a subclass of Lawnmower: imported late, no cycle

        return Partition(sim)
    raise ConfigError(
        f"policy={name!r} is unknown; allowed: {', '.join(BASELINES)}, heuristic or a callable"
    )
