"""Held-out scores of default estimators against scikit-learn's on bundled data."""

import numpy as np
import pytest
from sklearn import neural_network as sk
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split

import mlpkit

SEEDS = [0, 1, 2]


def split(X, y):
    return train_test_split(X, y, test_size=0.25, random_state=0)


def mean_score(estimator_class, X_train, X_test, y_train, y_test):
    return np.mean([estimator_class(random_state=s).fit(X_train, y_train).score(X_test, y_test) for s in SEEDS])


def test_digits_accuracy_matches_sklearn():
    X, y = load_digits(return_X_y=True)
    data = split(X / 16, y)
    ours, ref = mean_score(mlpkit.MLPClassifier, *data), mean_score(sk.MLPClassifier, *data)
    assert ours > 0.95
    assert ours == pytest.approx(ref, abs=0.01)


def test_diabetes_r2_matches_sklearn():
    X, y = load_diabetes(return_X_y=True)
    data = split(X, y)
    ours, ref = mean_score(mlpkit.MLPRegressor, *data), mean_score(sk.MLPRegressor, *data)
    assert ours == pytest.approx(ref, abs=0.02)


def test_diabetes_r2_of_a_sensible_setup_matches_sklearn():
    """The defaults underfit raw diabetes targets (R^2 < 0 for both); a small
    regularised net on scaled data learns something real, and as well."""
    X, y = load_diabetes(return_X_y=True)
    data = split((X - X.mean(0)) / X.std(0), y / 100)
    params = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, alpha=1.0)
    ours = mean_score(lambda **kw: mlpkit.MLPRegressor(**params, **kw), *data)
    ref = mean_score(lambda **kw: sk.MLPRegressor(**params, **kw), *data)
    assert ours > 0.25
    assert ours == pytest.approx(ref, abs=0.02)
