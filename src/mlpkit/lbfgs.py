"""Full-batch L-BFGS: scipy's L-BFGS-B driven by a compiled loss-and-gradient.

scipy's ``L-BFGS-B`` is what scikit-learn uses, with the same options
(``maxiter``, ``maxfun``, ``gtol``), so mlpkit's ``solver="lbfgs"`` takes the same
steps and stops at the same iteration; only the loss and gradient are computed
by one compiled JAX call instead of numpy. (``optax.lbfgs`` uses another line
search and stopping rule and strays from scikit-learn's results.)
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize
from .engine import batch_losses
from .network import flatten, unflatten


@partial(jax.jit, static_argnames=("layer_units", "loss_name", "activation"))
def _loss_and_grad(flat, layer_units, X, Y, weight, loss_name, activation, alpha):
    def objective(flat):
        return batch_losses(unflatten(flat, layer_units), X, Y, weight, loss_name, activation, alpha)

    (_, reported), grad = jax.value_and_grad(objective, has_aux=True)(flat)
    return reported, grad


def fit_lbfgs(params, X, Y, weight, *, loss_name, activation, alpha, max_iter, max_fun, tol):
    """Minimise the training loss from ``params``; returns ``(params, loss, scipy result)``.

    ``X``, ``Y`` and ``weight`` may carry padding rows of zero weight.
    As scikit-learn, the value given to the line search is the reported loss and
    the gradient is that of the objective (they differ only for several outputs
    of squared error, where scikit-learn averages the reported loss over outputs).
    """
    layer_units = (params[0][0].shape[0],) + tuple(b.shape[0] for _, b in params)
    flat0 = flatten(params, np)
    dtype = flat0.dtype
    X, Y, weight = jnp.asarray(X), jnp.asarray(Y), jnp.asarray(weight)
    alpha = jnp.asarray(alpha, dtype)

    def fun(x):
        loss, grad = _loss_and_grad(
            jnp.asarray(x, dtype), layer_units, X, Y, weight, loss_name, activation, alpha
        )
        return float(loss), np.asarray(grad, dtype=np.float64)

    result = scipy.optimize.minimize(
        fun,
        np.asarray(flat0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    return unflatten(result.x.astype(dtype), layer_units), result.fun, result
