"""The scikit-learn contract of mlpkit's estimators.

mlpkit.MLPClassifier / MLPRegressor are meant as drop-in replacements for
``sklearn.neural_network``'s (1.9): same parameters and defaults, fitted
attributes, methods and errors. These tests pin that contract down on tiny data.

Speed: JAX compiles one training program per network shape, loss, solver and
row bucket, so almost every test uses the same data (40 rows x 4 features),
the same hidden layer (5,), adam and at most 16 epochs (``partial_fit``'s
history buffer has the same length), so they share a handful of compiled
programs.

Where a behaviour is subtle, the test is parametrized over both
implementations: the scikit-learn case shows what the contract is.
"""

from __future__ import annotations

import inspect
import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.neural_network as sknn
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor
from mlpkit.activations import HIDDEN_ACTIVATION_NAMES
from mlpkit.optim import SOLVER_NAMES
from mlpkit.schedules import RATES

# --------------------------------------------------------------------------- data
N_ROWS, N_FEATURES = 40, 4
HIDDEN = (5,)
ANIMALS = np.array(["bird", "cat", "dog"])  # sorted: the order of classes_


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(N_ROWS, N_FEATURES)
    y_multi = ANIMALS[rng.randint(0, 3, N_ROWS)]
    y_multi[:3] = ANIMALS  # every class present
    y_binary = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    Y_multilabel = (rng.rand(N_ROWS, 3) > 0.5).astype(int)
    y_reg = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.randn(N_ROWS)
    return X, y_multi, y_binary, Y_multilabel, y_reg


X, Y_MULTI, Y_BINARY, Y_MULTILABEL, Y_REG = _data()
X_BIG = np.random.RandomState(1).randn(300, N_FEATURES)  # above the 256-row numpy predict path


@pytest.fixture(autouse=True)
def compiled_predict_above_256_rows(monkeypatch):
    """Take the compiled predict path for X_BIG, as on an accelerator (the CPU default is numpy only)."""
    monkeypatch.setattr(mlpkit.fitted, "NUMPY_PREDICT_MAX_ROWS", 256)


def clf(**params):
    return MLPClassifier(**{"hidden_layer_sizes": HIDDEN, "max_iter": 10, "random_state": 0, **params})


def reg(**params):
    return MLPRegressor(**{"hidden_layer_sizes": HIDDEN, "max_iter": 10, "random_state": 0, **params})


def sk_clf(**params):
    return sknn.MLPClassifier(**{"hidden_layer_sizes": HIDDEN, "max_iter": 10, "random_state": 0, **params})


def sk_reg(**params):
    return sknn.MLPRegressor(**{"hidden_layer_sizes": HIDDEN, "max_iter": 10, "random_state": 0, **params})


def both_impls():
    """Parametrize over scikit-learn (the reference) and mlpkit: both must pass."""
    return pytest.mark.parametrize("impl", ["sklearn", "mlpkit"])


def make(impl, kind, **params):
    factory = {
        ("sklearn", "clf"): sk_clf,
        ("sklearn", "reg"): sk_reg,
        ("mlpkit", "clf"): clf,
        ("mlpkit", "reg"): reg,
    }[impl, kind]
    return factory(**params)


def weights(est):
    return [a.copy() for a in (*est.coefs_, *est.intercepts_)]


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    "ours, theirs", [(MLPClassifier, sknn.MLPClassifier), (MLPRegressor, sknn.MLPRegressor)]
)
def test_get_params_has_every_sklearn_parameter_with_its_default(ours, theirs):
    expected = theirs().get_params()
    got = ours().get_params()
    missing = sorted(set(expected) - set(got))
    assert not missing, f"parameters of scikit-learn's {theirs.__name__} missing: {missing}"
    different = {k: (got[k], v) for k, v in expected.items() if got[k] != v or type(got[k]) is not type(v)}
    assert not different, f"defaults differ (mlpkit, sklearn): {different}"
    # mlpkit adds exactly its documented parameters, keyword-only, after scikit-learn's
    extras = MLPKIT_PARAMETERS | ({"loss"} if ours is MLPClassifier else set())
    assert set(got) - set(expected) == extras
    assert got["dtype"] is None  # the input's precision, as scikit-learn (see _dtypes.py)
    ours_sig = inspect.signature(ours.__init__).parameters
    for name, p in inspect.signature(theirs.__init__).parameters.items():
        assert ours_sig[name].default == p.default, name
        assert ours_sig[name].kind == p.kind, name
    names = list(ours_sig)
    assert names[: len(expected) + 1] == list(inspect.signature(theirs.__init__).parameters)
    assert all(ours_sig[name].kind is inspect.Parameter.KEYWORD_ONLY for name in extras)


MLPKIT_PARAMETERS = {
    "out_activation", "negative_slope", "init", "huber_delta", "l1", "weight_decay", "dropout",
    "alpha_dropout", "batch_norm", "clip_norm", "clip_value", "early_stopping_monitor",
    "lr_decay", "lr_decay_epochs", "lr_min", "lr_patience", "on_divergence", "progress", "callbacks", "dtype",
    "training_loop",
}  # fmt: skip


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_set_params_round_trip_and_unknown_parameter(Est):
    est = Est().set_params(alpha=0.5, hidden_layer_sizes=(3, 2), dtype="float64")
    params = est.get_params()
    assert (params["alpha"], params["hidden_layer_sizes"], params["dtype"]) == (0.5, (3, 2), "float64")
    with pytest.raises(ValueError, match="Invalid parameter 'no_such_param'"):
        est.set_params(no_such_param=1)


# --------------------------------------------------------- meta-estimators, copies
def test_pipeline_with_standard_scaler():
    Xs = X * 100 + 7
    pipe = make_pipeline(StandardScaler(), clf()).fit(Xs, Y_MULTI)
    pred = pipe.predict(Xs)
    assert pred.shape == (N_ROWS,)
    assert set(pred) <= set(ANIMALS)
    assert 0.0 <= pipe.score(Xs, Y_MULTI) <= 1.0
    np.testing.assert_array_equal(pipe[-1].classes_, ANIMALS)
    # the MLP inside saw standardised data
    mlp = pipe[-1]
    np.testing.assert_array_equal(mlp.predict(StandardScaler().fit_transform(Xs)), pred)


def test_grid_search_cv():
    grid = {"alpha": [1e-4, 1e-1], "learning_rate_init": [1e-3, 1e-2]}
    search = GridSearchCV(clf(), grid, cv=2).fit(X, Y_MULTI)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_ in search.cv_results_["params"]
    best = search.best_estimator_
    assert isinstance(best, MLPClassifier)
    assert best.get_params()["alpha"] == search.best_params_["alpha"]
    assert best.coefs_[0].shape == (N_FEATURES, HIDDEN[0])
    assert search.predict(X).shape == (N_ROWS,)


def test_grid_search_cv_regressor_in_pipeline():
    pipe = make_pipeline(StandardScaler(), reg())
    search = GridSearchCV(pipe, {"mlpregressor__alpha": [1e-4, 1e-1]}, cv=2).fit(X, Y_REG)
    assert search.best_params_["mlpregressor__alpha"] in (1e-4, 1e-1)
    assert search.predict(X).shape == (N_ROWS,)


@pytest.mark.parametrize("est", [clf(alpha=0.01, dtype="float64"), reg(alpha=0.01)], ids=["clf", "reg"])
def test_clone_gives_unfitted_copy(est):
    y = Y_MULTI if isinstance(est, MLPClassifier) else Y_REG
    est.fit(X, y)
    copy = clone(est)
    assert copy is not est
    assert copy.get_params() == est.get_params()
    for attr in ("coefs_", "intercepts_", "n_iter_", "loss_curve_", "n_features_in_"):
        assert not hasattr(copy, attr), attr
    with pytest.raises(NotFittedError):
        copy.predict(X)
    assert not hasattr(copy, "n_parameters_")  # NotFittedError is an AttributeError
    # the original is untouched
    assert hasattr(est, "coefs_")


def test_pickle_round_trip_predicts_identically():
    est = clf().fit(X, Y_MULTI)
    loaded = pickle.loads(pickle.dumps(est))
    for data in (X, X_BIG):  # numpy path and compiled path of predict
        np.testing.assert_array_equal(loaded.predict(data), est.predict(data))
        np.testing.assert_array_equal(loaded.predict_proba(data), est.predict_proba(data))
    assert loaded.loss_curve_ == est.loss_curve_
    assert_same_weights(weights(loaded), weights(est))
    # the unpickled estimator can keep training
    loaded.partial_fit(X, Y_MULTI)
    assert len(loaded.loss_curve_) == len(est.loss_curve_) + 1


def test_pickle_round_trip_regressor():
    est = reg().fit(X, Y_REG)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


# ------------------------------------------------------------- kinds of targets
def test_binary_classification():
    est = clf().fit(X, Y_BINARY)
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert est.n_outputs_ == 1
    assert est.out_activation_ == "logistic"
    assert est.n_layers_ == 3
    assert est.coefs_[-1].shape == (HIDDEN[0], 1)
    pred = est.predict(X)
    assert pred.shape == (N_ROWS,)
    assert set(np.unique(pred)) <= {0, 1}
    proba = est.predict_proba(X)
    assert proba.shape == (N_ROWS, 2)


def test_multiclass_string_labels():
    est = clf().fit(X, Y_MULTI)
    np.testing.assert_array_equal(est.classes_, ANIMALS)
    assert est.n_outputs_ == 3
    assert est.out_activation_ == "softmax"
    pred = est.predict(X)
    assert pred.shape == (N_ROWS,)
    assert pred.dtype.kind == "U"
    assert set(pred) <= {"cat", "dog", "bird"}
    assert est.predict_proba(X).shape == (N_ROWS, 3)
    # list input and string labels in a list work as well
    est2 = clf().fit(X.tolist(), list(Y_MULTI))
    np.testing.assert_array_equal(est2.predict(X), pred)


def test_multilabel_indicator_target():
    est = clf().fit(X, Y_MULTILABEL)
    assert est.n_outputs_ == 3
    assert est.out_activation_ == "logistic"
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    pred = est.predict(X)
    assert pred.shape == (N_ROWS, 3)
    assert set(np.unique(pred)) <= {0, 1}
    proba = est.predict_proba(X)
    assert proba.shape == (N_ROWS, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert 0.0 <= est.score(X, Y_MULTILABEL) <= 1.0  # subset accuracy
    # same on the compiled predict path
    assert est.predict(X_BIG).shape == (300, 3)


def test_single_output_regression_predict_shape():
    est = reg().fit(X, Y_REG)
    assert est.n_outputs_ == 1
    assert est.out_activation_ == "identity"
    assert est.predict(X).shape == (N_ROWS,)
    assert est.predict(X_BIG).shape == (300,)
    # a (n, 1) column target also predicts a 1-d array, as scikit-learn
    with pytest.warns(DataConversionWarning, match="column-vector y was passed"):
        est_col = reg().fit(X, Y_REG[:, None])
    assert est_col.predict(X).shape == (N_ROWS,)


def test_multi_output_regression_predict_shape():
    Y2 = np.column_stack([Y_REG, -Y_REG])
    est = reg().fit(X, Y2)
    assert est.n_outputs_ == 2
    assert est.predict(X).shape == (N_ROWS, 2)
    assert est.predict(X_BIG).shape == (300, 2)
    assert np.isfinite(est.score(X, Y2))


@both_impls()
def test_single_class_target_predicts_that_class(impl):
    est = make(impl, "clf").fit(X, np.array(["cat"] * N_ROWS))
    np.testing.assert_array_equal(est.classes_, ["cat"])
    np.testing.assert_array_equal(est.predict(X), ["cat"] * N_ROWS)
    assert est.score(X, ["cat"] * N_ROWS) == 1.0


# ------------------------------------------------------------------ sparse input
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_sparse_csr_fit_and_predict_match_dense(kind):
    make_est, y = (clf, Y_MULTI) if kind == "clf" else (reg, Y_REG)
    X_sparse = X.copy()
    X_sparse[np.abs(X_sparse) < 0.7] = 0.0  # really sparse
    csr = sp.csr_matrix(X_sparse)
    est = make_est().fit(csr, y)
    dense_est = make_est().fit(X_sparse, y)
    # same data, same seed: same network, whether given sparse or dense
    for a, b in zip(weights(est), weights(dense_est)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # one fitted model predicts the same for sparse and dense rows
    big = X_BIG.copy()
    big[np.abs(big) < 0.7] = 0.0
    for rows in (X_sparse, big):
        if kind == "clf":
            np.testing.assert_array_equal(est.predict(sp.csr_matrix(rows)), est.predict(rows))
            np.testing.assert_allclose(
                est.predict_proba(sp.csr_matrix(rows)), est.predict_proba(rows), rtol=1e-5, atol=1e-6
            )
        else:  # float32 weights: sparse and dense products may round differently
            np.testing.assert_allclose(est.predict(sp.csr_matrix(rows)), est.predict(rows), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------ dtypes
def test_float32_input_gives_float32_model_and_probabilities():
    X32 = X.astype(np.float32)
    est = clf().fit(X32, Y_MULTI)
    assert all(a.dtype == np.float32 for a in (*est.coefs_, *est.intercepts_))
    assert est.predict_proba(X32).dtype == np.float32
    assert est.predict_proba(X_BIG.astype(np.float32)).dtype == np.float32
    assert est.predict_log_proba(X32).dtype == np.float32


def test_dtype_float64_gives_float64_model():
    est = clf(dtype="float64").fit(X.astype(np.float32), Y_MULTI)
    assert all(a.dtype == np.float64 for a in (*est.coefs_, *est.intercepts_))
    assert est.predict_proba(X).dtype == np.float64
    assert est.predict_proba(X_BIG).dtype == np.float64  # compiled path too
    # float64 training is real float64: the loss is not a float32 number
    assert isinstance(est.loss_, float) and np.isfinite(est.loss_)


# --------------------------------------------------------- probabilistic outputs
@pytest.mark.parametrize("target", ["binary", "multiclass"])
@pytest.mark.parametrize("rows", ["small", "big"])
def test_predict_proba_consistency(target, rows):
    y = Y_BINARY if target == "binary" else Y_MULTI
    data = X if rows == "small" else X_BIG
    est = clf().fit(X, y)
    proba = est.predict_proba(data)
    assert proba.shape == (data.shape[0], len(est.classes_))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(est.predict(data), est.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(est.predict_log_proba(data), np.log(proba), rtol=1e-6)


# ------------------------------------------------------------------- partial_fit
def test_partial_fit_classifier_needs_classes_on_first_call():
    est = clf()
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        est.partial_fit(X, Y_MULTI)
    assert not hasattr(est, "coefs_")


def test_partial_fit_classifier_with_classes():
    est = clf()
    first = Y_MULTI != "bird"  # the first batch lacks a class
    assert est.partial_fit(X[first], Y_MULTI[first], classes=["cat", "dog", "bird"]) is est
    np.testing.assert_array_equal(est.classes_, ANIMALS)
    assert est.n_outputs_ == 3
    assert est.predict_proba(X).shape == (N_ROWS, 3)
    est.partial_fit(X, Y_MULTI)  # later calls need no classes
    assert len(est.loss_curve_) == 2


def test_partial_fit_label_outside_classes_raises_and_keeps_model():
    est = clf()
    est.partial_fit(X, Y_MULTI, classes=ANIMALS)
    before, pred = weights(est), est.predict(X)
    y_bad = np.where(Y_MULTI == "cat", "eel", Y_MULTI)
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`"):
        est.partial_fit(X, y_bad)
    assert_same_weights(weights(est), before)
    np.testing.assert_array_equal(est.predict(X), pred)
    np.testing.assert_array_equal(est.classes_, ANIMALS)


def test_partial_fit_classes_changed_between_calls_raises():
    est = clf()
    est.partial_fit(X, Y_MULTI, classes=ANIMALS)
    with pytest.raises(ValueError, match="is not the same as on last call to partial_fit"):
        est.partial_fit(X, Y_MULTI, classes=["bird", "cat", "dog", "eel"])


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_counters_as_sklearn(kind):
    """Each partial_fit is one epoch: n_iter_ is 1 after every call (scikit-learn resets it per
    call), t_ counts every sample seen, loss_curve_ grows by one per call."""
    y = Y_MULTI if kind == "clf" else Y_REG
    kwargs = {"classes": ANIMALS} if kind == "clf" else {}
    ours = clf() if kind == "clf" else reg()
    theirs = sk_clf() if kind == "clf" else sk_reg()
    for call in range(1, 4):
        ours.partial_fit(X, y, **kwargs)
        theirs.partial_fit(X, y, **kwargs)
        kwargs = {}
        assert ours.n_iter_ == theirs.n_iter_ == 1
        assert ours.t_ == theirs.t_ == call * N_ROWS
        assert len(ours.loss_curve_) == len(theirs.loss_curve_) == call
        assert ours.loss_ == ours.loss_curve_[-1]
    # a partial_fit after a fit continues the counters as scikit-learn
    for est in (clf() if kind == "clf" else reg(), sk_clf() if kind == "clf" else sk_reg()):
        est.fit(X, y)
        n_epochs = est.n_iter_
        est.partial_fit(X, y)
        assert est.n_iter_ == 1
        assert est.t_ == (n_epochs + 1) * N_ROWS
        assert len(est.loss_curve_) == n_epochs + 1


@both_impls()
def test_partial_fit_sample_counter_does_not_overflow(impl):
    # Stands for a long history (e.g. 10 million rows x 215 epochs) without running it.
    est = make(impl, "reg")
    est.partial_fit(X, Y_REG)
    est.t_ = 2**31 - 20
    est.partial_fit(X, Y_REG)
    assert est.t_ == 2**31 - 20 + N_ROWS


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_partial_fit_not_available_for_lbfgs(Est):
    est = Est(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match=f"This '{Est.__name__}' has no attribute 'partial_fit'"):
        est.partial_fit  # noqa: B018
    assert hasattr(Est(solver="sgd"), "partial_fit")
    assert hasattr(Est(solver="adam"), "partial_fit")
    # scikit-learn's classifier behaves so (its regressor lacks the check: a bug of scikit-learn 1.9)
    if Est is MLPClassifier:
        assert not hasattr(sknn.MLPClassifier(solver="lbfgs"), "partial_fit")


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_with_early_stopping_raises(kind):
    est = clf(early_stopping=True) if kind == "clf" else reg(early_stopping=True)
    kwargs = {"classes": ANIMALS} if kind == "clf" else {}
    y = Y_MULTI if kind == "clf" else Y_REG
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        est.partial_fit(X, y, **kwargs)


# -------------------------------------------------------------------- warm_start
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_warm_start_continues_from_previous_fit(kind):
    make_est, y = (clf, Y_MULTI) if kind == "clf" else (reg, Y_REG)
    est = make_est().fit(X, y)
    trained = weights(est)
    curve = list(est.loss_curve_)
    t_after_first = est.t_

    # A tiny learning rate: a warm-started fit stays where the last one ended...
    est.set_params(warm_start=True, learning_rate_init=1e-12, max_iter=3)
    est.fit(X, y)
    assert len(est.loss_curve_) == len(curve) + 3
    assert est.loss_curve_[: len(curve)] == curve
    assert est.n_iter_ == 3  # epochs of this fit, as scikit-learn
    assert est.t_ == t_after_first + 3 * N_ROWS
    for a, b in zip(weights(est), trained):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)

    # ...while a cold fit restarts from the initial (random) weights and a fresh history.
    est.set_params(warm_start=False)
    est.fit(X, y)
    assert len(est.loss_curve_) == 3
    assert est.t_ == 3 * N_ROWS
    assert max(np.abs(a - b).max() for a, b in zip(weights(est), trained)) > 1e-3


def test_warm_start_with_different_classes_raises_and_keeps_model():
    est = clf(warm_start=True).fit(X, Y_MULTI)
    before, pred, proba = weights(est), est.predict(X), est.predict_proba(X)
    curve, n_iter, t = list(est.loss_curve_), est.n_iter_, est.t_
    y_two = np.where(Y_MULTI == "bird", "cat", Y_MULTI)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same classes"):
        est.fit(X, y_two)
    # the failed fit left the model exactly as it was
    assert_same_weights(weights(est), before)
    np.testing.assert_array_equal(est.classes_, ANIMALS)
    np.testing.assert_array_equal(est.predict(X), pred)
    np.testing.assert_array_equal(est.predict_proba(X), proba)
    assert (est.loss_curve_, est.n_iter_, est.t_) == (curve, n_iter, t)


@both_impls()
def test_fitted_weights_are_writable_and_warm_start_uses_them(impl):
    est = make(impl, "clf").fit(X, Y_MULTI)
    for a in (*est.coefs_, *est.intercepts_):
        a *= 0.0  # in place, as scikit-learn allows
    # a zero network predicts uniform probabilities
    np.testing.assert_allclose(est.predict_proba(X), 1.0 / 3.0, rtol=1e-6)
    est.set_params(warm_start=True, learning_rate_init=1e-12, max_iter=1)
    est.fit(X, Y_MULTI)
    assert max(np.abs(a).max() for a in est.coefs_) < 1e-6  # continued from the zeroed weights


# ---------------------------------------------------------------- early stopping
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_early_stopping_attributes(kind):
    make_est, y = (clf, Y_MULTI) if kind == "clf" else (reg, Y_REG)
    est = make_est(early_stopping=True, validation_fraction=0.2).fit(X, y)
    assert isinstance(est.validation_scores_, list)
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert all(isinstance(s, float) for s in est.validation_scores_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ is None
    # without early stopping it is the other way round
    plain = make_est().fit(X, y)
    assert plain.validation_scores_ is None
    assert plain.best_validation_score_ is None
    assert plain.best_loss_ == min(plain.loss_curve_)


# --------------------------------------------------------------------- bad input
NAN_X = X.copy()
NAN_X[3, 1] = np.nan
INF_X = X.copy()
INF_X[5, 2] = np.inf


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    "bad_X, message", [(NAN_X, "Input X contains NaN"), (INF_X, "Input X contains infinity")], ids=["nan", "inf"]
)
def test_fit_rejects_non_finite_X(Est, bad_X, message):
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    with pytest.raises(ValueError, match=message):
        Est(hidden_layer_sizes=HIDDEN).fit(bad_X, y)


@pytest.mark.parametrize(
    "bad_X, message", [(NAN_X, "Input X contains NaN"), (INF_X, "Input X contains infinity")], ids=["nan", "inf"]
)
def test_predict_rejects_non_finite_X(bad_X, message):
    est = clf().fit(X, Y_MULTI)
    for method in (est.predict, est.predict_proba, est.predict_log_proba):
        with pytest.raises(ValueError, match=message):
            method(bad_X)
    with pytest.raises(ValueError, match=message):
        est.partial_fit(bad_X, Y_MULTI)


def test_predict_with_wrong_number_of_features():
    est = clf().fit(X, Y_MULTI)
    msg = f"X has 3 features, but MLPClassifier is expecting {N_FEATURES} features as input"
    for method in (est.predict, est.predict_proba, est.predict_log_proba):
        with pytest.raises(ValueError, match=msg):
            method(X[:, :3])
    with pytest.raises(ValueError, match=msg):
        est.partial_fit(X[:, :3], Y_MULTI)
    r = reg().fit(X, Y_REG)
    with pytest.raises(ValueError, match="X has 5 features, but MLPRegressor is expecting 4 features"):
        r.predict(np.hstack([X, X[:, :1]]))


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("param", ["activation", "solver", "learning_rate"])
def test_unknown_string_option_names_parameter_and_allowed_values(Est, param):
    sklearn_allowed = {
        "activation": {"identity", "logistic", "tanh", "relu"},
        "solver": {"lbfgs", "sgd", "adam"},
        "learning_rate": {"constant", "invscaling", "adaptive"},
    }[param]
    allowed = {
        "activation": set(HIDDEN_ACTIVATION_NAMES),
        "solver": set(SOLVER_NAMES),
        "learning_rate": set(RATES),
    }[param]
    assert sklearn_allowed < allowed
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    with pytest.raises(ValueError, match=rf"The '{param}' parameter of {Est.__name__} must be a str among") as info:
        Est(**{param: "bogus"}).fit(X, y)
    assert isinstance(info.value, InvalidParameterError)
    message = str(info.value)
    assert "Got 'bogus' instead" in message
    listed = set(re.findall(r"'(\w+)'", message.split("among", 1)[1].split("}", 1)[0]))
    assert listed == allowed


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    "params, message",
    [
        ({"alpha": -1.0}, r"The 'alpha' parameter of \w+ must be a float in the range \[0.0, inf\)\. Got -1.0"),
        ({"learning_rate_init": 0}, r"The 'learning_rate_init' parameter of \w+ must be a float in the range \(0.0"),
        ({"hidden_layer_sizes": 0}, r"The 'hidden_layer_sizes' parameter of \w+ must be an array-like or an int"),
        ({"max_iter": 0}, r"The 'max_iter' parameter of \w+ must be an int in the range \[1, inf\)"),
        ({"momentum": 1.5}, r"The 'momentum' parameter of \w+ must be a float in the range \[0.0, 1.0\]"),
        ({"dtype": "float16"}, r"The 'dtype' parameter of \w+ must be None or a str among"),
    ],
    ids=["alpha<0", "learning_rate_init=0", "hidden_layer_sizes=0", "max_iter=0", "momentum>1", "dtype"],
)
def test_invalid_numeric_parameters(Est, params, message):
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    with pytest.raises(InvalidParameterError, match=message):
        Est(**params).fit(X, y)


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("sizes", [(5, 0), [0], (3, -2)])
def test_hidden_layer_size_zero_in_a_list(Est, sizes):
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must be > 0, got \["):
        Est(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_empty_X(Est):
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\) while a minimum of 1"):
        Est(hidden_layer_sizes=HIDDEN).fit(X[:0], y[:0])
    est = (clf() if Est is MLPClassifier else reg()).fit(X, y)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        est.predict(X[:0])


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_y_with_wrong_number_of_rows(Est):
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    with pytest.raises(ValueError, match=r"Found input variables with inconsistent numbers of samples: \[40, 39\]"):
        Est(hidden_layer_sizes=HIDDEN).fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(39,\), expected \(40,\)"):
        Est(hidden_layer_sizes=HIDDEN).fit(X, y, sample_weight=np.ones(39))


def test_unfitted_estimator_raises_not_fitted():
    for est in (MLPClassifier(), MLPRegressor()):
        with pytest.raises(NotFittedError):
            est.predict(X)
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(X)


def test_classifier_rejects_continuous_y():
    with pytest.raises(ValueError, match="Unknown label type"):
        clf().fit(X, Y_REG)


# ----------------------------------------------------------- failed fit rollback
def test_diverging_fit_raises_sklearns_error_and_keeps_the_last_finite_weights():
    """Divergence is the one failure that does not roll the whole fit back (issue 8's contract):
    training stops, the last finite weights stay, and scikit-learn's ValueError is raised."""
    est = clf().fit(X, Y_MULTI)
    n_epochs = len(est.loss_curve_)
    est.set_params(warm_start=True, learning_rate_init=1e30)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        est.fit(X * 1e10, Y_MULTI)
    assert all(np.isfinite(w).all() for w in weights(est))
    assert np.isfinite(est.predict_proba(X)).all()
    assert est.n_iter_ < 10 and len(est.loss_curve_) == n_epochs + est.n_iter_
    last = est.loss_curve_[-1]
    assert not np.isfinite(last) or last > 1000 * est.loss_curve_[n_epochs - 1]  # the history shows the blow-up


def test_failed_cold_fit_leaves_model_unchanged():
    """A cold refit that fails after re-initialising (validation split too small) rolls back too."""
    est = reg().fit(X, Y_REG)
    before, pred = weights(est), est.predict(X)
    est.set_params(early_stopping=True, validation_fraction=0.01, hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match="The validation set is too small"):
        est.fit(X, Y_REG)
    assert_same_weights(weights(est), before)
    np.testing.assert_array_equal(est.predict(X), pred)
    assert est.validation_scores_ is None and est.best_loss_ is not None


# ---------------------------------------------------------- parameter counting
@pytest.mark.parametrize("kind", ["clf-multiclass", "clf-binary", "reg-2-outputs"])
def test_n_parameters(kind):
    if kind == "clf-multiclass":
        est = clf().fit(X, Y_MULTI)
    elif kind == "clf-binary":
        est = clf().fit(X, Y_BINARY)
    else:
        est = reg().fit(X, np.column_stack([Y_REG, -Y_REG]))
    expected = sum(a.size for a in est.coefs_) + sum(b.size for b in est.intercepts_)
    assert est.n_parameters_ == expected
    n_out = est.n_outputs_
    assert expected == N_FEATURES * 5 + 5 + 5 * n_out + n_out


def test_count_parameters():
    assert mlpkit.count_parameters([13, 5, 4, 3]) == 109
    assert mlpkit.count_parameters([4, 1]) == 5
