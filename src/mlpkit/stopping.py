"""scikit-learn's stopping rule and the other end-of-epoch rules: the compiled loop, the numpy loop and
streaming all use them.

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

from .solvers import has_learning_rate

#: An epoch whose loss exceeds this many times the lowest of the fit has diverged (the loops' divergence guard).
BLOW_UP = 1e4


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


def apply_epoch_end(program, hyper, train, loss, score, val_loss, xp=np):
    """scikit-learn's end-of-epoch bookkeeping (``stopping.judge_epoch``), and the learning-rate rules
    that act per epoch; returns the state and whether training stops.

    Without early stopping the rule watches the training loss; with it, the
    monitored validation value (the score, or minus the loss), and the weights of
    its best epoch are kept. When the rule fires, training stops or, with the
    adaptive schedule, the learning rate is divided by 5 (stopping once it is below
    1e-6). ``reduce_on_plateau`` multiplies it by ``lr_decay`` (not below ``lr_min``)
    after ``lr_patience`` epochs without the watched loss improving by ``tol``. ``train`` is a
    ``state.TrainState``; ``program`` and ``hyper`` are ``program.Program`` and ``program.Hyper``.
    """
    if program.early_stopping:
        monitored = score if program.monitor == "score" else -val_loss
        verdict = judge_epoch(monitored, train.best_monitored, train.no_improvement, hyper.tol, hyper.n_iter_no_change, xp)
        train = train._replace(
            best_monitored=verdict.best,
            best_params=_where_layers(verdict.improved, train.params, train.best_params, xp),
            best_stats=_where_layers(verdict.improved, train.stats, train.best_stats, xp),
        )
    else:
        verdict = judge_epoch(-loss, -train.best_loss, train.no_improvement, hyper.tol, hyper.n_iter_no_change, xp)
        train = train._replace(best_loss=-verdict.best)
    train = train._replace(no_improvement=verdict.no_improvement)
    stopped = verdict.stop
    rule = EPOCH_END_RULES.get(program.schedule) if isinstance(program.schedule, str) else None
    if rule is not None and has_learning_rate(train.opt_state):
        lr = train.opt_state.hyperparams["learning_rate"]
        new_lr, train, stopped = rule(program, hyper, train, lr, stopped, loss, val_loss, xp)
        hyperparams = {**train.opt_state.hyperparams, "learning_rate": new_lr.astype(lr.dtype)}
        train = train._replace(opt_state=train.opt_state._replace(hyperparams=hyperparams))
    return train, stopped


def adaptive(program, hyper, train, lr, triggered, loss, val_loss, xp=np):
    """scikit-learn's: when the stopping rule fires, divide by 5 and go on, unless already below 1e-6."""
    reduce = triggered & (lr > 1e-6)
    train = train._replace(no_improvement=xp.where(reduce, 0, train.no_improvement))
    return xp.where(reduce, lr / 5.0, lr), train, triggered & ~reduce


def reduce_on_plateau(program, hyper, train, lr, triggered, loss, val_loss, xp=np):
    """Multiply by ``lr_decay`` (not below ``lr_min``) after ``lr_patience`` epochs in which the
    validation loss (the training loss without early stopping) did not improve by ``tol``."""
    watched = val_loss if program.early_stopping else loss
    count = xp.where(watched < train.plateau_best - hyper.tol, 0, train.plateau_count + 1)
    reduce = count >= hyper.lr_patience
    new_lr = xp.where(reduce, xp.maximum(lr * hyper.lr_decay, hyper.lr_min), lr)
    train = train._replace(plateau_best=xp.minimum(watched, train.plateau_best), plateau_count=xp.where(reduce, 0, count))
    return new_lr, train, triggered


#: schedule name -> rule changing the base learning rate at the end of an epoch:
#: (program, hyper, train state, lr, stopping rule fired, loss, val_loss, xp) -> (new lr, train state, stopped).
EPOCH_END_RULES = {"adaptive": adaptive, "reduce_on_plateau": reduce_on_plateau}


def _where_layers(condition, new: dict, old: dict, xp):
    """``new`` where ``condition`` holds, else ``old``, for dicts of per-layer tuples of arrays (the
    parameters, the batch-norm statistics)."""
    return {name: tuple(xp.where(condition, a, b) for a, b in zip(new[name], old[name])) for name in new}
