"""What the commands print: scores, metrics tables, a confusion matrix, and notes.

Tables go to stdout through rich; notes (``mlpkit: note: ...``) go to stderr, so
that ``mlpkit predict MODEL DATA > out.csv`` keeps only the predictions.
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn import metrics

from .options import is_classifier

#: Metric name -> function(y_true, y_pred), for classifiers.
CLASSIFIER_METRICS = {
    "accuracy": metrics.accuracy_score,
    "F1 (macro)": lambda y, p: metrics.f1_score(y, p, average="macro", zero_division=0),
    "F1 (weighted)": lambda y, p: metrics.f1_score(y, p, average="weighted", zero_division=0),
}

#: Metric name -> function(y_true, y_pred), for regressors.
REGRESSOR_METRICS = {
    "R2": metrics.r2_score,
    "MAE": metrics.mean_absolute_error,
    "RMSE": metrics.root_mean_squared_error,
}

#: The confusion matrix is printed as a table up to this many classes (the --plot image has them all).
MAX_TABLE_CLASSES = 20


def console():
    """A rich console on stdout (made per call, so output redirection and test capture work)."""
    from rich.console import Console

    return Console(highlight=False)


def note(message: str) -> None:
    """``mlpkit: note: message`` on stderr."""
    print(f"mlpkit: note: {' '.join(message.split())}", file=sys.stderr, flush=True)


def predictions(model, X) -> np.ndarray:
    from .options import columns_checked_by_name

    with columns_checked_by_name():
        return np.asarray(model.predict(X))


def _comparable(model, y, predicted):
    """Targets and predictions in one type: text when either is text (FluCoMa labels are)."""
    y = np.asarray(y)
    if is_classifier(model) and (y.dtype.kind in "UO" or predicted.dtype.kind in "UO"):
        return y.astype(str), predicted.astype(str)
    if not is_classifier(model):
        return y.astype(float), predicted.astype(float).reshape(y.shape)
    return y, predicted


def scores(model, X, y) -> dict:
    """Metric name -> value on (X, y): the classifier or regressor metrics."""
    y, predicted = _comparable(model, y, predictions(model, X))
    table = CLASSIFIER_METRICS if is_classifier(model) else REGRESSOR_METRICS
    return {name: float(metric(y, predicted)) for name, metric in table.items()}


def scores_table(title: str, rows: dict):
    """A table with one column per metric and one row per data split: ``{"train": {...}, "held out": {...}}``."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("data")
    table.add_column("rows", justify="right")
    names = list(next(iter(rows.values()))["scores"])
    for name in names:
        table.add_column(name, justify="right")
    for split, row in rows.items():
        table.add_row(split, str(row["rows"]), *(f"{row['scores'][name]:.4g}" for name in names))
    return table


def confusion_table(model, X, y):
    """True classes (rows) against predicted classes (columns), or None for several labels per row or many classes."""
    from rich.markup import escape
    from rich.table import Table

    y = np.asarray(y)
    if y.ndim != 1:
        return None
    y, predicted = _comparable(model, y, predictions(model, X))
    labels = np.unique(np.concatenate([y, predicted]))
    if len(labels) > MAX_TABLE_CLASSES:
        return None
    matrix = metrics.confusion_matrix(y, predicted, labels=labels)
    table = Table(title="Confusion matrix (rows: true, columns: predicted)")
    table.add_column("true \\ predicted")
    for label in labels:
        table.add_column(escape(str(label)), justify="right")
    for i, (label, row) in enumerate(zip(labels, matrix)):
        cells = [f"[bold]{n}[/bold]" if i == j else str(n) for j, n in enumerate(row)]  # the diagonal in bold
        table.add_row(escape(str(label)), *cells)
    return table


def key_value_table(title: str, rows: dict):
    """Two columns: name, value."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column(style="dim")
    table.add_column()
    for name, value in rows.items():
        table.add_row(escape(str(name)), escape(str(value)))
    return table
