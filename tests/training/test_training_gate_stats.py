"""The gate's statistics: bootstrap CI of paired differences."""
from __future__ import annotations

import numpy as np
import pytest

from training.gate import bootstrap_ci

pytestmark = pytest.mark.unit


def test_clearly_better_candidate_has_ci_above_zero() -> None:
    rng = np.random.default_rng(1)
    mean, low, high = bootstrap_ci(0.05 + 0.02 * rng.standard_normal(20))
    assert low > 0 and low < mean < high


def test_no_difference_has_ci_around_zero_and_is_reproducible() -> None:
    diffs = np.random.default_rng(2).standard_normal(20) * 0.02
    first = bootstrap_ci(diffs, seed=0)
    assert first[1] < 0 < first[2]
    assert bootstrap_ci(diffs, seed=0) == first


def test_worse_candidate_has_ci_below_zero() -> None:
    _, low, high = bootstrap_ci(np.full(12, -0.1) + np.linspace(-0.01, 0.01, 12))
    assert high < 0


def test_no_pairs_is_an_error() -> None:
    with pytest.raises(ValueError, match="no paired results"):
        bootstrap_ci(np.array([]))
