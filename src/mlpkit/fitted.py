"""A fitted network's attributes, as views of the training state, and its predictions.

``coefs_``, ``intercepts_``, ``prelu_slopes_`` and ``batch_norm_`` read the
parameters of ``self._state`` (a ``state.TrainState``): there is one copy of the
weights. Editing an array in place changes the network and keeps the
optimiser's moments; assigning new arrays (``model.coefs_ = [...]``, or
``model.coefs_[0] = W``) writes them into the state and starts the optimiser
afresh at the next fit, since the old moments belong to the old weights.

Small predictions run in numpy on these arrays (no dispatch); large ones in a
compiled forward pass where JAX has an accelerator.
"""

from __future__ import annotations

from functools import cache, partial

import numpy as np
import scipy.sparse
from sklearn.utils.validation import check_is_fitted, validate_data

from . import program as programs
from ._backend import on_accelerator
from ._dtypes import x64
from .activations import ACTIVATIONS
from .network import forward_logits
from .training_data import cast

#: Up to this many rows, ``predict`` runs in numpy (no dispatch); above, compiled when JAX has an
#: accelerator. On the CPU numpy's BLAS wins at every size (100k x 784 rows, 784 -> 100 -> 10 net:
#: 148 ms in numpy, 508 ms compiled with padding and transfers), so the CPU stays in numpy.
#: None: 256 where an accelerator's JAX plugin is installed, no limit otherwise (decided at the first
#: large predict, without importing JAX for it).
NUMPY_PREDICT_MAX_ROWS = None

def _default_numpy_predict_max_rows():
    return 256 if on_accelerator() else float("inf")


@cache
def _logits_compiled():
    import jax
    import jax.numpy as jnp

    from . import _compilation_cache

    _compilation_cache.enable()
    return jax.jit(partial(forward_logits, xp=jnp), static_argnames="architecture")


class LayerArrays(list):
    """Per-layer arrays of a fitted attribute: a list, as scikit-learn's, whose item assignment
    (``model.coefs_[0] = W``) writes into the training state as assigning the whole list does."""

    def __init__(self, arrays, assign):
        super().__init__(arrays)
        self._assign = assign

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        self._assign(list(self))

    def __reduce__(self):  # copies and pickles are plain lists
        return list, (list(self),)


def _layer_view(part):
    """A property reading ``params[part]`` of the training state, and writing it on assignment."""

    def get(self):
        arrays = self._fitted_state().params[part]
        if part != "coefs" and part != "intercepts" and not arrays:
            raise AttributeError(f"this network has no {part} (see the activation and batch_norm parameters)")
        return LayerArrays(arrays, partial(self._assign_params, part))

    def set(self, arrays):
        self._assign_params(part, arrays)

    return property(get, set)


class FittedNetwork:
    """The fitted attributes of a network and its forward pass; the estimator keeps ``_state``
    (``state.TrainState``) and ``_structure`` (layer units, architecture, loss, dtype)."""

    coefs_ = _layer_view("coefs")
    intercepts_ = _layer_view("intercepts")
    prelu_slopes_ = _layer_view("slopes")

    def __sklearn_is_fitted__(self):
        return "_state" in self.__dict__

    def _fitted_state(self):
        state = self.__dict__.get("_state")
        if state is None:
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet: call 'fit' first.")
        return state

    def _assign_params(self, part, arrays):
        """New arrays for one part of the parameters: the old optimiser moments no longer belong to them."""
        state = self._fitted_state()
        params = {**state.params, part: tuple(arrays)}
        self._state = state._replace(params=params, opt_state=None)

    @property
    def batch_norm_(self):
        """Batch normalisation of each hidden layer: ``scale``, ``shift`` (trained), ``mean``, ``var``."""
        state = self._fitted_state()
        if not state.params["bn_scale"]:
            raise AttributeError("this network has no batch normalisation (batch_norm=False)")
        params, stats = state.params, state.stats
        return {"scale": list(params["bn_scale"]), "shift": list(params["bn_shift"]), "mean": list(stats["mean"]), "var": list(stats["var"])}

    @batch_norm_.setter
    def batch_norm_(self, value):
        state = self._fitted_state()
        params = {**state.params, "bn_scale": tuple(value["scale"]), "bn_shift": tuple(value["shift"])}
        stats = {"mean": tuple(value["mean"]), "var": tuple(value["var"])}
        self._state = state._replace(params=params, stats=stats, opt_state=None)

    def _params(self):
        """The parameter pytree of ``network.py``."""
        return self._fitted_state().params

    def _stats(self):
        return self._fitted_state().stats

    @property
    def n_parameters_(self):
        """Number of trained parameters: weights, biases, and prelu slopes and batch-norm scales and shifts."""
        check_is_fitted(self)
        return sum(a.size for layers in self._params().values() for a in layers)

    # --------------------------------------------------------------- predicting
    def _is_plain_input(self, X) -> bool:
        """Whether scikit-learn's checks would pass ``X`` as it is: a finite 2-D float ndarray of the
        fitted width, without feature names. Hot paths (predicting a row, refitting again and again in a
        live loop) then skip them; anything else, or anything wrong, gets their checks and messages."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype.kind == "f"
            and X.shape[1] == self.n_features_in_
            and X.shape[0] > 0
            and not hasattr(self, "feature_names_in_")
            and bool(np.isfinite(X.sum()))  # one pass, no (n, d) bool array; an overflowing sum: slow path
        )

    def _validate_predict_input(self, X):
        if self._is_plain_input(X):
            return X
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def _check_is_fitted(self):
        if "_state" not in self.__dict__:  # cheap test first: predict on one row is a hot path
            check_is_fitted(self)

    def _architecture_fitted(self):
        return self._structure[1]

    def _output_logits(self, X, check_input=True):
        """Pre-activation of the output layer: numpy for few rows, the compiled pass for many."""
        if check_input:
            X = self._validate_predict_input(X)
        params, stats = self._params(), self._stats()
        dtype = params["coefs"][0].dtype
        architecture = self._architecture_fitted()
        limit = NUMPY_PREDICT_MAX_ROWS if NUMPY_PREDICT_MAX_ROWS is not None else _default_numpy_predict_max_rows()
        if X.shape[0] <= limit:
            return forward_logits(params, stats, cast(X, dtype, "X"), architecture, np)
        X = X.toarray() if scipy.sparse.issparse(X) else X
        n = X.shape[0]
        padded = programs.pad_rows(np.asarray(X, dtype=dtype), programs.padded_rows(n))
        with x64(dtype):
            return np.asarray(_logits_compiled()(params, stats, padded, architecture=architecture))[:n]

    def _forward_pass_fast(self, X, check_input=True):
        """Network output for ``X`` (probabilities, or predictions of a regressor)."""
        return ACTIVATIONS[self.out_activation_](self._output_logits(X, check_input), np)
