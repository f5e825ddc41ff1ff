"""Numbers against scikit-learn: same starting weights, same data order, same result.

Each case fits scikit-learn's estimator for one epoch to build a network, copies
its weights into mlpkit's, then trains both on from those weights with
``warm_start``, ``shuffle=False`` and float64. The weights must agree to 1e-6, with mlpkit's fits
in either of its training loops (the numpy loop, which takes small fits, and the compiled loop).
"""

import numpy as np
import pytest
from sklearn import neural_network as sk
from sklearn.datasets import load_diabetes, load_iris

import mlpkit

pytestmark = pytest.mark.usefixtures("either_loop")  # (every test twice: mlpkit's fits in each of its loops)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_DIAB, Y_DIAB = load_diabetes(return_X_y=True)
Y_DIAB = Y_DIAB / 100
SAMPLE_WEIGHT = np.random.RandomState(0).uniform(0.2, 2.0, len(Y_IRIS))

CASES = {
    "multiclass": ("MLPClassifier", X_IRIS, Y_IRIS, {}),
    "binary": ("MLPClassifier", X_IRIS, Y_IRIS == 1, {}),
    "multilabel": ("MLPClassifier", X_IRIS, np.c_[Y_IRIS == 1, Y_IRIS == 2], {}),
    "regression": ("MLPRegressor", X_DIAB, Y_DIAB, {}),
    "multi-output": ("MLPRegressor", X_DIAB, np.c_[Y_DIAB, Y_DIAB**2], {}),
    "poisson-logistic": ("MLPRegressor", X_DIAB, Y_DIAB, {"loss": "poisson", "activation": "logistic"}),
    "tanh-l2": ("MLPRegressor", X_DIAB, Y_DIAB, {"activation": "tanh", "alpha": 0.5}),
    "identity": ("MLPClassifier", X_IRIS, Y_IRIS, {"activation": "identity"}),
}


def fit_both(name, X, y, epochs, fit_params=None, **params):
    """scikit-learn's and mlpkit's estimators trained from the same weights."""
    params = dict(hidden_layer_sizes=(7, 5), shuffle=False, random_state=0, batch_size=16, **params)
    fit_params = fit_params or {}
    ref = getattr(sk, name)(max_iter=1, **params).fit(X, y, **fit_params)
    ours = getattr(mlpkit, name)(max_iter=1, dtype="float64", **params).fit(X, y, **fit_params)
    ours.coefs_ = [W.copy() for W in ref.coefs_]
    ours.intercepts_ = [b.copy() for b in ref.intercepts_]
    for est in (ref, ours):
        est.set_params(warm_start=True, max_iter=epochs).fit(X, y, **fit_params)
    return ref, ours


def assert_same_weights(ref, ours, atol=1e-6):
    for a, b in zip(ref.coefs_ + ref.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=0, atol=atol)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("case", CASES)
def test_one_epoch_matches_sklearn(case, solver):
    name, X, y, params = CASES[case]
    ref, ours = fit_both(name, X, y, epochs=1, solver=solver, learning_rate_init=0.01, **params)
    assert_same_weights(ref, ours)
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate="invscaling", nesterovs_momentum=False),
        dict(solver="sgd", learning_rate="adaptive", momentum=0.5, n_iter_no_change=1, tol=0.5),
        dict(solver="sgd", momentum=0.0),
        dict(solver="adam", beta_1=0.5, beta_2=0.9, epsilon=1e-4),
        dict(solver="lbfgs"),
    ],
    ids=str,
)
def test_several_epochs_and_schedules_match_sklearn(params):
    ref, ours = fit_both("MLPRegressor", X_DIAB, Y_DIAB, epochs=8, learning_rate_init=0.01, **params)
    assert_same_weights(ref, ours)
    assert ours.n_iter_ == ref.n_iter_
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)


def test_sample_weight_matches_sklearn():
    ref, ours = fit_both("MLPClassifier", X_IRIS, Y_IRIS, epochs=3, solver="sgd", fit_params={"sample_weight": SAMPLE_WEIGHT})
    assert_same_weights(ref, ours)


def test_early_stopping_matches_sklearn():
    """Same validation split, same scores per epoch, same stop, same restored best weights."""
    params = dict(solver="sgd", early_stopping=True, n_iter_no_change=3, learning_rate_init=0.05)
    ref, ours = fit_both("MLPClassifier", X_IRIS, Y_IRIS, epochs=60, **params)
    assert ours.n_iter_ == ref.n_iter_ < 60
    np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)
    assert ours.best_validation_score_ == ref.best_validation_score_
    assert_same_weights(ref, ours)


def test_partial_fit_matches_sklearn():
    ref = sk.MLPClassifier(hidden_layer_sizes=(6,), solver="sgd", shuffle=False, random_state=0)
    ours = mlpkit.MLPClassifier(hidden_layer_sizes=(6,), solver="sgd", shuffle=False, random_state=0, dtype="float64")
    classes = np.unique(Y_IRIS)
    for start in range(0, 150, 50):
        rows = slice(start, start + 50)
        ref.partial_fit(X_IRIS[rows], Y_IRIS[rows], classes=classes)
        ours.partial_fit(X_IRIS[rows], Y_IRIS[rows], classes=classes)
    assert_same_weights(ref, ours)
    assert ours.t_ == ref.t_ == 150
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)


def test_same_seed_same_initial_weights_as_sklearn():
    ref = sk.MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, random_state=3, solver="sgd", learning_rate_init=1e-12)
    ours = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, random_state=3, solver="sgd", learning_rate_init=1e-12, dtype="float64")
    ref.fit(X_DIAB, Y_DIAB)
    ours.fit(X_DIAB, Y_DIAB)
    assert_same_weights(ref, ours, atol=1e-9)
