"""Shared pieces of the reliability suite (issue 8): tiny data, paired estimators, error checks.

Speed: JAX compiles one training program per network structure, solver and row
bucket (16 rows is the smallest bucket), so every suite file trains on 3
features, at most 16 rows, hidden_layer_sizes=(3,) and at most 16 epochs (one
history-buffer length): the whole suite shares a handful of compiled programs.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager

import numpy as np
import sklearn.neural_network as sknn

import mlpkit

N_ROWS, N_FEATURES = 16, 3
HIDDEN = (3,)
SMALL = {"hidden_layer_sizes": HIDDEN, "max_iter": 5, "random_state": 0}


def data():
    rng = np.random.RandomState(0)
    X = rng.randn(N_ROWS, N_FEATURES)
    y_class = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    y_class[:2] = [0, 1]  # both classes present
    y_reg = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.randn(N_ROWS)
    return X, y_class, y_reg


X, Y_CLASS, Y_REG = data()

MLPKIT = {"classifier": mlpkit.MLPClassifier, "regressor": mlpkit.MLPRegressor}
SKLEARN = {"classifier": sknn.MLPClassifier, "regressor": sknn.MLPRegressor}
TARGETS = {"classifier": Y_CLASS, "regressor": Y_REG}


def make(kind, lib="mlpkit", **params):
    """A small estimator of ``kind`` ('classifier' / 'regressor') from mlpkit or scikit-learn."""
    cls = (MLPKIT if lib == "mlpkit" else SKLEARN)[kind]
    return cls(**{**SMALL, **params})


@contextmanager
def quiet():
    """Ignore the warnings tiny fits give (ConvergenceWarning, DataConversionWarning...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def outcome(action):
    """``("ok", result)`` or ``("error", exception)`` of calling ``action()`` quietly."""
    with quiet():
        try:
            return "ok", action()
        except Exception as error:  # noqa: BLE001 - the point is to look at it
            return "error", error


_JAX_WORDS = re.compile(r"\bjax|jaxlib|jnp\.|XlaRuntimeError|JaxRuntimeError|Traced<|JitTracer", re.IGNORECASE)


def is_jax_error(error: BaseException) -> bool:
    """An exception of JAX's (by class) or one whose message comes from inside JAX."""
    for cls in type(error).__mro__:
        if cls.__module__.split(".")[0] in ("jax", "jaxlib"):
            return True
    return bool(_JAX_WORDS.search(str(error)))


def assert_clean_error(error: BaseException, *, types=(ValueError, TypeError)):
    """A scikit-learn-style error: a ValueError/TypeError, not one of JAX's, nor a JAX message."""
    assert isinstance(error, types), f"{type(error).__module__}.{type(error).__name__}: {error}"
    assert not is_jax_error(error), f"a JAX error reached the user: {type(error).__name__}: {error}"


def first_line(error: BaseException) -> str:
    """The first line of the message; mlpkit checks in its own dtype, so float32 reads as float64."""
    line = str(error).splitlines()[0] if str(error) else ""
    return line.replace("dtype('float32')", "dtype('float64')")


def assert_fails_like_sklearn(mk_outcome, sk_outcome):
    """Where scikit-learn raises, mlpkit raises a clean error; the same message when the same class."""
    (mk_status, mk_value), (sk_status, sk_value) = mk_outcome, sk_outcome
    assert sk_status == "error", f"scikit-learn accepted this case: {sk_value!r}"
    assert mk_status == "error", f"mlpkit accepted what scikit-learn refuses ({type(sk_value).__name__}: {sk_value})"
    assert_clean_error(mk_value)
    if type(mk_value) is type(sk_value):
        assert first_line(mk_value) == first_line(sk_value)


def all_finite(*arrays) -> bool:
    return all(np.isfinite(np.asarray(a, dtype=float)).all() for a in arrays)


def weights(model):
    return [*model.coefs_, *model.intercepts_]


def same_weights(a, b) -> bool:
    """Bit-identical weights (same dtype, shape and bytes)."""
    wa, wb = weights(a), weights(b)
    return len(wa) == len(wb) and all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes() for x, y in zip(wa, wb)
    )
