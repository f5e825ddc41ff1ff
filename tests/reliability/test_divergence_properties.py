"""Divergence, property-based: whatever the learning rate and data scale, the model stays usable.

After a fit that diverges (``on_divergence='raise'`` raises scikit-learn's
ValueError, ``'warn'`` warns), the estimator holds its last finite network:
finite weights, finite predictions, and it trains on with a sensible learning
rate. With early stopping, an epoch whose validation predictions are not
finite is recorded as a NaN score, as scikit-learn records it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_helpers import Y_CLASS, Y_REG, X, all_finite, assert_clean_error, make, outcome, quiet

from mlpkit._base import DivergenceWarning

SETTINGS = settings(max_examples=40, deadline=None)


def _fit(model, X_, y):
    """(error or None, DivergenceWarnings) of fitting."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_, y)
            error = None
        except ValueError as e:
            error = e
    return error, [w for w in caught if issubclass(w.category, DivergenceWarning)]


@SETTINGS
@given(
    kind=st.sampled_from(["classifier", "regressor"]),
    solver=st.sampled_from(["sgd", "adam"]),
    early_stopping=st.booleans(),
    on_divergence=st.sampled_from(["raise", "warn"]),
    lr_exponent=st.floats(-1, 8),
    x_exponent=st.floats(0, 6),
    y_exponent=st.floats(0, 6),
)
def test_after_any_fit_the_model_predicts_finite_numbers(kind, solver, early_stopping, on_divergence, lr_exponent,
                                                         x_exponent, y_exponent):
    X_ = X * 10.0**x_exponent
    y = Y_REG * 10.0**y_exponent if kind == "regressor" else Y_CLASS
    model = make(kind, solver=solver, early_stopping=early_stopping, validation_fraction=0.25,
                 on_divergence=on_divergence, learning_rate_init=10.0**lr_exponent, max_iter=8)
    error, diverged = _fit(model, X_, y)
    if error is not None:
        assert on_divergence == "raise"
        assert_clean_error(error, types=(ValueError,))
        assert "non-finite" in str(error) and "on_divergence='warn'" in str(error)
    else:
        assert bool(diverged) == bool(model._diverged)
        if on_divergence == "raise" and not early_stopping:  # with early stopping, as scikit-learn: no error
            assert not model._diverged
    assert all_finite(*model.coefs_, *model.intercepts_)
    assert all_finite(model.predict_proba(X_) if kind == "classifier" else model.predict(X_))
    assert len(model.loss_curve_) == model.n_iter_ >= 1
    if early_stopping:
        scores = np.asarray(model.validation_scores_)
        assert len(scores) == model.n_iter_
        assert not np.isposinf(scores).any()  # a score is at most 1, or NaN, or -inf (r2 overflowing)
        finite = scores[np.isfinite(scores)]
        expected_best = finite.max() if finite.size else -np.inf  # the weights kept are the best epoch's
        assert model.best_validation_score_ == expected_best
    # and it trains on from there, with a sensible learning rate
    model.set_params(warm_start=True, learning_rate_init=1e-4, max_iter=2, on_divergence="warn")
    with quiet():
        model.fit(X_, y)
    assert all_finite(*model.coefs_, *model.intercepts_)


@SETTINGS
@given(lr_exponent=st.floats(0, 8), solver=st.sampled_from(["sgd", "adam"]))
def test_partial_fit_that_diverges_keeps_the_last_finite_network(lr_exponent, solver):
    model = make("regressor", solver=solver, learning_rate_init=10.0**lr_exponent, on_divergence="warn")
    for _ in range(4):
        with quiet():
            model.partial_fit(X * 100, Y_REG * 100)
        assert all_finite(*model.coefs_, *model.intercepts_)
        assert all_finite(model.predict(X * 100))


def test_a_diverging_validation_score_is_recorded_as_nan_as_sklearn_records_it():
    """scikit-learn scores the validation set after each epoch and records NaN when its
    predictions are not finite (``_score_with_function``); mlpkit records NaN for that epoch."""
    params = {"solver": "sgd", "learning_rate_init": 1e6, "early_stopping": True, "max_iter": 5}
    sk = make("regressor", "sklearn", **params)
    with quiet():
        sk.fit(X, Y_REG)
    assert np.isnan(sk.validation_scores_).any()  # scikit-learn: NaN for non-finite predictions
    model = make("regressor", on_divergence="warn", **params)
    with pytest.warns(DivergenceWarning):
        model.fit(X, Y_REG)
    assert np.isnan(model.validation_scores_[-1])
    assert np.isfinite(model.best_validation_score_)
    assert all_finite(model.predict(X))
    # the weights kept are the best epoch's: its score is the best one recorded
    assert model.best_validation_score_ == np.nanmax(model.validation_scores_)


@pytest.mark.parametrize("learning_rate_init", [10.0, 1e6])
def test_early_stopping_divergence_returns_normally_as_in_sklearn(learning_rate_init):
    params = {"solver": "sgd", "learning_rate_init": learning_rate_init, "early_stopping": True, "max_iter": 5}
    assert outcome(lambda: make("regressor", "sklearn", **params).fit(X, Y_REG))[0] == "ok"
    status, value = outcome(lambda: make("regressor", **params).fit(X, Y_REG))
    assert status == "ok", f"{type(value).__name__}: {value}"
