"""Baseline swarms: random, boustrophedon (lawnmower) sweep for recon, greedy watering with refill.

Heuristics read the simulator state (not the observation) and return one action per drone row.
They steer each drone to a target cell along a shortest path around obstacles, planned once per
target with A* and then followed with a few gathers per step (env.navigation), and pick targets by
looking at nearby cells first: no per-step work over the whole map, so a step of a 512x512 field
costs about what a 16x16 one does. A drone whose battery only just covers the
way home flies home first; drones yield to occupied or already-claimed cells to avoid collisions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from env import rng as crng
from env.config import ConfigError
from env.core import BIT_BLOCKED, SwarmSim
from env.navigation import PathBook, astar, descend
from env.scenarios import DOWN, HOVER, LEFT, RIGHT, UP, WATER, get_scenario
from env.shield import yield_moves

BASELINES = ("random", "lawnmower", "partition", "sectors", "greedy", "routes")
_MOVES = np.array([UP, DOWN, LEFT, RIGHT])
_NONE = -1
_CLAIM_ROUNDS = 8  # rounds of choosing again for drones that lost a target to a lower-index drone


def random_actions(sim: SwarmSim, seed: int) -> np.ndarray:
    """Uniform random actions from a counter-based stream: field i is the same in any batch size."""
    fields = np.arange(sim.B)
    key = crng.keys(seed, fields, sim.episode * 1_000_003 + sim.counters["step"], 99)
    return crng.integers(key, sim.N, sim.scenario.n_actions).ravel()


class Navigator:
    """Per-drone targets and the move along a shortest path to them (batched over fields and drones).

    Paths are planned once per target with A* (env.navigation) and then followed with a few
    gathers per step, so a step costs about the same on a 16x16 and a 512x512 field.
    """

    def __init__(self, sim: SwarmSim) -> None:
        self.sim = sim
        self.book = PathBook(sim.B, sim.N, sim.Wp)
        self.target = np.full((sim.B, sim.N), _NONE, dtype=np.int64)  # padded cell in the field
        self._cache: dict[int, tuple[int, bytes, memoryview]] = {}  # field -> (episode, maps)

    def forget(self, fields: np.ndarray) -> None:
        """Drop the targets and paths of ``fields`` (they began a new episode)."""
        self.target[fields] = _NONE
        self.book.forget(fields)

    def set_targets(self, new_target: np.ndarray) -> None:
        """Change targets (paths are planned lazily, by ``moves``)."""
        self.target = new_target.copy()

    def _maps(self, f: int) -> tuple[bytes, memoryview]:
        """Field ``f``'s padded free map (bytes) and distance-to-base map (a view); obstacles are
        fixed for an episode, so both are cached per episode."""
        sim = self.sim
        ep = int(sim.episode[f])
        hit = self._cache.get(f)
        if hit is None or hit[0] != ep:
            part = slice(f * sim.C, (f + 1) * sim.C)
            hit = (ep, ((sim.packed[part] & BIT_BLOCKED) == 0).tobytes(), memoryview(sim.dist[part]))
            self._cache[f] = hit
        return hit[1], hit[2]

    def _plan(self, f: int, src: int, dst: int) -> list[int]:
        """Shortest path of field ``f`` from ``src`` to ``dst``: from the base, read off env's
        distance map; elsewhere, A*."""
        free, dist = self._maps(f)
        if src == int(self.sim.base_cell[f]):
            path = descend(dist, self.sim.Wp, dst)
            if path:
                return path
        return astar(free, self.sim.Wp, src, dst)

    def moves(self, home: np.ndarray, urgent: np.ndarray | None = None) -> np.ndarray:
        """(B, N) actions: towards the target (or home where ``home``), yielding to other drones
        except where ``urgent`` (defaults to :func:`_cannot_wait`)."""
        sim = self.sim
        # Target: the next cell of the drone's path (drones flying home keep theirs for later).
        nxt = self.book.next_cells(sim.cell, np.where(home, _NONE, self.target), self._plan)
        step = nxt - sim.cell
        want_tgt = np.select([step == -sim.Wp, step == sim.Wp, step == -1, step == 1], _MOVES, HOVER)
        return self.follow(want_tgt, home, urgent)

    def follow(self, want: np.ndarray, home: np.ndarray, urgent: np.ndarray | None = None) -> np.ndarray:
        """(B, N) actions: ``want`` (the caller's moves), or home where ``home``, giving way to other
        drones (env.shield.yield_moves, the rule a learned policy's drones follow too) except where
        ``urgent`` (defaults to :func:`_cannot_wait`)."""
        sim = self.sim
        g = sim.cell + sim.field_off[:, None]
        urgent = _cannot_wait(sim) if urgent is None else urgent
        # Home: the neighbour with the smallest distance to the base (env keeps that map). Of equally
        # short moves a drone that cannot wait takes its own (odd indices sideways first): such drones
        # never give way, so two on one shortest way would fly it in one cell. (For every drone flying
        # home it cost greedy up to 10 % more steps on fresh layouts: not for the others.)
        d_home = sim.dist[g[..., None] + sim.move_delta[None, None, 1:5]].astype(np.int64)
        own = (np.arange(4)[None, None, :] + 2 * np.arange(sim.N)[None, :, None]) % 4
        best = np.argmin(d_home * 4 + np.where(urgent[..., None], own, np.arange(4)), axis=2)
        better = np.take_along_axis(d_home, best[..., None], axis=2)[..., 0] < sim.dist[g]
        want_home = np.where(better, _MOVES[best], HOVER)
        return yield_moves(sim, np.where(home, want_home, want), keep=urgent).reshape(want.shape)


def _needs_home(sim: SwarmSim, margin: int = 2) -> np.ndarray:
    """Drones whose battery barely covers the way back (or that are recharging at the base): the
    simulator's rule, which also sends a drone's sortie back to the queue (SwarmSim.low_battery)."""
    return sim.low_battery(margin)


def _cannot_wait(sim: SwarmSim) -> np.ndarray:
    """Drones off the base that never give way: after one more step of waiting their battery would
    only just cover the way home, no step to spare (a collision costs less than a grounded drone).

    A drone flying home with more battery than that waits like any other. Before, every drone flying
    home on a low battery went on regardless, so two that met flew home together on one path, a
    collision counted at every step (thousands per episode on 512 x 512 with 128 drones)."""
    d = sim.dist[sim.cell + sim.field_off[:, None]]
    return (d > 0) & (sim.battery <= d + 1)


def _round_trip(sim: SwarmSim, cells: np.ndarray) -> np.ndarray:
    """Global cells a drone can fly to from the base and back on one full battery (with the margin
    of ``_needs_home``): on fields larger than the battery's range, the others are not targets."""
    return 2 * sim.dist[cells] + 3 <= sim.config.battery_capacity


def require_scenario(policy: str, sim: SwarmSim, scenario: str) -> None:
    """Refuse, in one line naming the heuristics allowed there, a heuristic built for another scenario."""
    actual = sim.scenario.name
    if actual != scenario:
        raise ConfigError(
            f"policy={policy!r} is for scenario {scenario}; allowed for {actual}: "
            f"{', '.join(get_scenario(actual).baselines)}"
        )


class Lawnmower:
    """Boustrophedon sweep: the serpentine lane path is split into one contiguous part per drone.

    Lanes run along rows spaced 2r+1 apart; each drone visits the turn points of its part in order,
    skipping those whose sensor footprint is already covered, then mops up: the nearest uncovered
    free cell that no other drone is heading for. Paths go around obstacles (A*).
    """

    name = "lawnmower"  # (subclasses: their own policy name, for the error below)

    def __init__(self, sim: SwarmSim) -> None:
        require_scenario(self.name, sim, "recon")
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
        self.episode = np.full(sim.B, -2, dtype=np.int64)  # episode each field's memory belongs to
        self._open_key: dict[int, tuple[int, int, int]] = {}
        self._claimed = np.zeros(sim.B * sim.C, dtype=bool)  # scratch of one call, kept all False
        self._open_list: dict[int, np.ndarray] = {}

    def reset_fields(self, fields: np.ndarray) -> None:
        """Restart the sweep of fields that began a new episode."""
        self.ptr[fields] = 0
        self.nav.forget(fields)

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        b, n = sim.B, sim.N
        _sync_episodes(self, sim)
        # Advance past way points that are reached, blocked, or whose surroundings are all covered
        # (gathers at the way points only: nothing here scales with the field).
        m = self.wp.shape[-1]  # way points may be (N, M) or per field (B, N, M): env.partition
        wp = np.broadcast_to(self.wp, (b, n, m))
        valid = wp != _NONE
        cells = np.where(valid, wp, 0) + sim.field_off[:, None, None]
        blocked = (sim.packed[cells] & BIT_BLOCKED) > 0
        open_fp = np.zeros((b, n, m), dtype=bool)
        for off in sim.sense_off:  # covered or blocked: nothing left to sense there
            open_fp |= (sim.packed[cells + off] & 3) == 0
        done_wp = ~valid | blocked | ~open_fp | ~_round_trip(sim, cells)
        idx = np.arange(m)[None, None, :]
        pending = ~done_wp & (idx >= self.ptr[..., None])
        reached = (sim.cell[..., None] == wp) & (idx >= self.ptr[..., None])
        pending &= ~reached
        has = pending.any(axis=2)
        self.ptr = np.where(has, np.argmax(pending, axis=2), m)
        target = np.where(
            has, np.take_along_axis(wp, np.minimum(self.ptr, m - 1)[..., None], 2)[..., 0], _NONE
        )
        # Mop-up: nearest uncovered free cell (Manhattan) for drones past their last way point;
        # a drone keeps its mop-up target until that cell is covered.
        mop = ~has
        if mop.any():
            fb, dn = np.nonzero(mop)
            keep = self.nav.target[fb, dn]
            keep_ok = (keep != _NONE) & ((sim.packed[sim.field_off[fb] + np.maximum(keep, 0)] & 3) == 0)
            target[fb, dn] = np.where(keep_ok, keep, _NONE)
            fb, dn = fb[~keep_ok], dn[~keep_ok]
            if fb.size:
                self._mop_up(target, fb, dn)
        self.nav.set_targets(target)
        return self.nav.moves(_needs_home(sim)).ravel()

    def _mop_up(self, target: np.ndarray, fb: np.ndarray, dn: np.ndarray) -> None:
        """Give drones ``(fb, dn)`` the nearest cell still to sense whose surroundings no other drone
        is heading for (any such cell when all are taken).

        All drones choose at once; where two chose the same cell, the lower index keeps it and the
        others choose again with its surroundings claimed (a few rounds, then sharing is allowed)."""
        sim = self.sim
        claimed = self._claimed
        mark = []

        def claim(f: np.ndarray, cells: np.ndarray) -> None:
            g = (cells + sim.field_off[f])[:, None] + sim.sense_off[None, :]
            claimed[g] = True
            mark.append(g.ravel())

        busy = (target != _NONE) & (self.ptr >= self.wp.shape[1])  # other drones mopping up
        claim(np.nonzero(busy)[0], target[busy])
        at_base = sim.cell[fb, dn] == sim.base_cell[fb]
        for f in np.unique(fb[at_base]).tolist():  # one origin: walk one sorted list in drone order
            drones = dn[at_base & (fb == f)]
            got = self._spread_from_base(f, drones)
            target[f, drones] = got
            claim(np.full(int((got != _NONE).sum()), f), got[got != _NONE])
        fb, dn = fb[~at_base], dn[~at_base]
        share_f, share_d = [], []
        for _ in range(_CLAIM_ROUNDS):
            if not fb.size:
                break
            t = nearest_cells(sim, fb, sim.cell[fb, dn], self._unclaimed, self._open_cells)
            got = t != _NONE
            first = _first_per_cell(t + sim.field_off[fb], got)
            target[fb[first], dn[first]] = t[first]
            claim(fb[first], t[first])
            share_f.append(fb[~got])  # nothing unclaimed left: share the nearest cell to sense
            share_d.append(dn[~got])
            fb, dn = fb[got & ~first], dn[got & ~first]  # lost a tie: choose again
        fs, ds = np.concatenate([*share_f, fb]), np.concatenate([*share_d, dn])
        if fs.size:
            target[fs, ds] = nearest_cells(sim, fs, sim.cell[fs, ds], self._open, self._open_cells)
        claimed[np.concatenate(mark)] = False

    def _spread_from_base(self, f: int, drones: np.ndarray) -> np.ndarray:
        """Mop-up targets of ``drones`` at field ``f``'s base: the cells still to sense nearest the
        base, in drone order, each outside the sensor footprint of the targets given before it
        (the nearest cell still to sense when none is left)."""
        sim = self.sim
        cand = self._open_cells(f)
        cand = cand[self._unclaimed(cand + sim.field_off[f])]
        out = np.full(len(drones), _NONE, dtype=np.int64)
        if cand.size:
            by, bx = divmod(int(sim.base_cell[f]), sim.Wp)
            dist = np.abs(cand // sim.Wp - by) + np.abs(cand % sim.Wp - bx)
            order = cand[np.lexsort((cand, dist))].tolist()
            taken: set[int] = set()
            foot = sim.sense_off.tolist()
            p = 0
            for i in range(len(drones)):
                while p < len(order) and order[p] in taken:
                    p += 1
                if p == len(order):
                    break
                c = order[p]
                out[i] = c
                taken.update(c + o + k for o in foot for k in foot)  # footprints must not overlap
        rest = out == _NONE
        if rest.any():
            fs = np.full(int(rest.sum()), f)
            out[rest] = nearest_cells(sim, fs, sim.cell[fs, drones[rest]], self._open, self._open_cells)
        return out

    def _unclaimed(self, cells: np.ndarray) -> np.ndarray:
        """Global cells still to sense that no other drone's target covers."""
        return self._open(cells) & ~self._claimed[cells]

    def _open(self, cells: np.ndarray) -> np.ndarray:
        """Global cells still to sense (neither covered nor blocked) within a battery's round trip."""
        return ((self.sim.packed[cells] & 3) == 0) & _round_trip(self.sim, cells)

    def _open_cells(self, f: int) -> np.ndarray:
        """Padded cells of field ``f`` still to sense (scanned at most once per field and step)."""
        sim = self.sim
        key = (f, int(sim.counters["step"][f]), int(sim.episode[f]))
        if self._open_key.get(f) != key:
            self._open_key[f] = key
            self._open_list[f] = np.flatnonzero((sim.packed[f * sim.C:(f + 1) * sim.C] & 3) == 0)
        return self._open_list[f]


class GreedyWatering:
    """Each drone with water flies to the nearest plant still needing water (not already claimed
    by the water other drones carry there), releases until the plant or the tank is done, and goes
    back to the base to refill when the tank is empty or the battery requires it."""

    def __init__(self, sim: SwarmSim) -> None:
        require_scenario("greedy", sim, "watering")
        self.sim, self.nav = sim, Navigator(sim)
        self._plant_cache: dict[int, tuple[int, np.ndarray]] = {}
        self.claims = np.zeros(sim.B * sim.C, dtype=np.int64)  # water promised per cell (scratch)
        self.episode = np.full(sim.B, -2, dtype=np.int64)

    def reset_fields(self, fields: np.ndarray) -> None:
        """Forget targets of fields that began a new episode."""
        self.nav.forget(fields)

    def __call__(self, sim: SwarmSim) -> np.ndarray:
        """One action per drone row for the current state of ``sim``."""
        b, n = sim.B, sim.N
        _sync_episodes(self, sim)
        off = sim.field_off[:, None]
        g = sim.cell + off
        low = _needs_home(sim)
        home = low | (sim.tank == 0)
        target = np.full((b, n), _NONE, dtype=np.int64)
        # Drones keep a still-needy target while the water of lower-index drones keeping the same
        # plant does not already cover its need.
        keep = self.nav.target
        kg = (keep + off).ravel()
        keeping = ((keep != _NONE) & ~home).ravel()
        keeping[keeping] = sim.need[kg[keeping]] > 0
        rows = np.flatnonzero(keeping)
        tank = sim.tank.ravel()
        claimed = []
        if rows.size:
            cells = kg[rows]
            order = np.argsort(cells, kind="stable")  # grouped by plant, drone order inside a group
            rows, cells = rows[order], cells[order]
            t = tank[rows]
            cum = np.cumsum(t)
            first = np.r_[True, cells[1:] != cells[:-1]]
            before = cum - t - np.maximum.accumulate(np.where(first, cum - t, 0))
            need = sim.need[cells].astype(np.int64)
            kept = before < need
            target.ravel()[rows[kept]] = keep.ravel()[rows[kept]]
            np.add.at(self.claims, cells[kept], np.minimum(t[kept], need[kept] - before[kept]))
            claimed.append(cells[kept])
        # The others pick the nearest plant whose need is not claimed yet, all at once; where several
        # picked one plant, drones in index order take it while its need lasts and the others
        # choose again (a few rounds).
        fb, dn = np.nonzero(~home & (target == _NONE))

        def needy(cells: np.ndarray) -> np.ndarray:
            return ((sim.need[cells] - self.claims[cells]) > 0) & _round_trip(sim, cells)

        at_base = sim.cell[fb, dn] == sim.base_cell[fb]
        if at_base.any():  # drones leaving the base all start from one cell: one sorted list each
            claimed.append(self._from_base(target, fb[at_base], dn[at_base], needy))
            fb, dn = fb[~at_base], dn[~at_base]
        for _ in range(_CLAIM_ROUNDS):
            if not fb.size:
                break
            t = nearest_cells(sim, fb, sim.cell[fb, dn], needy, self._plants)
            got = t != _NONE
            fb, dn, t = fb[got], dn[got], t[got]
            gc = t + sim.field_off[fb]
            order = np.argsort(gc, kind="stable")  # grouped by plant, drone order inside a group
            tk = sim.tank[fb, dn][order]
            cum = np.cumsum(tk)
            start = np.r_[True, gc[order][1:] != gc[order][:-1]]
            before = np.empty_like(cum)
            before[order] = cum - tk - np.maximum.accumulate(np.where(start, cum - tk, 0))
            left = (sim.need[gc] - self.claims[gc]).astype(np.int64)
            take = before < left
            target[fb[take], dn[take]] = t[take]
            amount = np.minimum(sim.tank[fb[take], dn[take]], left[take] - before[take])
            np.add.at(self.claims, gc[take], amount)
            claimed.append(gc[take])
            fb, dn = fb[~take], dn[~take]
        if claimed:
            self.claims[np.concatenate(claimed)] = 0
        self.nav.set_targets(target)
        # A drone left without a plant flies home instead of hovering where it is: on fields with
        # obstacles a hovering drone can stop the one with the last plant in a one-cell corridor for
        # good, since movers give way to a drone that stays (env.shield.yield_moves).
        act = self.nav.moves(home | (target == _NONE))
        here_need = sim.need[g] > 0
        release = here_need & (sim.tank > 0) & ~home & (sim.cell == target)
        return np.where(release, WATER, act).ravel()

    def _from_base(self, target: np.ndarray, fb: np.ndarray, dn: np.ndarray,
                   needy: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Targets of drones at their field's base, in drone order: each takes the nearest plant
        whose need the water of the drones before it does not cover yet. Returns the claimed cells."""
        sim, out = self.sim, []
        for f in np.unique(fb).tolist():
            cand = self._plants(f)
            gc = cand + sim.field_off[f]
            keep = needy(gc)
            cand, gc = cand[keep], gc[keep]
            if not cand.size:
                continue
            by, bx = divmod(int(sim.base_cell[f]), sim.Wp)
            dist = np.abs(cand // sim.Wp - by) + np.abs(cand % sim.Wp - bx)
            order = np.lexsort((cand, dist))
            left = (sim.need[gc] - self.claims[gc]).astype(np.int64)[order].tolist()
            p = 0
            drones = dn[fb == f].tolist()
            taken = np.zeros(len(drones), dtype=np.int64)
            amounts = np.zeros(len(drones), dtype=np.int64)
            for i, d in enumerate(drones):
                while p < len(left) and left[p] <= 0:
                    p += 1
                if p == len(left):
                    taken = taken[:i]
                    amounts = amounts[:i]
                    break
                amount = min(int(sim.tank[f, d]), left[p])
                left[p] -= amount
                taken[i], amounts[i] = order[p], amount
            target[f, drones[:len(taken)]] = cand[taken]
            np.add.at(self.claims, gc[taken], amounts)
            out.append(gc[taken])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def _plants(self, f: int) -> np.ndarray:
        """Padded cells of field ``f`` that had a water need at the start of its episode (sorted)."""
        sim = self.sim
        ep = int(sim.episode[f])
        hit = self._plant_cache.get(f)
        if hit is None or hit[0] != ep:
            hit = (ep, np.flatnonzero(sim.need[f * sim.C:(f + 1) * sim.C] > 0))
            self._plant_cache[f] = hit
        return hit[1]


def _sync_episodes(heuristic: "Lawnmower | GreedyWatering", sim: SwarmSim) -> None:
    """Reset the heuristic's memory of fields that started a new episode since its last call."""
    new = np.flatnonzero(sim.episode != heuristic.episode)
    if new.size:
        heuristic.reset_fields(new)
        heuristic.episode[new] = sim.episode[new]


def nearest_cells(
    sim: SwarmSim,
    fields: np.ndarray,
    cells: np.ndarray,
    wanted: Callable[[np.ndarray], np.ndarray],
    candidates: Callable[[int], np.ndarray] | None = None,
) -> np.ndarray:
    """For each (field, padded cell), the nearest (Manhattan, then lowest index) padded cell of that
    field where ``wanted(global cells)`` holds, or _NONE.

    First the 7 x 7 window around the cell (inside the padding, so no bounds checks): a hit at
    distance <= 3 is exact, since every cell outside the window is farther. Only the others scan
    the field's candidates (``candidates(field)``, default every cell), so the cost stays small
    while wanted cells are near, as they are once the work is under way.
    """
    r = sim.P
    w = np.arange(-r, r + 1)
    dy, dx = np.repeat(w, 2 * r + 1), np.tile(w, 2 * r + 1)
    man = np.abs(dy) + np.abs(dx)
    win = cells[:, None] + (dy * sim.Wp + dx)[None, :]
    ok = wanted(win + sim.field_off[fields][:, None])
    dist = np.where(ok, man[None, :], 1 << 30)
    best = np.argmin(dist, axis=1)
    ar = np.arange(len(cells))
    out = np.where(dist[ar, best] <= r, win[ar, best], _NONE)
    far = np.flatnonzero(out == _NONE)
    for f in np.unique(fields[far]).tolist():  # per field, a block of drones at a time
        cand = candidates(f) if candidates is not None else np.arange(sim.C)
        cand = cand[wanted(cand + sim.field_off[f])]
        if not cand.size:
            continue
        cy, cx = cand // sim.Wp, cand % sim.Wp
        mine = far[fields[far] == f]
        for lo in range(0, mine.size, 64):
            rows = mine[lo:lo + 64]
            c = cells[rows]
            d = np.abs(cy[None, :] - (c // sim.Wp)[:, None]) + np.abs(cx[None, :] - (c % sim.Wp)[:, None])
            out[rows] = cand[np.argmin(d, axis=1)]
    return out


def _first_per_cell(cells: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mask of the first entry (in array order) of each distinct cell among the ``valid`` ones."""
    keys = np.where(valid, cells, -1 - np.arange(cells.size))
    _, first = np.unique(keys, return_index=True)
    out = np.zeros(cells.size, dtype=bool)
    out[first] = True
    return out & valid


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
    if name == "sectors":
        from env.sectors import Sectors  # uses Navigator: imported late, no cycle

        return Sectors(sim, seed)
    if name == "routes":
        from env.routes import SweepRoutes  # uses Navigator: imported late, no cycle

        return SweepRoutes(sim)
    raise ConfigError(
        f"policy={name!r} is unknown; allowed: {', '.join(BASELINES)}, heuristic or a callable"
    )
