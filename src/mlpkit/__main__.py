"""``python -m mlpkit``: train on scikit-learn's bundled data sets, beside scikit-learn.

Fits a classifier on the digits and a regressor on the diabetes data with
mlpkit and with scikit-learn, same parameters and seed, and prints held-out
scores and fit times. The first mlpkit fit of a shape compiles its program
(cached on disk for later runs); the "again" column is a second fit.
"""

from __future__ import annotations

import time
import warnings

from sklearn import neural_network
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlpkit


def digits_task(library):
    X, y = load_digits(return_X_y=True)
    return library.MLPClassifier(random_state=0), train_test_split(X / 16, y, test_size=0.25, random_state=0)


def diabetes_task(library):
    X, y = load_diabetes(return_X_y=True)
    net = library.MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, alpha=1.0, random_state=0)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), net), transformer=StandardScaler())
    return model, train_test_split(X, y, test_size=0.25, random_state=0)


TASKS = {
    "digits classifier (accuracy)": digits_task,
    "diabetes regressor (R^2)": diabetes_task,
}


def timed_fit(model, X, y):
    started = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - started


def main() -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)
    # scikit-learn's default (100,) layer has more parameters than digits has rows for; this is a
    # like-for-like comparison at those defaults, so mlpkit's data-size advice would only be noise here.
    warnings.simplefilter("ignore", mlpkit.DataSizeWarning)
    header = f"{'task':<30} {'library':<13} {'score':>7} {'fit s':>7} {'again s':>8}"
    print(f"mlpkit {mlpkit.__version__}: scikit-learn's bundled data, held-out scores\n")
    print(header)
    print("-" * len(header))
    for task, make in TASKS.items():
        for library, name in ((mlpkit, "mlpkit"), (neural_network, "scikit-learn")):
            model, (X_train, X_test, y_train, y_test) = make(library)
            first = timed_fit(model, X_train, y_train)
            again = timed_fit(model, X_train, y_train)
            score = model.score(X_test, y_test)
            print(f"{task:<30} {name:<13} {score:>7.4f} {first:>7.3f} {again:>8.3f}")


if __name__ == "__main__":
    main()
