"""What the dashboard knows about a training run, shared between the fit and the web server.

The fit (through the ``Dashboard`` callback) writes: a fit started, one more
epoch, the fit ended. The server's threads read a JSON snapshot and write
commands: pause, resume, stop, new values for the hyper-parameters the solver
lets change mid-fit. Everything goes through one lock (a ``Condition``, so a
paused fit can wait for the command that releases it).
"""

from __future__ import annotations

import math
import threading
import time

#: Series of the history, one value per epoch; the names are those of the JSON snapshot.
SERIES = ("loss", "validation_loss", "validation_score", "learning_rate")

#: Commands the page can send to ``/api/control``.
ACTIONS = ("pause", "resume", "stop")

#: How often a paused fit wakes up to look again (seconds); Ctrl-C is honoured this quickly.
PAUSE_POLL_SECONDS = 0.1


def _finite_or_none(value):
    """JSON has no NaN or infinity: those become null."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


class TrainingState:
    """The shared record of a dashboard: history, status, and the commands waiting for the fit.

    ``status`` is one of ``waiting`` (no fit yet), ``running``, ``pausing`` (pause asked, the
    fit is finishing its chunk of epochs), ``paused``, ``stopping`` (stop asked, the fit is
    finishing its chunk), ``finished``, ``closed``: one word per state, the same on the page.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self.status = "waiting"
        self.model_name = ""
        self.params: dict = {}  # parameter name -> text, shown on the page
        self.editable: dict = {}  # name -> current value, for the hyper-parameters the page may change
        self.validators: dict = {}  # name -> function(value) that raises ValueError for a bad value
        self.history = {"step": [], **{name: [] for name in SERIES}}
        self.fit_number = 0
        self.epoch = 0  # within the current fit
        self.max_iter = None
        self.elapsed = 0.0
        self.message = ""
        self._pause = False
        self._stop = False
        self._pending: dict = {}
        self._finished_seen = threading.Event()
        self.last_poll = 0.0  # time.monotonic() of the page's last look

    @property
    def stop_requested(self) -> bool:
        """Whether the page asked the current (or last) fit to stop."""
        return self._stop

    # ------------------------------------------------------------------ the fit's side
    def start_fit(self, model_name: str, params: dict, editable: dict, validators: dict, max_iter: int) -> None:
        """A fit begins: a fresh set of commands; the history goes on from the previous fit's."""
        with self._condition:
            self.fit_number += 1
            self.model_name, self.params, self.max_iter = model_name, params, max_iter
            self.editable, self.validators = dict(editable), dict(validators)
            self.epoch, self.elapsed = 0, 0.0
            self._pause, self._stop, self._pending = False, False, {}
            self._finished_seen.clear()
            self.status = "running"
            self.message = f"fit {self.fit_number} started"
            self._condition.notify_all()

    def add_history(self, loss, validation_loss=math.nan, validation_score=math.nan, learning_rate=math.nan) -> None:
        """One epoch recorded outside a fit (a fitted model's past history)."""
        with self._condition:
            self._append(loss, validation_loss, validation_score, learning_rate)

    def record(self, info) -> None:
        """One finished epoch of the running fit (an ``mlpkit.callbacks.EpochInfo``)."""
        with self._condition:
            self._append(info.loss, info.validation_loss, info.validation_score, info.learning_rate)
            self.epoch, self.elapsed = info.epoch, info.elapsed

    def _append(self, loss, validation_loss, validation_score, learning_rate):
        self.history["step"].append(len(self.history["step"]) + 1)
        for name, value in zip(SERIES, (loss, validation_loss, validation_score, learning_rate)):
            self.history[name].append(_finite_or_none(float(value)))

    def next_command(self):
        """What the fit should do now: ``True`` (stop), a dict of new values, or None (go on).

        While paused this blocks, waking every ``PAUSE_POLL_SECONDS``, until the page
        resumes or stops training (or the dashboard is closed).
        """
        with self._condition:
            while self._pause and not self._stop and self.status != "closed":
                if self.status != "paused":
                    self.status = "paused"
                    self.message = f"paused after epoch {self.epoch}; Resume goes on, Stop ends the fit"
                self._condition.wait(PAUSE_POLL_SECONDS)
            if self._stop:
                self.status = "stopping"
                return True
            if self.status == "paused":
                self.status = "running"
            if self._pending:
                changes, self._pending = self._pending, {}
                self.editable.update(changes)
                self.params.update({name: f"{value:g}" for name, value in changes.items() if name in self.params})
                self.message = "changed " + ", ".join(f"{k} to {v:g}" for k, v in changes.items())
                return changes
            return None

    def end_fit(self, summary: str = "") -> None:
        """The fit returned (finished, stopped, or interrupted)."""
        with self._condition:
            if self.status != "closed":
                self.status = "finished"
            self.message = summary or f"fit {self.fit_number} finished"
            self._pause = False
            self._condition.notify_all()

    def wait_until_seen(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the page to fetch the finished state; False if it did not."""
        return self._finished_seen.wait(timeout)

    def close(self) -> None:
        """No more commands will come: release a paused fit."""
        with self._condition:
            self.status = "closed"
            self._condition.notify_all()

    # ---------------------------------------------------------------- the page's side
    def snapshot(self, since: int = 0) -> dict:
        """Everything the page shows, with the history from epoch ``since`` on (0: all of it)."""
        with self._condition:
            self.last_poll = time.monotonic()
            if self.status == "finished":
                self._finished_seen.set()
            total = len(self.history["step"])
            since = min(max(int(since), 0), total)
            last = {name: next((v for v in reversed(self.history[name]) if v is not None), None) for name in SERIES}
            return {
                "status": self.status,
                "paused_requested": self._pause,
                "model": self.model_name,
                "fit": self.fit_number,
                "epoch": self.epoch,
                "max_iter": self.max_iter,
                "elapsed": round(self.elapsed, 3),
                "latest": last,
                "params": dict(self.params),
                "editable": {k: _finite_or_none(v) for k, v in self.editable.items()},
                "pending": dict(self._pending),
                "message": self.message,
                "total": total,
                "since": since,
                "history": {name: values[since:] for name, values in self.history.items()},
            }

    def command(self, action: str) -> None:
        """``pause``, ``resume`` or ``stop``; ValueError for anything else or when no fit runs."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; the actions are {', '.join(ACTIONS)}")
        with self._condition:
            if self.status not in ("running", "pausing", "paused", "stopping"):
                raise ValueError(f"no fit is running (status: {self.status}); {action} applies to a running fit")
            if action == "pause":
                self._pause = True
                if self.status == "running":
                    self.status = "pausing"
                    self.message = "pausing after this chunk of epochs"
            elif action == "resume":
                self._pause = False
                if self.status == "pausing":
                    self.status = "running"
                self.message = "resumed"
            else:
                self._stop = True
                self.message = "stopping: the fit keeps its best weights"
            self._condition.notify_all()

    def change(self, values: dict) -> dict:
        """Queue new values for editable hyper-parameters; ValueError naming a bad one. Returns them."""
        if not isinstance(values, dict) or not values:
            raise ValueError('send a JSON object of new values, e.g. {"learning_rate_init": 0.01}')
        with self._condition:
            if self.status not in ("running", "pausing", "paused"):
                raise ValueError(f"no fit is running (status: {self.status}); values change during a fit")
            accepted = {}
            for name, value in values.items():
                if name not in self.editable:
                    can = ", ".join(self.editable) or "none"
                    raise ValueError(f"{name!r} cannot change during this fit; the solver lets change: {can}")
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{name} must be a number, got {value!r}")  # noqa: TRY004 - the page gets ValueErrors
                self.validators.get(name, lambda v: None)(value)
                accepted[name] = float(value)
            self._pending.update(accepted)
            self.message = "will change " + ", ".join(f"{k} to {v:g}" for k, v in accepted.items())
            self._condition.notify_all()
            return accepted
