"""Early stopping's validation: one table from names to weighted scores of a network's logits, and the
score and loss of an epoch's network on the validation rows.

Each takes the array namespace ``xp`` last: ``jax.numpy`` in the compiled loop, ``numpy`` in the
numpy loop.
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS
from .losses import per_sample_loss
from .network import forward_logits


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


def validate(program, hyper, params, stats, data, xp=np):
    """(score, loss) on the validation rows of ``data`` (a ``program.Data``); the loss is the data term,
    without penalties. ``program`` and ``hyper`` are the fit's ``program.Program`` and ``program.Hyper``."""
    out_activation = program.architecture.out_activation
    z = forward_logits(params, stats, data.X_val, program.architecture, xp)
    _, reported = per_sample_loss(program.loss, out_activation, z, data.Y_val, hyper.huber_delta, xp)
    score = SCORES[program.score](z, data.Y_val, data.weight_val, out_activation, xp)
    return score, weighted_mean(reported, data.weight_val, xp)
