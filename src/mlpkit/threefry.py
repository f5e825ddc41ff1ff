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
_PARITY = 0x1BD11BDA
_WORD = 0xFFFFFFFF  # (Python ints are masked to 32 bits; uint32 arrays wrap by themselves)


def threefry2x32(k0, k1, high, low):
    """Threefry-2x32 (20 rounds) of the counters ``(high, low)`` under the key ``(k0, k1)``, as
    ``jax.random``'s ``threefry_2x32``: two words. Each argument is a Python int or a uint32 array
    (arrays broadcast: many keys at once); Python ints make a single value fast, arrays many."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = (high + ks[0]) & _WORD, (low + ks[1]) & _WORD
    for group in range(5):
        for distance in _ROTATIONS[group % 2]:
            x0 = (x0 + x1) & _WORD
            x1 = (((x1 << distance) & _WORD) | (x1 >> (32 - distance))) ^ x0
        x0 = (x0 + ks[(group + 1) % 3]) & _WORD
        x1 = (x1 + ks[(group + 2) % 3] + group + 1) & _WORD
    return x0, x1


def split(key, n: int) -> np.ndarray:
    """``jax.random.split(key, n)`` for a raw key (uint32[2]): ``(n, 2)`` uint32."""
    k0, k1 = int(key[0]), int(key[1])
    return np.array([threefry2x32(k0, k1, 0, i) for i in range(n)], np.uint32)


def bits32(keys, n: int) -> np.ndarray:
    """``jax.random.bits(key, (n,), jnp.uint32)`` for each raw key of ``keys`` (uint32[2], or ``(m, 2)``
    for m keys at once: ``(m, n)``)."""
    keys = np.asarray(keys, np.uint32)
    k0, k1 = keys[..., 0, None], keys[..., 1, None]
    with np.errstate(over="ignore"):  # (uint32 arithmetic wraps modulo 2^32, as it should)
        x0, x1 = threefry2x32(k0, k1, np.zeros(n, np.uint32), np.arange(n, dtype=np.uint32))
    return x0 ^ x1
