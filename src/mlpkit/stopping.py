"""scikit-learn's stopping rule, for one epoch: the compiled loop and streaming both use it.

An epoch improves on the best value so far when it beats it by more than
``tol``; after more than ``n_iter_no_change`` epochs in a row that do not,
training stops (``adaptive`` divides the learning rate by 5 instead). Values are
"higher is better": the validation score, minus the validation loss, or minus
the training loss without early stopping. ``xp`` is ``jax.numpy`` inside the
compiled loop and ``numpy`` on the host.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Verdict(NamedTuple):
    best: Any  # the best value so far, this epoch's included
    no_improvement: Any  # epochs in a row that did not improve by tol
    improved: Any  # this epoch's value is the best so far (early stopping keeps its weights)
    stop: Any  # more than n_iter_no_change epochs without improvement


def judge_epoch(value, best, no_improvement, tol, n_iter_no_change, xp=np) -> Verdict:
    """scikit-learn's rule (``MLPClassifier._update_no_improvement_count``) for one epoch's ``value``."""
    no_improvement = xp.where(value < best + tol, no_improvement + 1, 0)
    improved = value > best
    return Verdict(xp.where(improved, value, best), no_improvement, improved, no_improvement > n_iter_no_change)
