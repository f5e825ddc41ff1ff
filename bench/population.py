"""Populations (``mlpkit.fit_many``, ``sweep(population=K)``, ensembles): time and held-out quality.

Three parts, each a markdown table:

``fit_many``
    ``mlpkit.fit_many(estimator, X, y, candidates)`` with 1, 8, 32 and 128 candidates (seeds 0..K-1,
    learning rates 1e-3 .. 4e-3 in turn: traced values, one population) against one ``fit`` and
    against a loop of separate fits (``clone(estimator).set_params(**c).fit(X, y)``), with
    ``population='auto'`` (vmapped where ``pays_to_vmap``) and, where that trains one by one, also
    ``population=True`` (vmapped anyway), each with ``n_jobs`` left at its default (-1: a lane per
    core) and ``'auto'`` also with ``n_jobs=1`` (one lane: the ratio says what the lanes gain), on

    - flucoma: 200 x 2 -> (8,) -> 3 (uniform random data), MLPRegressor, batch 50, 200 epochs;
    - digits:  1797 x 64 -> (64,) -> 10, MLPClassifier, batch 200 ("auto"), 50 epochs;
    - mnist:   MNIST-shaped stand-in (``make_classification``, 784 features, 64 informative,
      10 classes; no downloads), ``--mnist-rows`` rows (default 10000: 60000 rows x 128 candidates
      is over an hour on two cores), float32, (100,), batch 200, 2 epochs.

    ``tol=0`` and ``n_iter_no_change`` above ``max_iter``: every epoch runs in both, the same work.
    Every size is run once untimed first (compiling its programs: the compile times are in the
    notes); then each measure is the median of ``--repeats`` runs, fit_many and the loop in turn.

``sweep``
    ``mlpkit.sweep`` on digits, ``--sweep-trials`` trials (default 32) with ``population=32`` and
    without, the same space (learning_rate_init, alpha), ``MLPClassifier((64,), max_iter=50)``,
    pruning on (its default; early stopping turned on), one holdout; each in a fresh runs
    directory, once untimed (compiling) and then ``--repeats`` times, medians.

``ensemble``
    ``EnsembleClassifier(MLPClassifier((64,), max_iter=300), n_members=8)``
    on iris, wine, breast_cancer and digits (standardised), a stratified 70/30 split for each of
    ``--splits`` seeds: held-out accuracy and log loss of the ensemble, of its best member (best on
    the held-out rows themselves: an optimistic bar) and of the average member; means over splits.

Usage::

    python bench/population.py                    # everything (about 20 minutes on 2 cores)
    python bench/population.py --only fit_many --workloads flucoma,digits --sizes 1,8,32
    python bench/population.py --quick            # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
import warnings


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def workloads(args):
    """name -> (estimator, X, y, description)."""
    import numpy as np
    from sklearn.datasets import load_digits, make_classification

    from mlpkit import MLPClassifier, MLPRegressor

    everything = dict(tol=0.0, n_iter_no_change=10**6)
    rng = np.random.default_rng(0)
    Xf, Yf = rng.random((200, 2)), rng.random((200, 3))
    Xd, yd = load_digits(return_X_y=True)
    Xm, ym = make_classification(args.mnist_rows, 784, n_informative=64, n_classes=10, random_state=0)
    return {
        "flucoma": (MLPRegressor(hidden_layer_sizes=(8,), batch_size=50, max_iter=200, **everything), Xf, Yf,
                    "200x2 -> (8,) -> 3, MLPRegressor, batch 50, 200 epochs, float64"),
        "digits": (MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, **everything), Xd / 16, yd,
                   "1797x64 -> (64,) -> 10, MLPClassifier, batch 200, 50 epochs, float64"),
        "mnist": (MLPClassifier(hidden_layer_sizes=(100,), max_iter=args.mnist_epochs, **everything),
                  Xm.astype(np.float32), ym,
                  f"{args.mnist_rows}x784 -> (100,) -> 10 (MNIST-shaped stand-in), batch 200,"
                  f" {args.mnist_epochs} epochs, float32"),
    }


def candidates(k):
    return [{"random_state": i, "learning_rate_init": 1e-3 * (1 + i % 4)} for i in range(k)]


def bench_fit_many(args):
    from sklearn.base import clone

    import mlpkit
    from mlpkit.population import pays_to_vmap

    rows, notes = [], []
    chosen = workloads(args)
    for name in args.workloads:
        estimator, X, y, description = chosen[name]
        print(f"fit_many: {name}", file=sys.stderr)
        first, _ = timed(lambda: clone(estimator).set_params(random_state=0).fit(X, y))
        one = statistics.median(timed(lambda: clone(estimator).set_params(random_state=0).fit(X, y))[0]
                                for _ in range(args.repeats))
        vmaps = pays_to_vmap(clone(estimator)._start_fit_in_population(X, y, None))
        compiles = [f"one fit {first:.2f} s"]
        for k in args.sizes:
            grid = candidates(k)
            # (population, n_jobs): True vmaps where 'auto' would not; n_jobs=1 is one lane
            modes = [("auto", -1), ("auto", 1)] + ([] if vmaps or k == 1 else [(True, -1)])
            for mode, _ in modes[::2]:  # (n_jobs=1 compiles no other program)
                compile_seconds, _ = timed(lambda: mlpkit.fit_many(estimator, X, y, grid, population=mode))
                compiles.append(f"K={k}{'' if mode == 'auto' else ' vmapped'} {compile_seconds:.2f} s")
            measured = {mode: [] for mode in modes}
            loop = []
            for _ in range(args.repeats):
                for mode, n_jobs in modes:
                    measured[mode, n_jobs].append(timed(lambda: mlpkit.fit_many(estimator, X, y, grid, population=mode,
                                                                                n_jobs=n_jobs))[0])  # fmt: skip
                loop.append(timed(lambda: [clone(estimator).set_params(**c).fit(X, y) for c in grid])[0])
            t, s = statistics.median(measured["auto", -1]), statistics.median(loop)
            serial = statistics.median(measured["auto", 1])
            forced = statistics.median(measured[True, -1]) if (True, -1) in measured else None
            rows.append((description, k, "vmapped" if vmaps and k > 1 else "one by one" if k > 1 else "one fit",
                         t, one, t / one, s, s / t, serial, serial / t, forced))
        notes.append(f"{name}: first call (compiling) " + ", ".join(compiles))
    print("\n### fit_many\n")
    print(f"fit_many's default n_jobs=-1: {mlpkit.population.n_lanes(-1)} lanes here\n")
    print("| workload | candidates | 'auto' trains | fit_many (s) | one fit (s) | fit_many / one fit | loop of fits (s)"
          " | loop / fit_many | n_jobs=1 (s) | n_jobs=1 / default | vmapped anyway (population=True): s, loop / it |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for description, k, how, t, one, ratio, s, speedup, serial, lanes, forced in rows:
        anyway = "" if forced is None else f"{forced:.3f}, {s / forced:.2f}x"
        print(f"| {description} | {k} | {how} | {t:.3f} | {one:.3f} | {ratio:.1f}x | {s:.3f} | {speedup:.2f}x"
              f" | {serial:.3f} | {lanes:.2f}x | {anyway} |")
    print()
    for note in notes:
        print(f"- {note}")


def bench_sweep(args):
    from sklearn.datasets import load_digits

    import mlpkit

    X, y = load_digits(return_X_y=True)
    X = X / 16
    space = {"learning_rate_init": {"low": 1e-4, "high": 1e-1, "log": True},
             "alpha": {"low": 1e-6, "high": 1e-2, "log": True}}
    estimator = mlpkit.MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0)
    results = {}
    for population in (1, 32):
        print(f"sweep: population={population}", file=sys.stderr)
        runs = []
        for repeat in range(args.repeats + 1):  # the first compiles
            seconds, result = timed(lambda: mlpkit.sweep(estimator, X, y, space, n_trials=args.sweep_trials,
                                                         runs=tempfile.mkdtemp(dir=args.scratch), random_state=0, population=population))
            statuses = [t["status"] for t in result.trials_]
            runs.append((seconds, result.best_score_, statuses.count("pruned")))
        results[population] = runs
    print(f"\n### sweep: {args.sweep_trials} trials on digits, MLPClassifier((64,), max_iter=50), pruning on\n")
    print("| population | first (compiles) (s) | median of the next (s) | best holdout accuracy | pruned trials |")
    print("|---|---|---|---|---|")
    for population, runs in results.items():
        median = statistics.median(r[0] for r in runs[1:])
        print(f"| {population} | {runs[0][0]:.1f} | {median:.1f} | {runs[-1][1]:.4f} | {runs[-1][2]} |")
    one = statistics.median(r[0] for r in results[1][1:])
    many = statistics.median(r[0] for r in results[32][1:])
    print(f"\npopulation=1 / population=32: {one / many:.2f}x")


def bench_ensemble(args):
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    import mlpkit

    sets = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer, "digits": load_digits}
    template = mlpkit.MLPClassifier(hidden_layer_sizes=(64,), max_iter=300)
    print(f"\n### ensemble of 8 against its members: held-out accuracy / log loss, mean of {args.splits} splits\n")
    print("| data | ensemble of 8 | best member (on the held-out rows) | average member |")
    print("|---|---|---|---|")
    for name, load in sets.items():
        print(f"ensemble: {name}", file=sys.stderr)
        X, y = load(return_X_y=True)
        scores = {"ensemble": [], "best": [], "average": []}
        for seed in range(args.splits):
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            ensemble = mlpkit.EnsembleClassifier(template, n_members=8, random_state=seed).fit(X_train, y_train)
            members = [(accuracy_score(y_test, m.predict(X_test)), log_loss(y_test, m.predict_proba(X_test), labels=m.classes_))
                       for m in ensemble.estimators_]
            scores["ensemble"].append((accuracy_score(y_test, ensemble.predict(X_test)),
                                       log_loss(y_test, ensemble.predict_proba(X_test), labels=ensemble.classes_)))
            scores["best"].append((max(a for a, _ in members), min(loss for _, loss in members)))
            scores["average"].append(tuple(np.mean(members, axis=0)))
        cells = [f"{np.mean([s[0] for s in v]):.4f} / {np.mean([s[1] for s in v]):.4f}" for v in scores.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n(best member: the highest accuracy and, separately, the lowest log loss among the 8 on the test rows)")


PARTS = {"fit_many": bench_fit_many, "sweep": bench_sweep, "ensemble": bench_ensemble}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {','.join(PARTS)}")
    parser.add_argument("--workloads", default="flucoma,digits,mnist")
    parser.add_argument("--sizes", default="1,8,32,128", help="numbers of candidates")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mnist-rows", type=int, default=10000)
    parser.add_argument("--mnist-epochs", type=int, default=2)
    parser.add_argument("--sweep-trials", type=int, default=32)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that the script works")
    args = parser.parse_args(argv)
    args.only, args.workloads = args.only.split(","), args.workloads.split(",")
    args.sizes = [int(k) for k in args.sizes.split(",")]
    if args.quick:
        args.sizes, args.repeats, args.mnist_rows, args.sweep_trials, args.splits = [1, 8], 1, 2000, 8, 1
    print("$ python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])]))
    with tempfile.TemporaryDirectory() as scratch:
        args.scratch = scratch
        os.environ.setdefault("MLPKIT_COMPILATION_CACHE", os.path.join(scratch, "jax-cache"))  # real compile times
        warnings.simplefilter("ignore")  # ConvergenceWarning from fixed-length fits
        import jax
        import sklearn

        import mlpkit

        print(f"{time.strftime('%Y-%m-%d')}; {platform.platform()}; {os.cpu_count()} CPUs; Python"
              f" {platform.python_version()}; mlpkit {mlpkit.__version__}; scikit-learn {sklearn.__version__};"
              f" jax {jax.__version__} ({jax.default_backend()}); load average {os.getloadavg()[0]:.1f} at the start")
        for part in args.only:
            PARTS[part](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
