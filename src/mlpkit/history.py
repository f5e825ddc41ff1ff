"""The training history a fit leaves on the estimator: scikit-learn's attributes, and its messages.

``loss_curve_`` (and the other curves) grow in place from fit to fit: copying a
live loop's ever longer history on every fit made each fit slower than the last
(``_refits.Snapshot`` cuts them back if a fit fails).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

#: The estimator's training curves, by their name in ``engine.CURVE_ROWS``: lists that each fit extends.
CURVES = {"loss": "loss_curve_", "lr": "learning_rate_curve_", "score": "validation_scores_", "val_loss": "validation_loss_curve_"}


def start_history(est) -> None:
    """Empty training history of the stochastic solvers."""
    est.loss_curve_ = []
    est.learning_rate_curve_ = []
    if est.early_stopping:
        est.validation_scores_ = []
        est.validation_loss_curve_ = []
        est.best_validation_score_ = -np.inf
        est.best_loss_ = None
    else:
        est.best_loss_ = np.inf
        est.validation_scores_ = None
        est.validation_loss_curve_ = None
        est.best_validation_score_ = None


def record(est, outcome, *, incremental: bool, max_iter: int) -> None:
    """Extend the history with a fit's epochs (``trainer.Outcome``), as scikit-learn keeps it, and say
    what scikit-learn says when training stopped or ran out of epochs."""
    state, history = outcome.state, outcome.history
    est.n_iter_ = outcome.n_iter
    for name in ("loss", "lr", "score", "val_loss") if est.early_stopping else ("loss", "lr"):
        curve = getattr(est, CURVES[name], None)
        if curve is None:  # (early stopping turned on since the last fit, or a model read without it)
            curve = []
            setattr(est, CURVES[name], curve)
        curve.extend(history[name])  # in place: see the module's docstring
    if history["loss"]:
        est.loss_ = history["loss"][-1]
    if est.early_stopping:
        best = float(state.best_monitored)
        if est.early_stopping_monitor == "score":
            est.best_validation_score_ = best
        elif len(est.validation_scores_) == len(history["score"]):  # the first scores
            est.best_validation_score_ = max(history["score"])
        else:  # max over all the scores, carried on rather than taken again over a live loop's history
            est.best_validation_score_ = max([est.best_validation_score_, *history["score"]])
    else:
        est.best_loss_ = float(state.best_loss)

    if outcome.diverged:
        return
    if outcome.stopped:
        if est.verbose:
            watched = "Validation score" if est.early_stopping else "Training loss"
            print(
                "%s did not improve more than tol=%f for %d consecutive epochs. Stopping."
                % (watched, est.tol, est.n_iter_no_change)
            )
    elif not incremental and outcome.n_iter == max_iter:
        warnings.warn(
            "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't converged yet."
            % max_iter,
            ConvergenceWarning,
        )
