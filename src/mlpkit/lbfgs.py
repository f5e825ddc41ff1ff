"""Full-batch L-BFGS: scipy's L-BFGS-B driven by a compiled loss-and-gradient.

scipy's ``L-BFGS-B`` is what scikit-learn uses, with the same options
(``maxiter``, ``maxfun``, ``gtol``), so mlpkit's ``solver="lbfgs"`` takes the same
steps and stops at the same iteration; only the loss and gradient are computed
by one compiled JAX call, or, for work too small to repay a compile, in numpy by
the numpy loop's backpropagation (``numpy_loop.loss_and_grad``: which one depends
only on the settings and the data's shape). (``optax.lbfgs`` uses another line
search and stopping rule and strays from scikit-learn's results.)

Settings that act on a stochastic optimiser's steps (decoupled ``weight_decay``,
gradient clipping) have no place in scipy's minimisation and are refused.
Ctrl-C propagates out of ``fit``, as in scikit-learn, except inside
``keeping_progress_on_interrupt`` (the command line), where it ends the fit at
the last iterate with the warning the stochastic solvers give.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from functools import cache, partial

import numpy as np
import scipy.optimize

from . import _compilation_cache, _tree, numpy_loop
from ._dtypes import x64
from .program import Hyper, Program


@cache
def _compiled_loss_and_grad():
    """``(params, X, Y, weight, program, hyper) -> (reported loss, gradients)``, compiled by JAX."""
    import jax

    from .engine import batch_objective

    @partial(jax.jit, static_argnames="program")
    def loss_and_grad(params, X, Y, weight, program: Program, hyper: Hyper):
        rows = (weight > 0).astype(weight.dtype)
        key = jax.random.PRNGKey(0)  # unused: L-BFGS runs without dropout or random slopes

        def objective(params):
            return batch_objective(params, {}, X, Y, weight, rows, key, program, hyper)

        (_, (reported, _)), grads = jax.value_and_grad(objective, has_aux=True)(params)
        return reported, grads

    return loss_and_grad


def _compiled(X, Y, weight, program: Program, hyper: Hyper, unflatten):
    """``flat -> (reported loss, gradient)`` compiled by JAX, the rows put on the device once (called with
    x64 on for float64, as the whole minimisation runs)."""
    import jax

    _compilation_cache.enable()
    compiled = _compiled_loss_and_grad()
    X, Y, weight = jax.device_put((X, Y, weight))

    def loss_and_grad(flat):
        loss, grads = compiled(unflatten(flat), X, Y, weight, program, hyper)
        return float(loss), np.concatenate([np.ravel(g) for g in _tree.leaves(grads)]).astype(np.float64)

    return loss_and_grad


#: Whether Ctrl-C keeps the last iterate (``keeping_progress_on_interrupt``) instead of propagating.
_KEEP_PROGRESS_ON_INTERRUPT = contextvars.ContextVar("mlpkit_lbfgs_keeps_progress", default=False)


@contextlib.contextmanager
def keeping_progress_on_interrupt():
    """Within this block, Ctrl-C during an L-BFGS fit stops it at the last iterate and warns
    "Training interrupted by user." (as the stochastic solvers always do) instead of raising."""
    token = _KEEP_PROGRESS_ON_INTERRUPT.set(True)
    try:
        yield
    finally:
        _KEEP_PROGRESS_ON_INTERRUPT.reset(token)


def refuse_step_settings(hyper: Hyper) -> None:
    """A ValueError naming the settings L-BFGS cannot apply: they change a stochastic optimiser's steps."""
    given = [
        f"{name}={float(value):g}"
        for name, value, off in (
            ("weight_decay", hyper.weight_decay, 0),
            ("clip_norm", hyper.clip_norm, np.inf),
            ("clip_value", hyper.clip_value, np.inf),
        )
        if value != off
    ]
    if given:
        raise ValueError(
            f"solver='lbfgs' cannot apply {', '.join(given)}: scipy's L-BFGS-B chooses its own steps by a line"
            " search on the loss, so there is no optimiser step to decay the weights in or gradient to clip."
            " Penalise the weights with alpha (or l1), which L-BFGS minimises, or use a stochastic solver"
            " ('adamw', 'adam', 'sgd'); otherwise leave weight_decay=0, clip_norm=None and clip_value=None."
        )


def fit_lbfgs(params, X, Y, weight, program: Program, hyper: Hyper, *, max_iter, max_fun, tol, loop="auto"):
    """Minimise the training loss from ``params``; returns ``(params, loss, scipy result)``.

    ``X``, ``Y`` and ``weight`` may carry padding rows of zero weight.
    As scikit-learn, the value given to the line search is the reported loss and
    the gradient is that of the objective (they differ only for several outputs
    of squared error, where scikit-learn averages the reported loss over outputs).
    ``loop`` is the estimator's ``training_loop``: where the loss and gradient are computed
    (``numpy_loop.takes``, with ``max_iter`` iterations counted as epochs).
    """
    refuse_step_settings(hyper)
    leaves = _tree.leaves(params)
    shapes = [leaf.shape for leaf in leaves]
    splits = np.cumsum([leaf.size for leaf in leaves])[:-1]
    dtype = leaves[0].dtype
    n_weights = sum(W.size for W in params["coefs"])

    def unflatten(flat):
        pieces = np.split(np.asarray(flat, dtype=dtype), splits)
        return _tree.unflatten(params, [p.reshape(shape) for p, shape in zip(pieces, shapes)])

    small = numpy_loop.takes(loop, program, int(np.sum(weight > 0)) * n_weights * max_iter)
    with contextlib.nullcontext() if small else x64(dtype):  # (JAX in float64: x64 on for the whole minimisation)
        if small:
            fun = numpy_loop.loss_and_grad(params, X, Y, weight, program, hyper)  # (its flat order is _tree.leaves')
        else:
            fun = _compiled(X, Y, weight, program, hyper, unflatten)
        x0 = np.concatenate([np.ravel(leaf) for leaf in leaves]).astype(np.float64)
        last = {"x": x0, "fun": None, "nit": 0}  # the last accepted iterate, for an interrupted fit

        def remember(intermediate_result):
            last.update(x=intermediate_result.x.copy(), fun=intermediate_result.fun, nit=last["nit"] + 1)

        try:
            result = scipy.optimize.minimize(
                fun,
                x0,
                method="L-BFGS-B",
                jac=True,
                callback=remember,
                options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
            )
        except KeyboardInterrupt:
            if not _KEEP_PROGRESS_ON_INTERRUPT.get():
                raise
            warnings.warn("Training interrupted by user.")
            loss = last["fun"] if last["fun"] is not None else fun(last["x"])[0]
            result = scipy.optimize.OptimizeResult(
                x=last["x"], fun=loss, nit=last["nit"], status=0, success=True, message="interrupted by the user"
            )
    return unflatten(result.x), result.fun, result
