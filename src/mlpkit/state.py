"""The training state: everything training carries from one fit to the next, as one pytree.

A fit, a ``partial_fit``, a FluCoMa ``fit``, a stream chunk and a data-parallel
fit all start from a ``TrainState`` and end with a new one; nothing else about
training survives a fit. So a warm fit continues exactly where the last one
stopped: the optimiser's moments, the random stream, the schedules' position
(``epoch`` and ``step`` count all training, not "epochs of this call"), the
stopping rule's counters and early stopping's best weights.

The estimator's fitted weights (``coefs_``, ``intercepts_``, ...) are views of
``params``; assigning new ones writes them into the state and starts the
optimiser afresh (``opt_state=None``), since the old moments belong to the old
weights.

Leaves are numpy arrays on the host between fits (``jax.device_get``), JAX arrays
inside the compiled loop. ``opt_state`` and ``key`` may be ``None`` between fits:
the next fit makes a fresh optimiser state, or draws a key from ``random_state``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class TrainState(NamedTuple):
    params: dict  # network.py's parameters: coefs, intercepts, slopes, bn_scale, bn_shift (tuples, by layer)
    stats: dict  # batch-norm running statistics (mean, var), not trained
    opt_state: Any  # optax state; its ``hyperparams`` hold the base learning rate, momentum, betas
    key: Any  # raw uint32[2] threefry key of training's random stream
    epoch: Any  # int32: epochs trained in all fits; epoch-based schedules read it
    step: Any  # int32: optimiser steps in all fits; a callable schedule reads it
    cycle_start: Any  # int32: epoch at which the horizon schedules (cosine, one_cycle) began their cycle
    optimizer_start: Any  # int32: epoch at which the optimiser state began (invscaling's first epoch)
    lr_reference: Any  # base learning rate a callable schedule's values refer to (see schedules.py)
    no_improvement: Any  # int32: epochs in a row without improvement (the stopping rule)
    best_loss: Any  # lowest training loss (the stopping rule without early stopping)
    best_monitored: Any  # best validation score, or minus the lowest validation loss
    best_params: dict  # weights at the best monitored validation value (early stopping)
    best_stats: dict
    plateau_best: Any  # reduce_on_plateau: lowest watched loss, and epochs since it improved
    plateau_count: Any


def copied(tree: dict) -> dict:
    """A dict of tuples of arrays, copied: early stopping's record must not follow in-place edits of the weights."""
    return {name: tuple(np.array(a) for a in arrays) for name, arrays in tree.items()}


def new_state(params, stats, dtype) -> TrainState:
    """The state of a network that has not trained yet: counters at zero, nothing best so far."""
    zero = np.zeros([], np.int32)
    return TrainState(
        params=params,
        stats=stats,
        opt_state=None,
        key=None,
        epoch=zero,
        step=zero,
        cycle_start=zero,
        optimizer_start=zero,
        lr_reference=np.asarray(np.nan, dtype),
        no_improvement=zero,
        best_loss=np.asarray(np.inf, dtype),
        best_monitored=np.asarray(-np.inf, dtype),
        best_params=copied(params),
        best_stats=copied(stats),
        plateau_best=np.asarray(np.inf, dtype),
        plateau_count=zero,
    )


def forget_best(state: TrainState) -> TrainState:
    """The state with early stopping's and the stopping rule's record started afresh: the next fit's
    best epoch is its own (FluCoMa's ``fit`` looks at each fit's epochs alone)."""
    dtype = np.asarray(state.best_loss).dtype
    return state._replace(
        no_improvement=np.zeros([], np.int32),
        best_loss=np.asarray(np.inf, dtype),
        best_monitored=np.asarray(-np.inf, dtype),
        best_params=copied(state.params),
        best_stats=copied(state.stats),
    )
