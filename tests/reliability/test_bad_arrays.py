"""Bad arrays never crash mlpkit with a JAX error nor give silent NaN predictions.

Every case runs through scikit-learn's MLPs too: where scikit-learn raises,
mlpkit raises a ValueError/TypeError (the same message when it is the same
class of error); where scikit-learn works, mlpkit works and predicts finite
numbers. Hypothesis draws the positions, sizes and kinds of bad values.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import (
    N_FEATURES,
    TARGETS,
    Y_CLASS,
    Y_REG,
    X,
    all_finite,
    assert_clean_error,
    assert_fails_like_sklearn,
    make,
    outcome,
    quiet,
)
from sklearn.base import is_classifier

KINDS = ("classifier", "regressor")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fitted_pair(kind):
    with quiet():
        return make(kind).fit(X, TARGETS[kind]), make(kind, "sklearn").fit(X, TARGETS[kind])


FITTED = {}


def fitted(kind):
    """One fitted mlpkit and scikit-learn estimator per kind, for the prediction cases."""
    if kind not in FITTED:
        FITTED[kind] = _fitted_pair(kind)
    return FITTED[kind]


def _with(X_, row, col, value):
    X_ = np.array(X_, dtype=float)
    X_[row, col] = value
    return X_


X_NAN, X_INF = _with(X, 3, 1, np.nan), _with(X, 3, 1, np.inf)
DF = pd.DataFrame(X, columns=["a", "b", "c"])
CLASSES = np.array([0, 1])


def _partial_fit(est, X_, y, classes=CLASSES):
    if is_classifier(est):
        return est.partial_fit(X_, y, classes=classes)
    return est.partial_fit(X_, y)


# ------------------------------------------------------------------- table of cases
# id -> (kinds, action(new estimator, fitted estimator) -> result)
def _predict_proba_or_predict(est, X_):
    return est.predict_proba(X_) if hasattr(est, "predict_proba") else est.predict(X_)


CASES = {
    # non-finite values
    "fit NaN in X": (KINDS, lambda new, fit, y: new.fit(X_NAN, y)),
    "fit inf in X": (KINDS, lambda new, fit, y: new.fit(X_INF, y)),
    "fit -inf in X": (KINDS, lambda new, fit, y: new.fit(-X_INF, y)),
    "partial_fit NaN in X": (KINDS, lambda new, fit, y: _partial_fit(new, X_NAN, y)),
    "partial_fit inf in X (second call)": (KINDS, lambda new, fit, y: _partial_fit(_partial_fit(new, X, y), X_INF, y)),
    "predict NaN in X": (KINDS, lambda new, fit, y: fit.predict(X_NAN)),
    "predict inf in X": (KINDS, lambda new, fit, y: fit.predict(X_INF)),
    "predict_proba NaN in X": (("classifier",), lambda new, fit, y: fit.predict_proba(X_NAN)),
    "predict_proba inf in X": (("classifier",), lambda new, fit, y: fit.predict_proba(X_INF)),
    "fit NaN in sparse X": (KINDS, lambda new, fit, y: new.fit(sp.csr_matrix(X_NAN), y)),
    "fit NaN in y": (KINDS, lambda new, fit, y: new.fit(X, _with(y[:, None], 2, 0, np.nan).ravel())),
    "fit inf in y": (KINDS, lambda new, fit, y: new.fit(X, _with(y[:, None], 2, 0, np.inf).ravel())),
    "partial_fit NaN in y": (KINDS, lambda new, fit, y: _partial_fit(new, X, _with(y[:, None], 2, 0, np.nan).ravel())),
    "fit NaN sample_weight": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=_with(np.ones((16, 1)), 0, 0, np.nan).ravel())),
    # sizes
    "fit empty X": (KINDS, lambda new, fit, y: new.fit(X[:0], y[:0])),
    "fit 0 features": (KINDS, lambda new, fit, y: new.fit(X[:, :0], y)),
    "fit one row": (KINDS, lambda new, fit, y: new.fit(X[:1], y[:1]).predict(X)),
    "predict empty X": (KINDS, lambda new, fit, y: fit.predict(X[:0])),
    "predict 0 features": (KINDS, lambda new, fit, y: fit.predict(X[:, :0])),
    "predict one row": (KINDS, lambda new, fit, y: _predict_proba_or_predict(fit, X[:1])),
    "predict 1-D X": (KINDS, lambda new, fit, y: fit.predict(X[0])),
    "predict 3-D X": (KINDS, lambda new, fit, y: fit.predict(X[:, :, None])),
    "fit 1-D X": (KINDS, lambda new, fit, y: new.fit(X[:, 0], y)),
    "fit 3-D X": (KINDS, lambda new, fit, y: new.fit(X[:, :, None], y)),
    # classes
    "fit one class": (("classifier",), lambda new, fit, y: new.fit(X, np.zeros(16, int)).predict_proba(X)),
    "fit one string class": (("classifier",), lambda new, fit, y: new.fit(X, np.array(["a"] * 16)).predict(X)),
    "fit continuous labels": (("classifier",), lambda new, fit, y: new.fit(X, Y_REG)),
    "fit mixed str/int labels": (("classifier",), lambda new, fit, y: new.fit(X, np.array(["a", 1] * 8, dtype=object))),
    "partial_fit label not in classes (first call)": (
        ("classifier",), lambda new, fit, y: new.partial_fit(X, y + 1, classes=CLASSES)),
    "partial_fit label not in classes (later call)": (
        ("classifier",), lambda new, fit, y: new.partial_fit(X, y, classes=CLASSES).partial_fit(X, y + 1)),
    "partial_fit without classes": (("classifier",), lambda new, fit, y: new.partial_fit(X, y)),
    "partial_fit classes beyond y": (
        ("classifier",), lambda new, fit, y: new.partial_fit(X, y, classes=[0, 1, 2]).predict_proba(X)),
    "warm_start fit with a new label": (
        ("classifier",), lambda new, fit, y: new.set_params(warm_start=True).fit(X, y).fit(X, y + 1)),
    # dtypes
    "fit str X": (KINDS, lambda new, fit, y: new.fit(np.array([["a", "b", "c"]] * 16), y)),
    "fit numeric str X": (KINDS, lambda new, fit, y: new.fit(X.astype(str), y).predict(X)),
    "fit object X of floats": (KINDS, lambda new, fit, y: new.fit(X.astype(object), y).predict(X)),
    "fit object X with None": (KINDS, lambda new, fit, y: new.fit(np.where(X > 1, None, X).astype(object), y)),
    "fit object X with a str": (KINDS, lambda new, fit, y: new.fit(_obj_with_str(), y)),
    "fit complex X": (KINDS, lambda new, fit, y: new.fit(X + 1j, y)),
    "fit bool X": (KINDS, lambda new, fit, y: new.fit(X > 0, y).predict(X > 0)),
    "fit int X": (KINDS, lambda new, fit, y: new.fit((X * 10).astype(np.int64), y).predict(X)),
    "predict str X": (KINDS, lambda new, fit, y: fit.predict(np.array([["a", "b", "c"]]))),
    "fit str y": (("regressor",), lambda new, fit, y: new.fit(X, np.array(["a", "b"] * 8))),
    # sparse
    "fit/predict CSR": (KINDS, lambda new, fit, y: new.fit(sp.csr_matrix(X), y).predict(sp.csr_matrix(X))),
    "fit/predict CSC": (KINDS, lambda new, fit, y: new.fit(sp.csc_matrix(X), y).predict(sp.csc_matrix(X))),
    "fit COO": (KINDS, lambda new, fit, y: new.fit(sp.coo_matrix(X), y).predict(X)),
    "partial_fit CSR": (KINDS, lambda new, fit, y: _partial_fit(new, sp.csr_matrix(X), y).predict(sp.csc_matrix(X))),
    "predict CSR on a dense fit": (KINDS, lambda new, fit, y: fit.predict(sp.csr_matrix(X))),
    "fit empty CSR": (KINDS, lambda new, fit, y: new.fit(sp.csr_matrix((0, 3)), y[:0])),
    # pandas
    "DataFrame numeric + categorical": (KINDS, lambda new, fit, y: new.fit(DF.assign(d=pd.Categorical(["x", "y"] * 8)), y)),
    "DataFrame numeric + object": (KINDS, lambda new, fit, y: new.fit(DF.assign(d=["x", "y"] * 8), y)),
    "DataFrame numeric + datetime": (KINDS, lambda new, fit, y: new.fit(DF.assign(d=pd.date_range("2020", periods=16)), y)),
    "DataFrame nullable Float64 with NA": (KINDS, lambda new, fit, y: new.fit(_df_with_na(), y)),
    "DataFrame mixed numeric dtypes": (KINDS, lambda new, fit, y: new.fit(_df_mixed(), y).predict(_df_mixed())),
    "DataFrame predict with renamed column": (
        KINDS, lambda new, fit, y: new.fit(DF, y).predict(DF.rename(columns={"a": "z"}))),
    "DataFrame predict with reordered columns": (KINDS, lambda new, fit, y: new.fit(DF, y).predict(DF[["b", "a", "c"]])),
    "DataFrame predict with a missing column": (KINDS, lambda new, fit, y: new.fit(DF, y).predict(DF[["a", "b"]])),
    "DataFrame fit, ndarray predict": (KINDS, lambda new, fit, y: new.fit(DF, y).predict(X)),
    "Series y with categorical labels": (
        ("classifier",), lambda new, fit, y: new.fit(DF, pd.Series(pd.Categorical(np.array(["u", "v"])[y]))).predict(DF)),
    # features mismatched
    "predict fewer features": (KINDS, lambda new, fit, y: fit.predict(X[:, :2])),
    "predict more features": (KINDS, lambda new, fit, y: fit.predict(np.hstack([X, X]))),
    "predict_proba fewer features": (("classifier",), lambda new, fit, y: fit.predict_proba(X[:, :2])),
    "partial_fit fewer features": (KINDS, lambda new, fit, y: _partial_fit(_partial_fit(new, X, y), X[:, :2], y)),
    "warm_start fit fewer features": (KINDS, lambda new, fit, y: new.set_params(warm_start=True).fit(X, y).fit(X[:, :2], y)),
    # y of the wrong shape or length
    "y shorter than X": (KINDS, lambda new, fit, y: new.fit(X, y[:-1])),
    "y longer than X": (KINDS, lambda new, fit, y: new.fit(X[:-1], y)),
    "y empty": (KINDS, lambda new, fit, y: new.fit(X, y[:0])),
    "y scalar": (KINDS, lambda new, fit, y: new.fit(X, 1)),
    "y 3-D": (KINDS, lambda new, fit, y: new.fit(X, y.reshape(-1, 1, 1))),
    "y column vector": (KINDS, lambda new, fit, y: new.fit(X, y.reshape(-1, 1)).predict(X)),
    "y 2-D wrong rows": (KINDS, lambda new, fit, y: new.fit(X, np.ones((15, 2)))),
    "y multi-column multiclass": (("classifier",), lambda new, fit, y: new.fit(X, np.column_stack([y, 2 * y]))),
    "partial_fit y shorter than X": (KINDS, lambda new, fit, y: _partial_fit(new, X, y[:-1])),
    "sample_weight wrong length": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=np.ones(5))),
    "sample_weight 2-D": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=np.ones((16, 2)))),
    "sample_weight all zero": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=np.zeros(16))),
    "sample_weight negative": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=-np.ones(16)).predict(X)),
    "sample_weight inf": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=np.r_[np.inf, np.ones(15)])),
    "sample_weight huge (1e30)": (KINDS, lambda new, fit, y: new.fit(X, y, sample_weight=np.full(16, 1e30)).predict(X)),
    # huge values that still fit float32
    "fit X * 1e30": (("classifier",), lambda new, fit, y: new.fit(X * 1e30, y).predict(X * 1e30)),
    "predict X * 1e30": (KINDS, lambda new, fit, y: _predict_proba_or_predict(fit, X * 1e30)),
}


def _obj_with_str():
    X_ = X.astype(object)
    X_[2, 2] = "seven"
    return X_


def _df_with_na():
    df = DF.astype("Float64")
    df.iloc[4, 1] = pd.NA
    return df


def _df_mixed():
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1].astype(np.float32), "c": (X[:, 2] * 10).astype(np.int16)})


CASE_PARAMS = [pytest.param(kind, name, id=f"{kind}: {name}") for name, (kinds, _) in CASES.items() for kind in kinds]


@pytest.mark.parametrize(("kind", "name"), CASE_PARAMS)
def test_bad_array_case_behaves_like_sklearn(kind, name):
    action = CASES[name][1]
    y = TARGETS[kind]
    mk_fit, sk_fit = fitted(kind)
    mk = outcome(lambda: action(make(kind), mk_fit, y))
    sk = outcome(lambda: action(make(kind, "sklearn"), sk_fit, y))
    if sk[0] == "error":
        assert_fails_like_sklearn(mk, sk)
        return
    assert mk[0] == "ok", f"scikit-learn works here, mlpkit raises {type(mk[1]).__name__}: {mk[1]}"
    mk_result, sk_result = mk[1], sk[1]
    if isinstance(sk_result, np.ndarray):  # predictions: same shape, finite where numbers
        assert np.shape(mk_result) == np.shape(sk_result)
        if sk_result.dtype.kind in "fc":
            assert all_finite(mk_result), "silent NaN/inf predictions"
        else:  # labels
            assert np.asarray(mk_result).dtype.kind == sk_result.dtype.kind


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_fit_leaves_a_fitted_model_as_it_was(kind):
    """Bad input to fit / partial_fit of a fitted model: an error, and the old model, untouched."""
    model = make(kind, warm_start=True)
    with quiet():
        model.fit(X, TARGETS[kind])
    before = set(vars(model))
    coefs = [w.copy() for w in model.coefs_]
    prediction = model.predict(X)
    for bad in (X_NAN, X[:, :2], X[:0]):
        for method in ("fit", "partial_fit"):
            status, error = outcome(partial(getattr(model, method), bad, TARGETS[kind][: len(bad)]))
            assert status == "error"
            assert_clean_error(error)
            assert set(vars(model)) == before
            assert all(np.array_equal(a, b) for a, b in zip(model.coefs_, coefs))
            assert np.array_equal(model.predict(X), prediction)


# ------------------------------------------------------------------ hypothesis
NONFINITE = st.sampled_from([np.nan, np.inf, -np.inf])


@st.composite
def bad_matrix(draw, n_features=N_FEATURES):
    """A finite matrix with at least one NaN or infinity somewhere."""
    n = draw(st.integers(1, 24))
    base = draw(st.lists(st.floats(-1e3, 1e3), min_size=n * n_features, max_size=n * n_features))
    M = np.array(base, dtype=float).reshape(n, n_features)
    for _ in range(draw(st.integers(1, 3))):
        M[draw(st.integers(0, n - 1)), draw(st.integers(0, n_features - 1))] = draw(NONFINITE)
    return M


@SETTINGS
@given(kind=st.sampled_from(KINDS), method=st.sampled_from(["fit", "partial_fit", "predict", "predict_proba"]),
       X_bad=bad_matrix(), sparse=st.booleans())
def test_nonfinite_X_is_refused_as_sklearn_refuses_it(kind, method, X_bad, sparse):
    if method == "predict_proba" and kind == "regressor":
        method = "predict"
    y = np.resize(TARGETS[kind], len(X_bad))
    X_in = sp.csr_matrix(X_bad) if sparse else X_bad
    mk_fit, sk_fit = fitted(kind)

    def run(new, fit):
        if method == "fit":
            return new.fit(X_in, y)
        if method == "partial_fit":
            return _partial_fit(new, X_in, y)
        return getattr(fit, method)(X_in)

    assert_fails_like_sklearn(outcome(lambda: run(make(kind), mk_fit)), outcome(lambda: run(make(kind, "sklearn"), sk_fit)))


@SETTINGS
@given(kind=st.sampled_from(KINDS), incremental=st.booleans(), n=st.integers(1, 16), where=st.integers(0, 15),
       value=NONFINITE)
def test_nonfinite_y_is_refused_as_sklearn_refuses_it(kind, incremental, n, where, value):
    y = np.array(TARGETS[kind][:n], dtype=float)
    y[where % n] = value

    def run(est):
        return _partial_fit(est, X[:n], y) if incremental else est.fit(X[:n], y)

    assert_fails_like_sklearn(outcome(lambda: run(make(kind))), outcome(lambda: run(make(kind, "sklearn"))))


@SETTINGS
@given(kind=st.sampled_from(KINDS), n_X=st.integers(1, 16), n_y=st.integers(0, 16), method=st.sampled_from(["fit", "partial_fit"]))
def test_y_of_the_wrong_length_is_refused_as_sklearn_refuses_it(kind, n_X, n_y, method):
    if n_X == n_y:
        n_y = n_X - 1
    y = TARGETS[kind][:n_y]

    def run(est):
        return _partial_fit(est, X[:n_X], y) if method == "partial_fit" else est.fit(X[:n_X], y)

    assert_fails_like_sklearn(outcome(lambda: run(make(kind))), outcome(lambda: run(make(kind, "sklearn"))))


@SETTINGS
@given(kind=st.sampled_from(KINDS), n_features=st.integers(1, 8).filter(lambda k: k != N_FEATURES),
       n_rows=st.integers(1, 300), method=st.sampled_from(["predict", "predict_proba"]), frame=st.booleans())
def test_predicting_with_the_wrong_number_of_features_is_refused_as_sklearn(kind, n_features, n_rows, method, frame):
    if kind == "regressor":
        method = "predict"
    X_bad = np.resize(X, (n_rows, n_features))
    mk_fit, sk_fit = fitted(kind)
    X_in = pd.DataFrame(X_bad) if frame else X_bad
    assert_fails_like_sklearn(outcome(lambda: getattr(mk_fit, method)(X_in)),
                              outcome(lambda: getattr(sk_fit, method)(X_in)))


@SETTINGS
@given(kind=st.sampled_from(KINDS), exponent=st.floats(-30, 30), n_rows=st.integers(1, 300),
       seed=st.integers(0, 2**16))
def test_large_and_small_finite_inputs_within_float32_give_finite_predictions(kind, exponent, n_rows, seed):
    X_in = np.random.RandomState(seed).randn(n_rows, N_FEATURES) * 10.0**exponent
    model, _ = fitted(kind)
    prediction = model.predict(X_in)
    assert prediction.shape[0] == n_rows
    if kind == "classifier":
        proba = model.predict_proba(X_in)
        assert all_finite(proba)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        assert set(prediction) <= set(model.classes_)
    else:
        assert all_finite(prediction), "silent NaN/inf predictions"


@SETTINGS
@given(kind=st.sampled_from(KINDS), x_exponent=st.floats(0, 30), y_exponent=st.floats(0, 30),
       on_divergence=st.sampled_from(["raise", "warn"]))
def test_huge_training_values_give_a_clear_error_or_finite_predictions(kind, x_exponent, y_exponent, on_divergence):
    X_in = X * 10.0**x_exponent
    y = Y_REG * 10.0**y_exponent if kind == "regressor" else Y_CLASS
    model = make(kind, on_divergence=on_divergence)
    status, value = outcome(lambda: model.fit(X_in, y))
    if status == "error":
        assert_clean_error(value, types=(ValueError,))
        assert "large values" in str(value) or "non-finite" in str(value)
    assert all_finite(*model.coefs_, *model.intercepts_)
    predictions = model.predict_proba(X_in) if kind == "classifier" else model.predict(X_in)
    assert all_finite(predictions), "silent NaN/inf predictions on the training data"


# --------------------------------------------------------- beyond float32's range
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind", KINDS)
def test_predict_on_finite_values_beyond_float32_is_finite_or_a_clear_error(kind):
    model, sk_model = fitted(kind)
    X_in = X * 1e39
    assert all_finite(sk_model.predict(X_in))  # scikit-learn computes in float64
    status, value = outcome(lambda: model.predict(X_in))
    if status == "error":
        assert_clean_error(value)
    else:
        assert all_finite(value if kind == "regressor" else model.predict_proba(X_in)), "silent NaN predictions"


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_sample_weights_train_or_are_a_clear_error(kind):
    """scikit-learn trains float64 data in float64, and so does mlpkit by default; in float32, weights below
    the smallest normal number would be flushed to zero (0 / 0), so mlpkit names sample_weight and the fix."""
    weights = np.full(16, 1e-40)
    assert outcome(lambda: make(kind, "sklearn").fit(X, TARGETS[kind], sample_weight=weights))[0] == "ok"
    status, value = outcome(lambda: make(kind).fit(X, TARGETS[kind], sample_weight=weights))
    assert status == "ok", f"{type(value).__name__}: {value}"
    status, value = outcome(lambda: make(kind, dtype="float32").fit(X, TARGETS[kind], sample_weight=weights))
    assert status == "error" and "sample_weight" in str(value) and "float64" in str(value)
    assert_clean_error(value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_on_values_beyond_float32_is_a_clear_error_or_a_usable_model():
    model = make("regressor", on_divergence="warn")
    status, value = outcome(lambda: model.fit(X * 1e39, Y_REG))
    if status == "error":
        assert_clean_error(value)
        assert "float32" in str(value) or "dtype" in str(value)
    else:
        assert all_finite(model.predict(X * 1e39)), "silent NaN predictions on the training data"
