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

Two backends run this: ``_small.py`` (numba, row by row) for small networks, ``_large.py``
(JAX, whole batches) for the rest, chosen by ``backend_for``. Both take the parameters
and velocities as flat buffers (``Layout``), take every random order from the same
``RandomStream`` (counter-based: epoch ``e``'s order depends on the key and ``e`` alone,
so a loop of short fits draws what one long fit does), and so train alike to rounding.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from . import _small

#: Epochs in a row without a lower validation loss than the previous epoch's after which a fit stops
#: (``SGD.hpp``: ``mInitialPatience``).
FLUCOMA_PATIENCE = 10

#: Networks with at most this many weights (multiply-adds per row: ``sum fan_in * fan_out``) train in numba
#: (``_small``), larger ones in JAX (``_large``). Measured with ``bench/flucoma_backends.py`` on this 2-core
#: machine under load (see ``bench/README.md``): numba 4x faster at 40 weights (200 rows), 1.5-2.4x at 360
#: (200 and 2000 rows), level at ~700, JAX 2-3x faster from ~1000 on.
SMALL_NETWORK_MAX_WEIGHTS = 500


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


def backend_for(layout: Layout) -> str:
    """``"small"`` (numba) or ``"large"`` (JAX): see ``SMALL_NETWORK_MAX_WEIGHTS``."""
    return "small" if layout.n_weights <= SMALL_NETWORK_MAX_WEIGHTS else "large"


#: The validation split's counters have this bit set (the epochs' orders use ``epoch << 32 | row``).
_SPLIT_BIT = np.uint64(1 << 63)


class RandomStream(NamedTuple):
    """Training's random numbers, as a function of ``(key, epoch, row)`` (counter-based, splitmix64).

    Uniform number ``u[e, i] = (splitmix64_key(e << 32 | i) >> 11) / 2^53`` (``_small.counter_uniforms``)
    drives row ``i`` of epoch ``e``'s shuffle, where ``e`` counts every epoch the network trained (``TrainState.epoch``), not this fit's:
    ten fits of 6 epochs shuffle as one fit of 60, and a saved model (key and epoch) shuffles on alike.
    The validation split of a fit starting at epoch ``e`` sorts the numbers of counters ``2^63 | e << 32 | i``.
    """

    key: int  # 64 bits
    epoch: int  # the fit's first epoch, counted over all fits

    def uniforms(self, first: int, epochs: int, n: int) -> np.ndarray:
        """``(epochs, n)`` numbers in [0, 1) for this fit's epochs ``first .. first + epochs - 1``."""
        return _small.epoch_uniforms(np.uint64(self.key), self.epoch + first, epochs, n)

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


#: Most random numbers drawn at a time (one per training row and epoch; 8 MB).
UNIFORMS_PER_CHUNK = 1 << 20


#: With a listener (``fit(..., on_chunk=)``), at most this many epochs run between two reports, so a
#: listener hears of a long fit as it goes and can stop it soon (~20 ms of a tiny network's epochs).
LISTENED_CHUNK_EPOCHS = 1024


def fit(params, velocity, layout: Layout, X, Y, settings: Settings, stream: RandomStream, backend=None,
        on_chunk=None) -> Result:  # fmt: skip
    """Train ``params`` and ``velocity`` (flat float64 buffers, changed in place) on ``(X, Y)`` for one fit,
    drawing from ``stream``. ``backend`` forces ``"small"`` or ``"large"``; by default ``backend_for(layout)``.
    ``on_chunk(first_epoch, losses, validation_losses)`` hears of each chunk of epochs; it returns True
    to stop the fit there, a dict of new ``learn_rate``/``momentum`` for the epochs after, or None.

    The random numbers: the split's permutation (with validation rows), then, chunk after chunk of
    epochs, one uniform number per training row and epoch (``stream.uniforms``), from which
    ``_small.shuffle`` makes each epoch's order; both backends use the same numbers.
    """
    X, Y = _kernel_array(X), _kernel_array(Y)
    X, Y, X_val, Y_val = split(X, Y, settings.validation, stream)
    run = BACKENDS[backend or backend_for(layout)]
    n = X.shape[0]
    chunk = max(1, min(settings.max_iter, UNIFORMS_PER_CHUNK // n, LISTENED_CHUNK_EPOCHS if on_chunk else np.inf))
    carry = np.array([_small.LARGEST, settings.patience], np.float64)  # the stopping rule's state
    loss_curve, val_curve = np.empty(settings.max_iter), np.empty(settings.max_iter)
    done = 0
    while done < settings.max_iter:
        epochs = min(chunk, settings.max_iter - done)
        uniforms = stream.uniforms(done, epochs, n)
        ran = run.epochs(params, velocity, layout, X, Y, X_val, Y_val, uniforms, settings, carry,
                  loss_curve[done : done + epochs], val_curve[done : done + epochs])  # fmt: skip
        first, done = done, done + ran
        held_out = val_curve[first:done] if len(X_val) else None
        answer = None if on_chunk is None else on_chunk(first, loss_curve[first:done], held_out)
        if ran < epochs or answer is True:
            break
        if answer:
            settings = settings._replace(**answer)
    error = run.loss(params, layout, X, Y)
    return Result(done, n, loss_curve[:done], val_curve[:done] if len(X_val) else None, float(error))


def _kernel_array(a):
    """``a`` as the kernels are compiled for (C-contiguous, writable float64): one machine code for every fit."""
    a = np.ascontiguousarray(a, np.float64)
    return a if a.flags.writeable else a.copy()


def _small_epochs(params, velocity, layout, X, Y, X_val, Y_val, uniforms, settings, carry, loss_curve, val_curve):
    return _small.train(
        params, velocity, layout.sizes, layout.codes, X, Y, X_val, Y_val, uniforms, settings.batch_size,
        settings.learn_rate, settings.momentum, settings.patience, carry, loss_curve, val_curve,
    )  # fmt: skip


def _small_loss(params, layout, X, Y):
    return _small.loss(params, layout.sizes, layout.codes, X, Y)


def _large_epochs(*args):
    from . import _large  # JAX's import and compilation only where a large network needs them

    return _large.train(*args)


def _large_loss(params, layout, X, Y):
    from . import _large

    return _large.loss(params, layout, X, Y)


class Backend(NamedTuple):
    """How a backend trains and measures: ``epochs(params, velocity, layout, X, Y, X_val, Y_val, uniforms,
    settings, carry, loss_curve, val_curve) -> epochs run`` (one epoch per row of ``uniforms``, curves written
    in place, ``carry`` the stopping rule's state) and ``loss(params, layout, X, Y)``, FluCoMa's loss."""

    epochs: Callable
    loss: Callable


BACKENDS = {"small": Backend(_small_epochs, _small_loss), "large": Backend(_large_epochs, _large_loss)}
