"""The lower bound on steps to the coverage goal (recon), for k fields at once.

No swarm can beat it, so "steps / lower bound" says how far a policy is from the best possible. Two
facts bound every swarm:

- capacity: one move newly senses at most ``per_step`` cells for the whole swarm (drones x
  ``env.core.cells_per_move``);
- release: a cell cannot be sensed before step t(c), the fewest moves from the base to a cell within
  sensor range of it (all drones take off from the base).

The earliest step by which the goal's cells can be sensed under both is that of a queue: the cells
released at step s join a backlog, the swarm senses at most ``per_step`` of it per step. It is never
below the capacity bound alone (ceil(cells left / per_step)) nor below the release of the goal-th cell,
and it is much tighter than either on large fields with many drones, where travel from the base takes
most of the time.
"""
from __future__ import annotations

import numpy as np

from env.layout import UNREACHABLE


def sensing_release(dist: np.ndarray, radius: int) -> np.ndarray:
    """(k, H, W) t(c): the least BFS distance from the base (``dist``, UNREACHABLE where no path) over
    the cells within ``radius`` (Chebyshev) of c; UNREACHABLE where none of them is reachable."""
    k, h, w = dist.shape
    r = int(radius)
    padded = np.full((k, h + 2 * r, w + 2 * r), UNREACHABLE, dtype=np.int64)
    padded[:, r:r + h, r:r + w] = dist
    rows = padded[:, :, 0:w].copy()  # min over the 2r + 1 columns, then over the 2r + 1 rows
    for dx in range(1, 2 * r + 1):
        np.minimum(rows, padded[:, :, dx:dx + w], out=rows)
    release = rows[:, 0:h].copy()
    for dy in range(1, 2 * r + 1):
        np.minimum(release, rows[:, dy:dy + h], out=release)
    return release


def coverage_lower_bound(
    release: np.ndarray, free: np.ndarray, covered: np.ndarray, goal: np.ndarray, per_step: int
) -> np.ndarray:
    """(k,) fewest steps until ``goal`` free cells are sensed, ``covered`` of them at take-off.

    ``release`` (k, H, W) from :func:`sensing_release`, ``free`` (k, H, W) the cells that count.
    A field whose goal cannot be reached at all (too many cells out of range) gets the capacity bound.
    """
    k = release.shape[0]
    covered = np.asarray(covered, dtype=np.int64)
    goal = np.asarray(goal, dtype=np.int64)
    capacity_bound = -(-np.maximum(goal - covered, 0) // per_step)
    counted = (free & (release < UNREACHABLE)).reshape(k, -1)
    times = release.reshape(k, -1)
    horizon = int(times[counted].max()) + 1 if counted.any() else 1
    keys = (np.arange(k)[:, None] * horizon + times)[counted]
    arrivals = np.bincount(keys, minlength=k * horizon).reshape(k, horizon)
    # cells in range of the base that take-off did not sense (an obstacle hid them) wait in the backlog
    backlog = np.maximum(arrivals[:, 0] - covered, 0)
    sensed = covered.copy()
    bound = np.zeros(k, dtype=np.int64)
    waiting = sensed < goal
    step = 0
    while waiting.any():
        step += 1
        if step < horizon:
            backlog += arrivals[:, step]
        elif not backlog[waiting].any():
            break  # nothing left to sense: these goals are out of range
        served = np.minimum(backlog, per_step)
        backlog -= served
        sensed += served
        reached = waiting & (sensed >= goal)
        bound[reached] = step
        waiting &= ~reached
    bound[waiting] = capacity_bound[waiting]
    return np.maximum(bound, capacity_bound)
