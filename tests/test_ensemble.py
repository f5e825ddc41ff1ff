"""``EnsembleClassifier`` and ``EnsembleRegressor``: members as separate fits would make them, outputs
averaged, scikit-learn's contract, saved and loaded, exported to ONNX."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.utils.estimator_checks import (
    check_dont_overwrite_parameters,
    check_estimators_pickle,
    check_get_params_invariance,
    check_n_features_in_after_fitting,
    parametrize_with_checks,
)

import mlpkit
from mlpkit import EnsembleClassifier, EnsembleRegressor, MLPClassifier, MLPRegressor

X, y = load_iris(return_X_y=True)
XR, yR = X[:, :3], X[:, 3]  # petal width from the other measurements
CLASSIFIER = EnsembleClassifier(MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, learning_rate_init=0.01), n_members=3,
                                vary={"alpha": [1e-4, 1e-2]}, random_state=0)  # fmt: skip
REGRESSOR = EnsembleRegressor(MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, learning_rate_init=0.01), n_members=3,
                              random_state=0)  # fmt: skip


def fitted(ensemble, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clone(ensemble).fit(X, y)


@pytest.fixture(scope="module")
def classifier():
    return fitted(CLASSIFIER, X, y)


@pytest.fixture(scope="module")
def regressor():
    return fitted(REGRESSOR, XR, yR)


def test_members_are_the_separate_fits_of_their_settings(classifier):
    settings = CLASSIFIER._member_settings(CLASSIFIER.estimator)
    assert len({s["random_state"] for s in settings}) == 3 and [s["alpha"] for s in settings] == [1e-4, 1e-2, 1e-4]
    for member, setting in zip(classifier.estimators_, settings):
        alone = fitted(clone(CLASSIFIER.estimator).set_params(**setting), X, y)
        assert member.get_params() == alone.get_params()
        for mine, theirs in zip(member.coefs_, alone.coefs_):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-9)


def test_the_classifier_averages_its_members_probabilities(classifier):
    each = np.array([member.predict_proba(X) for member in classifier.estimators_])
    np.testing.assert_array_equal(classifier.predict_proba(X), each.mean(axis=0))
    np.testing.assert_array_equal(classifier.predict(X), classifier.classes_[each.mean(axis=0).argmax(axis=1)])
    assert classifier.score(X, y) > 0.6
    np.testing.assert_array_equal(classifier.predict_log_proba(X), np.log(classifier.predict_proba(X)))


def test_the_regressor_averages_and_gives_the_members_spread(regressor):
    each = np.array([member.predict(XR) for member in regressor.estimators_])
    mean, std = regressor.predict(XR, return_std=True)
    np.testing.assert_array_equal(mean, each.mean(axis=0))
    np.testing.assert_array_equal(std, each.std(axis=0))
    assert mean.shape == std.shape == (len(XR),) and (std > 0).all()
    np.testing.assert_array_equal(regressor.predict(XR), mean)


def test_a_seeded_estimator_seeds_an_ensemble_without_its_own_seed():
    ensemble = EnsembleRegressor(clone(REGRESSOR.estimator).set_params(random_state=3), n_members=3)
    np.testing.assert_array_equal(fitted(ensemble, XR, yR).predict(XR), fitted(ensemble, XR, yR).predict(XR))


@pytest.mark.parametrize("params, message", [
    ({"vary": {"random_state": [1, 2]}}, "vary must leave out random_state"),
    ({"vary": {"alpah": [1.0]}}, "'alpah', which is not a parameter of MLPRegressor"),
    ({"vary": {"alpha": []}}, r"vary\['alpha'\] must be a non-empty list"),
    ({"estimator": MLPClassifier()}, "EnsembleRegressor trains members of mlpkit.MLPRegressor"),
    ({"n_members": 0}, "'n_members' parameter of EnsembleRegressor must be an int in the range"),
])  # fmt: skip
def test_bad_settings_say_what_to_do(params, message):
    with pytest.raises(ValueError, match=message):
        clone(REGRESSOR).set_params(**params).fit(XR, yR)


def test_save_and_load_keep_the_members_and_the_settings(classifier, regressor, tmp_path):
    for ensemble, data in ((classifier, X), (regressor, XR)):
        path = tmp_path / f"{type(ensemble).__name__}.npz"
        mlpkit.save(ensemble, path)
        loaded = mlpkit.load(path)
        assert type(loaded) is type(ensemble) and loaded.get_params()["vary"] == ensemble.get_params()["vary"]
        assert loaded.estimator.get_params() == ensemble.estimator.get_params()
        np.testing.assert_array_equal(loaded.predict(data), ensemble.predict(data))
    mlpkit.save(EnsembleClassifier(n_members=2), tmp_path / "unfitted.npz")
    unfitted = mlpkit.load(tmp_path / "unfitted.npz")
    assert unfitted.n_members == 2 and unfitted.estimator is None and not hasattr(unfitted, "estimators_")


def test_onnx_averages_the_members_in_the_graph(classifier, regressor):
    ort = pytest.importorskip("onnxruntime")
    label, probabilities = ort.InferenceSession(mlpkit.export_onnx(classifier).SerializeToString()).run(None, {"X": X})
    np.testing.assert_allclose(probabilities, classifier.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(label, classifier.predict(X))
    [variable] = ort.InferenceSession(mlpkit.export_onnx(regressor).SerializeToString()).run(None, {"X": XR})
    np.testing.assert_allclose(variable, regressor.predict(XR), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="not fitted"):
        mlpkit.export_onnx(EnsembleRegressor())


@pytest.mark.parametrize("ensemble, check", [
    (CLASSIFIER, check_estimators_pickle), (CLASSIFIER, check_n_features_in_after_fitting),
    (REGRESSOR, check_get_params_invariance), (REGRESSOR, check_dont_overwrite_parameters),
], ids=lambda value: getattr(value, "__name__", type(value).__name__))  # fmt: skip
def test_a_few_of_scikit_learns_checks(ensemble, check):
    """A few quick ones in every run; all of them below, with ``-m slow`` (a few minutes on two cores)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(type(ensemble).__name__, clone(ensemble))


@pytest.mark.slow
@parametrize_with_checks([
    EnsembleClassifier(MLPClassifier(hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.01), n_members=3,
                       random_state=0),
    EnsembleRegressor(MLPRegressor(hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.01), n_members=3,
                      random_state=0),
])  # fmt: skip
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)
