"""Shortest paths for the heuristics: A* once per target, then one table lookup per drone and step.

Obstacles never change during an episode, so a drone's path to its target stays valid until the
target changes or the drone leaves the path (it flew home to recharge, say). A path is planned with
A* (Manhattan distance, consistent, so the first path found is a shortest one; ties go to the cell
nearest the target, which keeps the search on a straight line in open ground and makes it visit
about as many cells as the path is long, then to the cell nearest the target's row: drones fly
vertically first, as the lanes of the sweep need). Paths of all drones live in one flat buffer, so following
them is a few gathers over (fields, drones) whatever the field size: no per-step work over the map.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Callable, Sequence

import numpy as np

_NONE = -1
#: plan(field, src, dst) -> cells of a shortest path from src to dst (both included)
Planner = Callable[[int, int, int], list]


def astar(free: bytes, stride: int, src: int, dst: int) -> list[int]:
    """Cells of a shortest 4-connected path from ``src`` to ``dst`` (both included).

    ``free`` is one byte per cell of a padded map whose border is blocked (no bounds checks needed),
    ``stride`` its row length. Returns ``[src]`` when ``dst`` is unreachable or blocked.
    """
    if src == dst:
        return [src]
    if not free[dst]:
        return [src]
    ty, tx = divmod(dst, stride)
    sy, sx = divmod(src, stride)
    h0 = abs(sy - ty) + abs(sx - tx)
    heap = [(h0, h0, abs(sy - ty), src)]
    g = {src: 0}
    parent = {src: -1}
    steps = (-stride, stride, -1, 1)
    while heap:
        f, h, _, c = heappop(heap)
        gc = g[c]
        if f - h > gc:  # stale entry: a shorter way to c was found after it was pushed
            continue
        if c == dst:
            break
        gn = gc + 1
        for d in steps:
            nb = c + d
            if free[nb] and gn < g.get(nb, 1 << 60):
                g[nb] = gn
                parent[nb] = c
                ny, nx = divmod(nb, stride)
                hn = abs(ny - ty) + abs(nx - tx)
                heappush(heap, (gn + hn, hn, abs(ny - ty), nb))
    else:
        return [src]
    path = [dst]
    c = parent[dst]
    while c != -1:
        path.append(c)
        c = parent[c]
    path.reverse()
    return path


def descend(dist: Sequence[int], stride: int, dst: int) -> list[int]:
    """A shortest path from the source of the distance map ``dist`` (indexable, one int per cell,
    0 at the source) to ``dst``: walk down the map from ``dst``. No search, one lookup per cell."""
    path = [dst]
    c = dst
    d = dist[c]
    while d > 0:
        for step in (1, -1, stride, -stride):  # walked backwards: "vertical first" seen from the source
            if dist[c + step] == d - 1:
                c += step
                break
        else:  # not a distance map after all: give up and let the caller search
            return []
        d -= 1
        path.append(c)
    path.reverse()
    return path


class PathBook:
    """One path per (field, drone) in a flat buffer; ``next_cells`` follows them, replanning on demand.

    ``plan(field, src, dst)`` returns the cells of a shortest path (the caller knows the map).
    """

    def __init__(self, b: int, n: int, stride: int) -> None:
        self.b, self.n, self.stride = b, n, stride
        self.target = np.full((b, n), _NONE, dtype=np.int64)
        self.start = np.zeros((b, n), dtype=np.int64)  # offset of the path in ``buf``
        self.length = np.zeros((b, n), dtype=np.int64)  # 0 = no path
        self.pos = np.zeros((b, n), dtype=np.int64)  # index of the drone's cell on its path
        self.buf = np.zeros(0, dtype=np.int64)
        self.planned = 0  # paths planned so far (for benchmarks and tests)

    def forget(self, fields: np.ndarray) -> None:
        """Drop targets and paths of ``fields`` (new episode)."""
        self.target[fields] = _NONE
        self.length[fields] = 0

    def next_cells(self, cell: np.ndarray, target: np.ndarray, plan: Planner) -> np.ndarray:
        """(B, N) next cell towards ``target`` for each drone at ``cell`` (its own cell when there or
        when the target is _NONE). Plans paths for drones whose target changed or that left theirs."""
        has = target != _NONE
        same = has & (target == self.target) & (self.length > 0)
        idx = self.start + self.pos
        last = self.length - 1
        on = same & (self.buf[np.where(same, idx, 0)] == cell) if self.buf.size else same & False
        ahead = same & ~on & (self.pos < last)
        if ahead.any():  # the drone moved one cell along its path
            nxt = self.buf[np.where(ahead, idx + 1, 0)] == cell
            step = ahead & nxt
            self.pos += step
            on |= step
        replan = has & ~on
        self.target = np.where(has, target, _NONE)
        self.length[~has] = 0
        if replan.any():
            self._plan(np.nonzero(replan), cell, plan)
        out = cell.copy()
        go = has & (self.length > 0) & (self.pos < self.length - 1)
        out[go] = self.buf[(self.start + self.pos + 1)[go]]
        return out

    def _plan(self, where: tuple[np.ndarray, np.ndarray], cell: np.ndarray, plan: Planner) -> None:
        fb, dn = where
        paths = []
        for f, d in zip(fb.tolist(), dn.tolist()):
            paths.append(plan(f, int(cell[f, d]), int(self.target[f, d])))
        self.planned += len(paths)
        live = int(self.length.sum())
        if self.buf.size > 4 * (live + 1024):  # compact: keep only the paths still in use
            keep = self.length > 0
            keep[fb, dn] = False
            parts, start = [], 0
            for f, d in zip(*np.nonzero(keep)):
                s, n = int(self.start[f, d]), int(self.length[f, d])
                parts.append(self.buf[s:s + n])
                self.start[f, d] = start
                start += n
            self.buf = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        lens = np.array([len(p) for p in paths], dtype=np.int64)
        self.start[fb, dn] = self.buf.size + np.cumsum(lens) - lens
        self.length[fb, dn] = lens
        self.pos[fb, dn] = 0
        cells = np.fromiter((c for p in paths for c in p), np.int64, int(lens.sum()))
        self.buf = np.concatenate([self.buf, cells])
