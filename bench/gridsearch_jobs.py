"""GridSearchCV with n_jobs=2 against n_jobs=1, in one run: seconds and the ratio to n_jobs=1.

    python bench/gridsearch_jobs.py [--max-iter 30] [--hidden 32]

12 candidates x 3 folds on scikit-learn's digits (the search of issue 18), for mlpkit and for
scikit-learn's own MLPClassifier. Rows:

- ``n_jobs=1``: in this process (its programs compiled or read from the persistent cache once, by
  a first search that is not timed);
- ``n_jobs=2 loky, new workers``: joblib's default backend, as GridSearchCV uses it, with worker
  processes started for it (each imports scikit-learn, JAX and mlpkit, and traces the program
  before reading it from the cache);
- ``n_jobs=2 loky, workers up``: the same search again; loky keeps its workers for the next one;
- ``n_jobs=2 threads``: ``joblib.parallel_config(backend="threading")``; JAX releases the GIL while
  its compiled loop runs, so threads train at once without starting processes.

A last row per library is a floor for ``new workers``: the search with workers up, plus what a new
worker pays before any library of ours runs (a fresh interpreter importing scikit-learn's model selection
and neural network modules, timed in a subprocess, best of three). No library can start its workers
for less; where the floor is above ``n_jobs=1``, a first parallel search in a process cannot beat it.

With ``--cache-log``, each worker writes JAX's persistent-cache log (hits and misses) to
``$TMPDIR/mlpkit-cache-log-PID.txt``, which is how the workers were seen to hit the cache.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings

import joblib
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SklearnMLP

import mlpkit

GRID = {"alpha": [1e-4, 1e-3, 1e-2], "learning_rate_init": [1e-3, 3e-3, 1e-2, 3e-2]}


def search_seconds(estimator, X, y, n_jobs, backend="loky") -> float:
    started = time.perf_counter()
    with joblib.parallel_config(backend=backend), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter, in every fold
        GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs).fit(X, y)
    return time.perf_counter() - started


def worker_import_seconds() -> float:
    """A fresh interpreter importing what every GridSearchCV worker imports (best of three)."""
    code = "import sklearn.model_selection, sklearn.neural_network"
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--cache-log", action="store_true", help="log JAX's cache hits in every process")
    args = parser.parse_args()
    if args.cache_log:
        os.environ["JAX_DEBUG_LOG_MODULES"] = "jax._src.compiler,jax._src.compilation_cache"
    X, y = load_digits(return_X_y=True)
    X = X / 16
    params = {"hidden_layer_sizes": (args.hidden,), "max_iter": args.max_iter, "random_state": 0}
    print(f"GridSearchCV: 12 candidates x 3 folds, digits {X.shape}, hidden ({args.hidden},), max_iter={args.max_iter},"
          f" {os.cpu_count()} CPUs\n")
    print(f"{'library':<13} {'search':<28} {'seconds':>8} {'ratio to n_jobs=1':>18}")
    for name, estimator in (("mlpkit", mlpkit.MLPClassifier(**params)), ("scikit-learn", SklearnMLP(**params))):
        search_seconds(estimator, X, y, 1)  # compiles (or reads the cache), imports: not timed
        serial = search_seconds(estimator, X, y, 1)
        rows = [
            ("n_jobs=1", serial),
            ("n_jobs=2 loky, new workers", search_seconds(estimator, X, y, 2)),
            ("n_jobs=2 loky, workers up", search_seconds(estimator, X, y, 2)),
            ("n_jobs=2 threads", search_seconds(estimator, X, y, 2, backend="threading")),
        ]
        rows.append(("floor: workers up + import", rows[2][1] + worker_import_seconds()))
        for search, seconds in rows:
            print(f"{name:<13} {search:<28} {seconds:8.2f} {seconds / serial:18.2f}")
        # the next library's "new workers" must start new ones too
        joblib.externals.loky.get_reusable_executor().shutdown(wait=True)


if __name__ == "__main__":
    main()
