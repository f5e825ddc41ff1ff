"""What the commands print: scores, metrics tables, a confusion matrix, and notes.

Tables go to stdout through rich; notes (``mlpkit: note: ...``) go to stderr, so
that ``mlpkit predict MODEL DATA > out.csv`` keeps only the predictions.

Tables fit the terminal (in a pipe: ``$COLUMNS``, else 80 characters, rich's rule)
without cutting a cell: each column is as wide as its header and its widest cell,
and when the table is wider than the terminal the least needed columns are left
out and the table's caption names them (``fitted_table``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .options import is_classifier

#: Metric name -> (function of sklearn.metrics, its keyword arguments), for classifiers. (Names, not the
#: functions: scikit-learn is imported when something is scored, not when the command starts.)
CLASSIFIER_METRICS = {
    "accuracy": ("accuracy_score", {}),
    "F1 (macro)": ("f1_score", {"average": "macro", "zero_division": 0}),
    "F1 (weighted)": ("f1_score", {"average": "weighted", "zero_division": 0}),
}

#: Metric name -> (function of sklearn.metrics, its keyword arguments), for regressors.
REGRESSOR_METRICS = {
    "R2": ("r2_score", {}),
    "MAE": ("mean_absolute_error", {}),
    "RMSE": ("root_mean_squared_error", {}),
}

#: The confusion matrix is printed as a table up to this many classes (the --plot image has them all).
MAX_TABLE_CLASSES = 20


def console():
    """A rich console on stdout (made per call, so output redirection and test capture work)."""
    from rich.console import Console

    return Console(highlight=False)


@dataclass(frozen=True)
class Column:
    """A column of a ``fitted_table``: numbers right-aligned, text left-aligned; never cut or wrapped.

    ``keep``: when the table is too wide, the columns of lowest ``keep`` are left out
    first (the rightmost of equals first); ``ALWAYS`` never.
    """

    header: str
    number: bool = True
    keep: int = 1


#: ``Column.keep`` of a column that is never left out.
ALWAYS = 1_000


def fitted_table(title: str, columns: list, rows: list, out=None):
    """A rich table of ``rows`` (lists of text, one per column) that fits ``out``'s width (default: a new
    ``console()``) without cutting a number; the caption names the columns left out to fit."""
    from rich.markup import escape
    from rich.table import Table

    out = out or console()
    shown = list(range(len(columns)))

    def build():
        table = Table(title=title)
        for index in shown:
            column = columns[index]
            widest = max([len(column.header)] + [len(row[index]) for row in rows])
            table.add_column(escape(column.header), justify="right" if column.number else "left", no_wrap=True,
                             min_width=widest)
        for row in rows:
            table.add_row(*(escape(row[index]) for index in shown))
        return table

    table = build()
    while not fits(table, out):
        droppable = [index for index in shown if columns[index].keep < ALWAYS]
        if not droppable:
            break
        shown.remove(min(reversed(droppable), key=lambda index: columns[index].keep))
        table = build()
    left_out = [columns[index].header for index in range(len(columns)) if index not in shown]
    if left_out:
        table.caption = escape(f"left out to fit {out.width} columns: {', '.join(left_out)} (a wider terminal shows them)")
    return table


#: A width beyond any terminal's, to measure what a table needs (rich clamps a measure to the width given).
UNBOUNDED = 100_000


def fits(table, out) -> bool:
    """Whether ``table`` fits ``out``'s width without cutting anything."""
    return out.measure(table, options=out.options.update_width(UNBOUNDED)).minimum <= out.width


def note(message: str) -> None:
    """``mlpkit: note: message`` on stderr."""
    print(f"mlpkit: note: {' '.join(message.split())}", file=sys.stderr, flush=True)


def predictions(model, X):
    import numpy as np

    from .options import columns_checked_by_name

    with columns_checked_by_name():
        return np.asarray(model.predict(X))


def _comparable(model, y, predicted):
    """Targets and predictions in one type: text when either is text (FluCoMa labels are)."""
    import numpy as np

    y = np.asarray(y)
    if is_classifier(model) and (y.dtype.kind in "UO" or predicted.dtype.kind in "UO"):
        return y.astype(str), predicted.astype(str)
    if not is_classifier(model):
        return y.astype(float), predicted.astype(float).reshape(y.shape)
    return y, predicted


def scores(model, X, y) -> dict:
    """Metric name -> value on (X, y): the classifier or regressor metrics."""
    from sklearn import metrics

    y, predicted = _comparable(model, y, predictions(model, X))
    table = CLASSIFIER_METRICS if is_classifier(model) else REGRESSOR_METRICS
    return {name: float(getattr(metrics, function)(y, predicted, **keywords))
            for name, (function, keywords) in table.items()}


def scores_table(title: str, rows: dict):
    """A table with one column per metric and one row per data split: ``{"train": {...}, "held out": {...}}``."""
    names = list(next(iter(rows.values()))["scores"])
    columns = [Column("data", number=False, keep=ALWAYS), Column("rows")] + [Column(name, keep=2) for name in names]
    return fitted_table(title, columns, [[split, str(row["rows"]), *(f"{row['scores'][name]:.4g}" for name in names)]
                                         for split, row in rows.items()])


def confusion_table(model, X, y):
    """True classes (rows) against predicted classes (columns), or None for several labels per row or many
    classes (and when it is too wide for the terminal: ``fits``)."""
    import numpy as np
    from rich.markup import escape
    from rich.table import Table
    from sklearn import metrics

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
    return table if fits(table, console()) else None


def key_value_table(title: str, rows: dict):
    """Two columns: name, value."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column(style="dim", overflow="fold")
    table.add_column(overflow="fold")  # long paths wrap instead of ending in "..."
    for name, value in rows.items():
        table.add_row(escape(str(name)), escape(str(value)))
    return table
