"""Errors where scikit-learn has one: its text first, then what mlpkit adds (where, how to fix it).

Code written against scikit-learn's MLPs matches these texts and types; the
additions say more without breaking that.
"""

from __future__ import annotations

import numpy as np


class ZeroWeightBatchError(ValueError, ZeroDivisionError):
    """A mini-batch whose sample weights sum to zero: scikit-learn's MLPs raise numpy's
    ``ZeroDivisionError`` for it (``np.average``); this is that, and a ValueError like mlpkit's others."""


#: numpy's text, which scikit-learn's MLPs give for such a batch (``np.average`` of its losses).
WEIGHTS_SUM_TO_ZERO = "Weights sum to zero, can't be normalized"


def zero_weight_batch_error(batch_size) -> ZeroWeightBatchError:
    return ZeroWeightBatchError(
        f"{WEIGHTS_SUM_TO_ZERO}: a mini-batch of training rows (batch_size={batch_size!r}) has sample weights"
        " that are all 0, so its loss is 0 / 0. Give those rows some weight or leave them out, or use a larger"
        " batch_size (or shuffle=True) so that every mini-batch holds weighted rows."
    )


def stratified_split_error(splitter, X, y_binary: np.ndarray, classes, validation_fraction) -> ValueError:
    """scikit-learn's error for early stopping's stratified split of a binary ``y`` (one column of 0/1
    as the estimator holds it) with a class of a single row. scikit-learn splits the binarised rows as
    booleans, and its text names them so: the same ``splitter`` on those gives that text; the
    addition names the classes as given."""
    try:
        next(splitter.split(X, np.asarray(y_binary) > 0.5))
        text = "The least populated class in y has too few members."  # (not reached: the same counts)
    except ValueError as error:
        text = str(error)
    counts = np.bincount(np.asarray(y_binary).ravel().astype(np.intp), minlength=len(classes))
    lonely = np.asarray(classes)[counts < 2].tolist()
    return ValueError(
        f"{text} (classes {lonely!r} of classes_: early_stopping=True holds out validation_fraction="
        f"{validation_fraction!r} of the rows in a split that keeps every class on both sides, which takes"
        " at least 2 rows of each class). Add rows of those classes, or fit without early_stopping."
    )
