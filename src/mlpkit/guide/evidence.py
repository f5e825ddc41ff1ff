"""Evidence for a first network on small data: the candidates trained as advised, scored on held-out rows.

Where the data is small, training is cheap, so ``advise`` measures instead of guessing:
each candidate (a width of one hidden layer, at the learning rate ``lr_find`` suggests for
it and at ``RATE_FACTORS`` times that) is built by the same function that builds the advised estimator, trained on the
training part of each of ``FOLDS`` folds and scored on the rest (accuracy for a classifier,
R^2 for a regressor: ``estimator.score``). The candidate with the best mean held-out score is
advised. A width is a structure, so each compiles once; the folds and rates reuse the program.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold

#: Folds of the cross-validation (each trains on (FOLDS - 1) / FOLDS of the rows).
FOLDS = 3
#: Evidence is gathered up to this many rows and rows x features (larger data: the rule, ``sizing.rule_width``).
MAX_ROWS = 2_000
MAX_CELLS = 200_000
#: Each candidate network is tried at lr_find's rate times each of these (the first wins ties): on small
#: noisy data a slower rate regularises, on smooth data a faster one gets further in the epochs given.
RATE_FACTORS = (1.0, 1 / 3, 3.0)
#: How the advice says each factor.
FACTOR_WORDS = {1.0: "", 1 / 3: "a third of", 3.0: "three times"}
#: Candidates within this much of the best mean score count as equally good; the narrowest of them wins.
TIE = 0.002


@dataclass
class Trial:
    """One candidate's held-out scores."""

    hidden_layer_sizes: tuple
    learning_rate_init: float
    rate_factor: float = 1.0  # times lr_find's suggestion
    scores: list = field(default_factory=list)  # one per fold

    @property
    def score(self) -> float:
        return float(np.mean(self.scores)) if self.scores else float("nan")


def affordable(n_rows: int, n_features: int) -> bool:
    """Whether a few trainings on this data are quick enough for advice (``MAX_ROWS``, ``MAX_CELLS``)."""
    return n_rows <= MAX_ROWS and n_rows * n_features <= MAX_CELLS


def folds(y, classify: bool, random_state):
    """The fold splitter: stratified for class labels where every class has ``FOLDS`` rows."""
    y = np.asarray(y)
    if classify and y.ndim == 1 and np.unique(y, return_counts=True)[1].min() >= FOLDS:
        return StratifiedKFold(FOLDS, shuffle=True, random_state=random_state).split(np.zeros(len(y)), y)
    return KFold(FOLDS, shuffle=True, random_state=random_state).split(np.zeros(len(y)))


def compare(build: Callable, trials: list[Trial], X, y, *, classify: bool, random_state) -> Trial:
    """Score every trial (``build(trial)`` gives its unfitted estimator) on the same folds; the best trial
    (ties within ``TIE``: the narrowest). A fold whose training diverges scores -inf there."""
    splits = list(folds(y, classify, random_state))
    X, y = np.asarray(X), np.asarray(y)
    for trial in trials:
        model = build(trial)
        for train, test in splits:
            fitted = clone(model)
            try:
                with warnings.catch_warnings():  # (short trainings: not converging is expected, and measured)
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    fitted.fit(X[train], y[train])
                score = float(fitted.score(X[test], y[test]))
            except ValueError:  # diverged (scikit-learn's error): this candidate does not train
                score = -np.inf
            trial.scores.append(score if np.isfinite(score) else -np.inf)
    best = max(trial.score for trial in trials)
    return next(trial for trial in trials if trial.score >= best - TIE)
