"""Learning-rate schedules: the rate of each step from the base rate and training's position.

The optimiser state holds the *base* learning rate (``learning_rate_init`` at
first). Each mini-batch step takes ``RATES[schedule](base, position, hyper, xp)``,
where ``position`` says how far *all* training has gone (``Position``): the
counters live in the training state (``state.TrainState``), so a warm fit,
``partial_fit``, FluCoMa's ``fit`` or a stream chunk continues a schedule where
the last one stopped. These are optax-style schedules (a pure function of a
count), written here because their settings are traced values, which optax's
own constructors check in Python.

- Schedules without a horizon count epochs since training began: ``exponential``,
  ``step``; scikit-learn's ``invscaling`` counts samples seen (its ``t_``).
- Schedules over a horizon of ``max_iter`` epochs (``cosine``, ``one_cycle``)
  count epochs since their cycle began. A new ``fit`` with ``warm_start=True``
  begins a new cycle, as SGDR's warm restarts do (Loshchilov & Hutter 2017);
  ``partial_fit`` calls (and stream chunks, which are ``partial_fit`` calls)
  continue the cycle, one epoch each; past its end the rate stays at the end value.
- A callable is a schedule of the global optimiser step (an optax schedule); its
  values are scaled by ``base / lr_reference``, so they are used as they are until
  the learning rate is changed.

A rate changed during a fit (a callback, the dashboard) or between fits changes
the base: every schedule is rescaled from there, and none puts the old value back.
At the end of each epoch ``stopping.apply_epoch_end`` may change the base itself:
scikit-learn's ``adaptive`` and ``reduce_on_plateau`` (``EPOCH_END_RULES``).

Every schedule parameter is traced: changing it between fits does not recompile. Each rate
takes the array namespace ``xp`` last (``jax.numpy`` in the compiled loop, ``numpy`` in the numpy loop).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .solvers import has_learning_rate


class Position(NamedTuple):
    """How far training has gone when a step is taken."""

    epoch: object  # epochs since training began, fractional (2.5 = half-way through the third)
    cycle: object  # epochs since the current cycle of a horizon schedule began, fractional
    samples: object  # samples seen before this epoch (scikit-learn's t_)
    fresh: object = False  # the first epoch of a new optimiser state


def constant(base, at: Position, h, xp=np):
    """The base rate (changed at epochs' ends by adaptive and reduce_on_plateau)."""
    return base


def invscaling(base, at: Position, h, xp=np):
    """scikit-learn's ``base / (t + 1) ** power_t``, t the samples seen before this epoch; the base itself
    in the first epoch of a new optimiser state (scikit-learn sets the rate at each epoch's end, and a
    new optimiser, as its warm fits make, starts at ``learning_rate_init``)."""
    return xp.where(at.fresh, base, base / (at.samples + 1.0) ** h.power_t)


def exponential(base, at: Position, h, xp=np):
    """``base * lr_decay ** (epoch / lr_decay_epochs)``: smooth decay by lr_decay every lr_decay_epochs."""
    return base * h.lr_decay ** (at.epoch / h.lr_decay_epochs)


def step(base, at: Position, h, xp=np):
    """``base * lr_decay ** floor(epoch / lr_decay_epochs)``: drops by lr_decay every lr_decay_epochs."""
    return base * h.lr_decay ** xp.floor(at.epoch / h.lr_decay_epochs)


def cosine(base, at: Position, h, xp=np):
    """Cosine annealing from the base rate to lr_min over max_iter epochs (Loshchilov & Hutter 2017):
    ``lr_min + (base - lr_min) (1 + cos(pi * cycle / max_iter)) / 2``."""
    done = xp.clip(at.cycle / h.max_iter, 0.0, 1.0)
    return h.lr_min + (base - h.lr_min) * 0.5 * (1.0 + xp.cos(np.pi * done))


ONE_CYCLE_WARMUP, ONE_CYCLE_START, ONE_CYCLE_END = 0.3, 1 / 25, 1 / 25e4


def one_cycle(base, at: Position, h, xp=np):
    """One cycle (Smith & Topin 2018): cosine rise from base/25 to base over the first 30 % of
    max_iter epochs, then cosine fall to base/250000 (PyTorch's OneCycleLR defaults)."""
    done = xp.clip(at.cycle / h.max_iter, 0.0, 1.0)
    rising = done / ONE_CYCLE_WARMUP
    falling = (done - ONE_CYCLE_WARMUP) / (1.0 - ONE_CYCLE_WARMUP)
    up = ONE_CYCLE_START + (1.0 - ONE_CYCLE_START) * 0.5 * (1.0 - xp.cos(np.pi * rising))
    down = ONE_CYCLE_END + (1.0 - ONE_CYCLE_END) * 0.5 * (1.0 + xp.cos(np.pi * falling))
    return base * xp.where(done < ONE_CYCLE_WARMUP, up, down)


#: schedule name -> rate of a step: (base rate, Position, Hyper, xp) -> rate.
RATES = {
    "constant": constant,
    "invscaling": invscaling,
    "adaptive": constant,
    "reduce_on_plateau": constant,
    "exponential": exponential,
    "step": step,
    "cosine": cosine,
    "one_cycle": one_cycle,
}

#: Schedules over a horizon of ``max_iter`` epochs: a new warm fit begins a new cycle.
HORIZON_SCHEDULES = ("cosine", "one_cycle")

#: scikit-learn's schedules, which (as in scikit-learn) only ``solver="sgd"`` follows.
SKLEARN_SCHEDULES = ("constant", "invscaling", "adaptive")


def learning_rate(program, hyper, train, at: Position, xp=np):
    """The learning rate of a step taken at ``at`` (NaN for a user's optax transformation, which
    schedules itself). ``program``, ``hyper`` and ``train`` are a ``program.Program``, its
    ``program.Hyper`` values and the ``state.TrainState``."""
    if not has_learning_rate(train.opt_state):
        return xp.asarray(xp.nan, hyper.alpha.dtype)
    base = train.opt_state.hyperparams["learning_rate"]
    if callable(program.schedule):  # a schedule of the global step, rescaled where the base was changed
        return (xp.asarray(program.schedule(train.step), base.dtype) * (base / train.lr_reference)).astype(base.dtype)
    return xp.asarray(RATES[program.schedule](base, at, hyper, xp), base.dtype)
