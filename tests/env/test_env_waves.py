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


_NO_SECTORS = np.empty((1, 0), dtype=np.int32)


def _waves(rows: list[str], carriers: list[bool], budget: int = 0,
           sectors: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run the waves on one hand-made field; ``sectors``: rows of each cell's owner digit ('-': none)."""
    free, seeds, drones, width = _field(rows)
    cell = np.array([[drones[ch] for ch in sorted(drones)]])
    dist = np.empty(cell.shape, dtype=np.int64)
    moves = np.empty(cell.shape, dtype=np.uint8)
    elsewhere = np.zeros((1, len(carriers)), dtype=bool)
    sector = _NO_SECTORS if sectors is None else \
        np.array([[-1 if ch == "-" else int(ch) for ch in "".join(sectors)]], dtype=np.int32)
    compass_waves(seeds, free, cell, np.array([carriers]), elsewhere, width, 24, UNREACHABLE, budget,
                  False, sector, dist, moves)
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


def test_with_sectors_each_carrier_is_led_to_its_own_sectors_work_by_any_way() -> None:
    """Layout v7: a drone's region is its sector (fixed), not the cells nearest to it. a is led to
    its own work (3 steps, its way crossing c's sector) although other work is 2 steps away; b's
    way crosses c's sector too; c's sector has no work left and d is no carrier: both get the nearest
    work anywhere."""
    rows = ["########",
            "#.a.*c*#",
            "#.####.#",
            "#*...db#",
            "########"]
    sectors = ["--------",
               "-001121-",
               "-2----2-",
               "-000221-",
               "--------"]
    dist, moves = _waves(rows, [True, True, True, False], sectors=sectors)
    assert (dist[0], moves[0]) == (3, LEFT)
    assert (dist[1], moves[1]) == (2, UP)
    assert (dist[2], moves[2]) == (1, LEFT | RIGHT)
    assert (dist[3], moves[3]) == (3, RIGHT)


@pytest.mark.parametrize("budget", [0, 1000])  # the wave from all work; each drone's own wave
def test_without_regions_each_drone_gets_the_nearest_work_unreachable_gives_nothing(budget: int) -> None:
    rows = ["#######",
            "#a..*##",
            "#######",
            "#b#*..#",
            "#######"]
    dist, moves = _waves(rows, [False, False], budget)
    assert (dist[0], moves[0]) == (3, RIGHT)
    assert (dist[1], moves[1]) == (UNREACHABLE, 0)


def test_the_drones_own_waves_and_the_wave_from_all_work_agree_on_random_fields() -> None:
    """The fallback's two ways (budget 0: one wave from every seed; a large budget: a wave from each
    drone; in between: both within one field) give identical distances and moves, with claimed work
    skipped or not."""
    rng = np.random.default_rng(7)
    k, h, w, n = 64, 14, 17, 6
    wp = w + 2
    free = np.zeros((k, (h + 2) * wp), dtype=bool)
    inner = rng.random((k, h, w)) > 0.3
    free.reshape(k, h + 2, wp)[:, 1:-1, 1:-1] = inner
    seeds = free & (rng.random(free.shape) < rng.choice([0.005, 0.03, 0.2], size=(k, 1)))
    cell = np.array([rng.choice(np.flatnonzero(row), size=n) for row in free])
    carriers = rng.random((k, n)) < 0.5
    elsewhere = ~carriers & (rng.random((k, n)) < 0.5)  # homebound: no wave looks for work for them
    results: dict[bool, list[tuple[np.ndarray, np.ndarray]]] = {False: [], True: []}
    for claim in (False, True):  # with and without claimed work (watering / recon)
        for budget in (0, 7, 40, 10**6):
            dist = np.empty((k, n), dtype=np.int64)
            moves = np.empty((k, n), dtype=np.uint8)
            compass_waves(seeds, free, cell, carriers, elsewhere, wp, 3, UNREACHABLE, budget, claim,
                          np.empty((k, 0), dtype=np.int32), dist, moves)
            results[claim].append((dist, moves))
        for dist, moves in results[claim][1:]:
            np.testing.assert_array_equal(dist, results[claim][0][0])
            np.testing.assert_array_equal(moves, results[claim][0][1])
    assert (results[True][0][0] != results[False][0][0]).any(), "no drone skipped claimed work"
    dist = results[False][0][0]
    assert (dist[elsewhere] == UNREACHABLE).all() and (results[False][0][1][elsewhere] == 0).all()
    assert (dist == UNREACHABLE).any() and ((dist > 3) & (dist < UNREACHABLE)).any()  # both cases met


def test_a_drone_sharing_its_cell_with_a_lower_index_has_no_region() -> None:
    rows = ["#####",
            "#*..#",
            "#####"]
    free, seeds, _, width = _field(rows)
    cell = np.array([[8, 8]])  # both drones on the right end
    dist = np.empty(cell.shape, dtype=np.int64)
    moves = np.empty(cell.shape, dtype=np.uint8)
    both, elsewhere = np.array([[True, True]]), np.zeros((1, 2), dtype=bool)
    for claim in (False, True):  # the only seed is claimed by the first: the second takes it anyway
        compass_waves(seeds, free, cell, both, elsewhere, width, 24, UNREACHABLE, 0, claim, _NO_SECTORS, dist,
                      moves)
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
