"""Learning-rate schedules: per-step multipliers and end-of-epoch rules.

The optimiser state holds the *base* learning rate. Each mini-batch step uses
``base * STEP_FACTORS[schedule](progress, hyper)``, with ``progress`` the epochs
done in this fit as a fraction (epoch 2.5 = half-way through the third epoch).
At the end of each epoch the rules in ``engine.apply_epoch_end`` may change the
base itself: scikit-learn's ``invscaling`` and ``adaptive``, and
``reduce_on_plateau``.

Every schedule parameter is traced: changing it between fits does not recompile.
"""

from __future__ import annotations

import jax.numpy as jnp


def constant(progress, h):
    """1: the base rate (constant; or changed per epoch by invscaling, adaptive, reduce_on_plateau)."""
    return 1.0


def exponential(progress, h):
    """lr_decay ** (progress / lr_decay_epochs): smooth decay by lr_decay every lr_decay_epochs."""
    return h.lr_decay ** (progress / h.lr_decay_epochs)


def step(progress, h):
    """lr_decay ** floor(progress / lr_decay_epochs): drops by lr_decay every lr_decay_epochs."""
    return h.lr_decay ** jnp.floor(progress / h.lr_decay_epochs)


def cosine(progress, h):
    """Cosine annealing from the base rate to lr_min over max_iter epochs (Loshchilov & Hutter 2017)."""
    floor = h.lr_min / h.learning_rate_init
    done = jnp.clip(progress / h.max_iter, 0.0, 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + jnp.cos(jnp.pi * done))


ONE_CYCLE_WARMUP, ONE_CYCLE_START, ONE_CYCLE_END = 0.3, 1 / 25, 1 / 25e4


def one_cycle(progress, h):
    """One cycle (Smith & Topin 2018): cosine rise from base/25 to base over the first 30 % of
    max_iter epochs, then cosine fall to base/250000 (PyTorch's OneCycleLR defaults)."""
    done = jnp.clip(progress / h.max_iter, 0.0, 1.0)
    rising = done / ONE_CYCLE_WARMUP
    falling = (done - ONE_CYCLE_WARMUP) / (1.0 - ONE_CYCLE_WARMUP)
    up = ONE_CYCLE_START + (1.0 - ONE_CYCLE_START) * 0.5 * (1.0 - jnp.cos(jnp.pi * rising))
    down = ONE_CYCLE_END + (1.0 - ONE_CYCLE_END) * 0.5 * (1.0 + jnp.cos(jnp.pi * falling))
    return jnp.where(done < ONE_CYCLE_WARMUP, up, down)


#: schedule name -> multiplier of the base learning rate at a point of training.
STEP_FACTORS = {
    "constant": constant,
    "invscaling": constant,
    "adaptive": constant,
    "reduce_on_plateau": constant,
    "exponential": exponential,
    "step": step,
    "cosine": cosine,
    "one_cycle": one_cycle,
}

#: scikit-learn's schedules, which (as in scikit-learn) only ``solver="sgd"`` follows.
SKLEARN_SCHEDULES = ("constant", "invscaling", "adaptive")
