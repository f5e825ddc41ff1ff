"""The compiled training loop: many epochs of mini-batch training as one XLA program.

``run_epochs`` is a ``lax.while_loop`` over epochs; each epoch draws an order of
the rows, runs a ``lax.scan`` over mini-batches, scores the validation set and
applies scikit-learn's stopping rule. All of it is traced once per *program*
(network structure, loss, solver, batch width, padded data shape) and then reused:

- data enters as arguments, padded to a few row *buckets* (``padded_rows``) with
  zero sample weight on the padding, so a refit on a similar number of rows
  reuses the compiled program;
- hyper-parameters that may change between fits (``alpha``, ``tol``, epochs,
  learning rate, momentum, ...) are traced values, in ``Hyper`` or inside the
  optimiser state, so changing them does not recompile.

The caller runs the loop in chunks of epochs (``epoch_limit``) to report progress
and to stay responsive to Ctrl-C; the state stays on the device between chunks.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .losses import LOSSES
from .network import forward_logits
from .optim import SolverSpec, make_optimizer


class Program(NamedTuple):
    """Static description of a compiled training loop: change one, compile anew."""

    activation: str
    loss: str
    solver: SolverSpec
    schedule: str  # "constant" | "invscaling" | "adaptive"
    batch_rows: int  # rows per mini-batch as compiled (the last real batch may be partial)
    shuffle: bool
    early_stopping: bool
    score: str  # validation score: "accuracy" | "r2"
    curve_len: int  # length of the per-epoch history buffers


class Hyper(NamedTuple):
    """Traced hyper-parameters: new values reuse the compiled program."""

    alpha: jax.Array
    tol: jax.Array
    n_iter_no_change: jax.Array
    power_t: jax.Array
    learning_rate_init: jax.Array
    samples_seen: jax.Array  # scikit-learn's ``t_`` before this fit (a float: no overflow)
    epoch_limit: jax.Array  # run until n_iter reaches this (a chunk of max_iter)


class Data(NamedTuple):
    """Training and validation rows, padded; padding rows carry zero weight."""

    X: jax.Array  # (n_pad, n_features)
    Y: jax.Array  # (n_pad, n_outputs)
    weight: jax.Array  # (n_pad,)
    n_rows: jax.Array  # number of real rows, the first n_rows of X
    X_val: jax.Array
    Y_val: jax.Array
    weight_val: jax.Array


class LoopState(NamedTuple):
    params: tuple
    opt_state: optax.OptState
    key: jax.Array
    n_iter: jax.Array  # epochs run in this fit
    loss_curve: jax.Array  # (curve_len,) training loss per epoch of this fit
    score_curve: jax.Array  # (curve_len,) validation score per epoch of this fit
    best_loss: jax.Array
    best_score: jax.Array
    no_improvement: jax.Array
    best_params: tuple  # weights at the best validation score
    stopped: jax.Array


def padded_rows(n: int) -> int:
    """Row bucket for ``n`` rows: at least 16, else the next 2^k * {1, 1.25, 1.5, 1.75}.

    At most 25 % padding; data sets within a bucket share one compiled program.
    """
    if n <= 16:
        return 16
    k = math.floor(math.log2(n))
    for step in (1.0, 1.25, 1.5, 1.75, 2.0):
        size = int(2**k * step)
        if size >= n:
            return size
    raise AssertionError("unreachable")  # pragma: no cover


def curve_length(max_iter: int) -> int:
    """History buffer length for ``max_iter`` epochs: the next power of two, at least 16."""
    return max(16, 1 << (max_iter - 1).bit_length())


def pad_rows(a: np.ndarray, n_pad: int) -> np.ndarray:
    """``a`` with zero rows appended up to ``n_pad`` rows."""
    out = np.zeros((n_pad,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def batch_losses(params, X, Y, w, loss_name, activation, alpha):
    """(objective, reported) of one mini-batch, as scikit-learn's ``_backprop``.

    ``sum_i w_i loss_i / sum_i w_i + alpha / 2 * sum ||W||^2 / sum_i w_i``.
    """
    loss = LOSSES[loss_name]
    z = forward_logits(params, X, activation, jnp)
    w_sum = jnp.sum(w)
    l2 = 0.5 * alpha * sum(jnp.sum(W**2) for W, _ in params) / w_sum
    objective = jnp.sum(w * loss.objective(z, Y)) / w_sum + l2
    reported = jnp.sum(w * loss.reported(z, Y)) / w_sum + l2
    return objective, reported


def epoch_order(key, n_rows, n_pad, shuffle):
    """Row indices for one epoch: the real rows (shuffled or not) first, padding after."""
    positions = jnp.arange(n_pad)
    if not shuffle:
        return positions
    priority = jnp.where(positions < n_rows, jax.random.uniform(key, (n_pad,)), 2.0)
    return jnp.argsort(priority)


def train_epoch(program: Program, params, opt_state, order, data: Data, alpha):
    """One pass of mini-batch updates over the rows in ``order``; returns the mean batch loss."""
    optimizer = make_optimizer(program.solver, _PLACEHOLDER_HYPERPARAMS)
    B = program.batch_rows
    n_batches = -(-order.shape[0] // B)
    order = jnp.pad(order, (0, n_batches * B - order.shape[0]))
    grad_fn = jax.value_and_grad(batch_losses, has_aux=True)

    def step(carry, start):
        def update(carry):
            params, opt_state, loss_sum = carry
            idx = jax.lax.dynamic_slice(order, (start,), (B,))
            real = start + jnp.arange(B) < data.n_rows  # the last batch may run into padding
            weight = jnp.where(real, data.weight[idx], 0)
            (_, reported), grads = grad_fn(
                params, data.X[idx], data.Y[idx], weight, program.loss, program.activation, alpha
            )
            updates, opt_state = optimizer.update(grads, opt_state, params)
            rows = jnp.clip(data.n_rows - start, 0, B)
            return optax.apply_updates(params, updates), opt_state, loss_sum + reported * rows

        # Batches made only of padding are skipped: the optimiser must not step on them.
        return jax.lax.cond(start < data.n_rows, update, lambda c: c, carry), None

    zero = jnp.zeros([], data.X.dtype)
    starts = jnp.arange(n_batches) * B
    (params, opt_state, loss_sum), _ = jax.lax.scan(step, (params, opt_state, zero), starts)
    return params, opt_state, loss_sum / data.n_rows


# The optimiser built inside the loop only supplies ``update``; its hyper-parameter
# values come from the state (optax.inject_hyperparams), so these are never used.
_PLACEHOLDER_HYPERPARAMS = dict(learning_rate_init=0.0, momentum=0.0, beta_1=0.0, beta_2=0.0, epsilon=0.0)


def _weighted_mean(values, w):
    return jnp.sum(w * values) / jnp.sum(w)


def accuracy(z, Y, w, out_activation):
    """Weighted share of rows whose predicted labels all match (subset accuracy)."""
    if out_activation == "softmax":
        correct = jnp.argmax(z, axis=1) == jnp.argmax(Y, axis=1)
    else:  # logistic outputs: binary or multi-label, threshold p > 0.5 <=> z > 0
        correct = jnp.all((z > 0) == (Y > 0.5), axis=1)
    return _weighted_mean(correct.astype(z.dtype), w)


def r2(z, Y, w, out_activation):
    """Weighted R^2 averaged over outputs, NaN for non-finite predictions (as scikit-learn)."""
    pred = jnp.exp(z) if out_activation == "exp" else z
    w_col = w[:, None]
    residual = jnp.sum(w_col * (Y - pred) ** 2, axis=0)
    mean = jnp.sum(w_col * Y, axis=0) / jnp.sum(w)
    centred = jnp.sum(w_col * (Y - mean) ** 2, axis=0)
    per_output = jnp.where(
        centred > 0, 1 - residual / jnp.where(centred > 0, centred, 1), jnp.where(residual == 0, 1.0, 0.0)
    )
    return jnp.where(jnp.all(jnp.isfinite(pred)), jnp.mean(per_output), jnp.nan)


SCORES = {"accuracy": accuracy, "r2": r2}


def validation_score(program: Program, params, data: Data):
    z = forward_logits(params, data.X_val, program.activation, jnp)
    out_activation = LOSSES[program.loss].out_activation
    return SCORES[program.score](z, data.Y_val, data.weight_val, out_activation)


def apply_stopping_rule(program: Program, hyper: Hyper, s: LoopState, loss, score, lr, t):
    """scikit-learn's end-of-epoch bookkeeping: improvement count, best weights, schedule, stop.

    Without early stopping, an epoch counts as no improvement when its training
    loss is above ``best_loss - tol``; with it, when the validation score is below
    ``best_score + tol``. After more than ``n_iter_no_change`` such epochs training
    stops, or, with the adaptive schedule, the learning rate is divided by 5
    (stopping once it is below 1e-6).
    """
    best_loss, best_score, best_params = s.best_loss, s.best_score, s.best_params
    if program.early_stopping:
        no_improvement = jnp.where(score < s.best_score + hyper.tol, s.no_improvement + 1, 0)
        improved = score > s.best_score
        best_score = jnp.where(improved, score, s.best_score)
        best_params = jax.tree.map(lambda new, old: jnp.where(improved, new, old), s.params, s.best_params)
    else:
        no_improvement = jnp.where(loss > s.best_loss - hyper.tol, s.no_improvement + 1, 0)
        best_loss = jnp.where(loss < s.best_loss, loss, s.best_loss)

    if program.schedule == "invscaling":
        lr = hyper.learning_rate_init / (t + 1.0) ** hyper.power_t
    triggered = no_improvement > hyper.n_iter_no_change
    if program.schedule == "adaptive":
        reduce = triggered & (lr > 1e-6)
        lr = jnp.where(reduce, lr / 5.0, lr)
        no_improvement = jnp.where(reduce, 0, no_improvement)
        stopped = triggered & ~reduce
    else:
        stopped = triggered
    return best_loss, best_score, best_params, no_improvement, lr, stopped


def run_epochs(program: Program, state: LoopState, data: Data, hyper: Hyper) -> LoopState:
    """Train until ``hyper.epoch_limit`` epochs of this fit have run or the stopping rule fires."""

    def body(s: LoopState) -> LoopState:
        key, order_key = jax.random.split(s.key)
        order = epoch_order(order_key, data.n_rows, data.X.shape[0], program.shuffle)
        params, opt_state, loss = train_epoch(program, s.params, s.opt_state, order, data, hyper.alpha)
        score = validation_score(program, params, data) if program.early_stopping else jnp.nan
        s = s._replace(params=params, opt_state=opt_state, key=key)
        lr = opt_state.hyperparams["learning_rate"]
        samples_seen = hyper.samples_seen + (s.n_iter + 1).astype(loss.dtype) * data.n_rows.astype(loss.dtype)
        best_loss, best_score, best_params, no_improvement, new_lr, stopped = apply_stopping_rule(
            program, hyper, s, loss, score, lr, samples_seen
        )
        lr = new_lr.astype(lr.dtype)
        hyperparams = {**opt_state.hyperparams, "learning_rate": lr}
        return s._replace(
            opt_state=opt_state._replace(hyperparams=hyperparams),
            n_iter=s.n_iter + 1,
            loss_curve=s.loss_curve.at[s.n_iter].set(loss),
            score_curve=s.score_curve.at[s.n_iter].set(score),
            best_loss=best_loss,
            best_score=best_score,
            best_params=best_params,
            no_improvement=no_improvement,
            stopped=stopped,
        )

    return jax.lax.while_loop(lambda s: (s.n_iter < hyper.epoch_limit) & ~s.stopped, body, state)


run_epochs_compiled = jax.jit(run_epochs, static_argnames="program")


@partial(jax.jit, static_argnames="program")
def start_state(
    program: Program, params, best_params, optimizer_params, seed, no_improvement, best_loss, best_score
) -> LoopState:
    """The loop state at the start of a fit, with a fresh optimiser state.

    ``optimizer_params`` holds the estimator's values of the solver's
    hyper-parameters (``learning_rate_init``, ``momentum``, ...).
    """
    curve = jnp.full((program.curve_len,), jnp.nan, best_loss.dtype)
    return LoopState(
        params=params,
        opt_state=make_optimizer(program.solver, optimizer_params).init(params),
        key=jax.random.PRNGKey(seed),
        n_iter=jnp.zeros([], jnp.int32),
        loss_curve=curve,
        score_curve=curve,
        best_loss=best_loss,
        best_score=best_score,
        no_improvement=no_improvement,
        best_params=best_params,
        stopped=jnp.zeros([], bool),
    )
