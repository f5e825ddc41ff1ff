"""What a fit reports as it goes: per-epoch records, callbacks, and the two built-in reporters.

The compiled loop runs a chunk of epochs (about a quarter of a second of work)
at a time; after each chunk the estimator hands every callback one
``EpochInfo`` per finished epoch. A callback is any callable
``callback(model, info)``. What it returns steers the fit after that chunk:

- ``True`` stops training (the best weights are kept as usual);
- a dict of hyper-parameters the solver keeps in its state, such as
  ``{"learning_rate_init": 0.01, "momentum": 0.5}``, changes them for the rest
  of the fit (and on the estimator), keeping the optimiser's moments;
- ``None`` or ``False`` lets it go on.

Objects may also define ``on_fit_start(model, max_iter)`` and ``on_fit_end(model)``.

``verbose=True`` uses ``VerbosePrinter`` (scikit-learn's lines) and
``progress=True`` uses ``ProgressBar`` (a rich progress bar, which also works in
Jupyter).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EpochInfo:
    """One finished epoch of the current fit."""

    epoch: int  # 1-based, counted within this fit
    loss: float  # mean training loss of the epoch's mini-batches
    validation_loss: float  # NaN without early stopping
    validation_score: float  # NaN without early stopping
    learning_rate: float  # at the start of the epoch
    elapsed: float  # seconds since the fit started


class VerbosePrinter:
    """scikit-learn's ``verbose`` output: one line per epoch (and the validation score)."""

    def __call__(self, model, info: EpochInfo):
        print("Iteration %d, loss = %.8f" % (info.epoch, info.loss))
        if not math.isnan(info.validation_score):
            print("Validation score: %f" % info.validation_score)


class ProgressBar:
    """A rich progress bar: epoch, training and validation loss, learning rate, time left."""

    def __init__(self, description="training"):
        self.description = description
        self._progress = None

    def on_fit_start(self, model, max_iter):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("val {task.fields[val]}"),
            TextColumn("lr {task.fields[lr]}"),
            TimeRemainingColumn(),
        )
        self._task = self._progress.add_task(self.description, total=max_iter, loss="-", val="-", lr="-")
        self._progress.start()

    def __call__(self, model, info: EpochInfo):
        if self._progress is None:
            return
        val = "-" if math.isnan(info.validation_loss) else f"{info.validation_loss:.4g}"
        self._progress.update(
            self._task, completed=info.epoch, loss=f"{info.loss:.4g}", val=val, lr=f"{info.learning_rate:.3g}"
        )

    def on_fit_end(self, model):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class PopulationProgressBar:
    """One rich progress bar for a population (``mlpkit.fit_many``): epochs of all its members together,
    how many still train, the lowest training and validation loss among them. Every member's callbacks
    hold this one object (in place of a ``ProgressBar`` each: rich shows one live display at a time)."""

    def __init__(self, description="population"):
        self.description = description
        self._progress = None
        self._epochs = {}  # id(member) -> [epochs done, max_iter]
        self._running = set()
        self._best = {"loss": math.inf, "val": math.inf}

    def on_fit_start(self, model, max_iter):
        self._epochs[id(model)] = [0, max_iter]
        self._running.add(id(model))
        if self._progress is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[running]} of {task.fields[members]} training"),
                TextColumn("best loss {task.fields[loss]}"),
                TextColumn("val {task.fields[val]}"),
                TimeRemainingColumn(),
            )
            self._task = self._progress.add_task(self.description, total=None, running=0, members=0, loss="-", val="-")
            self._progress.start()
        self._update()

    def __call__(self, model, info: EpochInfo):
        self._epochs[id(model)][0] = info.epoch
        self._best["loss"] = min(self._best["loss"], info.loss)
        if not math.isnan(info.validation_loss):
            self._best["val"] = min(self._best["val"], info.validation_loss)
        self._update()

    def on_fit_end(self, model):
        epochs = self._epochs.get(id(model))
        if epochs is not None:
            epochs[0] = epochs[1]  # (a member that stopped early has nothing left to do)
        self._running.discard(id(model))
        self._update()
        if not self._running and self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _update(self):
        if self._progress is None:
            return
        done, total = (sum(column) for column in zip(*self._epochs.values()))
        best = {k: "-" if math.isinf(v) else f"{v:.4g}" for k, v in self._best.items()}
        self._progress.update(self._task, completed=done, total=total, running=len(self._running),
                              members=len(self._epochs), **best)  # fmt: skip


def call_hook(callbacks, hook, *args):
    """Call ``hook`` on every callback that defines it."""
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            method(*args)


def report_epochs(model, callbacks, history, start, elapsed) -> list:
    """Hand each callback the epochs of this fit from ``start`` on (``history``: curve name -> one value
    per epoch, as ``engine.CURVE_ROWS``); returns their truthy answers."""
    if not callbacks:
        return []
    answers = []
    new = [history[name][start:] for name in ("loss", "val_loss", "score", "lr")]
    for i, (loss, val_loss, score, lr) in enumerate(zip(*new)):
        info = EpochInfo(start + i + 1, loss, val_loss, score, lr, elapsed)
        for callback in callbacks:
            answer = callback(model, info)
            if answer:
                answers.append(True if answer is True or not isinstance(answer, dict) else answer)
    return answers


def changes_asked(answers) -> dict:
    """The hyper-parameter changes the callbacks' answers ask for (later answers win)."""
    return {name: value for answer in answers if isinstance(answer, dict) for name, value in answer.items()}


#: ``fit()``'s options served by outward packages: keyword -> (module, maker), where
#: ``maker(value, X, y, sample_weight)`` returns the callback for that value (or None). They are
#: named, not imported: the dashboard and the run store build on the estimators, so the estimators
#: import neither, and each is loaded only when a fit asks for it.
FIT_OPTIONS = {
    "dashboard": ("mlpkit.dashboard", "from_option"),
    "track": ("mlpkit.experiments", "recorder_from_option"),
}


def option_callbacks(options: dict, X, y, sample_weight) -> list:
    """The callbacks that ``fit``'s options (``FIT_OPTIONS`` keywords -> values) ask for."""
    made = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        module, maker = FIT_OPTIONS[name]
        callback = getattr(importlib.import_module(module), maker)(value, X, y, sample_weight)
        if callback is not None:
            made.append(callback)
    return made
