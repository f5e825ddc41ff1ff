"""Where the FluCoMa estimators' numba kernels stop beating mlpkit's main training loop (``trainer.run``
under FluCoMa's rules): the measurements behind ``mlpkit.flucoma.training.SMALL_NETWORK_MAX_WEIGHTS``.

Times ``training.fit`` on each backend (batch 50, FluCoMa's defaults otherwise, no validation) for
networks of growing width, on 200 and 2000 rows, after a warm-up fit that compiles; prints one markdown
row per case with the weights (multiply-adds per row), ms per epoch on each backend and their ratio.

    python bench/flucoma_backends.py            # ~1-2 minutes on 2 cores
"""

from __future__ import annotations

import time

import numpy as np

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


def seconds_per_epoch(backend, rows, sizes, epochs, repeats=3):
    rng = np.random.default_rng(0)
    X, Y = rng.random((rows, sizes[0])), rng.random((rows, sizes[-1]))
    layout = training.Layout.of(sizes, [2] * (len(sizes) - 2) + [0])
    params = training.glorot_uniform(layout, np.random.RandomState(0))
    velocity = np.zeros_like(params)
    settings = training.Settings(max_iter=epochs, batch_size=50, learn_rate=0.01, momentum=0.9, validation=0.0)
    stream = training.RandomStream(0, 0)
    training.fit(params, velocity, layout, X, Y, settings, stream, backend)  # compiles
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        training.fit(params, velocity, layout, X, Y, settings, stream, backend)
        best = min(best, time.perf_counter() - started)
    return best / epochs, layout.n_weights


def main():
    print("| rows | network | weights | numba ms/epoch | trainer ms/epoch | trainer / numba |")
    print("|---|---|---|---|---|---|")
    for rows, sizes, epochs in CASES:
        small, n_weights = seconds_per_epoch("numba", rows, sizes, epochs)
        large, _ = seconds_per_epoch("trainer", rows, sizes, epochs)
        network = " -> ".join(map(str, sizes))
        print(f"| {rows} | {network} | {n_weights} | {small * 1e3:.3f} | {large * 1e3:.3f} | {large / small:.2f} |", flush=True)


if __name__ == "__main__":
    main()
