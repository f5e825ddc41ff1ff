"""FluCoMa's training, one ``fit`` at a time, as flucoma-core does it (with one documented difference).

Read from flucoma-core's ``SGD.hpp``, ``MLP.hpp``, ``NNLayer.hpp``, ``NNFuncs.hpp`` and
``DataSampler.hpp``; a fit of ``max_iter`` epochs on ``n`` rows:

1. **Split.** ``n_train = lrint((1 - validation) n)`` rows train (``mTrainCount``; lrint
   rounds half to even), the other ``n - n_train`` validate, drawn at random for each fit.
   No rows left over (``n_train == n``): no validation. *Difference:* flucoma-core draws a
   new order of all ``n`` rows every epoch and trains on its first ``n_train``, so the
   validation rows, fixed at the start, are trained on in later epochs; FluCoMa's
   documentation says they are held back, and here they are: only the training rows train.
2. **Epochs.** Each draws a new order of the training rows; its batches hold
   ``B = min(batch_size, n_train)`` rows, the remainder ``n_train % B`` added to the first
   batch (``DataSampler::nextBatch``): ``n_train // B`` batches, none partial.
3. **A batch.** FluCoMa's loss ``sum_k (pred_k - y_k)^2`` averaged over the batch's rows; its
   gradient backpropagates ``2 (pred - y)`` (``MLP::backward``), each layer's weight and bias
   gradients are its sums over the rows divided by the rows (``NNLayer::backward``), and the
   update is damped momentum ``v <- m v + (1 - m) lr g``, ``w <- w - v`` (``NNLayer::update``).
   The velocities carry on from fit to fit, and start at zero for a new or read network.
4. **Stopping** (with validation rows): after each epoch the validation loss is compared with
   the previous epoch's (not the best); ``patience`` (10, ``mInitialPatience``) epochs in a
   row without a decrease stop the fit, which keeps the last weights.
5. **Error.** ``fit`` returns the loss over the training rows with the final weights.

A new network is Glorot-uniform: weights ``U(-sqrt(6 / (fan_in + fan_out)), +...)``,
biases zero (``NNLayer::init``).

Three backends run this, chosen by ``backend_for`` (``BACKENDS``): numba kernels (``_small.py``) that
compute each batch in hand-written loops (``"numba"``, for the smallest networks, where a BLAS call's fixed
cost is more than the products) or in BLAS matrix products (``"blas"``, the rest), sharing every rule
but the arithmetic of a batch; and mlpkit's one training loop (``"trainer"``: ``trainer.run`` with
``engine.RULES["flucoma"]``, FluCoMa's batches, orders, stopping and divergence rules as entries of its
tables), which the kernels outrun or equal on a CPU at every size measured, still selectable. All take every
epoch's order from the network's key and the epoch it has reached (counter-based: epoch ``e``'s order
depends on the key and ``e`` alone, so a loop of short fits draws what one long fit does), and train alike
to rounding (``tests/flucoma/test_flucoma_training.py``).
"""

from __future__ import annotations

import importlib
import time
import warnings
from functools import cache, partial
from typing import Callable, NamedTuple

import jax
import numpy as np
from threadpoolctl import ThreadpoolController

from .. import config, estimators, trainer, training_data
from ..activations import ACTIVATIONS
from ..callbacks import call_hook, changes_asked, report_epochs
from ..network import layer_extras
from ..state import new_state
from . import _small
from .model import FLUCOMA_ACTIVATIONS

#: Epochs in a row without a lower validation loss than the previous epoch's after which a fit stops
#: (``SGD.hpp``: ``mInitialPatience``).
FLUCOMA_PATIENCE = 10

#: Networks with at most this many weights (multiply-adds per row: ``sum fan_in * fan_out``) train in numba's
#: hand-written loops (``"numba"``), larger ones in the same kernel with BLAS products (``"blas"``). Measured
#: by a sweep of the two kernels on 200 and 2000 rows, batch 50, taking turns (``bench/README.md``): the
#: loops 1.2-2x faster at 40-128 weights, 1.0-1.4x at 160-256, the products 1.0-1.25x faster at 360-448 and
#: 1.2-1.5x at 720-960; a BLAS call's fixed cost is what the loops save on the tiniest networks.
SMALL_NETWORK_MAX_WEIGHTS = 256


class Layout(NamedTuple):
    """Where each layer's weights and biases sit in a flat buffer: ``[W_0 (row-major), b_0, W_1, b_1, ...]``."""

    sizes: np.ndarray  # int64 units per layer, input first
    codes: np.ndarray  # int64 FluCoMa activation code of each layer (hidden ones, then the output)
    n_weights: int  # sum of fan_in * fan_out: multiply-adds per row
    n_params: int  # weights and biases

    @classmethod
    def of(cls, sizes, codes):
        sizes = [int(n) for n in sizes]
        n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return cls(np.asarray(sizes, np.int64), np.asarray(codes, np.int64), n_weights, n_weights + sum(sizes[1:]))

    def views(self, flat):
        """``(coefs, intercepts)``: lists of views of ``flat``, layer by layer."""
        coefs, intercepts, at = [], [], 0
        for n_in, n_out in zip(self.sizes[:-1].tolist(), self.sizes[1:].tolist()):
            coefs.append(flat[at : at + n_in * n_out].reshape(n_in, n_out))
            at += n_in * n_out
            intercepts.append(flat[at : at + n_out])
            at += n_out
        return coefs, intercepts

    def flatten(self, coefs, intercepts) -> np.ndarray:
        """A new flat float64 buffer holding these layers."""
        parts = [part for W, b in zip(coefs, intercepts) for part in (np.ravel(W), np.ravel(b))]
        return np.concatenate(parts).astype(np.float64)


def glorot_uniform(layout: Layout, random_state) -> np.ndarray:
    """A new network, flat: weights ``U(-sqrt(6 / (fan_in + fan_out)), sqrt(...))``, biases 0 (``NNLayer::init``)."""
    coefs = [
        random_state.uniform(-np.sqrt(6.0 / (n_in + n_out)), np.sqrt(6.0 / (n_in + n_out)), (n_in, n_out))
        for n_in, n_out in zip(layout.sizes[:-1].tolist(), layout.sizes[1:].tolist())
    ]
    return layout.flatten(coefs, [np.zeros(n) for n in layout.sizes[1:].tolist()])


def training_rows(n_rows: int, validation: float) -> int:
    """Rows that train out of ``n_rows``: ``lrint((1 - validation) n)`` (``DataSampler``'s ``mTrainCount``)."""
    return int(np.rint((1.0 - validation) * n_rows))


def batch_bounds(n_train: int, batch_size: int) -> list[tuple[int, int]]:
    """FluCoMa's batches of an epoch's order, as ``(start, stop)``: ``B = min(batch_size, n_train)`` rows each,
    the remainder ``n_train % B`` on the first."""
    batch = min(batch_size, n_train)
    first = batch + n_train % batch
    return [(0, first)] + [(start, start + batch) for start in range(first, n_train, batch)]


class Settings(NamedTuple):
    """One fit's training parameters (FluCoMa's names)."""

    max_iter: int
    batch_size: int
    learn_rate: float
    momentum: float
    validation: float
    patience: int = FLUCOMA_PATIENCE


class Result(NamedTuple):
    epochs: int  # epochs run
    rows: int  # rows that trained
    loss_curve: np.ndarray  # (epochs,) mean batch loss of each epoch
    val_curve: np.ndarray | None  # (epochs,) validation loss of each epoch, None without validation rows
    error: float  # FluCoMa's loss over the training rows after the fit (NaN or inf if it diverged)


def mlpkit_parameters(hidden_layers, activation: str, out_activation: str, settings: Settings, random_state=None) -> dict:
    """The ``mlpkit.MLPRegressor`` parameters that describe a FluCoMa network and its training: the FluCoMa
    estimators' ``network_`` holds them (saving, loading and exporting read them), and the main loop's
    configuration step reads them (``config.program(..., rules="flucoma")``)."""
    validate = settings.validation > 0
    return dict(
        hidden_layer_sizes=tuple(int(n) for n in hidden_layers),
        activation=activation,
        out_activation=out_activation,
        loss="summed_squared_error",
        solver="flucoma_sgd",
        learning_rate_init=settings.learn_rate,
        momentum=settings.momentum,
        batch_size=settings.batch_size,
        max_iter=settings.max_iter,
        alpha=0.0,
        init="glorot_uniform",
        early_stopping=validate,
        validation_fraction=settings.validation if validate else 0.1,
        early_stopping_monitor="loss",
        n_iter_no_change=settings.patience if validate else np.inf,
        tol=0.0,
        shuffle=True,
        warm_start=True,
        random_state=random_state,
        on_divergence="warn",
        dtype="float64",
    )


def backend_for(layout: Layout) -> str:
    """``"numba"`` up to ``SMALL_NETWORK_MAX_WEIGHTS`` weights, ``"blas"`` above.

    Never ``"trainer"`` (the main loop, which ``fit(..., backend="trainer")`` still runs): on this 2-core CPU
    the ``blas`` kernel is 1.3-3.7x faster than it from 360 to 35328 weights and level with it (0.9-1.2x) at
    70k-265k weights, where both are the matrix products' time (``bench/README.md``)."""
    return "numba" if layout.n_weights <= SMALL_NETWORK_MAX_WEIGHTS else "blas"


#: The validation split's counters have this bit set (the epochs' orders use ``epoch << 32 | row``).
_SPLIT_BIT = np.uint64(1 << 63)


class RandomStream(NamedTuple):
    """Training's random numbers, as a function of ``(key, epoch, row)`` (counter-based, splitmix64).

    Epoch ``e``'s order sorts the rows by ``splitmix64(key, e << 32 | i)`` (``_small.epoch_order``,
    ``engine.counter_order``), where ``e`` counts every epoch the network trained (``TrainState.epoch``),
    not this fit's: ten fits of 6 epochs shuffle as one fit of 60, and a saved model (key and epoch)
    shuffles on alike. The validation split of a fit starting at epoch ``e`` sorts the numbers of
    counters ``2^63 | e << 32 | i``.
    """

    key: int  # 64 bits
    epoch: int  # the fit's first epoch, counted over all fits

    @property
    def words(self) -> np.ndarray:
        """The key as ``TrainState.key`` holds it: two uint32 words, high first."""
        return np.array([self.key >> 32, self.key & 0xFFFFFFFF], np.uint32)

    def orders(self, first: int, epochs: int, n: int) -> np.ndarray:
        """``(epochs, n)``: the orders of this fit's epochs ``first .. first + epochs - 1``."""
        return _small.orders(np.uint64(self.key), self.epoch + first, epochs, n)

    def permutation(self, n: int) -> np.ndarray:
        """The fit's validation split: an order of ``n`` rows."""
        counters = _SPLIT_BIT | (np.uint64(self.epoch) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        uniforms = np.empty(n)
        _small.counter_uniforms(np.uint64(self.key), counters, uniforms)
        return np.argsort(uniforms, kind="stable")


def split(X, Y, validation, stream: RandomStream):
    """``(X_train, Y_train, X_val, Y_val)`` of one fit: step 1 of this module's rules."""
    n = X.shape[0]
    n_train = training_rows(n, validation)
    if n_train < 1:
        raise ValueError(
            f"validation={validation!r} of {n} points leaves no point to train on; lower validation or add points."
        )
    if n_train == n:  # nothing left over: no validation (as DataSampler::validationSet)
        return X, Y, X[:0], Y[:0]
    order = stream.permutation(n)
    train, val = order[:n_train], order[n_train:]
    return X[train], Y[train], X[val], Y[val]


#: With callbacks, the numba backend runs at most this many epochs between two reports, so a listener
#: hears of a long fit as it goes and can stop it soon (~20 ms of a tiny network's epochs).
LISTENED_CHUNK_EPOCHS = 1024

#: The hyper-parameters a callback may change during a FluCoMa fit (mlpkit's names, as ``callbacks.py``).
CHANGEABLE = ("learning_rate_init", "momentum")


def fit(params, velocity, layout: Layout, X, Y, settings: Settings, stream: RandomStream, backend=None, *,
        model=None, callbacks=()) -> Result:  # fmt: skip
    """Train ``params`` and ``velocity`` (flat float64 buffers, changed in place) on ``(X, Y)`` for one fit,
    drawing from ``stream``. ``backend`` forces ``"numba"`` or ``"trainer"``; by default ``backend_for(layout)``.

    ``callbacks`` (``mlpkit.callbacks``: ``callback(model, EpochInfo)``, ``on_fit_start``/``on_fit_end``)
    hear of every epoch, as in any mlpkit fit; an answer True stops the fit, a dict of
    ``learning_rate_init``/``momentum`` changes them for the epochs after. Ctrl-C stops it between
    chunks of epochs, keeping what they trained ("Training interrupted by user.").
    """
    X, Y = _kernel_array(X), _kernel_array(Y)
    X, Y, X_val, Y_val = split(X, Y, settings.validation, stream)
    run = BACKENDS[backend or backend_for(layout)]
    epochs, loss_curve, val_curve = run.fit(params, velocity, layout, X, Y, X_val, Y_val, settings, stream, model, list(callbacks))
    error = run.loss(params, layout, X, Y)
    return Result(epochs, X.shape[0], loss_curve, val_curve if len(X_val) else None, float(error))


def check_changes(changes: dict) -> None:
    """Refuse what a FluCoMa fit cannot change mid-way (never ignore a setting)."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValueError(
            f"a callback asked to change {sorted(unknown)} during a FluCoMa fit, which can change only"
            f" {list(CHANGEABLE)} (learn_rate and momentum) then; set the others between fits."
        )


def _kernel_array(a):
    """``a`` as the kernels are compiled for (C-contiguous, writable float64): one machine code for every fit."""
    a = np.ascontiguousarray(a, np.float64)
    return a if a.flags.writeable else a.copy()


# ------------------------------------------------------------------ numba: loops for small networks, BLAS for the rest
def _numba_fit(params, velocity, layout, X, Y, X_val, Y_val, settings, stream, model, callbacks, products):
    """The fit in ``_small.train``'s kernels (``products``: each batch in BLAS products, else in loops), in
    chunks of epochs between which the callbacks hear of them."""
    max_iter = settings.max_iter
    chunk = min(max_iter, LISTENED_CHUNK_EPOCHS) if callbacks else max_iter
    carry = np.array([_small.LARGEST, settings.patience], np.float64)  # the stopping rule's state
    loss_curve, val_curve = np.empty(max_iter), np.full(max_iter, np.nan)
    call_hook(callbacks, "on_fit_start", model, max_iter)
    started, done = time.perf_counter(), 0
    try:
        while done < max_iter:
            epochs = min(chunk, max_iter - done)
            ran = _small.train(
                params, velocity, layout.sizes, layout.codes, X, Y, X_val, Y_val, np.uint64(stream.key),
                stream.epoch + done, epochs, settings.batch_size, settings.learn_rate, settings.momentum,
                settings.patience, carry, loss_curve[done : done + epochs], val_curve[done : done + epochs], products,
            )  # fmt: skip
            first, done = done, done + ran
            answers = _report(model, callbacks, loss_curve, val_curve, settings, first, done, started)
            if ran < epochs or carry[1] <= 0 or True in answers:  # (a stop on a chunk's last epoch runs them all)
                break
            changes = changes_asked(answers)
            if changes:
                check_changes(changes)
                settings = settings._replace(learn_rate=float(changes.get("learning_rate_init", settings.learn_rate)),
                                             momentum=float(changes.get("momentum", settings.momentum)))  # fmt: skip
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
    finally:
        call_hook(callbacks, "on_fit_end", model)
    return done, loss_curve[:done], val_curve[:done]


def _report(model, callbacks, loss_curve, val_curve, settings, first, done, started):
    """``callbacks.report_epochs`` of epochs ``first .. done - 1``."""
    if not callbacks:
        return []
    n = done - first
    new = {"loss": loss_curve[first:done], "val_loss": val_curve[first:done], "score": np.full(n, np.nan),
           "lr": np.full(n, settings.learn_rate)}  # fmt: skip
    history = {name: [np.nan] * first + values.tolist() for name, values in new.items()}
    return report_epochs(model, callbacks, history, first, time.perf_counter() - started)


def _numba_loss(params, layout, X, Y, products):
    return _small.loss(params, layout.sizes, layout.codes, X, Y, products)


# ------------------------------------------------------------------ the main loop, for the rest
def _trainer_fit(params, velocity, layout, X, Y, X_val, Y_val, settings, stream, model, callbacks):
    """The fit in mlpkit's training loop under FluCoMa's rules (``engine.RULES["flucoma"]``): the
    configuration step reads the ``mlpkit_parameters`` of this network and fit, the training state holds
    views of the flat buffers, and what the fit learned is written back into them."""
    names = [FLUCOMA_ACTIVATIONS[int(code)] for code in layout.codes]
    hidden = layout.sizes[1:-1].tolist()
    p = estimators.MLPRegressor(**mlpkit_parameters(hidden, names[0], names[-1], settings))
    p.early_stopping = len(X_val) > 0  # (a validation share too small to hold out a row holds out none)
    with jax.enable_x64(True):
        arch = config.architecture(p, int(layout.sizes[-1]), len(hidden), "identity")
        program = config.program(p, arch, X.shape[0], score="r2", rules="flucoma")
        held_out = (X_val, Y_val, np.ones(len(X_val))) if len(X_val) else ()
        data = training_data.device_data(X, Y, np.ones(len(X)), *held_out)
        state = _train_state(params, velocity, layout, arch, stream, program.solver, settings)
        outcome = trainer.run(program, state, data, config.hyper(p, np.float64, len(hidden)), max_iter=settings.max_iter,
                              model=model, callbacks=callbacks, on_change=check_changes)  # fmt: skip
    params[:] = layout.flatten(outcome.state.params["coefs"], outcome.state.params["intercepts"])
    moved = outcome.state.opt_state.inner_state.velocity
    velocity[:] = layout.flatten(moved["coefs"], moved["intercepts"])
    history = {name: np.asarray(values, np.float64) for name, values in outcome.history.items()}
    return outcome.n_iter, history["loss"], history["val_loss"]


def _train_state(params, velocity, layout, arch, stream, solver, settings):
    """A ``TrainState`` whose weights and ``flucoma_sgd`` velocities are views of the flat buffers, at the
    stream's key and epoch, its stopping record fresh (FluCoMa judges each fit's epochs alone)."""
    coefs, intercepts = layout.views(params)
    extras, stats = layer_extras(layout.sizes.tolist(), arch, np.float64)
    state = new_state({"coefs": tuple(coefs), "intercepts": tuple(intercepts), **extras}, stats, np.float64)
    state = state._replace(key=stream.words, epoch=np.int32(stream.epoch))
    rates = {"learning_rate_init": settings.learn_rate, "momentum": settings.momentum}
    state = trainer.start_state(state, solver, rates, None, new_cycle=False, seed=None, dtype=np.float64)
    coefs, intercepts = layout.views(velocity)
    inner = state.opt_state.inner_state
    velocities = inner._replace(velocity={**inner.velocity, "coefs": tuple(coefs), "intercepts": tuple(intercepts)})
    return state._replace(opt_state=state.opt_state._replace(inner_state=velocities))


def _numpy_loss(params, layout, X, Y):
    """FluCoMa's loss, ``sum (pred - y)^2 / rows``, with numpy's matrix products."""
    h = X
    for W, b, code in zip(*layout.views(params), layout.codes.tolist()):
        h = ACTIVATIONS[FLUCOMA_ACTIVATIONS[code]](h @ W + b, np)
    return np.sum((h - Y) ** 2) / X.shape[0]


class Backend(NamedTuple):
    """How a backend trains and measures: ``fit(params, velocity, layout, X, Y, X_val, Y_val, settings,
    stream, model, callbacks) -> (epochs run, loss curve, validation loss curve)``, in place, and
    ``loss(params, layout, X, Y)``, FluCoMa's loss."""

    fit: Callable
    loss: Callable


@cache
def _blas_threads() -> ThreadpoolController:
    """The process's BLAS libraries (looked for once, ~ms), scipy's among them: numba's ``np.dot`` calls its,
    so it is loaded first, for the controller to find."""
    importlib.import_module("scipy.linalg.cython_blas")
    return ThreadpoolController()


def _on_one_blas_thread(function: Callable) -> Callable:
    """``function`` with the BLAS libraries held to one thread while it runs: flucoma-core's Eigen products
    are single-threaded, and a batch's products (50 rows) are too small to share: OpenBLAS's two threads
    made the ``blas`` backend 5-10x slower on networks of 70k weights or more on this 2-core machine
    (``bench/README.md``). ~20 µs a call."""

    def on_one_thread(*args, **kwargs):
        with _blas_threads().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return on_one_thread


def _numba_backend(products: bool) -> Backend:
    fit, loss = partial(_numba_fit, products=products), partial(_numba_loss, products=products)
    return Backend(_on_one_blas_thread(fit), _on_one_blas_thread(loss)) if products else Backend(fit, loss)


BACKENDS = {"numba": _numba_backend(False), "blas": _numba_backend(True), "trainer": Backend(_trainer_fit, _numpy_loss)}
