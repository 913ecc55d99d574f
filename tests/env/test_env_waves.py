"""env.waves: the compiled compass waves on hand-made fields, and the compilation fallback of a
process that has nowhere to cache (a service user with a read-only install and no home).

The waves' agreement with the plain reference on whole trajectories is in test_env_rules.py."""
from __future__ import annotations

import numpy as np
import pytest

from env.waves import compass_waves, compiled

pytestmark = pytest.mark.unit

UNREACHABLE = 10**9
UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8


def _field(rows: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int], int]:
    """'#' blocked, '.' free, '*' work, letters: drones (a = drone 0, ...). Returns free, seeds, the
    drones' cells and the width; the caller's rows carry their own blocked border."""
    width = len(rows[0])
    flat = "".join(rows)
    free = np.array([[ch != "#" for ch in flat]])
    seeds = np.array([[ch == "*" for ch in flat]])
    drones = {ch: i for i, ch in enumerate(flat) if ch.isalpha()}
    return free, seeds, drones, width


def _waves(rows: list[str], carriers: list[bool]) -> tuple[np.ndarray, np.ndarray]:
    free, seeds, drones, width = _field(rows)
    cell = np.array([[drones[ch] for ch in sorted(drones)]])
    dist = np.empty(cell.shape, dtype=np.int64)
    moves = np.empty(cell.shape, dtype=np.uint8)
    compass_waves(seeds, free, cell, np.array([carriers]), width, 24, UNREACHABLE, dist, moves)
    return dist[0], moves[0]


def test_each_carrier_is_led_into_its_own_region_and_around_walls() -> None:
    rows = ["#######",
            "#*.a.*#",
            "###.###",
            "#..b..#",
            "#######"]
    dist, moves = _waves(rows, [True, True])
    # a owns the top row: both ends are 2 away, so both first moves lead closer
    assert dist[0] == 2 and moves[0] == LEFT | RIGHT
    # b's region (the bottom row) holds no work: the nearest work anywhere, up past a
    assert dist[1] == 4 and moves[1] == UP


def test_without_regions_every_drone_gets_the_nearest_work_and_unreachable_work_gives_nothing() -> None:
    rows = ["#######",
            "#a..*##",
            "#######",
            "#b#*..#",
            "#######"]
    dist, moves = _waves(rows, [False, False])
    assert (dist[0], moves[0]) == (3, RIGHT)
    assert (dist[1], moves[1]) == (UNREACHABLE, 0)


def test_a_drone_sharing_its_cell_with_a_lower_index_has_no_region() -> None:
    rows = ["#####",
            "#*..#",
            "#####"]
    free, seeds, _, width = _field(rows)
    cell = np.array([[8, 8]])  # both drones on the right end
    dist = np.empty(cell.shape, dtype=np.int64)
    moves = np.empty(cell.shape, dtype=np.uint8)
    compass_waves(seeds, free, cell, np.array([[True, True]]), width, 24, UNREACHABLE, dist, moves)
    assert dist.tolist() == [[2, 2]] and moves.tolist() == [[LEFT, LEFT]]  # the second via the fallback


def test_without_a_cache_location_it_compiles_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])  # no directory is writable

    def double(x: int) -> int:
        return 2 * x

    with pytest.raises(RuntimeError, match="cannot cache"):  # what numba itself does there
        from numba import njit

        njit(cache=True)(double)
    assert compiled(double)(21) == 42
