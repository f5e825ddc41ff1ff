"""Loss functions: one table from names to per-sample losses.

A loss is given on the network's outputs ``pred`` (after the output activation)
and, for the output activations it is the canonical link of, directly on the
logits ``z``. The logit forms have the exact gradient ``out_activation(z) - y``
that scikit-learn's backprop uses, with no clipping of probabilities near 0 or 1.
Each function returns one value per sample (summed over outputs).

scikit-learn reports its squared error averaged over outputs while its gradient
sums over them (``_base.squared_loss`` against ``_backprop``);
``Loss.reported_mean_over_outputs`` keeps that for ``loss_curve_``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.scipy.special import xlogy

from .activations import ACTIVATIONS


class Loss(NamedTuple):
    on_outputs: Callable  # (pred, y, huber_delta) -> (n_samples,)
    on_logits: dict  # output activation -> (z, y) -> (n_samples,)
    default_output: str  # the output activation a regressor uses with this loss
    reported_mean_over_outputs: bool = False


def half_squared_error(pred, y, huber_delta=None):
    """0.5 * sum_k (pred_k - y_k)^2"""
    return 0.5 * jnp.sum((pred - y) ** 2, axis=-1)


def summed_squared_error(pred, y, huber_delta=None):
    """sum_k (pred_k - y_k)^2: FluCoMa's loss (``MLP::loss``), whose gradient is ``2 (pred - y)``."""
    return jnp.sum((pred - y) ** 2, axis=-1)


def absolute_error(pred, y, huber_delta=None):
    """sum_k |pred_k - y_k|"""
    return jnp.sum(jnp.abs(pred - y), axis=-1)


def huber(pred, y, huber_delta):
    """sum_k of 0.5 r^2 for |r| <= delta, delta (|r| - delta / 2) beyond, r = pred_k - y_k (Huber 1964)."""
    return jnp.sum(optax.losses.huber_loss(pred, y, delta=huber_delta), axis=-1)


def poisson_deviance(pred, y, huber_delta=None):
    """Half Poisson deviance: sum_k y log(y / mu) - y + mu, mu = pred_k."""
    return jnp.sum(xlogy(y, y) - xlogy(y, pred) - y + pred, axis=-1)


def poisson_deviance_log_link(z, y):
    """Poisson deviance with mu = exp(z), written on z."""
    return jnp.sum(xlogy(y, y) - y * z - y + jnp.exp(z), axis=-1)


def cross_entropy(pred, y, huber_delta=None):
    """-sum_k y_k log p_k for probabilities ``pred`` (clipped to machine epsilon)."""
    eps = jnp.finfo(pred.dtype).eps
    return -jnp.sum(xlogy(y, jnp.clip(pred, eps, 1 - eps)), axis=-1)


def categorical_cross_entropy(z, y):
    """-sum_k y_k log softmax(z)_k"""
    return -jnp.sum(y * jax.nn.log_softmax(z, axis=-1), axis=-1)


def binary_cross_entropy(z, y):
    """-sum_k [y_k log sigmoid(z_k) + (1 - y_k) log(1 - sigmoid(z_k))] = sum_k softplus(z_k) - y_k z_k"""
    return jnp.sum(jax.nn.softplus(z) - y * z, axis=-1)


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


def per_sample_loss(loss_name, out_activation, z, y, huber_delta):
    """(objective, reported) per sample for logits ``z`` of a network with ``out_activation``."""
    loss = LOSSES[loss_name]
    if out_activation in loss.on_logits:
        objective = loss.on_logits[out_activation](z, y)
    else:
        objective = loss.on_outputs(ACTIVATIONS[out_activation](z, jnp), y, huber_delta)
    reported = objective / y.shape[-1] if loss.reported_mean_over_outputs else objective
    return objective, reported
