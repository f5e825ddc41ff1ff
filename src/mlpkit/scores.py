"""Early stopping's validation scores: one table from names to weighted scores of a network's logits.

Each takes the array namespace ``xp`` last: ``jax.numpy`` in the compiled loop, ``numpy`` in the
numpy loop.
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS


def weighted_mean(values, weight, xp=np):
    return xp.sum(weight * values) / xp.sum(weight)


def accuracy(z, Y, w, out_activation, xp=np):
    """Weighted share of rows whose predicted labels all match (subset accuracy)."""
    if out_activation == "softmax":
        correct = xp.argmax(z, axis=1) == xp.argmax(Y, axis=1)
    else:  # one unit per label: binary or multi-label, threshold p > 0.5
        correct = xp.all((ACTIVATIONS[out_activation](z, xp) > 0.5) == (Y > 0.5), axis=1)
    return weighted_mean(correct.astype(z.dtype), w, xp)


def r2(z, Y, w, out_activation, xp=np):
    """Weighted R^2 averaged over outputs, NaN for non-finite predictions (as scikit-learn)."""
    pred = ACTIVATIONS[out_activation](z, xp)
    w_col = w[:, None]
    residual = xp.sum(w_col * (Y - pred) ** 2, axis=0)
    mean = xp.sum(w_col * Y, axis=0) / xp.sum(w)
    centred = xp.sum(w_col * (Y - mean) ** 2, axis=0)
    per_output = xp.where(
        centred > 0, 1 - residual / xp.where(centred > 0, centred, 1), xp.where(residual == 0, 1.0, 0.0)
    )
    return xp.where(xp.all(xp.isfinite(pred)), xp.mean(per_output), xp.nan)


def argmax_accuracy(z, Y, w, out_activation, xp=np):
    """Weighted share of rows whose largest non-negative output is their class (one class per row,
    outputs that are not softmax's: ``MLPClassifier.predict`` takes the same argmax)."""
    correct = xp.argmax(xp.maximum(ACTIVATIONS[out_activation](z, xp), 0), axis=1) == xp.argmax(Y, axis=1)
    return weighted_mean(correct.astype(z.dtype), w, xp)


SCORES = {"accuracy": accuracy, "argmax_accuracy": argmax_accuracy, "r2": r2}
