"""Path planning of the heuristics: A* and the walk down env's distance map give shortest paths
(checked against the batched BFS), and the path book follows them and replans when a drone strays."""
from __future__ import annotations

import numpy as np
import pytest

from env.layout import UNREACHABLE, bfs_distance
from env.navigation import PathBook, astar, descend

pytestmark = pytest.mark.unit


def _padded(free: np.ndarray) -> np.ndarray:
    out = np.zeros((free.shape[0] + 2, free.shape[1] + 2), dtype=bool)
    out[1:-1, 1:-1] = free
    return out


def _valid(path: list[int], free: np.ndarray, stride: int) -> bool:
    steps = np.diff(path)
    return all(free.ravel()[c] for c in path) and set(np.abs(steps).tolist()) <= {1, stride}


@pytest.mark.parametrize("seed", range(6))
def test_astar_and_descend_give_shortest_paths(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = 23, 31
    free = rng.random((h, w)) > 0.3
    free[0, 0] = True
    dist = bfs_distance(free[None], np.array([0]), np.array([0]))[0]
    pf = _padded(free)
    stride = w + 2
    pd = np.full(pf.shape, UNREACHABLE, dtype=np.int64)
    pd[1:-1, 1:-1] = dist
    src = 1 * stride + 1
    reachable = np.argwhere(dist < UNREACHABLE)
    for y, x in reachable[rng.choice(len(reachable), 15)]:
        dst = (y + 1) * stride + x + 1
        path = astar(pf.tobytes(), stride, src, dst)
        assert path[0] == src and path[-1] == dst and len(path) - 1 == dist[y, x]
        assert _valid(path, pf, stride)
        walk = descend(pd.ravel().tolist(), stride, dst)
        assert walk == [] or (walk[0] == src and walk[-1] == dst and len(walk) == len(path))
        assert _valid(walk, pf, stride)
    for y, x in np.argwhere(~free)[:3]:  # a blocked target: the drone stays where it is
        assert astar(pf.tobytes(), stride, src, (y + 1) * stride + x + 1) == [src]


def test_path_book_follows_and_replans() -> None:
    free = np.ones((8, 8), dtype=bool)
    free[1:7, 3] = False  # a wall with gaps at both ends
    pf = _padded(free).tobytes()
    stride = 10
    calls = []

    def plan(f: int, s: int, d: int) -> list[int]:
        calls.append((f, s, d))
        return astar(pf, stride, s, d)

    book = PathBook(1, 1, stride)
    cell = np.array([[4 * stride + 2]])  # left of the wall
    target = np.array([[4 * stride + 6]])  # right of it
    seen = [int(cell[0, 0])]
    for _ in range(20):
        nxt = book.next_cells(cell, target, plan)
        if nxt[0, 0] == cell[0, 0]:
            break
        cell = nxt
        seen.append(int(cell[0, 0]))
    assert seen[-1] == target[0, 0] and len(calls) == 1
    assert len(seen) - 1 == 4 + 2 * 3  # round the wall through the nearer gap (row 0 or row 7)
    book.next_cells(np.array([[1 * stride + 1]]), target, plan)  # the drone was moved away: replan
    assert len(calls) == 2
