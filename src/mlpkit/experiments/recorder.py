"""``RunRecorder``: record one fit as a run in a ``RunStore`` — what ``fit(X, y, track=...)`` uses.

>>> model.fit(X, y, track=True)              # doctest: +SKIP  (./mlpkit-runs)
>>> model.fit(X, y, track="experiments/")    # doctest: +SKIP
>>> recorder = RunRecorder("experiments/", name="wide net")
>>> model.fit(X, y, track=recorder)          # doctest: +SKIP
>>> recorder.store.run(recorder.run_id).scores   # doctest: +SKIP

A recorder is a *fit watcher*: ``fit`` hands it the data (``watch``), then calls
it like a callback (``on_fit_start``, once per epoch, ``on_fit_end``) and finally
``on_fit_succeeded(model)`` or ``on_fit_failed(model, error)``. Only the last two
see the trained estimator (the per-epoch calls come while the weights are still
inside the compiled loop), so the model is saved and scored there.

What a run holds: the estimator's parameters, the per-epoch training loss,
validation loss and score (with early stopping) and learning rate, the scores
(``train_score`` on the fit data, ``best_validation_score`` with early stopping,
the final ``loss`` and the number of ``epochs``), the wall time, a fingerprint of
the data (``data_fingerprint``: the same data gives the same text, so runs on the
same data can be found) and the model, saved with ``mlpkit.save`` in the runs
directory's ``models/``. L-BFGS fits have no per-epoch calls: their curve is
taken from the fitted model at the end.

The recorder watches the *network*, the one part that trains epoch by epoch. A
network inside a larger model (a Pipeline whose data preparation or scaler comes
first, a TransformedTargetRegressor scaling the targets) is only part of what
predicts on the raw table; so the code that fits such a model says so
(``RunRecorder(..., model_follows=True)``) and hands the whole fitted model over
at the end (``recorder.finish(model)``), and that is what the run keeps.

``FitWatcher`` is the part every watcher shares (``MLflowCallback`` builds on it too).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
from pathlib import Path

import numpy as np

from .store import CURVE_COLUMNS, DEFAULT_RUNS, RunStore

__all__ = [
    "DEFAULT_RUNS",
    "FitWatcher",
    "RunRecorder",
    "data_fingerprint",
    "estimator_name",
    "final_scores",
    "recorder_from_option",
    "run_params",
]

#: Epochs are written to the store at most this often (seconds), and at the end of the fit.
FLUSH_SECONDS = 0.5

#: EpochInfo field -> fitted attribute holding the same per-epoch values, for fits that report no epochs.
HISTORY_ATTRIBUTES = {
    "loss": "loss_curve_",
    "validation_loss": "validation_loss_curve_",
    "validation_score": "validation_scores_",
    "learning_rate": "learning_rate_curve_",
}


# ------------------------------------------------------------------------------------ what is recorded
def data_fingerprint(X, y=None, sample_weight=None) -> str:
    """A short hash of the training data: every array's bytes, shape and dtype (sparse: its three arrays).

    Why: two runs are comparable only on the same data; the fingerprint says so
    without storing the data. It costs one pass over the bytes (BLAKE2b).
    """
    digest = hashlib.blake2b(digest_size=16)
    for part in (X, y, sample_weight):
        for array in _arrays_of(part):
            digest.update(f"{array.shape}|{array.dtype.str}|".encode())
            if array.dtype == object:  # pointers in memory: hash the values' text instead
                digest.update("\x1f".join(map(repr, array.ravel().tolist())).encode("utf-8", "surrogatepass"))
            else:
                digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    return digest.hexdigest()


def _arrays_of(data):
    if data is None:
        return [np.array(None, dtype=object)]  # "no sample weights" hashes differently from any array
    if hasattr(data, "indptr") and hasattr(data, "indices"):  # scipy CSR/CSC
        return [np.asarray(data.data), np.asarray(data.indices), np.asarray(data.indptr), np.asarray(data.shape)]
    if hasattr(data, "to_numpy"):  # pandas
        return [data.to_numpy()]
    return [np.asarray(data)]


def estimator_name(estimator) -> str:
    """The class name; a Pipeline's steps joined by ' > ' (``StandardScaler > MLPClassifier``)."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list):
        return " > ".join(type(step).__name__ for _, step in steps if step not in (None, "passthrough"))
    return type(estimator).__name__


def run_params(estimator) -> dict:
    """The parameters a run records: ``get_params()``, without the nested estimators themselves (a
    Pipeline's steps appear through their ``step__param`` entries)."""
    params = estimator.get_params(deep=True)
    return {name: value for name, value in params.items()
            if name != "steps" and not hasattr(value, "get_params")}


def final_scores(model, X=None, y=None, sample_weight=None) -> dict:
    """Scores of a trained model: ``train_score`` (on X, y, when given), ``best_validation_score``
    (early stopping), the last training ``loss`` and the ``epochs`` (iterations) it ran."""
    scores = {}
    if X is not None and y is not None:
        scores["train_score"] = float(model.score(X, y, sample_weight=sample_weight))
    best = getattr(model, "best_validation_score_", None)
    if best is not None:
        scores["best_validation_score"] = float(best)
    if getattr(model, "loss_", None) is not None:
        scores["loss"] = float(model.loss_)
    if getattr(model, "n_iter_", None) is not None:
        scores["epochs"] = int(model.n_iter_)
    return scores


def history_rows(model) -> list[tuple]:
    """Per-epoch rows of the model's last fit, from its fitted curves (for fits that reported none).

    Stochastic solvers keep ``loss_curve_`` and the curves beside it (the last
    ``n_iter_`` entries are the last fit's); L-BFGS keeps only the final loss,
    one row at its last iteration.
    """
    n_iter = int(getattr(model, "n_iter_", 0) or 0)
    loss = list(getattr(model, "loss_curve_", None) or [])
    if not loss:
        final = getattr(model, "loss_", None)
        return [] if final is None or not n_iter else [(n_iter, float(final), math.nan, math.nan, math.nan)]
    columns = []
    for field in CURVE_COLUMNS:
        values = list(getattr(model, HISTORY_ATTRIBUTES[field], None) or [])[-n_iter:]
        columns.append(values + [math.nan] * (n_iter - len(values)))
    return [(epoch + 1, *(column[epoch] for column in columns)) for epoch in range(n_iter)]


class EpochBuffer:
    """Per-epoch rows gathered from the fit's callback calls and written in batches.

    Why batches: one write per epoch would cost more than the epoch itself for
    small networks; written at most every ``FLUSH_SECONDS``, the runs page still
    sees the curves grow while the fit runs.
    """

    def __init__(self, write):
        self._write = write  # function(list of rows)
        self._rows = []
        self._last_flush = time.monotonic()
        self.count = 0
        self.summary = {}  # scores of the epochs so far: the last loss, the epochs, the best validation score

    def add(self, info) -> None:
        self._rows.append((info.epoch, *(getattr(info, field) for field in CURVE_COLUMNS)))
        self.count += 1
        self.summary.update(loss=info.loss, epochs=info.epoch)
        if not math.isnan(info.validation_score):
            best = self.summary.get("best_validation_score", -math.inf)
            self.summary["best_validation_score"] = max(best, info.validation_score)
        if time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def add_rows(self, rows) -> None:
        self._rows.extend(rows)
        self.count += len(rows)

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        self._last_flush = time.monotonic()
        if rows:
            self._write(rows)


# ------------------------------------------------------------------------------------ watchers
class FitWatcher:
    """The protocol of a fit watcher, with the bookkeeping every one shares.

    A subclass writes somewhere: ``_begin(model)`` (the fit starts; parameters are
    known), ``_write_epochs(rows)``, ``_succeed(model, scores)`` and ``_fail(error)``.
    """

    def __init__(self):
        self._data = (None, None, None)
        self._buffer = None
        self._started = None
        self._watching = False

    def watch(self, X, y, sample_weight=None):
        """The data of the coming fit (for the fingerprint and the training score); returns self.

        ``fit(..., track=watcher)`` calls it, and later ``on_fit_succeeded`` or
        ``on_fit_failed``. A watcher given in ``callbacks=[...]`` instead is never
        told how the fit ended, nor sees the trained weights: it ends its record at
        ``on_fit_end`` with the scores of the epochs it heard of, and no model.
        """
        self._data = (X, y, sample_weight)
        self._buffer = None
        self._started = time.perf_counter()
        self._watching = True
        return self

    @property
    def wall_time(self) -> float | None:
        return None if self._started is None else time.perf_counter() - self._started

    def _ensure_begun(self, model):
        if self._buffer is None:
            if self._started is None:
                self._started = time.perf_counter()
            try:
                self._begin(model)
            except Exception:
                self._begin_failed = True  # (MLflow missing, store unwritable): no run to mark failed later
                raise
            self._buffer = EpochBuffer(self._write_epochs)

    # -------------------------------------------------------------- protocol
    def on_fit_start(self, model, max_iter):
        self._ensure_begun(model)

    def __call__(self, model, info):
        self._ensure_begun(model)
        self._buffer.add(info)

    def on_fit_end(self, model):
        if self._buffer is None:
            return
        self._buffer.flush()
        if not self._watching:  # a plain callback: nothing later will say how the fit ended
            summary = dict(self._buffer.summary)
            self._end(lambda: self._succeed(None, summary))

    def on_fit_succeeded(self, model):
        self._ensure_begun(model)
        if not self._buffer.count:  # L-BFGS, or a fit that reported no epochs
            self._buffer.add_rows(history_rows(model))
        self._end(self._buffer.flush, lambda: self._succeed(model, final_scores(model, *self._data)))

    def on_fit_failed(self, model, error):
        if getattr(self, "_begin_failed", False):
            return  # the failure was this watcher's own, already raised by the fit
        self._ensure_begun(model)
        self._end(self._buffer.flush, lambda: self._fail(error))

    def _end(self, *steps):
        """Write the end of the record; if that fails, record the failure instead (the error still rises)."""
        try:
            for step in steps:
                step()
        except BaseException as error:
            self._fail(error)
            raise
        finally:
            self._buffer, self._watching = None, False

    # ------------------------------------------------------- for subclasses
    def _begin(self, model):
        raise NotImplementedError

    def _write_epochs(self, rows):
        raise NotImplementedError

    def _succeed(self, model, scores):
        """The fit ended well: record ``scores`` and the trained ``model`` (None: not known, see ``watch``)."""
        raise NotImplementedError

    def _fail(self, error):
        raise NotImplementedError


class RunRecorder(FitWatcher):
    """Records each fit it watches as a run in the ``RunStore`` of ``runs`` (a directory).

    Parameters
    ----------
    runs : str or path, default "mlpkit-runs"
        The runs directory (created if missing).
    name : str, optional
        A label for the runs (shown on the runs page).
    save_model : bool, default True
        Save the trained model in ``<runs>/models/run-<id>.mlpkit``.
    sweep, trial : optional
        The sweep and trial the run belongs to (set by ``mlpkit.sweep``).
    model_follows : bool, default False
        The watched network is the last step of a larger model, which the code fitting it hands over
        with ``finish(model)`` once every step is fitted: the run ends then, keeping that whole model
        (preparation, scalers, target transformer and network). Until then the run stays running.

    After a fit, ``run_id`` is the id of its run and ``store`` the ``RunStore``.
    A fit that raises is recorded as failed with its error; a process that dies
    mid-fit leaves a run that the store marks failed (see ``mlpkit.experiments.store``).
    """

    def __init__(self, runs=DEFAULT_RUNS, *, name=None, save_model=True, sweep=None, trial=None,
                 model_follows=False):
        super().__init__()
        self.store = runs if isinstance(runs, RunStore) else RunStore(runs)
        self.name, self.save_model, self.sweep, self.trial = name, save_model, sweep, trial
        self.model_follows = model_follows
        self.run_id = None
        self._waiting = None  # (scores, wall time) of a fit whose run waits for its whole model (finish)

    def __repr__(self):
        return f"RunRecorder({str(self.store.directory)!r}, name={self.name!r})"

    def watch(self, X, y, sample_weight=None):
        if self._waiting is not None:  # the last fit's whole model never came: its run cannot keep one
            self._waiting = None
            self.store.fail_run(self.run_id, "the fitted model was never handed to its recorder (finish(model))")
        return super().watch(X, y, sample_weight)

    def _begin(self, model):
        X, y, sample_weight = self._data
        self.run_id = self.store.start_run(
            estimator_name(model), run_params(model), name=self.name, sweep=self.sweep, trial=self.trial,
            data_fingerprint=None if X is None else data_fingerprint(X, y, sample_weight),
        )

    def _write_epochs(self, rows):
        self.store.log_epochs(self.run_id, rows)

    def _succeed(self, model, scores):
        if self.model_follows and model is not None:
            self._waiting = (scores, self.wall_time)  # (the network alone cannot predict on the raw table)
            return
        self._finish(model, scores, self.wall_time)

    @property
    def waiting_for_model(self) -> bool:
        """Whether a fit ended well and its run waits for the whole model (``model_follows``, ``finish``)."""
        return self._waiting is not None

    def finish(self, model):
        """End the run of the fit just watched, keeping ``model``: the whole fitted model around the network.

        For ``model_follows=True``: the code that fitted the model calls this once every step is
        fitted. If saving fails, the run is recorded as failed and the error raised.
        """
        if self._waiting is None:
            raise ValueError(
                "finish(model): no fit watched by this recorder is waiting for its model; give the recorder"
                " model_follows=True, fit with track=recorder, and call finish once the fit has succeeded"
            )
        (scores, wall_time), self._waiting = self._waiting, None
        try:
            self._finish(model, scores, wall_time)
        except BaseException as error:
            self._fail(error)
            raise

    def _finish(self, model, scores, wall_time):
        model_path = None
        if self.save_model and model is not None:
            from ..io import save

            model_path = self.store.models / f"run-{self.run_id}.mlpkit"
            with without_callbacks(model):
                try:
                    save(model, model_path)
                except ValueError:  # moments that are not finite (a diverged fit kept with on_divergence="warn")
                    save(model, model_path, optimizer_state=False)  # the weights, or the first error again
        self.store.finish_run(self.run_id, scores, model_path=model_path, wall_time=wall_time)

    def _fail(self, error):
        self.store.fail_run(self.run_id, error)


@contextlib.contextmanager
def without_callbacks(model):
    """The model as it is saved: its network's callbacks (objects the file format does not hold) are not
    part of it."""
    from .._wrappers import network_of

    network = network_of(model)
    callbacks = network.callbacks
    network.callbacks = None
    try:
        yield model
    finally:
        network.callbacks = callbacks


def recorder_from_option(track, X, y, sample_weight=None):
    """The watcher for ``fit(..., track=...)``, told about the data: True (``./mlpkit-runs``), a runs directory
    (str or path), a ``RunRecorder``, or any watcher with ``watch`` (such as ``MLflowCallback``)."""
    if track is True:
        watcher = RunRecorder(DEFAULT_RUNS)
    elif isinstance(track, (str, os.PathLike)):
        watcher = RunRecorder(Path(track))
    elif callable(getattr(track, "watch", None)) and callable(getattr(track, "on_fit_succeeded", None)):
        watcher = track
    else:
        raise TypeError(
            f"track={track!r}: give True (record in ./{DEFAULT_RUNS}), a runs directory (str or path), a"
            " mlpkit.experiments.RunRecorder, or an mlpkit.experiments.MLflowCallback"
        )
    return watcher.watch(X, y, sample_weight)
