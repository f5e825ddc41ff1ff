"""The task a target calls for (classify or regress), by one rule for the command line and Python.

``detect_task(y)`` reads the target as a learner means it:

- text, booleans and ``yes``/``no`` are class labels;
- several 0/1 columns are labels, several per row; other several columns are quantities;
- real numbers (any value with a fraction) are quantities;
- whole numbers are class labels when there are few of them (at most ``MAX_AUTO_CLASSES`` distinct
  values, and fewer than half the rows), else quantities: scikit-learn's diabetes target (187 distinct
  whole numbers in 331 rows) is a quantity, a 0-9 digit label is a class.

``task=`` (Python) / ``--task`` (command line) overrides it; ``check_task`` says why an override cannot
work. ``drop_missing_targets`` leaves out the rows whose target is missing.
"""

from __future__ import annotations

import numpy as np

TASKS = ("classify", "regress")

#: Whole-number targets with at most this many distinct values (and fewer than half the rows) are class labels.
MAX_AUTO_CLASSES = 20

#: Whole numbers with more distinct values than this share of the rows (and more than MAX_AUTO_CLASSES) read
#: as a quantity even when ``task='classify'`` is asked for: an error says so.
MANY_CLASSES_SHARE = 0.2


def _is_text(y) -> bool:
    return y.dtype.kind not in "biuf"


def _whole(y) -> bool:
    return bool(np.all(np.mod(y, 1) == 0))


def detect_task(y, task=None) -> tuple[str, str]:
    """(task, why): ``task`` as given, else by the rules above; ``why`` says which rule, in a few words."""
    if task is not None:
        if task not in TASKS:
            raise ValueError(f"task must be 'classify', 'regress' or None (detect it from y); got {task!r}.")
        return task, "as asked"
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        if y.dtype.kind in "biu" and set(np.unique(y).tolist()) <= {0, 1}:
            return "classify", f"{y.shape[1]} target columns of 0/1 are labels, several per row"
        return "regress", f"{y.shape[1]} numeric target columns"
    y = y.ravel()
    if _is_text(y) or y.dtype.kind == "b":
        return "classify", f"the target holds {len(np.unique(y.astype(str)))} distinct labels"
    distinct = len(np.unique(y))
    if _whole(y) and distinct <= MAX_AUTO_CLASSES and distinct < len(y) / 2:
        return "classify", f"the target holds {distinct} distinct whole numbers"
    if _whole(y):
        return "regress", f"the target holds {distinct} distinct whole numbers in {len(y)} rows, a quantity"
    return "regress", f"the target holds {distinct} distinct numbers"


def check_task(task: str, y, target: str = "y") -> None:
    """ValueError (saying what to do) when ``task`` cannot work with this target."""
    y = np.asarray(y)
    if task == "classify" and y.dtype.kind == "f" and np.any(np.mod(y, 1) != 0):
        example = y.ravel()[np.flatnonzero(np.mod(y.ravel(), 1) != 0)[0]]
        raise ValueError(
            f"classify: {target} holds real numbers (such as {example:g}), not class labels;"
            " regress instead, or bin the values into classes first"
        )
    distinct = len(np.unique(y)) if task == "classify" and y.dtype.kind == "f" else 0
    if distinct > max(MAX_AUTO_CLASSES, MANY_CLASSES_SHARE * len(y)):
        raise ValueError(
            f"classify: {target} holds {distinct} distinct numbers in {len(y)} rows, which reads as a"
            " quantity, not class labels; regress instead, or bin the values into classes first (class labels"
            " written as whole numbers such as 3, not 3.0, or as text, are taken as they are)"
        )
    if task == "regress" and _is_text(y):
        raise ValueError(f"regress: {target} holds text (such as {str(y.ravel()[0])!r}); a regressor needs numbers: classify instead")


def missing_targets(y) -> np.ndarray:
    """Boolean mask of the rows whose target is missing: NaN, None, or an empty text."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        missing = np.isnan(y)
    elif y.dtype.kind in "biu":
        missing = np.zeros(y.shape, dtype=bool)
    else:
        missing = np.array([v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())
                            for v in y.ravel()], dtype=bool).reshape(y.shape)  # fmt: skip
    return missing.any(axis=1) if missing.ndim == 2 else missing


def drop_missing_targets(X, y):
    """(X, y, n_left_out): the rows whose target is missing left out (a target cannot be imputed: it is what is
    learned). ``X`` may be an array or a DataFrame; text targets become a plain string array."""
    y = np.asarray(y)
    missing = missing_targets(y)
    kept = ~missing
    if _is_text(y):
        y = y.copy()
    if missing.any():
        X = X.iloc[kept] if hasattr(X, "iloc") else np.asarray(X)[kept] if not isinstance(X, dict) else {
            k: np.asarray(v)[kept] for k, v in X.items()}
        y = y[kept]
    if y.dtype == object and all(isinstance(v, str) for v in y.ravel()):
        y = y.astype(str)
    return X, y, int(missing.sum())
