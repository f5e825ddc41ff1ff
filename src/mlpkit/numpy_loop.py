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

import math
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from . import threefry
from .activations import ACTIVATIONS
from .losses import LOSSES, per_sample_loss
from .network import forward_logits
from .program import CURVE_LEN, CURVE_ROWS, Data, Hyper, LoopState, Program
from .schedules import RATES, Position, learning_rate
from .scores import validate
from .solvers import AdamState, VelocityState
from .state import TrainState
from .stopping import BLOW_UP, apply_epoch_end

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
#: project's 2-core machine numpy trains that much in about 3 s (digits: 1,797 rows x 7,400 weights x 30
#: epochs, 4e8, in 0.11 s), about what a fresh install's first compiled fit waits (importing JAX, XLA).
MAX_WORK = 1e10

#: A fit of one epoch (every ``partial_fit`` call) counts this many: such calls come many at a time, and a
#: stream of large chunks should compile once rather than train each chunk in numpy.
ONE_EPOCH_COUNTS = 20

#: Most padded rows: beyond them ``engine.epoch_order`` shuffles by sorting random floats instead.
MAX_ROWS = 2**16


#: What this loop lacks, as (whether ``program`` needs it, what it is in words): all of it compiles.
MISSING = (
    (lambda p: p.rules != "sklearn", lambda p: "FluCoMa's training rules"),
    (lambda p: p.mesh is not None, lambda p: "a data-parallel fit"),
    (lambda p: p.architecture.activation not in SLOPES,
     lambda p: f"activation={p.architecture.activation!r} (it has {', '.join(SLOPES)})"),
    (lambda p: p.architecture.batch_norm, lambda p: "batch_norm"),
    (lambda p: p.architecture.dropout, lambda p: "dropout"),
    (lambda p: (p.architecture.out_activation, p.loss) not in CANONICAL_OUTPUTS,
     lambda p: f"loss={p.loss!r} on {p.architecture.out_activation!r} outputs"),
    (lambda p: p.solver is not None and p.solver.name not in SOLVER_STEPS,
     lambda p: f"solver={p.solver.transformation or p.solver.name!r} (it has {', '.join(SOLVER_STEPS)})"),
    (lambda p: not (isinstance(p.schedule, str) and p.schedule in RATES), lambda p: "a callable learning_rate"),
)  # fmt: skip


def missing(program: Program) -> list[str]:
    """What ``program`` needs that this loop lacks, in words (empty: it trains here). A program of
    ``config.loss_program`` (L-BFGS) has no solver: its network and loss count."""
    return [describe(program) for needs, describe in MISSING if needs(program)]


def supports(program: Program) -> bool:
    """Whether this loop has the rules ``program`` trains by: scikit-learn's, on one process, with
    scikit-learn's activations and canonical output losses, its two solvers, and a schedule by name."""
    return not missing(program)


def trains(program: Program, data: Data, max_iter: int, params: dict, choice: str = "auto") -> bool:
    """Whether a fit of up to ``max_iter`` epochs of the network ``params`` on ``data`` trains here,
    ``choice`` being the estimator's ``training_loop`` (``takes``)."""
    n_weights = sum(W.size for W in params["coefs"])
    epochs = ONE_EPOCH_COUNTS if max_iter == 1 else max_iter
    return takes(choice, program, int(data.n_rows) * n_weights * epochs, shuffled_rows=data.X.shape[0])


def takes(choice: str, program: Program, work: float, shuffled_rows: int = 0) -> bool:
    """Whether work of ``program`` (training rows x weights x epochs; ``shuffled_rows``: the padded rows
    each epoch orders, none for L-BFGS) runs here, for the estimator's ``training_loop`` ``choice``:
    'auto' for rules this loop has and work too small to repay a compile (``MAX_WORK``), by the settings
    and the data's shape alone; 'compiled' never; 'numpy' always, or a ValueError that says what needs
    the compiled loop."""
    if choice == "compiled":
        return False
    if choice == "auto":
        return shuffled_rows <= MAX_ROWS and work <= MAX_WORK and supports(program)
    lacking = missing(program) + ([f"more than {MAX_ROWS} rows"] if shuffled_rows > MAX_ROWS else [])
    if lacking:
        raise ValueError(
            f"training_loop='numpy' cannot train {' and '.join(lacking)}: only the compiled loop has that."
            " Use training_loop='auto' (or 'compiled')."
        )
    return True


# ------------------------------------------------------------------------ solvers
# The optimisers of ``optim.py`` as steps on one flat array (every weight, then every bias: ``Layout``),
# a handful of numpy calls a step however many layers the network has:
# (gradient, inner state as flat arrays, hyper-parameters, learning rate, static options) -> (update, state).
def _sgd_step(grad, inner, hp, lr, nesterov=True):
    """scikit-learn's SGD (``optim.sklearn_sgd``): ``v <- m v - lr g``; the update is ``v`` or ``m v - lr g``."""
    (velocity,) = inner
    m = hp["momentum"]
    velocity = m * velocity - lr * grad
    return (m * velocity - lr * grad if nesterov else velocity), (velocity,)


def _adam_step(grad, inner, hp, lr):
    """scikit-learn's Adam (``optim.sklearn_adam``): epsilon added to ``sqrt(v)`` before the bias correction."""
    count, mu, nu = inner
    b1, b2, eps = hp["beta_1"], hp["beta_2"], hp["epsilon"]
    count = count + 1
    mu = b1 * mu + (1 - b1) * grad
    nu = b2 * nu + (1 - b2) * grad**2
    power = np.asarray(count, b2.dtype)
    step = lr * np.sqrt(1 - b2**power) / (1 - b1**power)
    return -step * mu / (np.sqrt(nu) + eps), (count, mu, nu)


class Layout:
    """A network's parameters (``coefs`` and ``intercepts``) as one flat array: every weight matrix, then
    every bias, each row-major; ``views`` reads the layers back as views of it. ``layout(params)`` makes
    one per shape of network."""

    def __init__(self, names: tuple, coef_shapes: tuple, intercept_shapes: tuple):
        self.like = dict.fromkeys(names, ())  # (the parts this loop does not train stay empty)
        self.shapes = [*coef_shapes, *intercept_shapes]
        self.stops = np.cumsum([math.prod(shape) for shape in self.shapes]).tolist()
        self.n_coefs = len(coef_shapes)
        self.n_weights = self.stops[self.n_coefs - 1]  # (the weights come first: flat[:n_weights])

    def flat(self, tree: dict) -> np.ndarray:
        return np.concatenate([np.ravel(a) for a in (*tree["coefs"], *tree["intercepts"])])

    def views(self, flat: np.ndarray) -> list:
        starts = [0, *self.stops[:-1]]
        return [flat[a:b].reshape(shape) for a, b, shape in zip(starts, self.stops, self.shapes)]

    def tree(self, flat: np.ndarray) -> dict:
        views = self.views(flat)
        return {**self.like, "coefs": tuple(views[: self.n_coefs]), "intercepts": tuple(views[self.n_coefs :])}


def layout_of(params: dict) -> Layout:
    """The ``Layout`` of ``params`` (made once per shape of network)."""
    return _layout(tuple(params), tuple(W.shape for W in params["coefs"]), tuple(b.shape for b in params["intercepts"]))


_layout = lru_cache(maxsize=256)(Layout)


class SolverSteps(NamedTuple):
    """A solver's step on flat arrays, and its inner state to and from them."""

    step: Callable
    flatten: Callable  # (inner state, Layout) -> tuple of flat arrays and counters
    unflatten: Callable  # (that tuple, Layout) -> inner state


#: solver name -> its step here.
SOLVER_STEPS = {
    "sgd": SolverSteps(
        _sgd_step,
        lambda inner, layout: (layout.flat(inner.velocity),),
        lambda flat, layout: VelocityState(layout.tree(flat[0])),
    ),
    "adam": SolverSteps(
        _adam_step,
        lambda inner, layout: (inner.count, layout.flat(inner.mu), layout.flat(inner.nu)),
        lambda flat, layout: AdamState(np.asarray(flat[0], np.int32), layout.tree(flat[1]), layout.tree(flat[2])),
    ),
}


# ---------------------------------------------------------------------- one epoch
def epoch_order(key, n_rows: int, n_pad: int, shuffle: bool) -> np.ndarray:
    """``engine.epoch_order`` in numpy: the real rows (shuffled by a packed-key sort) first, padding after."""
    return _order(threefry.bits32(key, n_pad) if shuffle else None, n_rows, n_pad)


def _order(bits, n_rows: int, n_pad: int) -> np.ndarray:
    """The order ``engine.epoch_order`` makes from an epoch's random ``bits`` (None: not shuffled)."""
    positions = np.arange(n_pad, dtype=np.uint32)
    if bits is None:
        return positions.astype(np.int32)
    index_bits = max(1, (n_pad - 1).bit_length())
    random = bits >> np.uint32(index_bits)
    random[n_rows:] = 0xFFFFFFFF >> index_bits
    keys = (random << np.uint32(index_bits)) | positions
    return (np.sort(keys) & np.uint32((1 << index_bits) - 1)).astype(np.int32)


#: Most epochs whose random bits are drawn in one pass of the cipher (``threefry_orders``).
ORDER_BLOCK = 32


def threefry_orders(program: Program, key, n_rows: int, n_pad: int, n_epochs: int):
    """(the key after the epoch, the epoch's order) for ``n_epochs`` epochs from ``key``, as
    ``engine.threefry_order`` draws them epoch after epoch: the key split in three each epoch (the
    next key, the order's key, the epoch's key for dropout), the bits of up to ``ORDER_BLOCK``
    epochs' orders drawn at once."""
    while n_epochs > 0:
        block = min(n_epochs, ORDER_BLOCK)
        keys, order_keys = [], []
        for _ in range(block):
            key, order_key, _ = threefry.split(key, 3)
            keys.append(key)
            order_keys.append(order_key)
        bits = threefry.bits32(np.array(order_keys), n_pad) if program.shuffle else [None] * block
        for key, epoch_bits in zip(keys, bits):
            yield key, _order(epoch_bits, n_rows, n_pad)
        n_epochs -= block


def _forward(W, b, X, activation):
    """The hidden layers' outputs (the input first) and the output logits."""
    outputs = [X]
    for i in range(len(W) - 1):
        z = outputs[-1] @ W[i]
        z += b[i]
        outputs.append(ACTIVATIONS[activation](z, np))
    z = outputs[-1] @ W[-1]
    z += b[-1]
    return outputs, z


def _backward(W, outputs, delta, activation, grad_W, grad_b):
    """Backpropagation from ``delta``, the gradient on the output logits, into the views ``grad_W`` and
    ``grad_b`` of one flat gradient (scikit-learn's ``_backprop``)."""
    slope = SLOPES[activation]
    for i in reversed(range(len(W))):
        np.matmul(outputs[i].T, delta, out=grad_W[i])
        np.add.reduce(delta, axis=0, out=grad_b[i])
        if i:
            delta = delta @ W[i].T
            if slope is not None:
                delta *= slope(outputs[i])


def _batch_step(program: Program, hyper: Hyper, layout: Layout, params, X, Y, weight):
    """(the flat gradient, the reported loss) of one mini-batch at the flat ``params``, as
    ``engine.batch_objective``: ``sum_i w_i loss_i / sum_i w_i + (alpha / 2 ||W||^2 + l1 |W|) / sum_i w_i``."""
    architecture = program.architecture
    views = layout.views(params)
    W, b = views[: layout.n_coefs], views[layout.n_coefs :]
    outputs, z = _forward(W, b, X, architecture.activation)
    _, reported = per_sample_loss(program.loss, architecture.out_activation, z, Y, hyper.huber_delta, np)
    w_sum = weight.sum()
    # (products in the order JAX's reverse pass takes them, so that rounding matches too)
    per_weight = 1.0 / w_sum
    delta = (weight * per_weight)[:, None] * (ACTIVATIONS[architecture.out_activation](z, np) - Y)
    grad = np.empty_like(params)
    grad_views = layout.views(grad)
    _backward(W, outputs, delta, architecture.activation, grad_views[: layout.n_coefs], grad_views[layout.n_coefs :])
    weights = params[: layout.n_weights]
    penalty = 0.5 * hyper.alpha * np.dot(weights, weights)
    grad[: layout.n_weights] += (per_weight * (0.5 * hyper.alpha)) * (2.0 * weights)
    if program.l1:
        penalty = penalty + hyper.l1 * np.abs(weights).sum()
        grad[: layout.n_weights] += (per_weight * hyper.l1) * np.sign(weights)
    return grad, (weight * reported).sum() / w_sum + penalty / w_sum


def _clipped(grad, program: Program, hyper: Hyper):
    """``engine.transform_gradients``: clip by value, then by global norm (optax's ``clip_by_global_norm``)."""
    if program.clip_value:
        grad = np.clip(grad, -hyper.clip_value, hyper.clip_value)
    if program.clip_norm:
        norm = np.sqrt(np.dot(grad, grad))
        if not norm < hyper.clip_norm:
            grad = grad / norm * hyper.clip_norm
    return grad


def train_epoch(program: Program, hyper: Hyper, train: TrainState, order, data: Data, samples):
    """``engine.train_epoch``: one pass of mini-batch steps over the rows in ``order``; returns the state
    and the mean batch loss."""
    n_rows, B = int(data.n_rows), program.batch_rows
    n_batches = -(-n_rows // B)
    dtype = data.X.dtype
    steps = SOLVER_STEPS[program.solver.name]
    opt_state = train.opt_state
    hp, static = opt_state.hyperparams, dict(program.solver.static)
    layout = layout_of(train.params)
    params, inner = layout.flat(train.params), steps.flatten(opt_state.inner_state, layout)
    loss_sum = dtype.type(0)
    for batch in range(n_batches):
        idx = order[batch * B : min(batch * B + B, n_rows)]
        grad, reported = _batch_step(program, hyper, layout, params, data.X[idx], data.Y[idx], data.weight[idx])
        grad = _clipped(grad, program, hyper)
        into = batch / n_batches
        at = Position(train.epoch + into, train.epoch - train.cycle_start + into, samples, train.epoch == train.optimizer_start)
        lr = learning_rate(program, hyper, train, at, np)
        update, inner = steps.step(grad, inner, hp, lr, **static)
        if program.weight_decay:  # decoupled: w <- w - lr * weight_decay * w (Loshchilov & Hutter 2019)
            update[: layout.n_weights] -= lr * hyper.weight_decay * params[: layout.n_weights]
        params = params + update
        loss_sum = loss_sum + reported * dtype.type(len(idx))
    count = np.minimum(np.asarray(opt_state.count, np.int64) + n_batches, np.iinfo(np.int32).max).astype(np.int32)
    opt_state = opt_state._replace(count=count, inner_state=steps.unflatten(inner, layout))
    step = np.asarray(int(train.step) + n_batches, np.int32)
    train = train._replace(params=layout.tree(params), opt_state=opt_state, step=step)
    return train, (loss_sum / dtype.type(n_rows)).astype(dtype)


def has_zero_weight_batch(program: Program, order, data: Data) -> bool:
    """``engine.has_zero_weight_batch``: a mini-batch of real rows whose sample weights sum to 0."""
    n_rows, B = int(data.n_rows), program.batch_rows
    weight = data.weight[order[:n_rows]]
    sums = np.add.reduceat(weight, np.arange(0, n_rows, B))
    return bool(np.any(sums == 0))


#: Hidden activations whose outputs lie in [-1, 1] whatever their inputs.
BOUNDED = ("logistic", "tanh")


def outputs_surely_finite(params: dict, architecture, largest_input) -> bool:
    """Whether the network's outputs are finite for every input row of entries at most ``largest_input``
    in size, from a bound on each layer's values: ``|h W + b| <= max|h| * max_j sum_i |W_ij| + max|b|``
    (and 1 after a bounded unit), far below the largest float (or the largest ``exp`` takes). With
    finite weights and inputs the outputs can only stop being finite by overflowing: False is "maybe
    not", and the caller computes them."""
    coefs, intercepts = params["coefs"], params["intercepts"]
    largest = np.finfo(coefs[0].dtype).max / 4
    if architecture.out_activation == "exp":
        largest = np.log(largest)
    bound = largest_input
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        bound = bound * np.abs(W).sum(axis=0).max() + np.abs(b).max()
        if i < len(coefs) - 1 and architecture.activation in BOUNDED:
            bound = min(bound, 1.0)
    return bool(bound < largest)


def roll_back_if_diverged(program: Program, data: Data, before: LoopState, after: LoopState, loss,
                          largest_input) -> LoopState:  # fmt: skip
    """``engine.roll_back_if_diverged``: ``after``, or, if its epoch diverged, the network that started
    the fit's best epoch, stopped. ``largest_input``: the largest entry of ``data.X``'s first mini-batch
    of rows in size (the outputs there are computed only where ``outputs_surely_finite`` cannot tell)."""
    t, architecture = after.train, program.architecture
    healthy = bool(np.isfinite(loss) and loss <= BLOW_UP * after.good_loss)
    healthy = healthy and all(np.isfinite(leaf).all() for part in ("coefs", "intercepts") for leaf in t.params[part])
    if healthy and not outputs_surely_finite(t.params, architecture, largest_input):
        z = forward_logits(t.params, t.stats, data.X[: program.batch_rows], architecture, np)
        healthy = bool(np.all(np.isfinite(ACTIVATIONS[architecture.out_activation](z, np))))
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
    may_weigh_zero = not data.weight[:n_rows].min() > 0  # (else no batch's weights can sum to 0)
    largest_input = np.abs(data.X[: program.batch_rows]).max()
    with np.errstate(all="ignore"):  # (as in the compiled loop: a diverging fit is caught by its rule)
        orders = threefry_orders(program, s.train.key, n_rows, data.X.shape[0], limit - first)
        while int(s.n_iter) < limit and not bool(s.stopped):
            t = s.train
            samples = hyper.samples_seen + dtype.type(int(s.n_iter)) * dtype.type(n_rows)  # before this epoch
            lr = learning_rate(program, hyper, t, Position(t.epoch, t.epoch - t.cycle_start, samples, t.epoch == t.optimizer_start), np)
            key, order = next(orders)
            t = t._replace(key=key)
            if may_weigh_zero and has_zero_weight_batch(program, order, data):
                s = s._replace(zero_weight_batch=np.asarray(True))
            before = s
            t, loss = train_epoch(program, hyper, t, order, data, samples)
            score = val_loss = dtype.type(np.nan)
            if program.early_stopping:
                score, val_loss = validate(program, hyper, t.params, t.stats, data, np)
                if not (np.isfinite(loss) and loss <= BLOW_UP * s.good_loss):
                    score = dtype.type(np.nan)  # a diverged epoch has no score: never best, never kept
            t, stopped = apply_epoch_end(program, hyper, t, loss, score, val_loss, np)
            t = t._replace(epoch=np.asarray(int(t.epoch) + 1, np.int32))
            s = s._replace(train=t, stopped=np.asarray(bool(stopped)))
            s = roll_back_if_diverged(program, data, before, s, loss, largest_input)
            if bool(s.diverged):
                score = dtype.type(np.nan)
            curves[:, int(s.n_iter) - first] = (loss, val_loss, score, lr)
            s = s._replace(n_iter=np.asarray(int(s.n_iter) + 1, np.int32))
    return s, curves


# ------------------------------------------------------------------------- L-BFGS
def loss_and_grad(params: dict, X, Y, weight, program: Program, hyper: Hyper):
    """What ``lbfgs.py`` minimises: ``flat -> (reported loss, gradient)`` of the whole batch, as the compiled
    ``engine.batch_objective`` and its gradient give them, in float64 for scipy. ``flat`` holds the
    parameters in ``jax.tree.leaves``' order of ``params``: for these networks, the weights, then the
    biases (a ``Layout``)."""
    layout, dtype = layout_of(params), params["coefs"][0].dtype

    def computed(flat):
        grad, reported = _batch_step(program, hyper, layout, np.asarray(flat, dtype), X, Y, weight)
        return float(reported), grad.astype(np.float64)

    return computed
