"""The compiled training loop: many epochs of mini-batch training as one XLA program.

(Work too small to repay a compile trains in ``numpy_loop.py``, this loop's rules in numpy; the data
types both read are in ``program.py``, re-exported here.)

``run_epochs`` is a ``lax.while_loop`` over epochs; each epoch draws an order of
the rows, runs a ``lax.fori_loop`` over its mini-batches (``train_epoch``), scores the
validation set and applies the end-of-epoch rules (``stopping.apply_epoch_end``):
scikit-learn's stopping rule, best-weight tracking and learning-rate changes.
All of it is traced once per *program* (``Program``: network structure, loss,
solver, batch width, padded data shape) and then reused:

- data enters as arguments, padded to a few row *buckets* (``padded_rows``) with
  zero sample weight on the padding, so a refit on a similar number of rows
  reuses the compiled program;
- hyper-parameters that may change between fits (``Hyper``: penalties, dropout
  rates, tolerances, schedule settings, epochs; and the learning rate, momentum
  and betas inside the optimiser state) are traced values, so changing them does
  not recompile.

What training carries from fit to fit is one pytree, ``state.TrainState``; the
loop runs on a ``LoopState``, that state plus this fit's own progress. The
caller (``trainer.py``) runs the loop in chunks of epochs (``Hyper.epoch_limit``)
to report progress and to stay responsive to Ctrl-C; the state stays on the
device between chunks. It is built on the host (``initial_loop_state``) and
crosses the boundary of ``run_epochs_compiled`` packed into one flat buffer per
dtype (``packing.py``): for a tiny network, passing ~40 separate arrays cost more
than an epoch of training. Each chunk's per-epoch history comes back as one
``(4, CURVE_LEN)`` array, whatever ``max_iter`` is, so ``max_iter`` is a traced
value like any other.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import NamedSharding, PartitionSpec

from . import packing
from .activations import ACTIVATIONS
from .losses import per_sample_loss
from .network import forward_logits, forward_logits_train, l1_penalty, l2_penalty
from .optim import make_optimizer
from .program import (  # noqa: F401 (re-exported: what a fit trains is defined in program.py)
    CPU_ALIGNMENT,
    CURVE_LEN,
    CURVE_ROWS,
    Data,
    Hyper,
    LoopState,
    Program,
    aligned,
    aligned_empty,
    initial_loop_state,
    loss_program,
    pad_rows,
    padded_rows,
    seed_key,
)
from .schedules import Position, learning_rate
from .scores import validate
from .solvers import has_learning_rate
from .state import TrainState
from .stopping import BLOW_UP, apply_epoch_end


# --------------------------------------------------------------------- one epoch
def batch_objective(params, stats, X, Y, weight, rows, key, program: Program, hyper: Hyper):
    """(objective, (reported loss, new batch-norm stats)) of one mini-batch, as scikit-learn's ``_backprop``.

    ``sum_i w_i loss_i / sum_i w_i + (alpha / 2 ||W||^2 + l1 |W|) / sum_i w_i``.
    """
    architecture = program.architecture
    z, stats = forward_logits_train(params, stats, X, rows, architecture, key, hyper.dropout)
    objective, reported = per_sample_loss(program.loss, architecture.out_activation, z, Y, hyper.huber_delta, jnp)
    penalty = 0.5 * hyper.alpha * l2_penalty(params, jnp)
    if program.l1:
        penalty = penalty + hyper.l1 * l1_penalty(params, jnp)
    w_sum = jnp.sum(weight)
    return (
        jnp.sum(weight * objective) / w_sum + penalty / w_sum,
        (jnp.sum(weight * reported) / w_sum + penalty / w_sum, stats),
    )


def transform_gradients(grads, program: Program, hyper: Hyper):
    """Clip by value, then by global norm (Pascanu et al. 2013), where asked for."""
    if program.clip_value:
        grads = jax.tree.map(lambda g: jnp.clip(g, -hyper.clip_value, hyper.clip_value), grads)
    if program.clip_norm:
        grads, _ = optax.clip_by_global_norm(hyper.clip_norm).update(grads, optax.EmptyState())
    return grads


def optimizer_step(program: Program, hyper: Hyper, params, grads, opt_state, lr):
    """One update of the optimiser at learning rate ``lr``, plus decoupled weight decay."""
    optimizer = make_optimizer(program.solver, _PLACEHOLDER_HYPERPARAMS)
    if not has_learning_rate(opt_state):  # a user's optax transformation schedules itself
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state
    base_lr = opt_state.hyperparams["learning_rate"]
    with_lr = opt_state._replace(hyperparams={**opt_state.hyperparams, "learning_rate": lr})
    updates, opt_state = optimizer.update(grads, with_lr, params)
    if program.weight_decay:  # decoupled: w <- w - lr * weight_decay * w (Loshchilov & Hutter 2019)
        updates = {**updates, "coefs": tuple(u - lr * hyper.weight_decay * W for u, W in zip(updates["coefs"], params["coefs"]))}
    opt_state = opt_state._replace(hyperparams={**opt_state.hyperparams, "learning_rate": base_lr})
    return optax.apply_updates(params, updates), opt_state


# The optimiser built inside the loop only supplies ``update``; its hyper-parameter
# values come from the state (optax.inject_hyperparams), so these are never used.
_PLACEHOLDER_HYPERPARAMS = {
    name: 0.0 for name in ("learning_rate_init", "momentum", "beta_1", "beta_2", "epsilon", "weight_decay")
}


class Cut(NamedTuple):
    """How an epoch's order of ``n_rows`` rows is cut into mini-batches of ``B`` rows: ``n_batches``
    batches; batch ``b`` starts at ``b B + extra`` (``b > 0``) and the first holds ``B + extra`` rows.
    (scikit-learn's: ``ceil(n / B)`` batches, the last one partial, ``extra = 0``; FluCoMa's:
    ``n // B`` batches, the remainder ``extra = n % B`` riding on the first, ``DataSampler::nextBatch``.)"""

    n_batches: Any
    extra: Any


def sklearn_cut(n_rows, B) -> Cut:
    return Cut((n_rows + B - 1) // B, jnp.zeros_like(n_rows))


def flucoma_cut(n_rows, B) -> Cut:
    return Cut(n_rows // B, n_rows % B)


def batch_bounds(cut: Cut, batch, n_rows, B):
    """(first row in the epoch's order, rows) of mini-batch ``batch``."""
    start = batch * B + jnp.where(batch > 0, cut.extra, 0)
    return start, jnp.minimum(B + jnp.where(batch > 0, 0, cut.extra), n_rows - start)


def train_epoch(program: Program, hyper: Hyper, train: TrainState, order, data: Data, epoch_key, samples):
    """One pass of mini-batch updates over the rows in ``order``; returns the state and mean batch loss.

    ``samples``: samples seen before this epoch (invscaling's t). Every batch is computed
    ``program.batch_rows`` wide, rows past its end masked; where the first batch may hold
    more (FluCoMa's rules), it is computed ``2 B - 1`` wide on its own.
    """
    rules, B = RULES[program.rules], program.batch_rows
    cut = rules.cut(data.n_rows, B)
    first_width = 2 * B - 1 if rules.wider_first_batch else B
    padded = max(-(-order.shape[0] // B) * B, first_width)
    order = jnp.pad(order, (0, padded - order.shape[0]))  # every slice stays in bounds
    grad_fn = jax.value_and_grad(batch_objective, has_aux=True)

    def step(batch, carry, width=B):
        t, loss_sum = carry
        start, count = batch_bounds(cut, batch, data.n_rows, B)
        idx = jax.lax.dynamic_slice(order, (start,), (width,))
        rows = jnp.arange(width) < count  # the last batch may run into padding
        weight = jnp.where(rows, data.weight[idx], 0)
        key = jax.random.fold_in(epoch_key, batch)
        batch_rows = split_over_mesh(program.mesh, data.X[idx], data.Y[idx], weight, rows.astype(weight.dtype))
        (_, (reported, stats)), grads = grad_fn(t.params, t.stats, *batch_rows, key, program, hyper)
        grads = transform_gradients(grads, program, hyper)
        into = batch / cut.n_batches
        at = Position(t.epoch + into, t.epoch - t.cycle_start + into, samples, t.epoch == t.optimizer_start)
        lr = learning_rate(program, hyper, t, at, jnp)
        params, opt_state = optimizer_step(program, hyper, t.params, grads, t.opt_state, lr)
        t = t._replace(params=params, stats=stats, opt_state=opt_state, step=t.step + 1)
        return t, loss_sum + reported * count.astype(reported.dtype)

    # Only the batches holding real rows run: the trip count is traced, so padding costs no steps.
    carry, first = (train, jnp.zeros([], data.X.dtype)), 0
    if first_width != B:
        carry, first = step(0, carry, first_width), 1
    train, loss_sum = jax.lax.fori_loop(first, cut.n_batches, step, carry)
    return train, loss_sum / data.n_rows


def has_zero_weight_batch(program: Program, order, data: Data):
    """Whether a mini-batch of the epoch in ``order`` (as ``train_epoch`` cuts it) has real rows whose
    sample weights sum to 0: its loss would be 0 / 0 (scikit-learn's ``np.average`` refuses it)."""
    B = program.batch_rows
    cut = RULES[program.rules].cut(data.n_rows, B)
    position = jnp.arange(order.shape[0])
    weight = jnp.where(position < data.n_rows, data.weight[order], 0)
    batch = jnp.maximum(position - cut.extra, 0) // B  # (the first batch holds the extra rows)
    n_segments = order.shape[0] // B + 1
    sums = jax.ops.segment_sum(weight, batch, num_segments=n_segments)
    return jnp.any((jnp.arange(n_segments) < cut.n_batches) & (sums == 0))


def split_over_mesh(mesh, *arrays):
    """The mini-batch's arrays, each split by rows over the processes of ``mesh`` (data parallel): XLA
    then computes each process's share of the batch there and sums the gradients over processes, so the
    step is the one a single process takes. Without a mesh, the arrays as they are."""
    if mesh is None:
        return arrays
    rows = NamedSharding(mesh, PartitionSpec("data"))
    return tuple(jax.lax.with_sharding_constraint(a, rows) for a in arrays)


#: Largest padded row count shuffled by one packed-key sort: it leaves >= 16 random bits per row, so
#: rows that share a random value (kept in index order) stay rare, about one pair per 2**16 / n rows.
PACKED_SORT_MAX_ROWS = 2**16


def epoch_order(key, n_rows, n_pad, shuffle):
    """Row indices for one epoch: the real rows (shuffled or not) first, padding after.

    Shuffling sorts random keys. XLA's CPU sort of one uint32 array is ~4x faster
    than an argsort (a sort that carries the indices along), so each key packs
    random high bits above the row's index: ``(random << index_bits) | index``;
    sorting the keys and masking the high bits off gives the permutation. Rows whose
    random parts tie keep their index order; with few random bits, whole runs of
    rows would, and batches would follow the data's order: beyond
    ``PACKED_SORT_MAX_ROWS`` the shuffle is an argsort of random floats instead.
    Padding rows get the largest random part, so they sort last.
    """
    positions = jnp.arange(n_pad, dtype=jnp.uint32)
    if not shuffle:
        return positions.astype(jnp.int32)
    real = positions < n_rows
    if n_pad > PACKED_SORT_MAX_ROWS:  # too few bits left for the random part: carry indices instead
        priority = jnp.where(real, jax.random.uniform(key, (n_pad,)), 2.0)
        return jnp.argsort(priority).astype(jnp.int32)
    index_bits = max(1, (n_pad - 1).bit_length())
    random = jax.random.bits(key, (n_pad,), jnp.uint32) >> index_bits
    random = jnp.where(real, random, jnp.uint32(0xFFFFFFFF >> index_bits))
    keys = (random << index_bits) | positions
    return (jnp.sort(keys) & jnp.uint32((1 << index_bits) - 1)).astype(jnp.int32)


def threefry_order(program: Program, train: TrainState, n_rows, n_pad):
    """(state with its key moved on, the epoch's order, the epoch's key for dropout and the like):
    jax.random's keys, split each epoch (``epoch_order``)."""
    key, order_key, epoch_key = jax.random.split(train.key, 3)
    return train._replace(key=key), epoch_order(order_key, n_rows, n_pad, program.shuffle), epoch_key


#: splitmix64's increment and mixing constants (Steele, Lea & Flood, "Fast splittable pseudorandom number
#: generators", OOPSLA 2014); ``flucoma/_small.py`` computes the same numbers in numba.
SPLITMIX64 = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


def splitmix64(key, counters):
    """``splitmix64(key + (counter + 1) GAMMA)`` for uint64 ``counters`` (x64 must be on)."""
    gamma, mix_1, mix_2 = (jnp.uint64(c) for c in SPLITMIX64)
    z = key + (counters + jnp.uint64(1)) * gamma
    z = (z ^ (z >> jnp.uint64(30))) * mix_1
    z = (z ^ (z >> jnp.uint64(27))) * mix_2
    return z ^ (z >> jnp.uint64(31))


#: The low half of a sort key holds the row (``counter_order``).
LOW_32 = 0xFFFFFFFF


def counter_order(program: Program, train: TrainState, n_rows, n_pad):
    """FluCoMa's estimators' orders, counter-based: epoch ``e``'s order of the rows sorts the keys
    ``high32(splitmix64(key, e << 32 | i)) << 32 | i`` (``_small.orders`` makes the same ones in numba),
    with ``e`` the epochs trained in all fits (``TrainState.epoch``): the key never moves, so ten fits
    of 6 epochs shuffle as one of 60. Padding rows sort last. Needs x64 (FluCoMa trains in float64)."""
    if not jax.config.read("jax_enable_x64"):
        raise RuntimeError("FluCoMa's training rules draw 64-bit random numbers: run them under jax.enable_x64(True).")
    rows = jnp.arange(n_pad, dtype=jnp.uint64)
    epoch_key = jax.random.fold_in(train.key, train.epoch)
    if not program.shuffle:
        return train, rows.astype(jnp.int32), epoch_key
    key = (train.key[0].astype(jnp.uint64) << jnp.uint64(32)) | train.key[1].astype(jnp.uint64)
    high = splitmix64(key, (train.epoch.astype(jnp.uint64) << jnp.uint64(32)) | rows) & jnp.uint64(LOW_32 << 32)
    high = jnp.where(rows < n_rows.astype(jnp.uint64), high, jnp.uint64(LOW_32 << 32))
    order = (jnp.sort(high | rows) & jnp.uint64(LOW_32)).astype(jnp.int32)
    return train, order, epoch_key


def run_epochs(program: Program, state: LoopState, data: Data, hyper: Hyper):
    """Train until ``hyper.epoch_limit`` epochs of this fit have run or the stopping rule fires.

    Returns the loop state and this call's history: a ``(4, CURVE_LEN)`` array whose
    rows are ``CURVE_ROWS`` (training loss, validation loss and score, learning rate
    at the start of each epoch), column ``i`` the ``i``-th epoch of this call.
    """
    first = state.n_iter
    n_rows = data.n_rows.astype(data.X.dtype)
    rules = RULES[program.rules]

    def body(carry):
        s, curves = carry
        t = s.train
        samples = hyper.samples_seen + s.n_iter.astype(n_rows.dtype) * n_rows  # before this epoch
        lr = learning_rate(program, hyper, t, Position(t.epoch, t.epoch - t.cycle_start, samples, t.epoch == t.optimizer_start), jnp)
        t, order, epoch_key = rules.order(program, t, data.n_rows, data.X.shape[0])
        if rules.checks_weights:
            s = s._replace(zero_weight_batch=s.zero_weight_batch | has_zero_weight_batch(program, order, data))
        before = s
        t, loss = train_epoch(program, hyper, t, order, data, epoch_key, samples)
        score = val_loss = jnp.asarray(jnp.nan, loss.dtype)
        if program.early_stopping:
            score, val_loss = validate(program, hyper, t.params, t.stats, data, jnp)
            # an epoch that diverges has no score (scikit-learn's NaN): it neither counts as best nor is kept
            score = jnp.where(jnp.isfinite(loss) & (loss <= BLOW_UP * s.good_loss), score, jnp.nan)
        t, stopped = rules.epoch_end(program, hyper, t, loss, score, val_loss, jnp)
        s = rules.divergence(program, data, before, s._replace(train=t._replace(epoch=t.epoch + 1), stopped=stopped), loss)
        score = jnp.where(s.diverged, jnp.nan, score)  # a diverged epoch has none (scikit-learn's record ends in NaN)
        column = jnp.stack([loss, val_loss, score, lr]).astype(curves.dtype)
        return s._replace(n_iter=s.n_iter + 1), curves.at[:, s.n_iter - first].set(column)

    curves = jnp.full((len(CURVE_ROWS), CURVE_LEN), jnp.nan, data.X.dtype)
    limit = jnp.minimum(hyper.epoch_limit, first + CURVE_LEN)
    return jax.lax.while_loop(lambda c: (c[0].n_iter < limit) & ~c[0].stopped, body, (state, curves))


def roll_back_if_diverged(program: Program, data: Data, before: LoopState, after: LoopState, loss) -> LoopState:
    """``after``, or, if its epoch diverged, the network that started the fit's best epoch, stopped.

    An epoch diverged when its loss is non-finite or ``BLOW_UP`` times the lowest
    of this fit, or when it leaves a weight, or the outputs on the first
    mini-batch of rows, non-finite. The network kept then (weights, batch-norm
    statistics, optimiser state) is the one that started the epoch of lowest
    training loss: the last that was known to work.
    """
    architecture = program.architecture
    t, t0 = after.train, before.train
    z = forward_logits(t.params, t.stats, data.X[: program.batch_rows], architecture, jnp)
    healthy = jnp.isfinite(loss) & (loss <= BLOW_UP * after.good_loss)
    healthy &= jnp.all(jnp.isfinite(ACTIVATIONS[architecture.out_activation](z, jnp)))
    for leaf in jax.tree.leaves(t.params):
        healthy &= jnp.all(jnp.isfinite(leaf))
    improved = healthy & (loss < after.good_loss)
    good = jax.tree.map(lambda new, old: jnp.where(improved, new, old), (t0.params, t0.stats, t0.opt_state), after.good)
    params, stats, opt_state = jax.tree.map(
        lambda new, old: jnp.where(healthy, new, old), (t.params, t.stats, t.opt_state), good
    )
    return after._replace(
        train=t._replace(params=params, stats=stats, opt_state=opt_state),
        good=good,
        good_loss=jnp.where(improved, loss, after.good_loss),
        stopped=after.stopped | ~healthy,
        diverged=~healthy,
    )


def previous_epoch_rule(program: Program, hyper: Hyper, train: TrainState, loss, score, val_loss, xp=jnp):
    """FluCoMa's stopping rule (``SGD.hpp``): with validation rows, stop after ``n_iter_no_change``
    epochs in a row whose validation loss is not below the *previous* epoch's (not the best), keeping
    the last weights; without them, run every epoch. Under this rule ``best_monitored`` holds minus the
    previous epoch's validation loss."""
    if not program.early_stopping:
        return train, jnp.asarray(False)
    waiting = jnp.where(val_loss < -train.best_monitored, 0, train.no_improvement + 1)
    return train._replace(best_monitored=-val_loss, no_improvement=waiting), waiting >= hyper.n_iter_no_change


def stop_if_not_finite(program: Program, data: Data, before: LoopState, after: LoopState, loss) -> LoopState:
    """FluCoMa's: an epoch whose loss is not finite ends training, the weights left as they are (the
    FluCoMa estimators then put back those the fit started from)."""
    bad = ~jnp.isfinite(loss)
    return after._replace(stopped=after.stopped | bad, diverged=bad)


class Rules(NamedTuple):
    """How a loop trains its epochs: a named entry of ``RULES`` (``Program.rules``)."""

    cut: Callable  # (n_rows, B) -> Cut: the epoch's mini-batches
    wider_first_batch: bool  # the first batch may hold more than B rows (Cut.extra > 0)
    order: Callable  # (program, train, n_rows, n_pad) -> (train, the epoch's order of the rows, epoch key)
    epoch_end: Callable  # (program, hyper, train, loss, score, val_loss, xp) -> (train, stopped)
    divergence: Callable  # (program, data, before, after, loss) -> the loop state after a diverged epoch
    checks_weights: bool  # whether sample weights may be 0 (has_zero_weight_batch is checked each epoch)


RULES = {
    "sklearn": Rules(sklearn_cut, False, threefry_order, apply_epoch_end, roll_back_if_diverged, True),
    # flucoma-core's SGD, read in flucoma/training.py (every row weighs 1)
    "flucoma": Rules(flucoma_cut, True, counter_order, previous_epoch_rule, stop_if_not_finite, False),
}


# ---------------------------------------------------------------- compiled entry points
# The loop state crosses the boundary of a compiled call packed into a few flat buffers
# (``packing.py``): ~40 separate arrays cost more to pass than a tiny network's epoch costs to run.
@partial(jax.jit, static_argnames=("program", "layout"))
def run_epochs_compiled(program: Program, layout: packing.Layout, buffers, data: Data, hyper: Hyper):
    """``run_epochs`` on a packed loop state (``layout``: ``packing.layout_of`` the initial state); returns
    it packed, and the call's history (see ``run_epochs``)."""
    state, curves = run_epochs(program, packing.unpack(buffers, layout), data, hyper)
    return packing.pack(state, layout, jnp), curves


def compiled_programs() -> int:
    """How many training loops this process holds compiled (one per program and data shape, and per
    population size)."""
    return run_epochs_compiled._cache_size() + run_population_compiled._cache_size()


@partial(jax.jit, static_argnames=("program", "layout", "shared_data"))
def run_population_compiled(program: Program, layout: packing.Layout, buffers, data: Data, hyper: Hyper, shared_data: bool):
    """``run_epochs_compiled`` for a population of networks of one program: the loop states (packed) and
    traced values hold one member per row of a first axis, and ``run_epochs`` is ``jax.vmap`` ped over
    them; ``data`` is one for all members (``shared_data``) or stacked like them. The while loop of a
    vmapped ``run_epochs`` runs while any member goes on and keeps the others' state as it was: each
    member stops, and is rolled back on divergence, on its own."""
    run = jax.vmap(partial(run_epochs, program), in_axes=(0, None if shared_data else 0, 0))
    state, curves = run(packing.unpack(buffers, layout), data, hyper)
    return packing.pack(state, layout, jnp), curves
