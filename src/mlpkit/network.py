"""The network itself: parameters as a pytree and the forward passes.

Parameters are a dict of tuples, one entry per layer, input side first:

- ``coefs[i]`` ``(units[i], units[i+1])`` and ``intercepts[i]`` ``(units[i+1],)``: layer ``i``
  computes ``act(h @ W + b)``;
- ``slopes[i]`` ``(units[i+1],)``: the learned negative slopes of a ``prelu`` hidden layer;
- ``bn_scale[i]``, ``bn_shift[i]`` ``(units[i+1],)``: batch normalisation of hidden layer ``i``
  (between the affine map and the activation), whose running statistics live in the
  separate, untrained ``stats`` dict (``mean``, ``var``).

Empty tuples stand for the parts a network does not use. The functions are pure
and take the array namespace ``xp``, so the compiled loop (``jax.numpy``), the numpy
loop and small predictions (``numpy``) share one definition. The parts only the
compiled loop uses (dropout, batch statistics, JAX's initialisers) import JAX where
they run: loading this module, and training or predicting in numpy, needs none.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS, SELU_ALPHA, SELU_SCALE, leaky_relu
from .initializers import initializer

#: rrelu's random slopes are drawn from U(lower, upper) in training; predictions use the mean.
RRELU_LOWER, RRELU_UPPER = 1 / 8, 1 / 3
#: prelu's slopes start here (He et al. 2015).
PRELU_INITIAL_SLOPE = 0.25
#: Batch normalisation: variance floor and running-average momentum (as PyTorch's defaults).
BN_EPSILON, BN_MOMENTUM = 1e-5, 0.1


class Architecture(NamedTuple):
    """What the forward pass computes; every field is structural (part of the compiled program)."""

    activation: str  # hidden layers
    out_activation: str
    negative_slope: float = 0.01  # leaky_relu
    batch_norm: bool = False
    dropout: bool = False  # any hidden layer has a dropout rate > 0 (the rates themselves are traced)
    alpha_dropout: bool = False  # dropout keeping SELU's mean and variance (Klambauer et al. 2017)


# ----------------------------------------------------------------- initialisation
def glorot_uniform_sklearn(layer_units, activation, random_state, dtype):
    """Glorot-uniform weights and biases exactly as scikit-learn draws them.

    Bound ``sqrt(6 / (fan_in + fan_out))`` (``sqrt(2 / ...)`` for logistic units),
    weights then biases of each layer drawn in turn from ``random_state``, so a
    seed gives scikit-learn's initial network.
    Glorot & Bengio (2010), "Understanding the difficulty of training deep
    feedforward neural networks".
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype, copy=False))
        intercepts.append(random_state.uniform(-bound, bound, fan_out).astype(dtype, copy=False))
    return coefs, intercepts


def named_initialization(init_name, layer_units, random_state, dtype):
    """Weights from ``initializers.initializer(init_name)``, zero biases; seeded by ``random_state``."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.PRNGKey(random_state.randint(np.iinfo(np.int32).max)), len(layer_units) - 1)
    draw = initializer(init_name)
    coefs, intercepts = [], []
    for key, fan_in, fan_out in zip(keys, layer_units[:-1], layer_units[1:]):
        coefs.append(np.array(draw(key, (fan_in, fan_out), jnp.float32), dtype=dtype))
        intercepts.append(np.zeros(fan_out, dtype))
    return coefs, intercepts


def layer_extras(layer_units, architecture, dtype):
    """Initial prelu slopes, batch-norm parameters and batch-norm statistics of the hidden layers.

    Returns ``(params, stats)``: the parts of the parameter dict beside ``coefs`` and
    ``intercepts``, and the statistics dict; parts a network does not use are empty.
    """
    hidden = layer_units[1:-1]
    prelu = architecture.activation == "prelu"
    bn = architecture.batch_norm
    params = {
        "slopes": tuple(np.full(n, PRELU_INITIAL_SLOPE, dtype) for n in hidden) if prelu else (),
        "bn_scale": tuple(np.ones(n, dtype) for n in hidden) if bn else (),
        "bn_shift": tuple(np.zeros(n, dtype) for n in hidden) if bn else (),
    }
    stats = {
        "mean": tuple(np.zeros(n, dtype) for n in hidden) if bn else (),
        "var": tuple(np.ones(n, dtype) for n in hidden) if bn else (),
    }
    return params, stats


def count_parameters(layer_units):
    """Weights plus biases: sum of n_i * n_(i+1) plus sum of n_(i+1).

    >>> count_parameters([13, 5, 4, 3])   # 97 weights + 12 biases
    109
    """
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    return sum(a * b for a, b in pairs) + sum(b for _, b in pairs)


# -------------------------------------------------------------------- forward pass
def _fixed_slope(i, params, architecture, random_slope):
    return architecture.negative_slope


def _learned_slope(i, params, architecture, random_slope):
    return params["slopes"][i]


def _random_slope(i, params, architecture, random_slope):
    return (RRELU_LOWER + RRELU_UPPER) / 2 if random_slope is None else random_slope


#: Where each member of the leaky-ReLU family takes its negative slope from.
SLOPES = {"leaky_relu": _fixed_slope, "prelu": _learned_slope, "rrelu": _random_slope}


def _activate(z, i, params, architecture, xp, random_slope=None):
    slope_of = SLOPES.get(architecture.activation)
    if slope_of is None:
        return ACTIVATIONS[architecture.activation](z, xp)
    return leaky_relu(z, xp, slope_of(i, params, architecture, random_slope))


def _normalize(z, mean, var, scale, shift, xp):
    return (z - mean) / xp.sqrt(var + BN_EPSILON) * scale + shift


def forward_logits(params, stats, X, architecture, xp):
    """Pre-activation of the output layer for prediction: no dropout, running batch-norm statistics."""
    coefs, intercepts = params["coefs"], params["intercepts"]
    h = X
    for i in range(len(coefs) - 1):
        z = h @ coefs[i]
        z += intercepts[i]  # in place in numpy: one (n, units) array less to allocate for large predictions
        if architecture.batch_norm:
            z = _normalize(z, stats["mean"][i], stats["var"][i], params["bn_scale"][i], params["bn_shift"][i], xp)
        h = _activate(z, i, params, architecture, xp)
    z = h @ coefs[-1]
    z += intercepts[-1]
    return z


def forward_logits_train(params, stats, X, rows, architecture, key, dropout_rates):
    """Pre-activation of the output layer in training, and the updated batch-norm statistics.

    ``rows`` (n,) marks the real rows of a padded batch: batch statistics use only
    them. ``key`` drives dropout and rrelu's random slopes; ``dropout_rates`` has
    one (traced) rate per hidden layer.
    """
    import jax
    import jax.numpy as jnp

    coefs, intercepts = params["coefs"], params["intercepts"]
    random = architecture.dropout or architecture.activation == "rrelu"
    new_stats = {"mean": [], "var": []}
    h = X
    for i in range(len(coefs) - 1):
        if random:
            key, slope_key, drop_key = jax.random.split(key, 3)
        z = h @ coefs[i] + intercepts[i]
        if architecture.batch_norm:
            weight = rows[:, None] / jnp.sum(rows)
            mean = jnp.sum(weight * z, axis=0)
            var = jnp.sum(weight * (z - mean) ** 2, axis=0)
            z = _normalize(z, mean, var, params["bn_scale"][i], params["bn_shift"][i], jnp)
            new_stats["mean"].append((1 - BN_MOMENTUM) * stats["mean"][i] + BN_MOMENTUM * mean)
            new_stats["var"].append((1 - BN_MOMENTUM) * stats["var"][i] + BN_MOMENTUM * var)
        random_slope = None
        if architecture.activation == "rrelu":
            random_slope = jax.random.uniform(slope_key, z.shape, z.dtype, RRELU_LOWER, RRELU_UPPER)
        h = _activate(z, i, params, architecture, jnp, random_slope)
        if architecture.dropout:
            h = _dropout(h, drop_key, dropout_rates[i], architecture.alpha_dropout)
    stats = {k: tuple(v) for k, v in new_stats.items()} if architecture.batch_norm else stats
    return h @ coefs[-1] + intercepts[-1], stats


def _dropout(h, key, rate, alpha):
    """Inverted dropout (Srivastava et al. 2014), or alpha dropout for SELU networks.

    Alpha dropout sets dropped units to SELU's negative saturation value and
    rescales so the mean and variance stay unchanged (Klambauer et al. 2017).
    """
    import jax
    import jax.numpy as jnp

    keep = 1.0 - rate
    kept = jax.random.bernoulli(key, keep, h.shape)
    if not alpha:
        return jnp.where(kept, h / keep, 0.0)
    saturation = -SELU_SCALE * SELU_ALPHA
    a = (keep + saturation**2 * keep * rate) ** -0.5
    b = -a * saturation * rate
    return a * jnp.where(kept, h, saturation) + b


def l2_penalty(params, xp=np):
    """sum of squared weights (biases and other parameters are not penalised, as scikit-learn)."""
    return sum(xp.sum(W**2) for W in params["coefs"])


def l1_penalty(params, xp=np):
    """sum of absolute weights."""
    return sum(xp.sum(xp.abs(W)) for W in params["coefs"])
