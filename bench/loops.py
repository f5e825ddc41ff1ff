"""One fit in a warm process: scikit-learn's loop, mlpkit's numpy loop and mlpkit's compiled loop.

What a fit costs once everything is imported and, for the compiled loop, compiled (its program
reused: the same configuration fitted again in one process). mlpkit trains small work in the numpy
loop whatever this says (``numpy_loop.trains``: by settings and data shape, never by what is cached);
this shows what that choice gives up on repeated fits and what it gains beside scikit-learn.
``numpy_loop.MAX_WORK`` is set to put every fit in one loop or the other. Rows take turns, round after
round; reported: the minimum over rounds of each fit's wall time.

    python bench/loops.py                  # 7 rounds
    python bench/loops.py --rounds 15 --out loops.md
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from functools import partial

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

import mlpkit
from mlpkit import numpy_loop


def cases() -> dict:
    """Row name -> (scikit-learn's estimator, mlpkit's, X, y, parameters)."""
    iris, digits = load_iris(return_X_y=True), load_digits(return_X_y=True)
    cancer, diabetes = load_breast_cancer(return_X_y=True), load_diabetes(return_X_y=True)
    cancer = ((cancer[0] - cancer[0].mean(0)) / cancer[0].std(0), cancer[1])
    diabetes = (diabetes[0], diabetes[1] / 100)
    classifier, regressor = (SkClassifier, mlpkit.MLPClassifier), (SkRegressor, mlpkit.MLPRegressor)
    return {
        "iris, adam, (100,), 200 epochs": (*classifier, *iris, {"max_iter": 200, "tol": 0}),
        "iris, sgd, (10,), 200 epochs": (*classifier, *iris, {"solver": "sgd", "hidden_layer_sizes": (10,),
                                                               "max_iter": 200, "tol": 0}),
        "breast_cancer, adam, (50,), early stopping": (*classifier, *cancer, {"hidden_layer_sizes": (50,),
                                                                              "early_stopping": True}),
        "diabetes, adam, (100, 50), 100 epochs": (*regressor, *diabetes, {"hidden_layer_sizes": (100, 50),
                                                                          "max_iter": 100, "tol": 0}),
        "digits, adam, (100,), 30 epochs": (*classifier, np.ascontiguousarray(digits[0]), digits[1],
                                            {"max_iter": 30, "tol": 0}),
        "iris, lbfgs, (100,)": (*classifier, *iris, {"solver": "lbfgs", "max_iter": 200}),
    }  # fmt: skip


def timed(make, X, y) -> float:
    """Seconds of ``make().fit(X, y)``."""
    started = time.perf_counter()
    make().fit(X, y)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", help="also write the markdown table here")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    load = os.getloadavg()[0]
    rows = {}
    columns = {"scikit-learn": None, "mlpkit, numpy loop": np.inf, "mlpkit, compiled loop (warm)": 0}
    for name, (sk, ours, X, y, params) in cases().items():
        times = {column: [] for column in columns}
        for round_ in range(args.rounds + 1):  # round 0 untimed: imports, and the compiled program
            for column, limit in columns.items():
                if limit is not None:
                    numpy_loop.MAX_WORK = limit
                seconds = timed(partial(sk if limit is None else ours, random_state=0, **params), X, y)
                if round_:
                    times[column].append(seconds)
        rows[name] = {column: min(values) for column, values in times.items()}
        print(name, {k: round(v, 4) for k, v in rows[name].items()}, flush=True)
    lines = [
        f"`python bench/loops.py --rounds {args.rounds}`",
        "",
        f"- {platform.platform()}; {os.cpu_count()} CPUs; load average {load:.2f} at the start,"
        + f" {os.getloadavg()[0]:.2f} at the end",
        "",
        "Seconds per fit in a warm process (minimum over the rounds); ratios against scikit-learn.",
        "",
        "| fit | " + " | ".join(columns) + " | numpy / sklearn | compiled / sklearn |",
        "|---" * (len(columns) + 3) + "|",
    ]
    for name, row in rows.items():
        sk_time = row["scikit-learn"]
        cells = " | ".join(f"{row[column]:.4f}" for column in columns)
        lines.append(f"| {name} | {cells} | {row['mlpkit, numpy loop'] / sk_time:.2f}x"
                     f" | {row['mlpkit, compiled loop (warm)'] / sk_time:.2f}x |")  # fmt: skip
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as out:
            out.write(table + "\n")


if __name__ == "__main__":
    main()
