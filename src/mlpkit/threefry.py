"""``jax.random``'s threefry keys and bits, bit for bit, in numpy.

The compiled loop draws each epoch's order of the rows from ``jax.random`` (``engine.threefry_order``);
the numpy loop must draw the very same orders without importing JAX. Both use JAX's
counter-based generator as ``jax_threefry_partitionable`` (the default) defines it: Threefry-2x32
with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) applied to
a key and the index of each value. ``tests/test_numpy_loop.py`` checks these against ``jax.random``.
"""

from __future__ import annotations

import numpy as np

#: Threefry-2x32's rotation distances, in two groups of four rounds, and its key-schedule parity.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotate_left(x, distance):
    return (x << np.uint32(distance)) | (x >> np.uint32(32 - distance))


def threefry2x32(key, high, low):
    """Threefry-2x32 (20 rounds) of the counters ``(high, low)`` (uint32 arrays) under ``key``
    (uint32[2]): two uint32 arrays, as ``jax.random``'s ``threefry_2x32``."""
    ks = (np.uint32(key[0]), np.uint32(key[1]), np.uint32(key[0]) ^ np.uint32(key[1]) ^ _PARITY)
    with np.errstate(over="ignore"):  # (arithmetic modulo 2^32)
        x0, x1 = high + ks[0], low + ks[1]
        for group in range(5):
            for distance in _ROTATIONS[group % 2]:
                x0 = x0 + x1
                x1 = _rotate_left(x1, distance) ^ x0
            x0 = x0 + ks[(group + 1) % 3]
            x1 = x1 + ks[(group + 2) % 3] + np.uint32(group + 1)
    return x0, x1


def _counters(n):
    """The 64-bit indices 0..n-1 as (high, low) uint32 words (n < 2^32: the high words are 0)."""
    return np.zeros(n, np.uint32), np.arange(n, dtype=np.uint32)


def split(key, n: int) -> np.ndarray:
    """``jax.random.split(key, n)`` for a raw key: ``(n, 2)`` uint32."""
    return np.stack(threefry2x32(key, *_counters(n)), axis=1)


def bits32(key, n: int) -> np.ndarray:
    """``jax.random.bits(key, (n,), jnp.uint32)`` for a raw key."""
    x0, x1 = threefry2x32(key, *_counters(n))
    return x0 ^ x1
