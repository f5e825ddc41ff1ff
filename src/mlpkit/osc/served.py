"""``ServedModel``: one named model of the OSC server, its points, and fits that never hold up predictions.

A served model holds a FluCoMa-style estimator (``mlpkit.flucoma.MLPRegressor`` or
``MLPClassifier``), the points sent to it (a ``DataSet`` of inputs and a ``DataSet``
or ``LabelSet`` of targets, paired by identifier as FluCoMa pairs them) and a
*predictor*: a second estimator with the weights of the last finished fit (or
read), built with the estimator's public ``get_params`` / ``to_dict`` / ``read``.

Two threads touch it: the server's, which handles every message, and a fit
thread, which runs ``estimator.fit`` in the background. The rules that keep them
apart:

- predictions use the predictor, which a fit never touches: a new one replaces it
  (one reference assignment) when a fit ends, so a prediction never waits;
- while a fit runs only the fit thread touches the estimator: ``/mlp/set``,
  ``/mlp/read`` and ``/mlp/reset`` wait in ``pending`` and apply, in order, when it
  ends (FluCoMa reads its parameters when a fit starts anyway);
- the fit trains on copies of the points, taken when it starts, so points can
  come in while it runs; the copies are reused while no point changed (the
  estimator then reuses its pairing of the rows too);
- one more fit asked for during a fit is queued and starts when it ends; a third is
  refused (``fit`` says which), so a metro faster than training cannot pile up work.
"""

from __future__ import annotations

import threading

from .. import flucoma
from .watch import FitWatcher

#: Kind -> (estimator class, target set class).
KINDS = {
    "regressor": (flucoma.MLPRegressor, flucoma.DataSet),
    "classifier": (flucoma.MLPClassifier, flucoma.LabelSet),
}

#: What ``fit`` answers: the fit started, was queued behind the running one, or was refused.
STARTED, QUEUED, BUSY = "started", "queued", "busy"


class ModelError(ValueError):
    """Something asked of a served model that it cannot do now; the message says what to do instead."""


def kind_of(estimator) -> str:
    """``"regressor"`` or ``"classifier"`` for a FluCoMa-style estimator."""
    for kind, (cls, _) in KINDS.items():
        if isinstance(estimator, cls):
            return kind
    raise TypeError(f"a served model is a mlpkit.flucoma MLPRegressor or MLPClassifier, not {type(estimator).__name__}")


def snapshot(estimator):
    """A new estimator with ``estimator``'s parameters and weights (None if it has no network yet).

    Built through FluCoMa's JSON (``to_dict`` then ``read``), so it holds the weights and
    nothing of the training: a few hundred microseconds for FluCoMa-sized networks.
    """
    try:
        layers = estimator.to_dict()
    except RuntimeError:  # no network yet
        return None
    return type(estimator)(**estimator.get_params()).read(layers)


def copy_points(points):
    """An independent copy of a DataSet or LabelSet (the fit's, while new points arrive)."""
    return type(points).from_numpy(*points.to_numpy())


class ServedModel:
    """A named model with its points; see the module's docstring for how fits and predictions share it.

    Called from the fit thread: ``on_epoch(model, client, epoch, loss)``;
    ``after_fit(model)`` when a fit succeeded, while the estimator is still the fit's
    alone (the server saves it then); ``on_fit_end(model, client, result)`` (``result``
    the fit's error, or the exception it raised) once the changes that waited for the
    fit applied, so a client that hears of the end finds the model idle (or on the fit
    it queued).
    """

    def __init__(self, name: str, estimator, inputs=None, targets=None, *, on_epoch, on_fit_end, after_fit,
                 dashboard=None):
        self.name = name
        self.kind = kind_of(estimator)
        self.estimator = estimator
        self.inputs = inputs if inputs is not None else flucoma.DataSet()
        self.targets = targets if targets is not None else KINDS[self.kind][1]()
        self.progress_every = 0  # the server knob "progress"
        self.declared_inputs = None  # the server knob "inputs"
        self.dashboard = dashboard
        self.on_epoch, self.on_fit_end, self.after_fit = on_epoch, on_fit_end, after_fit
        self.predictor = snapshot(estimator)
        self.points_version = 0  # counts changes of the points (the server saves them when it moved)
        self._lock = threading.Lock()
        self._copies = None  # (points_version, inputs, targets): what fits train on
        self._fitting = False
        self._queued = None  # the client of the fit waiting for this one, if any
        self._pending: list = []  # changes of the estimator waiting for the fit to end
        self._thread = None
        self._stop = threading.Event()  # the server is closing: stop, and start no queued fit
        self._stop_fit = threading.Event()  # /mlp/stop: stop the running fit

    # ------------------------------------------------------------------ state
    @property
    def fitting(self) -> bool:
        return self._fitting

    @property
    def count(self) -> int:
        """Points with both inputs and a target: those a fit trains on."""
        with self._lock:
            return sum(1 for identifier in self.inputs.ids if identifier in self.targets)

    @property
    def n_inputs(self) -> int | None:
        """How many values of ``/mlp/point`` are inputs: the points' width, else the declared one, else the network's."""
        if self.inputs.cols is not None:
            return self.inputs.cols
        if self.declared_inputs is not None:
            return self.declared_inputs
        predictor = self.predictor
        return None if predictor is None else predictor.layers[0].weights.shape[0]

    # ------------------------------------------------------------------ points
    def add_point(self, identifier: str, inputs, target) -> int:
        """Add (or replace) one point; the point count after it. Checked whole before anything changes."""
        with self._lock:
            for points, values, what in ((self.inputs, inputs, "inputs"), (self.targets, target, "targets")):
                cols = getattr(points, "cols", None)
                if isinstance(points, flucoma.DataSet) and cols is not None and len(values) != cols:
                    raise ModelError(
                        f"point {identifier!r} has {len(values)} {what}, but {self.name}'s points have {cols};"
                        " /mlp/clear first to start over with another width"
                    )
            self.targets.set_point(identifier, target)
            self.inputs.set_point(identifier, inputs)
            self.points_version += 1
        return self.count

    def clear_points(self) -> None:
        with self._lock:
            self.inputs.clear()
            self.targets.clear()
            self.points_version += 1

    def load_points(self, inputs=None, targets=None) -> int:
        """Replace the inputs and/or the targets with sets read from files; the point count after it."""
        with self._lock:
            if inputs is not None:
                self.inputs = inputs
            if targets is not None:
                self.targets = targets
            self.points_version += 1
        return self.count

    def points_as_dicts(self) -> tuple[dict, dict]:
        """FluCoMa's JSON objects of the inputs and targets, as they are now."""
        with self._lock:
            return self.inputs.to_dict(), self.targets.to_dict()

    # ------------------------------------------------------------------ the estimator
    def change(self, apply) -> bool:
        """Run ``apply(estimator)`` now, or when the running fit ends; True if it waits for the fit."""
        with self._lock:
            if self._fitting:
                self._pending.append(apply)
                return True
            apply(self.estimator)
            self.predictor = snapshot(self.estimator)
            return False

    def set_param(self, python_name: str, value) -> bool:
        """Set one parameter (a server knob, or the estimator's); True if it waits for the running fit."""
        if python_name == "progress":
            self.progress_every = value
            return False
        if python_name == "inputs":
            if self.inputs.cols is not None and self.inputs.cols != value:
                raise ModelError(
                    f"{self.name}'s points have {self.inputs.cols} inputs; /mlp/clear {self.name} first to change it"
                )
            self.declared_inputs = value
            return False
        return self.change(lambda estimator: estimator.set_params(**{python_name: value}))

    def params(self) -> dict:
        """The estimator's parameters as they will be for the next fit (waiting changes included)."""
        with self._lock:
            if not self._pending:
                return self.estimator.get_params()
        probe = type(self.estimator)(**self.estimator.get_params())  # the running fit's estimator stays untouched
        for apply in list(self._pending):
            apply(probe)
        return probe.get_params()

    def replace_estimator(self, estimator) -> bool:
        """Hold ``estimator`` (read from a file) from now on, or from the end of the running fit."""
        if kind_of(estimator) != self.kind:
            raise ModelError(f"{self.name} is a {self.kind}; this file holds a {kind_of(estimator)}")

        def adopt(_old):
            self.estimator = estimator

        with self._lock:
            if self._fitting:
                self._pending.append(adopt)
                return True
            adopt(None)
            self.predictor = snapshot(estimator)
            return False

    # ------------------------------------------------------------------ predict
    def predict(self, values):
        """The prediction of the last finished fit for one point: a list of floats or a label."""
        predictor = self.predictor  # one read: a fit ending meanwhile swaps in a whole new one
        if predictor is None:
            raise ModelError(f"{self.name} has no trained network yet: /mlp/fit {self.name} first, or /mlp/read a model file")
        result = predictor.predict_point(values)
        return result if isinstance(result, str) else [float(v) for v in result]

    # ------------------------------------------------------------------ fit
    def fit(self, client) -> str:
        """Start a fit in the background (``STARTED``), queue it behind the running one (``QUEUED``), or refuse (``BUSY``)."""
        with self._lock:
            if self._fitting:
                if self._queued is not None:
                    return BUSY
                self._queued = client
                return QUEUED
            if not any(identifier in self.targets for identifier in self.inputs.ids):
                raise ModelError(
                    f"{self.name} has no points to fit: send /mlp/point {self.name} ID values... or load"
                    " /mlp/dataset and /mlp/" + ("labelset" if self.kind == "classifier" else "targets") + " files"
                )
            self._fitting = True
            self._stop.clear()
            self._thread = threading.Thread(target=self._fit_loop, args=(client,), name=f"mlpkit-osc-fit-{self.name}", daemon=True)
            self._thread.start()
            return STARTED

    def _training_points(self):
        """The points fits train on: copies, made again only after a change (called with the lock held)."""
        if self._copies is None or self._copies[0] != self.points_version:
            self._copies = (self.points_version, copy_points(self.inputs), copy_points(self.targets))
        return self._copies[1:]

    def _fit_loop(self, client) -> None:
        """Fit, then the queued fit if any; the model is released whatever happens."""
        try:
            while client is not None:
                result = self._fit_once(client)
                with self._lock:
                    for apply in self._pending:
                        apply(self.estimator)
                    if self._pending:
                        self.predictor = snapshot(self.estimator)
                    self._pending.clear()
                    finished, client, self._queued = client, self._queued, None
                    if client is None or self._stop.is_set():
                        client = None
                        self._fitting = False
                self.on_fit_end(self, finished, result)  # the model is idle (or on its queued fit) when told
        finally:
            with self._lock:
                self._fitting = False

    def _fit_once(self, client):
        """One fit: its error, or the exception it raised (the estimator is then as it was)."""
        with self._lock:
            inputs, targets = self._training_points()
            self._stop_fit.clear()
        watcher = FitWatcher(
            lambda epoch, loss: self.on_epoch(self, client, epoch, loss),
            lambda: self.progress_every, lambda: self._stop.is_set() or self._stop_fit.is_set(), self.dashboard,
        )
        estimator = self.estimator  # only this thread touches it until _fitting is False
        watcher.attach(estimator)
        try:
            result = estimator.fit(inputs, targets)
        except Exception as error:  # noqa: BLE001 - reported to the client
            return error
        finally:
            watcher.detach()
        watcher.catch_up(estimator)
        if watcher.changes:
            estimator.set_params(**watcher.changes)
        self.predictor = snapshot(estimator)
        self.after_fit(self)
        return result

    def stop_fit(self) -> bool:
        """Ask the running fit to stop after its current chunk of epochs (it keeps its best weights); False if
        none runs. A fit that builds a new network (the first one) is not listening and runs to its end."""
        with self._lock:
            if self._fitting:
                self._stop_fit.set()
            return self._fitting

    def stop(self, timeout: float) -> bool:
        """Ask a running fit to stop after its current chunk of epochs, and drop a queued one; False if it
        was still running after ``timeout`` seconds."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

