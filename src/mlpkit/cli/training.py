"""Train, save, report and plot: what ``mlpkit fit`` and ``mlpkit demo`` share.

``check_destinations`` checks ``--out`` and ``--plot`` before anything trains. ``run`` fits the
model (with the progress bar and the dashboard when asked) a step at a time when it is a
Pipeline or TransformedTargetRegressor (the scalers, then the network: ``_wrappers.fit_steps``),
saves it with ``mlpkit.save``, prints the scores on the training rows (and the held-out rows,
with ``--test-size``), how the inputs were scaled and what the validation share did, the timing,
notes for the warnings the fit raised and for what ``mlpkit.guide.diagnose`` finds (in the
command line's words), and writes the plots. Ctrl-C during training stops it between two
chunks of epochs (L-BFGS: at its last iterate); the model keeps what it learned
(the best epoch's weights with early stopping), is saved and reported, and
``run`` returns 130.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import report, validation
from .errors import EXIT_INTERRUPTED, EXIT_OK, CLIError
from .options import columns_checked_by_name

if TYPE_CHECKING:  # (numpy is imported where the rows are split, not when the command starts)
    import numpy as np

#: The estimators' warning when Ctrl-C stopped training between chunks.
INTERRUPTED_MESSAGE = "Training interrupted by user"


@dataclass
class Split:
    """Training rows, and held-out rows (None without ``--test-size``)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def evaluation(self):
        """The rows the data plots show: held out if there are any, else the training rows."""
        return (self.X_test, self.y_test) if self.X_test is not None else (self.X_train, self.y_train)


def split(X, y, test_size: float, seed, classify: bool) -> Split:
    """Hold out ``test_size`` of the rows (stratified by class where every class has two rows)."""
    if not test_size:
        return Split(X, y)
    if not 0 < test_size < 1:
        raise CLIError(f"--test-size {test_size}: give the share of rows to hold out, between 0 and 1 (e.g. 0.2)")
    import numpy as np
    from sklearn.model_selection import train_test_split

    stratify = None
    if classify and np.asarray(y).ndim == 1:
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 else None
    try:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as error:
        raise CLIError(f"--test-size {test_size}: {error}") from None
    return Split(X_train, y_train, X_test, y_test)


@dataclass
class Options:
    """How to train and where to put the results."""

    out: str
    progress: bool = False
    dashboard: bool = False
    dashboard_port: int = 0
    keep_dashboard: bool = False
    plot_dir: str | None = None
    feature_names: list | None = None
    #: ``fit(..., track=...)``: a runs directory to record the fit in (``--track``), or None.
    track: str | None = None
    #: ``fit(model, X, y)`` instead of ``model.fit(X, y)`` (``--processes``: the data-parallel launcher).
    fit: Callable | None = None
    #: ``summary(model, seconds, out, interrupted)`` instead of the scores on the rows (``--stream``).
    summary: Callable | None = None
    #: How the inputs and targets are prepared (``preparing.Chosen``: its ``summary()``); None: not said.
    scaling: object = None


def check_destinations(out: str | None, plot_dir: str | None = None) -> None:
    """Fail now, before training, when ``--out`` cannot be written (no such directory, a directory, not
    writable) or ``--plot`` cannot be a directory of plots: nothing is created or changed here."""
    if out is not None:
        path = Path(out)
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise CLIError(f"--out {out} is a directory; give the model's file name, e.g. {path / 'model.mlpkit'}")
        if not parent.is_dir():
            raise CLIError(f"--out {out}: the directory {str(parent)!r} does not exist; create it first")
        if not os.access(parent, os.W_OK):
            raise CLIError(f"--out {out}: the directory {str(parent)!r} is not writable")
    if plot_dir is not None:
        path = Path(plot_dir)
        existing = next(p for p in (path, *path.parents) if p.exists() or p == Path(p.anchor or "."))
        if existing == path and not path.is_dir():
            raise CLIError(f"--plot {plot_dir} is a file; give a directory for the plots")
        if existing != path and not existing.is_dir():
            raise CLIError(f"--plot {plot_dir}: {str(existing)!r} is a file, so the directory cannot be made")
        if not os.access(existing, os.W_OK):
            raise CLIError(f"--plot {plot_dir}: {str(existing)!r} is not writable")


def run(model, data: Split, options: Options) -> int:
    """Fit, save, report, plot; the exit code (0, or 130 after Ctrl-C)."""
    from .._wrappers import fit_steps, name_columns, network_of
    from ..guide.sizing import advising_on_data_size
    from ..lbfgs import keeping_progress_on_interrupt

    network = network_of(model, fitted=False)  # (fit_steps trains this very object)
    dashboard = _attach_dashboard(network, options) if options.dashboard else None
    recorder = _recorder(options.track)
    network.set_params(progress=options.progress)
    fit_network = options.fit or (lambda net, X, y: net.fit(X, y, track=recorder))
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # The guidance the scikit-learn replacements keep to themselves, and Ctrl-C during L-BFGS
            # keeping what was learned (scikit-learn's L-BFGS lets it propagate), as the stochastic solvers do.
            with advising_on_data_size("cli"), keeping_progress_on_interrupt():
                fit_steps(model, data.X_train, data.y_train, fit_network)
        except ValueError as error:
            raise CLIError(f"training failed: {error}") from None
        finally:
            if dashboard is not None and not hasattr(network, "coefs_"):  # the fit failed: nothing to show
                dashboard.close()
    seconds = time.perf_counter() - started
    interrupted = any(INTERRUPTED_MESSAGE in str(w.message) for w in caught)
    _report_warnings(caught, network)

    network.set_params(callbacks=None, progress=False)  # not part of the saved model
    if options.feature_names and not _prepares(model):  # (a preparation knows its columns' names itself)
        name_columns(model, options.feature_names)  # predict picks columns by name
    if recorder is not None and recorder.waiting_for_model:
        recorder.finish(model)  # the run keeps the model --out gets, which predicts on the raw table
    _save(model, options.out)
    if options.summary is not None:
        options.summary(network, seconds, options.out, interrupted)
    else:
        from .preparing import notes

        with notes():
            _print_summary(model, data, seconds, options, _how_it_ended(network, interrupted, dashboard))
        _report_diagnosis(model, data)
    if options.plot_dir:
        _write_plots(model, data, options.plot_dir)
    if recorder is not None and recorder.run_id is not None:
        report.note(f"recorded as run {recorder.run_id} in {options.track}; compare it with the other runs there:"
                    f" mlpkit runs {options.track}")
    if dashboard is not None:
        _finish_dashboard(dashboard, options.keep_dashboard)
    if interrupted:
        report.note(f"training was interrupted; the model so far is saved in {options.out}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _prepares(model) -> bool:
    from .preparing import has_preparation

    return has_preparation(model)


def _report_diagnosis(model, data: Split) -> None:
    """What ``mlpkit.guide.diagnose`` finds on the training rows, warnings and errors only, in --set words."""
    from ..guide import diagnose

    try:
        with columns_checked_by_name():
            found = diagnose(model, data.X_train, data.y_train, interface="cli").findings
    except ValueError:  # (rows the network cannot take: nothing to say about them)
        return
    for finding in found:
        if finding.severity != "info":
            advice = f" Try: {finding.suggestion}." if finding.suggestion else ""
            report.note(f"diagnosis: {finding.name}: {finding.message}{advice}")


def _recorder(track):
    """The ``RunRecorder`` of ``--track DIR`` (kept, to say which run it recorded), or None."""
    if track is None:
        return None
    from ..experiments.recorder import RunRecorder

    try:
        # The recorder watches the network; the whole model (preparation, scalers, network) is handed over after.
        return RunRecorder(track, model_follows=True)
    except OSError as error:
        raise CLIError(f"--track {track}: cannot use it as a runs directory: {error.strerror or error}") from None


def _attach_dashboard(model, options: Options):
    from ..dashboard import Dashboard

    dashboard = Dashboard(port=options.dashboard_port, keep_open=options.keep_dashboard)
    dashboard.start()  # now, so a bad port fails before training
    model.set_params(callbacks=list(model.callbacks or []) + [dashboard])
    return dashboard


def _finish_dashboard(dashboard, keep: bool) -> None:
    if not keep:
        dashboard.close()
        return
    report.note(f"the dashboard shows the final state at {dashboard.url}; press Ctrl-C to close it")
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        dashboard.close()


def _report_warnings(caught, model) -> None:
    """Each distinct warning once, as a note; ConvergenceWarning with the option that helps."""
    from sklearn.exceptions import ConvergenceWarning

    seen = set()
    for warning in caught:
        text = " ".join(str(warning.message).split())
        if text in seen or INTERRUPTED_MESSAGE in text:
            continue
        seen.add(text)
        if issubclass(warning.category, ConvergenceWarning):
            text += f" More epochs: --set max_iter={2 * model.max_iter}"
            text += "." if model.early_stopping else "; or stop on held-out data: --set early_stopping=True."
        report.note(text)


def _how_it_ended(model, interrupted: bool, dashboard) -> str:
    n_iter, max_iter = getattr(model, "n_iter_", 0), model.max_iter
    if interrupted:
        return "interrupted (Ctrl-C)"
    if dashboard is not None and dashboard.state.stop_requested:
        return "stopped from the dashboard"
    if model.solver == "lbfgs":
        return "converged" if n_iter < max_iter else "max_iter reached"
    if n_iter < max_iter:
        watched = f"validation {model.early_stopping_monitor}" if model.early_stopping else "training loss"
        return f"stopped early: no {watched} improvement for {model.n_iter_no_change} epochs"
    return "max_iter reached"


def _save(model, out: str) -> None:
    from ..io import save

    try:
        save(model, Path(out))
    except OSError as error:
        raise CLIError(f"--out {out}: cannot write the model: {error.strerror or error}") from None


def _print_summary(model, data: Split, seconds: float, options: Options, ended: str) -> None:
    from .._wrappers import network_of

    network = network_of(model)
    out_console = report.console()
    rows = {"train": {"rows": len(data.X_train), "scores": report.scores(model, data.X_train, data.y_train)}}
    if data.X_test is not None:
        rows["held out"] = {"rows": len(data.X_test), "scores": report.scores(model, data.X_test, data.y_test)}
    out_console.print(report.scores_table("Scores", rows))
    if data.X_test is None:
        report.note("scores on the training rows only; hold out rows for an honest score with --test-size 0.2")
    unit = "iterations" if network.solver == "lbfgs" else "epochs"
    timing = {
        "fit time": f"{seconds:.2f} s",
        unit: f"{getattr(network, 'n_iter_', 0)} of max_iter={network.max_iter}",
        "ended": ended,
        "validation": validation.summary(network),
        **({"mini-batch": batch} if (batch := validation.batch_summary(network)) else {}),
        **(options.scaling.summary() if options.scaling is not None else {}),
        f"per {unit[:-1]}": f"{1000 * seconds / max(getattr(network, 'n_iter_', 1), 1):.2f} ms (includes compiling)",
        "parameters": f"{network.n_parameters_:,}",
        "saved to": options.out,
    }
    out_console.print(report.key_value_table("Training", timing))


def _write_plots(model, data: Split, directory: str) -> None:
    X, y = data.evaluation
    try:
        with columns_checked_by_name():
            from .. import plots

            written = plots.write_plots(model, directory, X, y)
    except OSError as error:
        raise CLIError(f"--plot {directory}: cannot write the plots: {error.strerror or error}") from None
    report.note("plots: " + ", ".join(str(p) for p in written))
