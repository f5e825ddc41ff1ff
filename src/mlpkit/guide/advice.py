"""``advise(X, y)``: a first look at the data and a network to start from, before training anything.

The report answers a learner's first questions in order: what task is this,
how big a network can this much data support (FluCoMa's rule of thumb, about
10 rows per parameter), what to try first and next, whether to scale the
inputs and with what, whether the classes are balanced, and how big a
mini-batch to take. The rules live in ``sizing.py`` and ``data.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sklearn.utils import check_X_y

from . import data, sizing
from ._report import plain, section

#: What to change, in this order, when the network underfits (training score poor).
UNDERFITTING_STEPS = (
    "widen the hidden layer (double its units)",
    "add a second hidden layer (about half the first one's width)",
    "lower alpha (divide by 10) or lower dropout",
    "train longer (raise max_iter), or raise learning_rate_init (mlpkit.guide.lr_find suggests one)",
)

#: What to change when it overfits (training score good, validation score poor).
OVERFITTING_STEPS = (
    "raise alpha (multiply by 10) or add dropout (0.1 to 0.3)",
    "stop on held-out data: early_stopping=True",
    "use fewer hidden units",
    "collect more data",
)


@dataclass
class Advice:
    """What ``advise`` found; ``print`` it for a short report, ``to_dict()`` for the numbers."""

    task: str  # 'classify' or 'regress'
    target_type: str  # scikit-learn's type_of_target(y)
    n_rows: int
    n_features: int
    n_outputs: int  # units of the output layer
    n_classes: int | None
    hidden_layer_sizes: tuple  # the architecture judged: the one given, else the suggestion
    n_parameters: int
    rows_per_parameter: float
    data_size_warning: str | None
    suggested_hidden_layer_sizes: tuple
    suggested_n_parameters: int
    batch_size: int
    scaling: data.ScalingAdvice
    target_scaling: str | None
    imbalance: data.ImbalanceAdvice | None
    notes: list[str] = field(default_factory=list)
    if_underfitting: tuple = UNDERFITTING_STEPS
    if_overfitting: tuple = OVERFITTING_STEPS

    @property
    def warnings(self) -> list[str]:
        """The findings that call for action, as sentences."""
        found = [self.data_size_warning] if self.data_size_warning else []
        if self.scaling.needed:
            found.append(f"scale the inputs: {'; '.join(self.scaling.reasons)}")
        if self.target_scaling:
            found.append(self.target_scaling)
        if self.imbalance is not None and self.imbalance.imbalanced:
            found.append(self.imbalance.message)
        return found

    def to_dict(self) -> dict:
        return {**plain(self), "warnings": self.warnings}

    def describe_task(self) -> str:
        if self.task == "regress":
            return f"regression, {self.n_outputs} target{'s' if self.n_outputs > 1 else ''}"
        if self.target_type == "multilabel-indicator":
            return f"classification, {self.n_classes} labels"
        return f"classification, {self.n_classes} classes"

    def describe_suggestion(self) -> str:
        funnel = sizing.funnel_width(self.n_features, self.n_outputs)
        rule = (
            f"one funnel layer: the geometric mean of {self.n_features} inputs and {self.n_outputs} outputs"
        )
        if self.suggested_hidden_layer_sizes[0] < funnel:
            rule += f" ({funnel}), narrowed to keep {sizing.ROWS_PER_PARAMETER} rows per parameter"
        sizes, count = self.suggested_hidden_layer_sizes, self.suggested_n_parameters
        return f"hidden_layer_sizes={sizes}: {count} parameters ({rule})"

    def __str__(self) -> str:
        layers = " -> ".join(str(n) for n in (self.n_features, *self.hidden_layer_sizes, self.n_outputs))
        network = [
            f"{layers}: {self.n_parameters} parameters, {self.rows_per_parameter:.3g} rows per parameter"
        ]
        if self.data_size_warning:
            network.append("WARNING: " + self.data_size_warning)
        shape = f"{self.n_rows} rows x {self.n_features} features -> {self.n_outputs} output units"
        scaling = self.scaling.lines() + ([self.target_scaling] if self.target_scaling else [])
        blocks = [
            f"mlpkit advice: {self.describe_task()}",
            section("data", [shape]),
            section("network", network),
            section("start with", [self.describe_suggestion()]),
            section("batch_size", [f"{self.batch_size} (about 10 updates per epoch, at most 200)"]),
            section("scaling", scaling),
        ]
        if self.imbalance is not None:
            blocks.append(section("classes", self.imbalance.lines()))
        if self.notes:
            blocks.append(section("note", self.notes))
        blocks.append(section("underfits?", list(self.if_underfitting)))
        blocks.append(section("overfits?", list(self.if_overfitting)))
        return "\n".join(blocks)


def advise(X, y, hidden_layer_sizes=None, task=None, feature_names=None) -> Advice:
    """Advice on a first network for ``X``, ``y``: size, scaling, class balance, batch size.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_rows, n_features)
    y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Class labels, label indicator rows, or real numbers.
    hidden_layer_sizes : tuple of int, optional
        The architecture you have in mind; judged against the data. None:
        judge the suggested one.
    task : {'classify', 'regress'}, optional
        None detects it from y as scikit-learn does (``type_of_target``):
        whole numbers are read as class labels, so pass 'regress' for counts.
    feature_names : list of str, optional
        The columns' names, used in the advice ("column 'age'"); default: a
        DataFrame's column names, else the columns are named by index.

    Returns
    -------
    Advice, which prints as a short report.

    Example
    -------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> print(advise(X, y))   # doctest: +SKIP
    """
    if feature_names is None and hasattr(X, "columns"):  # a DataFrame names its columns
        feature_names = [str(name) for name in X.columns]
    X, y = check_X_y(X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype="numeric")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    task, target_type = data.detect_task(y, task)
    n_rows, n_features = X.shape
    n_outputs, n_classes = data.output_units(y, task, target_type)

    suggested = sizing.suggest_hidden_layer_sizes(n_rows, n_features, n_outputs)
    judged = suggested if hidden_layer_sizes is None else sizing.as_hidden_tuple(hidden_layer_sizes)
    n_parameters = sizing.count_parameters(n_features, judged, n_outputs)
    notes = data.task_notes(y, task, target_type)
    if sizing.largest_supported_width(n_rows, n_features, n_outputs) < sizing.MIN_HIDDEN_UNITS:
        notes.append(
            f"{n_rows} rows are too few for even {sizing.MIN_HIDDEN_UNITS} hidden units by the"
            f" {sizing.ROWS_PER_PARAMETER}-rows rule: a linear model (sklearn.linear_model) may do as well;"
            " fewer features (PCA, feature selection) or more data would help a network."
        )
    return Advice(
        task=task,
        target_type=target_type,
        n_rows=n_rows,
        n_features=n_features,
        n_outputs=n_outputs,
        n_classes=n_classes,
        hidden_layer_sizes=judged,
        n_parameters=n_parameters,
        rows_per_parameter=sizing.rows_per_parameter(n_rows, n_parameters),
        data_size_warning=sizing.data_size_warning(n_rows, n_parameters),
        suggested_hidden_layer_sizes=suggested,
        suggested_n_parameters=sizing.count_parameters(n_features, suggested, n_outputs),
        batch_size=sizing.suggest_batch_size(n_rows),
        scaling=data.scaling_advice(X, feature_names or None),
        target_scaling=data.target_scaling_note(y) if task == "regress" else None,
        imbalance=data.imbalance_advice(y, target_type) if task == "classify" else None,
        notes=notes,
    )
