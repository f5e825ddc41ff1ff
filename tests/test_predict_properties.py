"""Properties of a classifier's predictions over losses, target types, activations and dtypes:

- one class per row (binary, multiclass): ``predict == classes_[argmax(predict_proba)]``, and
  ``predict_proba`` rows are probabilities summing to 1, under every loss (squared error's
  sigmoids included);
- multi-label: each label is predicted where its own probability exceeds 0.5;
- the fitted weights and the probabilities are in the input's precision.

The networks are started by a one-iteration L-BFGS fit (a cheap program to compile) and their
weights then scaled and shifted by drawn amounts, so outputs reach saturation, ties and zeros.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from mlpkit import MLPClassifier

RNG = np.random.RandomState(0)
X = RNG.randn(30, 3)
TARGETS = {
    "binary": np.array(["no", "yes"])[RNG.randint(0, 2, 30)],
    "multiclass": np.array([10, 20, 30, 40])[np.arange(30) % 4],
    "multilabel": (RNG.rand(30, 3) > 0.5).astype(int),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loss=st.sampled_from(["log_loss", "squared_error"]),
    target=st.sampled_from(sorted(TARGETS)),
    activation=st.sampled_from(["relu", "tanh", "identity"]),
    out_activation=st.sampled_from([None, "relu", "tanh"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([0.0, 1.0, 30.0]),
    shift=st.floats(-5, 5),
)
def test_predict_agrees_with_predict_proba_and_dtypes_follow_the_input(
    loss, target, activation, out_activation, dtype, scale, shift
):
    if loss == "log_loss":
        out_activation = None  # log-loss takes its own (softmax or logistic)
    data, y = X.astype(dtype), TARGETS[target]
    model = MLPClassifier(hidden_layer_sizes=(4,), activation=activation, out_activation=out_activation, loss=loss,
                          solver="lbfgs", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data, y)
    assert {a.dtype for a in (*model.coefs_, *model.intercepts_)} == {np.dtype(dtype)}
    model.coefs_ = [w * scale for w in model.coefs_]  # scale 0: every output equal, a tie in each row
    model.intercepts_[-1] = model.intercepts_[-1] + np.asarray(shift, dtype)

    proba, predicted = model.predict_proba(data), model.predict(data)
    assert proba.dtype == dtype and proba.shape == (len(data), len(model.classes_))
    assert np.all((proba >= 0) & (proba <= 1))
    if target == "multilabel":
        np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    else:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)
        np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(model.predict(data[:1]), predicted[:1])  # a single row alike
