"""Loss functions: one table from names to per-sample losses.

A loss is given on the network's outputs ``pred`` (after the output activation)
and, for the output activations it is the canonical link of, directly on the
logits ``z``. The logit forms have the exact gradient ``out_activation(z) - y``
that scikit-learn's backprop uses, with no clipping of probabilities near 0 or 1.
Each function returns one value per sample (summed over outputs).

scikit-learn reports its squared error averaged over outputs while its gradient
sums over them (``_base.squared_loss`` against ``_backprop``);
``Loss.reported_mean_over_outputs`` keeps that for ``loss_curve_``.

Every function takes the array namespace ``xp`` last (``jax.numpy`` in the compiled
loop, where JAX differentiates it; ``numpy`` in the numpy loop), as ``activations.py``'s do.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .activations import ACTIVATIONS


class Loss(NamedTuple):
    on_outputs: Callable  # (pred, y, huber_delta, xp) -> (n_samples,)
    on_logits: dict  # output activation -> (z, y, xp) -> (n_samples,)
    default_output: str  # the output activation a regressor uses with this loss
    reported_mean_over_outputs: bool = False


def _xlogy(x, y, xp):
    """x log y, 0 where x is 0 (scipy.special.xlogy), with a gradient that is finite there too."""
    return xp.where(x == 0, 0.0, x * xp.log(xp.where(x == 0, 1.0, y)))


def _log_softmax(z, xp):
    """log softmax(z) along the last axis, shifted by the row max for stability."""
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def half_squared_error(pred, y, huber_delta=None, xp=np):
    """0.5 * sum_k (pred_k - y_k)^2"""
    return 0.5 * xp.sum((pred - y) ** 2, axis=-1)


def summed_squared_error(pred, y, huber_delta=None, xp=np):
    """sum_k (pred_k - y_k)^2: FluCoMa's loss (``MLP::loss``), whose gradient is ``2 (pred - y)``."""
    return xp.sum((pred - y) ** 2, axis=-1)


def absolute_error(pred, y, huber_delta=None, xp=np):
    """sum_k |pred_k - y_k|"""
    return xp.sum(xp.abs(pred - y), axis=-1)


def huber(pred, y, huber_delta, xp=np):
    """sum_k of 0.5 r^2 for |r| <= delta, delta (|r| - delta / 2) beyond, r = pred_k - y_k (Huber 1964)."""
    quadratic = xp.minimum(xp.abs(pred - y), huber_delta)  # (optax.losses.huber_loss's form)
    return xp.sum(0.5 * quadratic**2 + huber_delta * (xp.abs(pred - y) - quadratic), axis=-1)


def poisson_deviance(pred, y, huber_delta=None, xp=np):
    """Half Poisson deviance: sum_k y log(y / mu) - y + mu, mu = pred_k."""
    return xp.sum(_xlogy(y, y, xp) - _xlogy(y, pred, xp) - y + pred, axis=-1)


def poisson_deviance_log_link(z, y, xp=np):
    """Poisson deviance with mu = exp(z), written on z."""
    return xp.sum(_xlogy(y, y, xp) - y * z - y + xp.exp(z), axis=-1)


def cross_entropy(pred, y, huber_delta=None, xp=np):
    """-sum_k y_k log p_k for probabilities ``pred`` (clipped to machine epsilon)."""
    eps = xp.finfo(pred.dtype).eps
    return -xp.sum(_xlogy(y, xp.clip(pred, eps, 1 - eps), xp), axis=-1)


def categorical_cross_entropy(z, y, xp=np):
    """-sum_k y_k log softmax(z)_k"""
    return -xp.sum(y * _log_softmax(z, xp), axis=-1)


def binary_cross_entropy(z, y, xp=np):
    """-sum_k [y_k log sigmoid(z_k) + (1 - y_k) log(1 - sigmoid(z_k))] = sum_k softplus(z_k) - y_k z_k"""
    return xp.sum(xp.logaddexp(z, 0.0) - y * z, axis=-1)


LOSSES = {
    "squared_error": Loss(
        half_squared_error, {"identity": half_squared_error}, "identity", reported_mean_over_outputs=True
    ),
    "summed_squared_error": Loss(summed_squared_error, {}, "identity"),
    "absolute_error": Loss(absolute_error, {}, "identity"),
    "huber": Loss(huber, {}, "identity"),
    "poisson": Loss(poisson_deviance, {"exp": poisson_deviance_log_link}, "exp"),
    "log_loss": Loss(
        cross_entropy, {"softmax": categorical_cross_entropy, "logistic": binary_cross_entropy}, "softmax"
    ),
}

ALIASES = {"cross_entropy": "log_loss", "mse": "squared_error", "mae": "absolute_error"}


def per_sample_loss(loss_name, out_activation, z, y, huber_delta, xp=np):
    """(objective, reported) per sample for logits ``z`` of a network with ``out_activation``."""
    loss = LOSSES[loss_name]
    if out_activation in loss.on_logits:
        objective = loss.on_logits[out_activation](z, y, xp)
    else:
        objective = loss.on_outputs(ACTIVATIONS[out_activation](z, xp), y, huber_delta, xp)
    reported = objective / y.shape[-1] if loss.reported_mean_over_outputs else objective
    return objective, reported
