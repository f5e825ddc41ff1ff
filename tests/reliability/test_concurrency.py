"""Concurrency: one fitted model, predicted from 8 threads at once, gives what sequential calls give.

8 threads x 200 calls each, mixing single rows and batches, ndarrays and
DataFrames (feature-name checks), ``predict`` and ``predict_proba``; both the
numpy prediction path (the CPU's) and the compiled JAX path (forced with
``NUMPY_PREDICT_MAX_ROWS = 0``, the path accelerators take for large batches).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from reliability_helpers import N_FEATURES, TARGETS, X, make, quiet

import mlpkit.fitted

N_THREADS, N_CALLS = 8, 200
COLUMNS = ["a", "b", "c"]


def _inputs():
    """200 inputs: single rows and batches of 10 and 40 rows, as arrays and as DataFrames."""
    rng = np.random.RandomState(1)
    big = rng.randn(64, N_FEATURES)
    inputs = []
    for i in range(N_CALLS):
        rows = big[i % 64:i % 64 + 1] if i % 3 == 0 else big[(7 * i) % 24:(7 * i) % 24 + (10 if i % 3 == 1 else 40)]
        inputs.append(pd.DataFrame(rows, columns=COLUMNS) if i % 4 == 0 else rows)
    return inputs


INPUTS = _inputs()


def _models():
    with quiet():
        frame = pd.DataFrame(X, columns=COLUMNS)
        classifier = make("classifier").fit(frame, np.array(["no", "yes"])[TARGETS["classifier"]])
        regressor = make("regressor").fit(frame, TARGETS["regressor"])
    return classifier, regressor


def _call(models, i):
    classifier, regressor = models
    x = INPUTS[i]
    return classifier.predict_proba(x), classifier.predict(x), regressor.predict(x)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("path", ["numpy", "compiled"])
def test_predicting_from_eight_threads_gives_the_sequential_results(monkeypatch, path):
    if path == "compiled":
        monkeypatch.setattr(mlpkit.fitted, "NUMPY_PREDICT_MAX_ROWS", 0)
    models = _models()
    expected = [_call(models, i) for i in range(N_CALLS)]

    def worker(t):
        order = [(j * 7 + t * 13) % N_CALLS for j in range(N_CALLS)]  # each thread in its own order
        return [(i, _call(models, i)) for i in order]

    with ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(worker, range(N_THREADS)))
    assert sum(len(r) for r in results) == N_THREADS * N_CALLS
    mismatches = [
        (t, i) for t, result in enumerate(results) for i, got in result
        if not all(np.array_equal(g, e) and np.asarray(g).dtype == np.asarray(e).dtype for g, e in zip(got, expected[i]))
    ]
    assert not mismatches, f"{len(mismatches)} calls differ from the sequential results, e.g. {mismatches[:5]}"
