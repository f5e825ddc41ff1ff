"""Plots of a fitted model, drawn with matplotlib: each function returns a ``Figure``.

- :func:`loss_curves`: training loss per epoch, and the validation loss with early stopping;
- :func:`learning_rate_curve`: the learning rate at the start of each epoch (``learning_rate_curve_``);
- :func:`confusion_matrix` (classifiers) and :func:`predicted_vs_true` (regressors) on data;
- :func:`lr_find_curve`: the loss of ``mlpkit.guide.lr_find`` against the learning rate.

Every axis has a title and round ticks from matplotlib's own locators (steps of
1, 2 or 5 times a power of ten, whole numbers for epochs); a log axis says so in
its title (``round_ticks``).

The figures are built without ``pyplot`` (``matplotlib.figure.Figure``), so no
window opens and no global state is touched; ``fig.savefig("x.png")`` renders
with Agg. :func:`write_plots` writes every plot that applies to a model as PNG
files in a directory. Models may be mlpkit's estimators or the FluCoMa-style
ones (their ``network_`` holds the history).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

__all__ = [
    "confusion_matrix",
    "learning_rate_curve",
    "loss_curves",
    "lr_find_curve",
    "plots_for",
    "predicted_vs_true",
    "round_ticks",
    "write_plots",
]

#: Size of every figure in inches; at ``DPI`` a PNG of 720 x 480 pixels.
FIGSIZE = (7.2, 4.8)
DPI = 100

#: Tick steps of a linear axis (times a power of ten): the 1, 2, 5 sequence.
ROUND_STEPS = [1, 2, 5, 10]
#: Ticks of a log axis within each decade: 1, 2 and 5 times its power of ten, while the axis spans at
#: most ``LOG_SUBS_DECADES`` decades; beyond, whole decades (every n-th: LogLocator's own stride).
LOG_SUBS = (1.0, 2.0, 5.0)
LOG_SUBS_DECADES = 2.5
#: Most major ticks on an axis.
MAX_TICKS = 8


def round_ticks(ax, integer_x=False) -> None:
    """Round major ticks on both axes of ``ax`` (call it after setting the scales), and " (log scale)" in the
    title of a log axis: ``MaxNLocator`` with steps 1, 2, 5 (whole numbers on x with ``integer_x``), or
    ``LogLocator`` at 1, 2, 5 x 10^n labelled as plain numbers (0.02, not 2x10^-2)."""
    for axis, integer, limits in ((ax.xaxis, integer_x, ax.get_xlim()), (ax.yaxis, False, ax.get_ylim())):
        if axis.get_scale() == "log":
            decades = np.log10(max(limits) / min(limits)) if min(limits) > 0 else np.inf
            subs = LOG_SUBS if decades <= LOG_SUBS_DECADES else (1.0,)
            axis.set_major_locator(ticker.LogLocator(base=10, subs=subs, numticks=MAX_TICKS + 1))
            axis.set_major_formatter(ticker.StrMethodFormatter("{x:g}"))
            axis.set_minor_formatter(ticker.NullFormatter())
            label = axis.get_label_text()
            if label and not label.endswith("(log scale)"):
                axis.set_label_text(f"{label} (log scale)")
        else:
            axis.set_major_locator(ticker.MaxNLocator(nbins=MAX_TICKS - 1, steps=ROUND_STEPS, integer=integer))


def _network(model):
    """The estimator that holds the weights and history (a FluCoMa-style model's ``network_``; the network
    of a Pipeline or TransformedTargetRegressor)."""
    from ._wrappers import network_of

    model = network_of(model)
    return getattr(model, "network_", None) or model


def _is_classifier(model) -> bool:
    from sklearn.base import is_classifier

    return is_classifier(model) or hasattr(model, "labels_")


def _figure(title: str):
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    ax.set_title(title)
    return fig, ax


def _history(model, name):
    values = getattr(_network(model), name, None)
    return None if values is None or len(values) == 0 else np.asarray(values, dtype=float)


def loss_curves(model) -> Figure:
    """Training loss per epoch, and validation loss (early stopping) on the same axes (log scale)."""
    loss = _history(model, "loss_curve_")
    if loss is None:
        raise ValueError(
            "the model has no loss_curve_ (it is not fitted, or solver='lbfgs', which records no per-epoch history)"
        )
    fig, ax = _figure("Loss per epoch")
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, label="training loss", color="C0")
    validation = _history(model, "validation_loss_curve_")
    if validation is not None:
        ax.plot(epochs[-len(validation):], validation, label="validation loss", color="C1")
        ax.axvline(_best_epoch(model, validation), color="C1", linestyle=":", linewidth=1, label="best epoch (weights kept)")
    if np.all(loss[np.isfinite(loss)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    round_ticks(ax, integer_x=True)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def _best_epoch(model, validation_loss) -> int:
    """The epoch whose weights early stopping kept: best validation score, or loss (``early_stopping_monitor``)."""
    network = _network(model)
    if network is not model:  # a FluCoMa-style model: its fits keep the last epoch's weights, as FluCoMa's
        return len(network.loss_curve_)
    scores = _history(model, "validation_scores_")
    offset = len(network.loss_curve_) - len(validation_loss)  # curves of earlier fits (warm start)
    if getattr(network, "early_stopping_monitor", "score") == "score" and scores is not None:
        return offset + int(np.nanargmax(scores[-len(validation_loss):])) + 1
    return offset + int(np.nanargmin(validation_loss)) + 1


def learning_rate_curve(model) -> Figure:
    """The learning rate at the start of each epoch (``learning_rate_curve_``)."""
    rates = _history(model, "learning_rate_curve_")
    if rates is None:
        raise ValueError("the model has no learning_rate_curve_ (not fitted, or fitted by solver='lbfgs')")
    fig, ax = _figure("Learning rate per epoch")
    ax.plot(np.arange(1, len(rates) + 1), rates, color="C2", drawstyle="steps-post")
    if np.all(rates > 0) and rates.max() / rates.min() > 20:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    round_ticks(ax, integer_x=True)
    ax.grid(True, alpha=0.3)
    return fig


def confusion_matrix(model, X, y) -> Figure:
    """Counts of true (rows) against predicted (columns) classes on ``X``, ``y``."""
    from sklearn.metrics import confusion_matrix as counts_of

    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError("a confusion matrix needs one label per row; this target has several columns")
    predicted = np.asarray(model.predict(X))
    classes = np.asarray(model.classes_ if hasattr(model, "classes_") else model.labels_)
    if any(a.dtype.kind in "UO" for a in (y, predicted, classes)):  # text labels: compare as text
        y, predicted, classes = y.astype(str), predicted.astype(str), classes.astype(str)
    known = set(classes.tolist())
    labels = classes.tolist() + [c for c in np.unique(y).tolist() if c not in known]  # then labels unseen in training
    matrix = counts_of(y, predicted, labels=labels)
    size = max(FIGSIZE[1], 0.45 * len(labels) + 2)
    fig = Figure(figsize=(size * 1.15, size), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8, label="rows")
    colorbar.locator = ticker.MaxNLocator(nbins=MAX_TICKS - 1, steps=ROUND_STEPS, integer=True)  # counts
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, [str(c) for c in labels], rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
    ax.set_yticks(ticks, [str(c) for c in labels])
    if len(labels) <= 30:
        threshold = matrix.max() / 2
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color="white" if count > threshold else "black")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"Confusion matrix (accuracy {accuracy:.3f})")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig


def predicted_vs_true(model, X, y) -> Figure:
    """Each prediction against its true value, with the diagonal of perfect predictions."""
    from sklearn.metrics import r2_score

    y = np.asarray(y, dtype=float)
    predicted = np.asarray(model.predict(X), dtype=float).reshape(y.shape)
    fig, ax = _figure(f"Predicted vs true (R\u00b2 {r2_score(y, predicted):.3f})")
    true_columns = y.reshape(len(y), -1)
    predicted_columns = predicted.reshape(len(y), -1)
    for k in range(true_columns.shape[1]):
        label = f"output {k}" if true_columns.shape[1] > 1 else None
        ax.scatter(true_columns[:, k], predicted_columns[:, k], s=10, alpha=0.6, label=label)
    low = float(min(true_columns.min(), predicted_columns.min()))
    high = float(max(true_columns.max(), predicted_columns.max()))
    ax.plot([low, high], [low, high], color="gray", linestyle="--", linewidth=1, label="perfect")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    round_ticks(ax)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def lr_find_curve(result) -> Figure:
    """The smoothed (and raw) loss of an ``LRFinderResult`` against the learning rate, suggestion marked."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    result.plot(ax=fig.subplots())  # with round ticks (``round_ticks``)
    return fig


def plots_for(model, X=None, y=None) -> dict:
    """File stem -> function of no arguments drawing that plot, for each plot that applies.

    The history plots need a stochastic solver's history (the learning rate's only
    when it changed: a constant rate is one number, not a plot); the data plots need
    ``X`` and ``y``: a confusion matrix for a classifier with one label per row,
    predicted against true values for a regressor.
    """
    plots = {}
    if _history(model, "loss_curve_") is not None:
        plots["loss"] = lambda: loss_curves(model)
    rates = _history(model, "learning_rate_curve_")
    if rates is not None and np.ptp(rates) > 0:
        plots["learning_rate"] = lambda: learning_rate_curve(model)
    if X is not None and y is not None:
        if not _is_classifier(model):
            plots["predicted_vs_true"] = lambda: predicted_vs_true(model, X, y)
        elif np.asarray(y).ndim == 1:
            plots["confusion_matrix"] = lambda: confusion_matrix(model, X, y)
    return plots


def write_plots(model, directory, X=None, y=None, *, prefix: str = "") -> list[Path]:
    """Write every plot of :func:`plots_for` as ``directory/<prefix><name>.png``; returns the paths.

    The directory is created if needed.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in plots_for(model, X, y).items():
        path = directory / f"{prefix}{name}.png"
        draw().savefig(path)
        written.append(path)
    return written
