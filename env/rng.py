"""Counter-based random numbers: a pure hash of (seed, field, episode, stream, index).

Why not numpy Generators: field ``i`` must see the same random numbers whatever the batch size
and whatever the other fields do, and a batch of resets must be drawn with array operations, not
one Generator per field. SplitMix64 finalisation over a counter gives both.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, element-wise on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def keys(seed: int, field: np.ndarray, episode: np.ndarray, stream: int) -> np.ndarray:
    """One 64-bit key per field for a given stream; same inputs give the same key."""
    k = mix(np.full(np.shape(field), seed % 2**64, dtype=np.uint64))
    k = mix(k ^ np.asarray(field, dtype=np.uint64))
    k = mix(k ^ np.asarray(episode, dtype=np.uint64))
    return mix(k ^ np.uint64(stream))


def uniform(key: np.ndarray, n: int) -> np.ndarray:
    """``n`` uniforms in [0, 1) per key: shape key.shape + (n,)."""
    idx = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = mix(np.asarray(key, dtype=np.uint64)[..., None] + idx * _GOLDEN)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def integers(key: np.ndarray, n: int, high: int) -> np.ndarray:
    """``n`` integers in [0, high) per key."""
    return np.minimum((uniform(key, n) * high).astype(np.int64), high - 1)
