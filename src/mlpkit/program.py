"""What a fit trains, in plain numpy: the static ``Program``, the traced ``Hyper`` values, the padded
``Data`` and the loop's state, with the row buckets the data is padded to.

Both training loops read these: the compiled one (``engine.py``, XLA) and the numpy one
(``numpy_loop.py``, for work too small to repay a compile). Nothing here imports JAX, so the
estimators and the numpy loop load without it (importing JAX costs about as much as importing
scikit-learn); ``engine`` re-exports every name.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .network import Architecture
from .solvers import SolverSpec
from .state import TrainState

Array = Any  # a numpy array on the host, a jax.Array inside a compiled program


class Program(NamedTuple):
    """Static description of a compiled training loop: change one field, compile anew."""

    architecture: Architecture
    loss: str
    solver: SolverSpec
    schedule: Any  # a name in schedules.STEP_FACTORS, or a callable step -> learning rate
    batch_rows: int  # rows per mini-batch as compiled (the last real batch may be partial)
    shuffle: bool
    early_stopping: bool
    monitor: str  # early stopping watches the validation "score" or "loss"
    score: str  # validation score: "accuracy" | "r2"
    l1: bool = False  # the penalties and clippings in use (their strengths are traced)
    weight_decay: bool = False
    clip_norm: bool = False
    clip_value: bool = False
    mesh: Any = None  # data parallel: a jax.sharding.Mesh with axis "data"; each mini-batch is split over it
    rules: str = "sklearn"  # how epochs are cut into batches, ordered, judged and guarded: a name in RULES


def loss_program(architecture, loss, *, solver=None, l1=False, weight_decay=False, clip_norm=False, clip_value=False):
    """A ``Program`` for computing one batch's loss and step outside the epoch loop (L-BFGS, the
    learning-rate finder): ``batch_objective``, ``transform_gradients`` and ``optimizer_step`` read
    these fields; the loop's own fields get neutral values."""
    return Program(
        architecture=architecture,
        loss=loss,
        solver=solver,
        schedule="constant",
        batch_rows=0,
        shuffle=False,
        early_stopping=False,
        monitor="score",
        score="",
        l1=l1,
        weight_decay=weight_decay,
        clip_norm=clip_norm,
        clip_value=clip_value,
    )


class Hyper(NamedTuple):
    """Traced hyper-parameters: new values reuse the compiled program."""

    alpha: Array
    l1: Array
    weight_decay: Array
    clip_norm: Array
    clip_value: Array
    huber_delta: Array
    dropout: Array  # (n_hidden,) rate per hidden layer
    tol: Array
    n_iter_no_change: Array
    power_t: Array
    learning_rate_init: Array
    lr_decay: Array
    lr_decay_epochs: Array
    lr_min: Array
    lr_patience: Array
    max_iter: Array
    samples_seen: Array  # scikit-learn's ``t_`` before this fit (a float: no overflow)
    epoch_limit: Array  # run until n_iter reaches this (a chunk of max_iter)


class Data(NamedTuple):
    """Training and validation rows, padded; padding rows carry zero weight."""

    X: Array  # (n_pad, n_features)
    Y: Array  # (n_pad, n_outputs)
    weight: Array  # (n_pad,)
    n_rows: Array  # number of real rows, the first n_rows of X
    X_val: Array
    Y_val: Array
    weight_val: Array


class LoopState(NamedTuple):
    """The training state and this fit's own progress, as the compiled loop carries them."""

    train: TrainState
    n_iter: Array  # epochs run in this fit
    stopped: Array
    diverged: Array  # the last epoch diverged: the network was rolled back to ``good``
    zero_weight_batch: Array  # a mini-batch's sample weights summed to 0 (its loss 0 / 0)
    good: tuple  # (params, stats, opt_state) that started the epoch of lowest training loss in this fit
    good_loss: Array


#: Most epochs one compiled call runs: the length of the per-epoch history it returns.
CURVE_LEN = 1024

#: Rows of that history, in order.
CURVE_ROWS = ("loss", "val_loss", "score", "lr")


def padded_rows(n: int) -> int:
    """Row bucket for ``n`` rows: at least 16, else the next 2^k * {1, 1.25, 1.5, 1.75}.

    At most 25 % padding; data sets within a bucket share one compiled program.
    """
    if n <= 16:
        return 16
    k = math.floor(math.log2(n))
    return next(size for size in (int(2**k * s) for s in (1.0, 1.25, 1.5, 1.75, 2.0)) if size >= n)


#: XLA's CPU client uses a numpy array in place (no copy) when its data start on this byte boundary;
#: numpy's large arrays usually start 16 bytes past a page, and are copied, at ~2 GB/s.
CPU_ALIGNMENT = 64


def aligned_empty(shape, dtype) -> np.ndarray:
    """An uninitialised array whose data start on a ``CPU_ALIGNMENT`` boundary."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + CPU_ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % CPU_ALIGNMENT
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def aligned(a: np.ndarray) -> np.ndarray:
    """``a`` itself if XLA's CPU client can use it in place, else an aligned copy (numpy copies twice as
    fast as the client's transfer does: 46 against 90 ms for 60000 x 784 float32)."""
    if a.flags.c_contiguous and a.ctypes.data % CPU_ALIGNMENT == 0:
        return a
    out = aligned_empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def pad_rows(a: np.ndarray, n_pad: int) -> np.ndarray:
    """``a`` with zero rows appended up to ``n_pad`` rows (``a`` itself when it has them already);
    a padded copy is aligned for XLA's CPU client (``aligned``)."""
    if a.shape[0] == n_pad:
        return a
    out = aligned_empty((n_pad,) + a.shape[1:], a.dtype)
    out[: a.shape[0]] = a
    out[a.shape[0] :] = 0
    return out



def initial_loop_state(train: TrainState) -> LoopState:
    """The loop state at the start of a fit, built on the host in numpy: packed, it is one argument of
    ``run_epochs_compiled``, with no compiled call of its own. ``train`` has its optimiser state and
    key (``solvers.fresh_state``, ``seed_key``)."""
    dtype = np.asarray(train.best_loss).dtype
    return LoopState(
        train=train,
        n_iter=np.zeros([], np.int32),
        stopped=np.zeros([], bool),
        diverged=np.zeros([], bool),
        zero_weight_batch=np.zeros([], bool),
        good=(train.params, train.stats, train.opt_state),
        good_loss=np.asarray(np.inf, dtype),
    )


def seed_key(seed: int) -> np.ndarray:
    """A raw threefry key (``uint32[2]``, any two words are one) from a seed in [0, 2**31): the words
    ``jax.random.PRNGKey(seed)`` holds, made without a compiled call of its own."""
    return np.array([0, seed], np.uint32)

