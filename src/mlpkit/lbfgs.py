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

from .engine import Hyper, Program, batch_objective


@partial(jax.jit, static_argnames="program")
def _loss_and_grad(params, X, Y, weight, program: Program, hyper: Hyper):
    rows = (weight > 0).astype(weight.dtype)
    key = jax.random.PRNGKey(0)  # unused: L-BFGS runs without dropout or random slopes

    def objective(params):
        return batch_objective(params, {}, X, Y, weight, rows, key, program, hyper)

    (_, (reported, _)), grads = jax.value_and_grad(objective, has_aux=True)(params)
    return reported, grads


def fit_lbfgs(params, X, Y, weight, program: Program, hyper: Hyper, *, max_iter, max_fun, tol):
    """Minimise the training loss from ``params``; returns ``(params, loss, scipy result)``.

    ``X``, ``Y`` and ``weight`` may carry padding rows of zero weight.
    As scikit-learn, the value given to the line search is the reported loss and
    the gradient is that of the objective (they differ only for several outputs
    of squared error, where scikit-learn averages the reported loss over outputs).
    """
    leaves, treedef = jax.tree.flatten(params)
    shapes = [leaf.shape for leaf in leaves]
    splits = np.cumsum([leaf.size for leaf in leaves])[:-1]
    dtype = leaves[0].dtype
    X, Y, weight = jnp.asarray(X), jnp.asarray(Y), jnp.asarray(weight)

    def unflatten(flat):
        pieces = np.split(np.asarray(flat, dtype=dtype), splits)
        return jax.tree.unflatten(treedef, [p.reshape(shape) for p, shape in zip(pieces, shapes)])

    def fun(flat):
        loss, grads = _loss_and_grad(unflatten(flat), X, Y, weight, program, hyper)
        return float(loss), np.concatenate([np.ravel(g) for g in jax.tree.leaves(grads)]).astype(np.float64)

    result = scipy.optimize.minimize(
        fun,
        np.concatenate([np.ravel(leaf) for leaf in leaves]).astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    return unflatten(result.x), result.fun, result
