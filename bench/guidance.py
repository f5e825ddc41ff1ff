"""Is mlpkit's guidance right? ``advise`` and ``lr_find`` measured against what training achieves.

For every data set (scikit-learn's bundled ones, and generated ones of several sizes), on each of a
few random 75/25 splits (stratified for classes; more splits for smaller data, whose test scores are
noisier), with everything chosen from the training part only:

(a) **advise**: ``advise(X_train, y_train).estimator()``, fitted and scored on the test part,
    against the best (by mean test score over the splits) of a grid of hidden sizes x learning
    rates: the advised estimator with a ``StandardScaler`` (whatever advise chose) and each
    ``GRID_HIDDEN`` x ``GRID_RATES`` in place of its own. The gap is grid best minus advised
    (target: at most 0.02 accuracy, 0.03 R^2).
(b) **lr_find**: the advised estimator trained at the rate ``lr_find`` suggested for it
    (``Advice.lr_find_rate``, before the held-out trials' choice among rates around it; where the
    curve gave no clear answer, the rate advise used instead, counted apart) against the best
    rate of a 9-point log grid (``LR_GRID``, 1e-4 to 1 in half decades), the rest of the
    estimator unchanged (target: at most 0.02).

Scores: accuracy for classifiers, R^2 for regressors (``estimator.score``); regressors are
scored on the original targets. The grid's best is chosen with the test scores, so it is an
optimistic reference (selection on noise lifts it, most on the smallest sets).

    python bench/guidance.py                        # everything (about 7 min on 2 cores)
    python bench/guidance.py --only iris,wine       # some data sets
    python bench/guidance.py --splits 2             # at most 2 splits per data set
    python bench/guidance.py --out results.md       # also write the tables (markdown) there
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import mlpkit
from mlpkit import advise

#: name -> (task, loader of (X, y)).
DATA_SETS = {
    "iris": ("classify", lambda: datasets.load_iris(return_X_y=True)),
    "wine": ("classify", lambda: datasets.load_wine(return_X_y=True)),
    "breast_cancer": ("classify", lambda: datasets.load_breast_cancer(return_X_y=True)),
    "digits": ("classify", lambda: datasets.load_digits(return_X_y=True)),
    "classification_300": ("classify", lambda: datasets.make_classification(300, 10, n_informative=5, random_state=0)),
    "classification_3000": (
        "classify",
        lambda: datasets.make_classification(3000, 20, n_informative=10, n_classes=4, random_state=0),
    ),
    "classification_20000": (
        "classify",
        lambda: datasets.make_classification(20000, 30, n_informative=15, n_classes=3, random_state=0),
    ),
    "diabetes": ("regress", lambda: datasets.load_diabetes(return_X_y=True)),
    "linnerud": ("regress", lambda: datasets.load_linnerud(return_X_y=True)),
    "friedman1_300": ("regress", lambda: datasets.make_friedman1(300, noise=0.5, random_state=0)),
    "friedman2_1000": ("regress", lambda: datasets.make_friedman2(1000, noise=10, random_state=0)),
    "regression_1000": (
        "regress",
        lambda: datasets.make_regression(1000, 20, n_informative=10, noise=10, random_state=0),
    ),
    "friedman1_5000": ("regress", lambda: datasets.make_friedman1(5000, noise=0.5, random_state=0)),
}

#: (a): the grid of alternatives to the advised width and rate.
GRID_HIDDEN = [(16,), (64,), (256,), (64, 64)]
GRID_RATES = [1e-3, 3e-3, 1e-2, 3e-2]
#: (b): the 9-point log grid of learning rates.
LR_GRID = list(np.logspace(-4, 0, 9))
#: Targets: the largest gap to the grid's best that counts as close (accuracy, R^2).
TARGETS = {"classify": 0.02, "regress": 0.03}
LR_TARGET = 0.02


def n_splits(n_rows: int, most: int | None) -> int:
    """More splits for smaller data: its test parts are small, so each score is noisy."""
    count = 8 if n_rows < 1000 else 3 if n_rows < 5000 else 1
    return min(count, most) if most else count


def network_of(model):
    """The mlpkit network inside the advised estimator (a TransformedTargetRegressor, a Pipeline, or itself)."""
    model = getattr(model, "regressor", model)
    return model.steps[-1][1] if hasattr(model, "steps") else model


def with_network(model, **params):
    """A clone of ``model`` with the network's ``params`` changed."""
    model = clone(model)
    network_of(model).set_params(**params)
    return model


def with_standard_scaler(model):
    """``model`` with a StandardScaler before the network, in place of the chosen scaler (or of none)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    inner = model.regressor if isinstance(model, TransformedTargetRegressor) else model
    pipeline = Pipeline([("scale", StandardScaler()), ("mlp", clone(network_of(inner)))])
    if isinstance(model, TransformedTargetRegressor):
        return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())
    return pipeline


def score(model, X_train, y_train, X_test, y_test) -> float:
    try:
        model.fit(X_train, y_train)
        value = float(model.score(X_test, y_test))
    except ValueError:  # diverged
        return float("-inf")
    return value if np.isfinite(value) else float("-inf")


def run_set(name: str, most_splits: int | None) -> dict:
    task, load = DATA_SETS[name]
    X, y = load()
    X = np.asarray(X, dtype=float)
    splits = n_splits(len(X), most_splits)
    grid = {(h, r): [] for h in GRID_HIDDEN for r in GRID_RATES}
    rates = {r: [] for r in LR_GRID}
    advised, suggested, found, clear, chosen, advise_seconds = [], [], [], [], [], []
    for split in range(splits):
        stratify = y if task == "classify" else None
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=split, stratify=stratify)
        started = time.perf_counter()
        advice = advise(X_train, y_train, task=task, random_state=split)
        advise_seconds.append(time.perf_counter() - started)
        model = advice.estimator()
        advised.append(score(clone(model), X_train, y_train, X_test, y_test))
        rate = advice.lr_find_rate if advice.lr_find_rate is not None else advice.learning_rate_init
        found.append(rate)
        clear.append(advice.lr_find_rate is not None)
        suggested.append(advised[-1] if rate == advice.learning_rate_init else
                         score(with_network(model, learning_rate_init=rate), X_train, y_train, X_test, y_test))  # fmt: skip
        chosen.append(advice.hidden_layer_sizes)
        standard = with_standard_scaler(model)
        for (hidden, rate), scores in grid.items():
            scores.append(score(with_network(standard, hidden_layer_sizes=hidden, learning_rate_init=rate),
                                X_train, y_train, X_test, y_test))  # fmt: skip
        for rate, scores in rates.items():
            scores.append(score(with_network(model, learning_rate_init=rate), X_train, y_train, X_test, y_test))
        print(f"  {name} split {split + 1}/{splits}: advised {advised[-1]:.3f} {advice.hidden_layer_sizes}"
              f" lr {advice.learning_rate_init:.2g} ({advice.sizing_basis}, {advise_seconds[-1]:.1f} s)",
              file=sys.stderr, flush=True)  # fmt: skip
    mean = lambda values: float(np.mean(values))
    grid_best = max(grid, key=lambda key: mean(grid[key]))
    rate_best = max(rates, key=lambda key: mean(rates[key]))
    return {
        "name": name,
        "task": task,
        "rows": len(X),
        "features": X.shape[1],
        "splits": splits,
        "advised": mean(advised),
        "advised_hidden": [list(h) for h in chosen],
        "grid_best": mean(grid[grid_best]),
        "grid_best_config": [list(grid_best[0]), grid_best[1]],
        "gap": mean(grid[grid_best]) - mean(advised),
        "suggested_rates": found,
        "suggestion_clear": clear,
        "suggested": mean(suggested),
        "rate_best": mean(rates[rate_best]),
        "rate_best_value": rate_best,
        "lr_gap": mean(rates[rate_best]) - mean(suggested),
        "advise_seconds": float(np.median(advise_seconds)),
    }


def tables(results: list[dict]) -> str:
    lines = [
        "(a) advise: advised estimator vs the best of hidden sizes x learning rates (mean test score over the splits)",
        "",
        "| data | task | rows x features | splits | advised (widths chosen) | grid best (hidden, rate) | gap | target met | advise s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        widths = "/".join(sorted({",".join(map(str, h)) for h in r["advised_hidden"]}, key=len))
        target = TARGETS[r["task"]]
        lines.append(
            f"| {r['name']} | {r['task']} | {r['rows']} x {r['features']} | {r['splits']} | {r['advised']:.3f} ({widths})"
            f" | {r['grid_best']:.3f} ({tuple(r['grid_best_config'][0])}, {r['grid_best_config'][1]:g}) | {r['gap']:+.3f}"
            f" | {'yes' if r['gap'] <= target else 'no'} (≤ {target}) | {r['advise_seconds']:.1f} |"
        )
    lines += [
        "",
        "(b) lr_find: the advised estimator at lr_find's suggested rate vs the best of a 9-point log grid (1e-4 to 1)",
        "",
        "| data | suggested rates (median; clear/all) | score at the suggestion | best grid rate | its score | gap | target met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {np.median(r['suggested_rates']):.2g} ({sum(r['suggestion_clear'])}/{len(r['suggestion_clear'])})"
            f" | {r['suggested']:.3f} | {r['rate_best_value']:.2g} | {r['rate_best']:.3f} | {r['lr_gap']:+.3f}"
            f" | {'yes' if r['lr_gap'] <= LR_TARGET else 'no'} |"
        )
    met_a = sum(r["gap"] <= TARGETS[r["task"]] for r in results)
    met_b = sum(r["lr_gap"] <= LR_TARGET for r in results)
    lines += ["", f"targets met: (a) {met_a} of {len(results)} data sets, (b) {met_b} of {len(results)}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated data sets: " + ", ".join(DATA_SETS))
    parser.add_argument("--splits", type=int, help="at most this many splits per data set")
    parser.add_argument("--out", help="also write the tables here")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(DATA_SETS)
    unknown = [name for name in names if name not in DATA_SETS]
    if unknown:
        parser.error(f"unknown data set(s) {unknown}; choose from {', '.join(DATA_SETS)}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", mlpkit.DataSizeWarning)
    started = time.perf_counter()
    results = [run_set(name, args.splits) for name in names]
    header = (
        f"Command: `python bench/guidance.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
        f"{time.strftime('%Y-%m-%d')}; {platform.platform()}; Python {platform.python_version()};"
        f" mlpkit {mlpkit.__version__}; {time.perf_counter() - started:.0f} s\n"
    )
    text = header + "\n" + tables(results) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as file:
            file.write(text)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
