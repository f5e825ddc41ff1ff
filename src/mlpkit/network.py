"""The network itself: parameters as a pytree and the forward pass.

Parameters are a tuple of ``(W, b)`` pairs, input side first; layer ``i`` maps
``(n, layer_units[i]) -> (n, layer_units[i + 1])`` by ``act(x @ W + b)``. The
functions are pure and take the array namespace ``xp`` so the compiled loop
(``jax.numpy``) and small predictions (``numpy``) share one definition.
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS


def glorot_uniform_sklearn(layer_units, activation, random_state, dtype):
    """Glorot-uniform weights and biases exactly as scikit-learn draws them.

    Bound ``sqrt(6 / (fan_in + fan_out))`` (``sqrt(2 / ...)`` for logistic units),
    weights then biases of each layer drawn in turn from ``random_state``, so a
    seed gives scikit-learn's initial network.
    Glorot & Bengio (2010), "Understanding the difficulty of training deep
    feedforward neural networks".
    """
    factor = 2.0 if activation == "logistic" else 6.0
    params = []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        W = random_state.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype, copy=False)
        b = random_state.uniform(-bound, bound, fan_out).astype(dtype, copy=False)
        params.append((W, b))
    return tuple(params)


def forward_logits(params, X, activation, xp):
    """Pre-activation of the output layer: hidden layers use ``activation``."""
    act = ACTIVATIONS[activation]
    h = X
    for W, b in params[:-1]:
        h = act(h @ W + b, xp)
    W, b = params[-1]
    return h @ W + b


def forward(params, X, activation, out_activation, xp):
    """Network output: ``out_activation(forward_logits(...))``."""
    return ACTIVATIONS[out_activation](forward_logits(params, X, activation, xp), xp)


def count_parameters(layer_units):
    """Weights plus biases: sum of n_i * n_(i+1) plus sum of n_(i+1).

    >>> count_parameters([13, 5, 4, 3])   # 97 weights + 12 biases
    109
    """
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    return sum(a * b for a, b in pairs) + sum(b for _, b in pairs)


def unflatten(flat, layer_units):
    """Parameters from one flat vector (the layout of ``flatten``): all of layer 0, then layer 1, ..."""
    params, start = [], 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        W = flat[start : start + fan_in * fan_out].reshape(fan_in, fan_out)
        start += fan_in * fan_out
        b = flat[start : start + fan_out]
        start += fan_out
        params.append((W, b))
    return tuple(params)


def flatten(params, xp):
    """One flat vector holding every weight and bias, for full-batch optimisers."""
    return xp.concatenate([a.ravel() for layer in params for a in layer])
