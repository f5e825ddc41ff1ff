"""Activation functions: one table from names to functions.

Every function takes the array namespace ``xp`` (``numpy`` or ``jax.numpy``) as
its second argument, so the same line of maths serves the compiled training
loop and the numpy fast path used for small predictions. Each is written in a
form that neither overflows nor produces NaN gradients for large inputs.

The leaky-ReLU family (``leaky_relu``, ``prelu``, ``rrelu``) shares one
function with a slope argument; where the slope comes from (a fixed number, a
learned vector, a random draw) is the network's business (``network.py``).
"""

from __future__ import annotations

import math


def identity(x, xp):
    """f(x) = x"""
    return x


def logistic(x, xp):
    """f(x) = 1 / (1 + exp(-x)), written as (tanh(x/2) + 1) / 2 so it never overflows."""
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def tanh(x, xp):
    """f(x) = tanh(x)"""
    return xp.tanh(x)


def relu(x, xp):
    """f(x) = max(x, 0)"""
    return xp.maximum(x, 0)


def leaky_relu(x, xp, slope):
    """f(x) = x for x >= 0, slope * x below (Maas et al. 2013); ``slope`` may be an array per unit."""
    return xp.where(x >= 0, x, slope * x)


def elu(x, xp):
    """f(x) = x for x > 0, exp(x) - 1 below (Clevert et al. 2015)."""
    return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))


SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def selu(x, xp):
    """f(x) = scale * elu_alpha(x), the self-normalising unit (Klambauer et al. 2017)."""
    return SELU_SCALE * xp.where(x > 0, x, SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))


def gelu(x, xp):
    """f(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), Hendrycks & Gimpel's tanh form (jax.nn.gelu's default)."""
    return 0.5 * x * (1.0 + xp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def softplus(x, xp):
    """f(x) = log(1 + exp(x))"""
    return xp.logaddexp(x, 0.0)


def silu(x, xp):
    """f(x) = x * sigmoid(x), also called swish (Ramachandran et al. 2017)."""
    return x * logistic(x, xp)


def exp(x, xp):
    """f(x) = exp(x): the output of a Poisson regressor (log link)."""
    return xp.exp(x)


def softmax(x, xp):
    """f(x)_k = exp(x_k) / sum_j exp(x_j), row-wise, shifted by the row max for stability."""
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


#: Activations of one argument, usable in hidden layers and as output activations.
ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic,
    "tanh": tanh,
    "relu": relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "softplus": softplus,
    "silu": silu,
    "exp": exp,
    "softmax": softmax,
}

#: Members of the leaky-ReLU family: ``leaky_relu(x, xp, slope)`` with the slope from elsewhere.
SLOPED_ACTIVATIONS = ("leaky_relu", "prelu", "rrelu")

#: Other names accepted for the same functions.
ALIASES = {"sigmoid": "logistic", "swish": "silu"}

#: What ``activation=`` accepts for hidden layers.
HIDDEN_ACTIVATION_NAMES = (
    *(name for name in ACTIVATIONS if name not in ("exp", "softmax")),
    *SLOPED_ACTIVATIONS,
    *ALIASES,
)

#: What ``out_activation=`` accepts.
OUTPUT_ACTIVATION_NAMES = (*ACTIVATIONS, *ALIASES)


def canonical_name(name: str) -> str:
    """The table name of an activation given by any of its names."""
    return ALIASES.get(name, name)
