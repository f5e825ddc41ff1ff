"""The one place where the guide reaches into an estimator's private pieces.

``lr_find`` and ``diagnose`` run mlpkit's own training maths (``engine``,
``network``, ``optim``) outside ``fit``. They need what ``fit`` prepares: the
validated data as the network sees it (one-hot classes, the estimator's
dtype), the ``Architecture``, the traced ``Hyper`` values and the weights.
The program and traced values come from the configuration step every fit
uses (``config.py``); the rest from the estimator's private methods
(``_validate_input``, ``_architecture``, ``_initialize``, ``_params``,
``_stats``), all called here and only here, on a *copy* of the estimator: the
user's model is never changed.

This module must not import ``_base`` or ``estimators``, so those may import
the guide (``DataSizeWarning``) without an import cycle.
"""

from __future__ import annotations

import copy
import math
from typing import Any, NamedTuple

import jax
import numpy as np
import scipy.sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import config, engine
from .._dtypes import training_dtype
from ..network import Architecture


def x64(dtype):
    """Context in which JAX computes in ``dtype``: float64 needs x64 switched on, locally (as ``_base``)."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


def is_fitted(model) -> bool:
    return "_state" in vars(model)


def hidden_tuple(hidden_layer_sizes) -> tuple[int, ...]:
    if not hasattr(hidden_layer_sizes, "__iter__"):
        hidden_layer_sizes = [hidden_layer_sizes]
    return tuple(int(n) for n in hidden_layer_sizes)


class Prepared(NamedTuple):
    """A working copy of an estimator with its weights, and data in the form its network trains on."""

    model: Any  # the copy: fitted (its weights) or freshly initialised, never trained here
    X: np.ndarray  # (n, n_features), the estimator's dtype
    Y: np.ndarray  # (n, n_outputs): one-hot / indicator columns for a classifier
    weight: np.ndarray  # (n,) sample weights
    architecture: Architecture
    hyper: engine.Hyper
    random_state: np.random.RandomState


def prepare(model, X, y, sample_weight=None) -> Prepared:
    """A copy of ``model`` ready to compute losses on ``X``, ``y``.

    A fitted model is deep-copied and keeps its weights (``y`` must hold its
    classes). An unfitted one is cloned and given the initial weights ``fit``
    would draw with the same ``random_state``, without training.
    """
    if is_fitted(model):
        work = copy.deepcopy(model)
        X, y = work._validate_input(X, y, incremental=True, reset=False)  # checks labels against classes_
        architecture = work._architecture_fitted()
        random_state = check_random_state(work.random_state)
    else:
        work = clone(model)
        work._validate_params()
        X, y = work._validate_input(X, y, incremental=False, reset=True)
        hidden = hidden_tuple(work.hidden_layer_sizes)
        n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        architecture = work._architecture(n_outputs, len(hidden))
        random_state = check_random_state(work.random_state)
        dtype = training_dtype(work.dtype, X)
        work._initialize(y, [X.shape[1], *hidden, n_outputs], architecture, dtype, random_state)
    dtype = work.coefs_[0].dtype
    X = np.asarray(X.toarray() if scipy.sparse.issparse(X) else X, dtype=dtype)
    Y = np.asarray(y, dtype=dtype).reshape(X.shape[0], -1)
    weight = _check_sample_weight(sample_weight, X, dtype=dtype)
    hyper = config.hyper(work, dtype, len(work.coefs_) - 1)
    return Prepared(work, X, Y, weight, architecture, hyper, random_state)


def not_fitted(model) -> NotFittedError:
    """scikit-learn's error for an estimator that has not been fitted."""
    return NotFittedError(f"This {type(model).__name__} instance is not fitted yet; call 'fit' before diagnosing it.")


def fitted_inputs(model, X) -> np.ndarray:
    """``X`` checked against a fitted ``model`` (feature count and names), dense, in the model's dtype."""
    check_is_fitted(model, "coefs_")
    X = validate_data(model, X, accept_sparse=["csr", "csc"], reset=False)
    X = X.toarray() if scipy.sparse.issparse(X) else X
    return np.asarray(X, dtype=model.coefs_[0].dtype)


def fitted_architecture(model) -> Architecture:
    """The forward pass a fitted model computes (its activations, batch norm, dropout)."""
    return model._architecture_fitted()


def loss_name(model) -> str:
    """The model's training loss, a key of ``losses.LOSSES`` (aliases resolved)."""
    return model._loss_name()


def chance_loss(model) -> float | None:
    """Training loss of a classifier that guesses (None for a regressor): log K for softmax over K
    classes, log 2 per logistic output, 0.125 (half of (0.5 - y)^2, averaged over outputs) for FluCoMa's
    squared error. A first loss far above it means the first steps start from far off (unscaled inputs)."""
    if not hasattr(model, "classes_"):
        return None
    if loss_name(model) == "squared_error":
        return 0.125
    if model.out_activation_ == "softmax":
        return math.log(model.n_outputs_)
    return model.n_outputs_ * math.log(2)


def params_and_stats(model):
    """The weights pytree and batch-norm statistics of ``network.py``, from the fitted attributes."""
    return model._params(), model._stats()
