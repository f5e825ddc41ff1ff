"""What the data says before any training: the task, whether to scale, whether the classes are balanced.

Each check is a small function on numbers computed once per column
(``column_stats``); the rules and their thresholds are the tables below, so
they can be read (and changed) in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.multiclass import type_of_target

from ..prep.target import MANY_CLASSES_SHARE, TASKS
from ..prep.target import detect_task as the_task_rule

# ------------------------------------------------------------------------ task
#: scikit-learn's ``type_of_target`` of y -> the task an MLP would learn.
TARGET_TASKS = {
    "continuous": "regress",
    "continuous-multioutput": "regress",
    "binary": "classify",
    "multiclass": "classify",
    "multilabel-indicator": "classify",
}


def detect_task(y, task=None) -> tuple[str, str]:
    """(task, target type): ``task`` if given ('classify' or 'regress'), else by the rule the command line uses
    too (``mlpkit.prep.target.detect_task``: text and a few whole numbers are classes, many whole numbers
    such as scikit-learn's diabetes target are quantities).

    The target type is ``sklearn.utils.multiclass.type_of_target(y)`` ('binary', 'multiclass',
    'multilabel-indicator' for classes), read as 'continuous' ('continuous-multioutput') when the task is to
    regress whole numbers.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be 'classify', 'regress' or None (detect it from y); got {task!r}.")
    target_type = type_of_target(y, input_name="y")
    if task is None:
        if target_type not in TARGET_TASKS:
            raise ValueError(
                f"cannot tell the task from y (scikit-learn calls it {target_type!r}); an MLP learns class"
                " labels, label indicator rows or real numbers. Pass task='classify' or task='regress'."
            )
        task = the_task_rule(y)[0]
        if task == "regress" and not target_type.startswith("continuous"):  # (whole numbers, as quantities)
            target_type = "continuous" if np.ndim(y) == 1 else "continuous-multioutput"
        return task, target_type
    if task == "classify" and target_type.startswith("continuous"):
        raise ValueError(
            "task='classify' but y holds real numbers (scikit-learn calls it"
            f" {target_type!r}); a classifier needs labels. Bin the values into classes or pass task='regress'."
        )
    if task == "regress" and not np.issubdtype(np.asarray(y).dtype, np.number):
        raise ValueError(
            "task='regress' but y is not numeric; a regressor needs numbers. Pass task='classify'."
        )
    return task, target_type


def output_units(y, task: str, target_type: str) -> tuple[int, int | None]:
    """(units of the output layer, number of classes or None) as mlpkit's estimators build them.

    Two classes need one logistic unit; K > 2 classes K softmax units; L labels
    L units; a regression one unit per target column.
    """
    y = np.asarray(y)
    if task == "regress":
        return (1 if y.ndim == 1 else y.shape[1]), None
    if target_type == "multilabel-indicator":
        return y.shape[1], y.shape[1]
    n_classes = len(np.unique(y))
    return (1 if n_classes <= 2 else n_classes), n_classes


def task_notes(y, task: str, target_type: str) -> list[str]:
    """Remarks on how y was read, for the cases a learner may not expect."""
    y = np.asarray(y)
    notes = []
    if task == "classify" and target_type == "multiclass" and np.issubdtype(y.dtype, np.number):
        n_classes = len(np.unique(y))
        if n_classes > MANY_CLASSES_SHARE * y.shape[0]:
            notes.append(
                f"y has {n_classes} distinct whole numbers for {y.shape[0]} rows and is read as class labels;"
                " if they are quantities (counts, MIDI notes to predict as numbers), pass task='regress'."
            )
    return notes


# --------------------------------------------------------------------- scaling
# The rules live in mlpkit.prep.scaling (below the guide, so the data preparation uses them too).
from ..prep.scaling import (  # noqa: F401  (re-exported: the guide's names for them)
    BOUNDED_SPAN_STDS,
    LARGE_VALUE,
    OFFSET_STDS,
    OUTLIER_SHARE,
    SCALERS,
    SCALING_CHECKS,
    UNEVEN_RATIO,
    ColumnStats,
    ScalerChoice,
    ScalingAdvice,
    always,
    column_stats,
    dense_2d,
    has_heavy_outliers,
    large_values,
    looks_bounded,
    off_centre,
    robust_scaling_fits,
    scaling_advice,
    target_scaling_note,
    uneven_ranges,
    zero_iqr_columns,
)

# ------------------------------------------------------------------- imbalance
#: Classes are imbalanced when the smallest has fewer than this share of the largest's rows.
IMBALANCE_RATIO = 0.25


@dataclass
class ImbalanceAdvice:
    counts: dict  # class (or label) -> rows (positives for label indicators)
    ratio: float  # smallest / largest count (for labels: the rarer of positives and negatives over the other)
    imbalanced: bool
    message: str

    def lines(self) -> list[str]:
        return [self.message]


def class_counts(y, target_type: str) -> dict:
    y = np.asarray(y)
    if target_type == "multilabel-indicator":
        return {int(j): int(n) for j, n in enumerate(np.asarray(y != 0).sum(axis=0))}
    labels, counts = np.unique(y, return_counts=True)
    return {label.item() if hasattr(label, "item") else label: int(n) for label, n in zip(labels, counts)}


def imbalance_ratio(y, target_type: str, counts: dict) -> float:
    """Smallest over largest class count; for label indicators, the worst label's rarer side over its other."""
    values = np.array(list(counts.values()), dtype=float)
    if target_type == "multilabel-indicator":
        n = np.asarray(y).shape[0]
        rare = np.minimum(values, n - values)
        return float(np.min(rare / np.maximum(n - rare, 1)))
    return float(values.min() / values.max())


def imbalance_advice(y, target_type: str) -> ImbalanceAdvice:
    """Class balance of a classification target; imbalanced below ``IMBALANCE_RATIO`` (1 : 4)."""
    counts = class_counts(y, target_type)
    ratio = imbalance_ratio(y, target_type, counts)
    if target_type == "multilabel-indicator":
        measure = f"the rarest label is present (or absent) {ratio:.2f} times as often as not"
    else:
        measure = f"smallest/largest class {ratio:.2f}"
    if ratio >= IMBALANCE_RATIO:
        return ImbalanceAdvice(counts, ratio, False, f"balanced enough ({measure})")
    if target_type != "multilabel-indicator":
        majority = max(counts.values()) / np.asarray(y).shape[0]
        measure += f"; always answering the majority scores {majority:.0%}"
    message = (
        f"imbalanced: {measure}. Judge the model by sklearn.metrics.balanced_accuracy_score or F1;"
        " weight rows by inverse class frequency"
        " (fit(X, y, sample_weight=sklearn.utils.class_weight.compute_sample_weight('balanced', y)));"
        " and split with stratification (train_test_split(..., stratify=y), StratifiedKFold) so every"
        " part has each class."
    )
    return ImbalanceAdvice(counts, ratio, True, message)
