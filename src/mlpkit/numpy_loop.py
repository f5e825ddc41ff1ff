"""The training loop in numpy, for work too small to repay a compile.

The compiled loop (``engine.run_epochs``) leads once it runs, but building it costs seconds: JAX's
import, tracing, XLA's compiler. A fit of a few thousand rows is done sooner than that. This loop runs
the compiled loop's epochs for such fits, rule for rule, on the host: the same epoch orders
(``jax.random``'s threefry, in numpy: ``threefry.py``), mini-batches, losses, learning rates
(``schedules.py``), optimiser steps, validation scores (``scores.py``), end-of-epoch rules
(``stopping.py``) and divergence guard, on the same ``program.LoopState``. The trainer chunks it and
tells callbacks after each chunk as it does the compiled loop; a fit may go on in either loop from
where the other stopped.

Gradients are backpropagation written out for dense layers, as scikit-learn's ``_backprop``: on the
logits of an output activation that is its loss's canonical link (``losses.LOSSES[...].on_logits``)
the gradient is ``out_activation(z) - y``; each hidden layer's derivative comes from its output
(``SLOPES``). ``tests/test_numpy_loop.py`` holds both loops to 1e-6 in float64.

``trains`` says which loop a fit takes, from its settings and the data's shape only (never from
timing or from what a cache holds), so a script gives the same numbers on every run.
"""

from __future__ import annotations

import numpy as np

from . import threefry
from .activations import ACTIVATIONS
from .losses import LOSSES, per_sample_loss
from .network import forward_logits, l1_penalty, l2_penalty
from .program import CURVE_LEN, CURVE_ROWS, Data, Hyper, LoopState, Program
from .schedules import RATES, Position, learning_rate
from .scores import SCORES, weighted_mean
from .solvers import AdamState, VelocityState
from .state import TrainState
from .stopping import apply_epoch_end

#: Hidden activation -> its derivative from its output (scikit-learn's ``DERIVATIVES``); None: 1.
SLOPES = {
    "identity": None,
    "logistic": lambda h: h * (1.0 - h),
    "tanh": lambda h: 1.0 - h * h,
    "relu": lambda h: (h > 0).astype(h.dtype),
}

#: (output activation, loss) pairs whose gradient on the logits is ``out_activation(z) - y``.
CANONICAL_OUTPUTS = {(out, name) for name, loss in LOSSES.items() for out in loss.on_logits}

#: Most work a fit may bring to this loop: training rows x weights x epochs (``trains``). On this
#: project's 2-core machine, numpy trains about this much in ~2 s, what compiling costs the first time.
MAX_WORK = 1e10

#: ``partial_fit`` trains one epoch per call, and its calls come many at a time: its work counts this
#: many epochs, so that a stream of large chunks compiles once rather than training each in numpy.
LEAST_EPOCHS_COUNTED = 20

#: Most padded rows: beyond them ``engine.epoch_order`` shuffles by sorting random floats instead.
MAX_ROWS = 2**16


def supports(program: Program) -> bool:
    """Whether this loop has the rules ``program`` trains by: scikit-learn's, on one process, with
    scikit-learn's activations and canonical output losses, its two solvers, and a schedule by name.
    (Dropout, batch norm, other solvers and activations, optax transformations and callable schedules
    train in the compiled loop.)"""
    architecture, solver = program.architecture, program.solver
    return (
        program.rules == "sklearn"
        and program.mesh is None
        and architecture.activation in SLOPES
        and not architecture.batch_norm
        and not architecture.dropout
        and (architecture.out_activation, program.loss) in CANONICAL_OUTPUTS
        and solver.transformation is None
        and solver.name in SOLVER_STEPS
        and isinstance(program.schedule, str)
        and program.schedule in RATES
    )


def trains(program: Program, data: Data, max_iter: int, params: dict) -> bool:
    """Whether a fit of ``max_iter`` epochs trains here: rules this loop has, and work too small to
    repay a compile (``MAX_WORK``). Depends on the settings and the data's shape alone."""
    n_weights = sum(W.size for W in params["coefs"])
    work = int(data.n_rows) * n_weights * max(max_iter, LEAST_EPOCHS_COUNTED if max_iter == 1 else 1)
    return data.X.shape[0] <= MAX_ROWS and work <= MAX_WORK and supports(program)


# ------------------------------------------------------------------------ solvers
# The optimisers of ``optim.py`` as steps on flat lists of arrays (the weights, then the biases):
# (gradients, inner state as lists, hyper-parameters, learning rate, static options) -> (updates, state).
def _sgd_step(grads, inner, hp, lr, nesterov=True):
    """scikit-learn's SGD (``optim.sklearn_sgd``): ``v <- m v - lr g``; the update is ``v`` or ``m v - lr g``."""
    (velocity,) = inner
    m = hp["momentum"]
    velocity = [m * v - lr * g for v, g in zip(velocity, grads)]
    updates = [m * v - lr * g for v, g in zip(velocity, grads)] if nesterov else velocity
    return updates, (velocity,)


def _adam_step(grads, inner, hp, lr):
    """scikit-learn's Adam (``optim.sklearn_adam``): epsilon added to ``sqrt(v)`` before the bias correction."""
    count, mu, nu = inner
    b1, b2, eps = hp["beta_1"], hp["beta_2"], hp["epsilon"]
    count = count + 1
    mu = [b1 * m + (1 - b1) * g for m, g in zip(mu, grads)]
    nu = [b2 * v + (1 - b2) * g**2 for v, g in zip(nu, grads)]
    power = np.asarray(count, b2.dtype)
    step = lr * np.sqrt(1 - b2**power) / (1 - b1**power)
    return [-step * m / (np.sqrt(v) + eps) for m, v in zip(mu, nu)], (count, mu, nu)


def _layers(tree: dict) -> list:
    return [*tree["coefs"], *tree["intercepts"]]


def _tree(flat: list, like: dict) -> dict:
    n = len(like["coefs"])
    return {**like, "coefs": tuple(flat[:n]), "intercepts": tuple(flat[n:])}


class SolverSteps:
    """A solver's step on flat lists, and its inner state to and from those lists."""

    def __init__(self, step, flatten, unflatten):
        self.step, self.flatten, self.unflatten = step, flatten, unflatten


#: solver name -> its step here.
SOLVER_STEPS = {
    "sgd": SolverSteps(
        _sgd_step,
        lambda inner: (_layers(inner.velocity),),
        lambda flat, like: VelocityState(_tree(flat[0], like.velocity)),
    ),
    "adam": SolverSteps(
        _adam_step,
        lambda inner: (inner.count, _layers(inner.mu), _layers(inner.nu)),
        lambda flat, like: AdamState(np.asarray(flat[0], np.int32), _tree(flat[1], like.mu), _tree(flat[2], like.nu)),
    ),
}


# ---------------------------------------------------------------------- one epoch
def epoch_order(key, n_rows: int, n_pad: int, shuffle: bool) -> np.ndarray:
    """``engine.epoch_order`` in numpy: the real rows (shuffled by a packed-key sort) first, padding after."""
    positions = np.arange(n_pad, dtype=np.uint32)
    if not shuffle:
        return positions.astype(np.int32)
    index_bits = max(1, (n_pad - 1).bit_length())
    random = threefry.bits32(key, n_pad) >> np.uint32(index_bits)
    random[n_rows:] = 0xFFFFFFFF >> index_bits
    keys = (random << np.uint32(index_bits)) | positions
    return (np.sort(keys) & np.uint32((1 << index_bits) - 1)).astype(np.int32)


def threefry_order(program: Program, train: TrainState, n_rows: int, n_pad: int):
    """``engine.threefry_order``: (the state with its key moved on, the epoch's order)."""
    key, order_key, _ = threefry.split(train.key, 3)
    return train._replace(key=key), epoch_order(order_key, n_rows, n_pad, program.shuffle)


def _forward(W, b, X, activation):
    """The hidden layers' outputs (the input first) and the output logits."""
    outputs = [X]
    for i in range(len(W) - 1):
        outputs.append(ACTIVATIONS[activation](outputs[-1] @ W[i] + b[i], np))
    return outputs, outputs[-1] @ W[-1] + b[-1]


def _gradients(W, outputs, delta, activation):
    """Backpropagation from ``delta``, the gradient on the output logits: (weights', biases' gradients)."""
    slope = SLOPES[activation]
    grad_W, grad_b = [None] * len(W), [None] * len(W)
    for i in reversed(range(len(W))):
        grad_W[i] = outputs[i].T @ delta
        grad_b[i] = delta.sum(axis=0)
        if i:
            delta = delta @ W[i].T
            if slope is not None:
                delta *= slope(outputs[i])
    return grad_W, grad_b


def _batch_step(program: Program, hyper: Hyper, W, b, X, Y, weight):
    """(gradients of the weights and biases, reported loss) of one mini-batch, as ``engine.batch_objective``:
    ``sum_i w_i loss_i / sum_i w_i + (alpha / 2 ||W||^2 + l1 |W|) / sum_i w_i``."""
    architecture = program.architecture
    outputs, z = _forward(W, b, X, architecture.activation)
    _, reported = per_sample_loss(program.loss, architecture.out_activation, z, Y, hyper.huber_delta, np)
    w_sum = np.sum(weight)
    # (products in the order JAX's reverse pass takes them, so that rounding matches too)
    per_weight = 1.0 / w_sum
    delta = (weight * per_weight)[:, None] * (ACTIVATIONS[architecture.out_activation](z, np) - Y)
    grad_W, grad_b = _gradients(W, outputs, delta, architecture.activation)
    params = {"coefs": W}
    penalty = 0.5 * hyper.alpha * l2_penalty(params)
    l2_slope = per_weight * (0.5 * hyper.alpha)
    grad_W = [g + l2_slope * (2.0 * w) for g, w in zip(grad_W, W)]
    if program.l1:
        penalty = penalty + hyper.l1 * l1_penalty(params)
        grad_W = [g + (per_weight * hyper.l1) * np.sign(w) for g, w in zip(grad_W, W)]
    return grad_W + grad_b, np.sum(weight * reported) / w_sum + penalty / w_sum


def _clipped(grads, program: Program, hyper: Hyper):
    """``engine.transform_gradients``: clip by value, then by global norm (optax's ``clip_by_global_norm``)."""
    if program.clip_value:
        grads = [np.clip(g, -hyper.clip_value, hyper.clip_value) for g in grads]
    if program.clip_norm:
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))
        if not norm < hyper.clip_norm:
            grads = [g / norm * hyper.clip_norm for g in grads]
    return grads


def train_epoch(program: Program, hyper: Hyper, train: TrainState, order, data: Data, samples):
    """``engine.train_epoch``: one pass of mini-batch steps over the rows in ``order``; returns the state
    and the mean batch loss."""
    n_rows, B = int(data.n_rows), program.batch_rows
    n_batches = -(-n_rows // B)
    dtype = data.X.dtype
    steps = SOLVER_STEPS[program.solver.name]
    opt_state = train.opt_state
    hp = dict(opt_state.hyperparams)
    static = dict(program.solver.static)
    params, inner = _layers(train.params), steps.flatten(opt_state.inner_state)
    n_coefs = len(train.params["coefs"])
    loss_sum, step = dtype.type(0), int(train.step)
    for batch in range(n_batches):
        idx = order[batch * B : min(batch * B + B, n_rows)]
        grads, reported = _batch_step(program, hyper, params[:n_coefs], params[n_coefs:], data.X[idx], data.Y[idx],
                                      data.weight[idx])  # fmt: skip
        grads = _clipped(grads, program, hyper)
        into = batch / n_batches
        at = Position(train.epoch + into, train.epoch - train.cycle_start + into, samples, train.epoch == train.optimizer_start)
        lr = learning_rate(program, hyper, train, at, np)
        updates, inner = steps.step(grads, inner, hp, lr, **static)
        if program.weight_decay:  # decoupled: w <- w - lr * weight_decay * w (Loshchilov & Hutter 2019)
            updates[:n_coefs] = [u - lr * hyper.weight_decay * w for u, w in zip(updates[:n_coefs], params)]
        params = [(p + u).astype(dtype, copy=False) for p, u in zip(params, updates)]
        loss_sum = loss_sum + reported * dtype.type(len(idx))
        step += 1
    count = np.minimum(np.asarray(opt_state.count, np.int64) + n_batches, np.iinfo(np.int32).max).astype(np.int32)
    opt_state = opt_state._replace(count=count, inner_state=steps.unflatten(inner, opt_state.inner_state))
    train = train._replace(params=_tree(params, train.params), opt_state=opt_state, step=np.asarray(step, np.int32))
    return train, (loss_sum / dtype.type(n_rows)).astype(dtype)


def has_zero_weight_batch(program: Program, order, data: Data) -> bool:
    """``engine.has_zero_weight_batch``: a mini-batch of real rows whose sample weights sum to 0."""
    n_rows, B = int(data.n_rows), program.batch_rows
    weight = data.weight[order[:n_rows]]
    sums = np.add.reduceat(weight, np.arange(0, n_rows, B))
    return bool(np.any(sums == 0))


def validate(program: Program, hyper: Hyper, params, stats, data: Data):
    """``engine.validate``: (score, loss) on the validation rows; the loss without penalties."""
    out_activation = program.architecture.out_activation
    z = forward_logits(params, stats, data.X_val, program.architecture, np)
    _, reported = per_sample_loss(program.loss, out_activation, z, data.Y_val, hyper.huber_delta, np)
    score = SCORES[program.score](z, data.Y_val, data.weight_val, out_activation, np)
    return score, weighted_mean(reported, data.weight_val, np)


#: An epoch whose loss exceeds this many times the lowest of the fit has diverged (``engine.BLOW_UP``).
BLOW_UP = 1e4


def roll_back_if_diverged(program: Program, data: Data, before: LoopState, after: LoopState, loss) -> LoopState:
    """``engine.roll_back_if_diverged``: ``after``, or, if its epoch diverged, the network that started
    the fit's best epoch, stopped."""
    t = after.train
    z = forward_logits(t.params, t.stats, data.X[: program.batch_rows], program.architecture, np)
    healthy = bool(np.isfinite(loss) and loss <= BLOW_UP * after.good_loss)
    healthy = healthy and bool(np.all(np.isfinite(ACTIVATIONS[program.architecture.out_activation](z, np))))
    healthy = healthy and all(np.all(np.isfinite(leaf)) for leaf in _layers(t.params))
    good, good_loss = after.good, after.good_loss
    if healthy and loss < good_loss:
        good, good_loss = (before.train.params, before.train.stats, before.train.opt_state), loss
    if not healthy:
        params, stats, opt_state = good
        t = t._replace(params=params, stats=stats, opt_state=opt_state)
    return after._replace(train=t, good=good, good_loss=np.asarray(good_loss, after.good_loss.dtype),
                          stopped=np.asarray(bool(after.stopped) or not healthy), diverged=np.asarray(not healthy))  # fmt: skip


def run_epochs(program: Program, state: LoopState, data: Data, hyper: Hyper):
    """``engine.run_epochs``: train until ``hyper.epoch_limit`` epochs of this fit have run or the
    stopping rule fires; returns the loop state and this call's ``(4, CURVE_LEN)`` history."""
    dtype = data.X.dtype
    n_rows, first = int(data.n_rows), int(state.n_iter)
    limit = min(int(hyper.epoch_limit), first + CURVE_LEN)
    curves = np.full((len(CURVE_ROWS), CURVE_LEN), np.nan, dtype)
    s = state
    with np.errstate(all="ignore"):  # (as in the compiled loop: a diverging fit is caught by its rule)
        while int(s.n_iter) < limit and not bool(s.stopped):
            t = s.train
            samples = hyper.samples_seen + dtype.type(int(s.n_iter)) * dtype.type(n_rows)  # before this epoch
            lr = learning_rate(program, hyper, t, Position(t.epoch, t.epoch - t.cycle_start, samples, t.epoch == t.optimizer_start), np)
            t, order = threefry_order(program, t, n_rows, data.X.shape[0])
            if has_zero_weight_batch(program, order, data):
                s = s._replace(zero_weight_batch=np.asarray(True))
            before = s
            t, loss = train_epoch(program, hyper, t, order, data, samples)
            score = val_loss = dtype.type(np.nan)
            if program.early_stopping:
                score, val_loss = validate(program, hyper, t.params, t.stats, data)
                if not (np.isfinite(loss) and loss <= BLOW_UP * s.good_loss):
                    score = dtype.type(np.nan)  # a diverged epoch has no score: never best, never kept
            t, stopped = apply_epoch_end(program, hyper, t, loss, score, val_loss, np)
            t = t._replace(epoch=np.asarray(int(t.epoch) + 1, np.int32))
            s = roll_back_if_diverged(program, data, before, s._replace(train=t, stopped=np.asarray(bool(stopped))), loss)
            if bool(s.diverged):
                score = dtype.type(np.nan)
            curves[:, int(s.n_iter) - first] = (loss, val_loss, score, lr)
            s = s._replace(n_iter=np.asarray(int(s.n_iter) + 1, np.int32))
    return s, curves


# ------------------------------------------------------------------------- L-BFGS
def computes_loss(program: Program) -> bool:
    """Whether ``loss_and_grad`` has the network and loss of ``program`` (a ``config.loss_program``)."""
    architecture = program.architecture
    return (
        architecture.activation in SLOPES
        and not architecture.batch_norm
        and not architecture.dropout
        and (architecture.out_activation, program.loss) in CANONICAL_OUTPUTS
    )


def loss_and_grad(params: dict, X, Y, weight, program: Program, hyper: Hyper):
    """(reported loss, gradients as ``params``) of the whole batch: what ``lbfgs.py`` minimises, as the
    compiled ``engine.batch_objective`` and its gradient give it."""
    n = len(params["coefs"])
    grads, reported = _batch_step(program, hyper, list(params["coefs"]), list(params["intercepts"]), X, Y, weight)
    return reported, {**params, "coefs": tuple(grads[:n]), "intercepts": tuple(grads[n:])}
