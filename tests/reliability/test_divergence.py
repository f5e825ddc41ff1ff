"""Divergence: training stops, keeps the last finite network, and says so."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression

import mlpkit
from mlpkit._base import DivergenceWarning

X, Y = make_regression(n_samples=80, n_features=4, noise=1.0, random_state=0)
Y = Y / Y.std()


def diverging(**params):
    defaults = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=100.0, max_iter=50, random_state=0)
    return mlpkit.MLPRegressor(**{**defaults, **params})


def test_learning_rate_100_raises_sklearns_error_by_default_and_keeps_finite_weights():
    model = diverging()
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights.*on_divergence='warn'"):
        model.fit(X, Y)
    assert model.n_iter_ < 50  # stopped early
    assert all(np.isfinite(w).all() for w in model.coefs_ + model.intercepts_)
    assert np.isfinite(model.predict(X)).all()


def test_on_divergence_warn_keeps_the_restored_model():
    model = diverging(on_divergence="warn")
    with pytest.warns(DivergenceWarning, match="smaller learning_rate_init"):
        model.fit(X, Y)
    assert np.isfinite(model.predict(X)).all()
    # and it can go on training, with a sensible learning rate this time
    model.set_params(warm_start=True, learning_rate_init=1e-3, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        model.fit(X, Y)


def test_a_clean_fit_reports_no_divergence():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        model = mlpkit.MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0, on_divergence="warn")
        model.fit(X, Y)
    assert model.n_iter_ == 20 and not model._diverged


def test_diverging_validation_score_is_recorded_as_nan_as_sklearn():
    model = diverging(early_stopping=True, on_divergence="warn", learning_rate_init=1e6)
    with pytest.warns(DivergenceWarning):
        model.fit(X, Y)
    assert np.isnan(model.validation_scores_).any() or model.n_iter_ == 1
    assert np.isfinite(model.predict(X)).all()
