"""Which FluCoMa backend trains each network fastest, against flucoma-core: the measurements behind
``mlpkit.flucoma.training.backend_for`` (``SMALL_NETWORK_MAX_WEIGHTS``; the trainer never picked).

Times ``training.fit`` on each backend (``numba``: hand-written loops; ``blas``: the same kernel with BLAS
products; ``trainer``: mlpkit's main loop under FluCoMa's rules) and ``flucoma_replica.Replica`` (flucoma-core's
loop, the yardstick) for networks of growing width, on 200 and 2000 rows (batch 50, FluCoMa's defaults
otherwise, no validation). Each contestant fits once to compile, then they take turns, one fit each per
round, best of ``ROUNDS`` rounds (so that a busy spell of the machine weighs on all). One markdown row per
case: the weights (multiply-adds per row), ms per epoch of each, the backend ``backend_for`` picks and its
time over the replica's (below 1: mlpkit is faster).

    python bench/flucoma_backends.py            # ~1 minute on 2 cores (the first run compiles)
"""

from __future__ import annotations

import time

import numpy as np
from flucoma_replica import Replica

from mlpkit.flucoma import training

CASES = [  # (rows, layer sizes, epochs)
    (200, [2, 8, 3], 20),
    (200, [13, 16, 8, 3], 20),
    (2000, [13, 16, 8, 3], 10),
    (2000, [13, 20, 20, 3], 10),
    (2000, [13, 24, 24, 3], 10),
    (2000, [13, 32, 32, 3], 10),
    (2000, [13, 48, 48, 3], 5),
    (2000, [13, 64, 64, 3], 5),
    (2000, [32, 64, 64, 8], 5),
    (2000, [64, 128, 64, 8], 3),
    (2000, [128, 256, 10], 2),
]
BACKENDS = ("numba", "blas", "trainer")
ROUNDS = 5


def contestants(rows, sizes, epochs):
    """``{name: fit}``: one fit of the case on each backend, and on the replica."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((rows, sizes[0])), rng.random((rows, sizes[-1]))
    layout = training.Layout.of(sizes, [2] * (len(sizes) - 2) + [0])
    settings = training.Settings(max_iter=epochs, batch_size=50, learn_rate=0.01, momentum=0.9, validation=0.0)
    stream = training.RandomStream(0, 0)

    def on(backend):
        params = training.glorot_uniform(layout, np.random.RandomState(0))
        velocity = np.zeros_like(params)
        return lambda: training.fit(params, velocity, layout, X, Y, settings, stream, backend)

    replica = Replica(sizes, hidden=2, output=0, seed=0)
    fits = {backend: on(backend) for backend in BACKENDS}
    fits["replica"] = lambda: replica.fit(X, Y, epochs, batch_size=50, learn_rate=0.01, momentum=0.9, validation=0.0)
    return fits, training.backend_for(layout), layout.n_weights


def main():
    print("| rows | network | weights | " + " | ".join(f"{name} ms/epoch" for name in (*BACKENDS, "replica"))
          + " | chosen | chosen / replica |")  # fmt: skip
    print("|---" * (len(BACKENDS) + 6) + "|")
    for rows, sizes, epochs in CASES:
        fits, chosen, n_weights = contestants(rows, sizes, epochs)
        for fit in fits.values():
            fit()  # compiles
        best = dict.fromkeys(fits, np.inf)
        for _ in range(ROUNDS):
            for name, fit in fits.items():
                started = time.perf_counter()
                fit()
                best[name] = min(best[name], (time.perf_counter() - started) / epochs)
        times = " | ".join(f"{best[name] * 1e3:.3f}" for name in fits)
        network = " -> ".join(map(str, sizes))
        ratio = best[chosen] / best["replica"]
        print(f"| {rows} | {network} | {n_weights} | {times} | {chosen} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
