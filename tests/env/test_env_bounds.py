"""env/bounds.py on hand-made arrays: the release map, the queue, and the fallback when the goal is
out of range (fields the layout generator would not draw, so the simulator's tests never reach it)."""
from __future__ import annotations

import numpy as np
import pytest

from env.bounds import coverage_lower_bound, sensing_release
from env.layout import UNREACHABLE

pytestmark = pytest.mark.unit
X = UNREACHABLE


def test_release_is_the_nearest_reachable_cell_within_sensor_range() -> None:
    dist = np.array([[[0, 1, 2, 3, X, X]]])  # one row; the last two cells unreachable
    np.testing.assert_array_equal(sensing_release(dist, 1), [[[0, 0, 1, 2, 3, X]]])
    np.testing.assert_array_equal(sensing_release(dist, 0), dist)


def test_queue_counts_capacity_and_release_and_falls_back_when_the_goal_is_out_of_range() -> None:
    release = np.array([[[0, 0, 1, 1, 1, 1, 5, X]]] * 3)
    free = np.ones_like(release, dtype=bool)
    # field 0: 2 sensed at take-off, 4 released at step 1, capacity 2 -> steps 1 and 2; the 7th cell is
    #   released at step 5. field 1: goal 6 -> 2 steps. field 2: goal 8 needs the unreachable cell, so
    #   only the capacity bound holds: ceil((8 - 2) / 2) = 3.
    bound = coverage_lower_bound(release, free, np.array([2, 2, 2]), np.array([7, 6, 8]), per_step=2)
    np.testing.assert_array_equal(bound, [5, 2, 3])


def test_cells_in_range_at_take_off_that_were_not_sensed_wait_in_the_backlog() -> None:
    # an obstacle hid 2 of the 4 cells around the base at take-off: sensed at step 1 (capacity 2), then
    # the last cell is released at step 3 (had the hidden two been forgotten, the goal would look out of
    # range and only the capacity bound, 2, would be left)
    release = np.array([[[0, 0, 0, 0, 3]]])
    free = np.ones_like(release, dtype=bool)
    assert coverage_lower_bound(release, free, np.array([2]), np.array([5]), per_step=2).tolist() == [3]
