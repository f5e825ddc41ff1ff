"""Loss functions: one table from names to per-sample losses of the output logits.

Each loss takes the output layer's pre-activation ``z`` (n_samples, n_outputs)
and the target ``y`` of the same shape, and returns one value per sample. Taking
logits instead of probabilities makes the gradient the exact canonical-link
form ``d loss / d z = out_activation(z) - y`` that scikit-learn's backprop uses,
with no clipping of probabilities near 0 or 1.

``reported`` gives the value scikit-learn reports in ``loss_curve_`` where it
differs from the objective: its squared error averages over outputs while its
gradient sums over them (``_base.squared_loss`` against ``_backprop``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy


class Loss(NamedTuple):
    objective: Callable  # (z, y) -> (n_samples,) differentiated in training
    reported: Callable  # (z, y) -> (n_samples,) shown in loss_curve_
    out_activation: str  # the output activation this loss is the canonical link of


def half_squared_error(z, y):
    """0.5 * sum_k (z_k - y_k)^2"""
    return 0.5 * jnp.sum((z - y) ** 2, axis=-1)


def half_squared_error_mean_over_outputs(z, y):
    """0.5 * mean_k (z_k - y_k)^2, as scikit-learn's ``squared_loss`` reports it."""
    return 0.5 * jnp.mean((z - y) ** 2, axis=-1)


def poisson_deviance(z, y):
    """Half Poisson deviance with log link: sum_k y log(y / mu) - y + mu, mu = exp(z)."""
    return jnp.sum(xlogy(y, y) - y * z - y + jnp.exp(z), axis=-1)


def categorical_cross_entropy(z, y):
    """-sum_k y_k log softmax(z)_k"""
    return -jnp.sum(y * jax.nn.log_softmax(z, axis=-1), axis=-1)


def binary_cross_entropy(z, y):
    """-sum_k [y_k log sigmoid(z_k) + (1 - y_k) log(1 - sigmoid(z_k))] = sum_k softplus(z_k) - y_k z_k"""
    return jnp.sum(jax.nn.softplus(z) - y * z, axis=-1)


LOSSES = {
    "squared_error": Loss(half_squared_error, half_squared_error_mean_over_outputs, "identity"),
    "poisson": Loss(poisson_deviance, poisson_deviance, "exp"),
    "log_loss": Loss(categorical_cross_entropy, categorical_cross_entropy, "softmax"),
    "binary_log_loss": Loss(binary_cross_entropy, binary_cross_entropy, "logistic"),
}
