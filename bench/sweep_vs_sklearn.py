"""A 10-trial hyper-parameter search on digits: ``mlpkit.sweep`` against scikit-learn's ``RandomizedSearchCV``.

Both search the same space for the same estimator settings with 3-fold
cross-validation, then refit the best on all the data:

- learning_rate_init: log-uniform on [1e-4, 1e-1]
- alpha:              log-uniform on [1e-6, 1e-2]
- hidden_layer_sizes: (32,), (64,) or (64, 32)

on ``MLPClassifier(max_iter=50, early_stopping=True, random_state=0)`` (mlpkit's
or scikit-learn's). mlpkit's sweep samples with Optuna's TPE and records every
trial in a run store; it is timed with pruning (its default: a trial whose
validation loss trails the median stops early) and without. Every sweep runs in
a new runs directory; the first mlpkit sweep of the process compiles its
programs (into a private, empty compilation cache, so that compile time is
real), the later ones reuse them.

Usage::

    python bench/sweep_vs_sklearn.py                 # about a minute on 2 cores
    python bench/sweep_vs_sklearn.py --trials 20 --max-iter 100
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
import warnings
from functools import partial


def space(hidden):
    """The search space, as mlpkit's dict and as scikit-learn's distributions."""
    from scipy.stats import loguniform

    mlpkit_space = {"learning_rate_init": {"low": 1e-4, "high": 1e-1, "log": True},
                    "alpha": {"low": 1e-6, "high": 1e-2, "log": True},
                    "hidden_layer_sizes": hidden}
    sklearn_space = {"learning_rate_init": loguniform(1e-4, 1e-1), "alpha": loguniform(1e-6, 1e-2),
                     "hidden_layer_sizes": hidden}
    return mlpkit_space, sklearn_space


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--cv", type=int, default=3)
    args = parser.parse_args(argv)
    print("$ python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]))

    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("MLPKIT_COMPILATION_CACHE", os.path.join(scratch, "jax-cache"))
        warnings.simplefilter("ignore")  # ConvergenceWarning from short fits, on both sides

        import sklearn
        from sklearn.datasets import load_digits
        from sklearn.model_selection import RandomizedSearchCV
        from sklearn.neural_network import MLPClassifier as SklearnMLP

        import mlpkit

        X, y = load_digits(return_X_y=True)
        X = X / 16
        settings = {"max_iter": args.max_iter, "early_stopping": True, "random_state": 0}
        mlpkit_space, sklearn_space = space([(32,), (64,), (64, 32)])

        rows = []
        for label, prune in (("mlpkit.sweep, first in process (compiles)", True),
                             ("mlpkit.sweep, pruning", True), ("mlpkit.sweep, no pruning", False)):
            runs = tempfile.mkdtemp(dir=scratch)
            seconds, result = timed(partial(
                mlpkit.sweep, mlpkit.MLPClassifier(**settings), X, y, mlpkit_space, n_trials=args.trials,
                cv=args.cv, runs=runs, random_state=0, prune=prune))
            statuses = [t["status"] for t in result.trials_]
            rows.append((label, seconds, result.best_score_,
                         f"{statuses.count('finished')} finished, {statuses.count('pruned')} pruned"))
        search = RandomizedSearchCV(SklearnMLP(**settings), sklearn_space, n_iter=args.trials, cv=args.cv,
                                    random_state=0, refit=True)
        seconds, _ = timed(lambda: search.fit(X, y))
        rows.append(("sklearn RandomizedSearchCV", seconds, search.best_score_, f"{args.trials} finished"))

    print(f"digits {X.shape}, {args.trials} trials, {args.cv}-fold CV, max_iter={args.max_iter}, early stopping;"
          f" mlpkit {mlpkit.__version__}, scikit-learn {sklearn.__version__}, {os.cpu_count()} CPUs")
    print("| search | wall time (s) | sklearn / this | best CV accuracy | trials |")
    print("|---|---|---|---|---|")
    sklearn_seconds = rows[-1][1]
    for label, seconds, best, trials in rows:
        print(f"| {label} | {seconds:.1f} | {sklearn_seconds / seconds:.1f}x | {best:.4f} | {trials} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
