"""Activation functions: one table from names to functions.

Every function takes the array namespace ``xp`` (``numpy`` or ``jax.numpy``) as
its second argument, so the same line of maths serves the compiled training
loop and the numpy fast path used for small predictions.
"""

from __future__ import annotations


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


def exp(x, xp):
    """f(x) = exp(x): the output of a Poisson regressor (log link)."""
    return xp.exp(x)


def softmax(x, xp):
    """f(x)_k = exp(x_k) / sum_j exp(x_j), row-wise, shifted by the row max for stability."""
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


#: Activations a user may choose for the hidden layers.
HIDDEN_ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic,
    "tanh": tanh,
    "relu": relu,
}

#: Every activation, output-only ones included (``out_activation_``).
ACTIVATIONS = {**HIDDEN_ACTIVATIONS, "exp": exp, "softmax": softmax}
