"""``diagnose``'s checks of the training history: each ``check(history, subject)`` returns a ``Finding`` or None.

They read ``loss_curve_`` (and ``validation_loss_curve_`` / ``validation_scores_`` with early
stopping): divergence, a learning rate too high (a bouncing loss), training that had not
converged, overfitting, underfitting and a plateau. The thresholds are module constants
next to the check that uses them; ``CHECKS`` maps each name to its check.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .findings import Finding, Fix, Subject, lower_rate
from .vocabulary import Change


class History(NamedTuple):
    """What the history checks read from a fitted model."""

    loss: np.ndarray  # training loss per epoch
    val_loss: np.ndarray | None  # validation loss per epoch (early stopping)
    val_score: np.ndarray | None  # validation score per epoch (early stopping)
    hit_max_iter: bool  # the last fit ran all max_iter epochs (the stopping rule never fired)
    tol: float  # the stopping rule's least improvement (absolute)
    chance_loss: float | None  # loss of guessing (class frequencies unknown: uniform); None for regression
    train_score: float | None = None  # R^2 on the rows given to diagnose (regressors; None without them)


def curve(values) -> np.ndarray | None:
    """A history list as an array, None if absent or all NaN."""
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    return None if values.size == 0 or np.all(np.isnan(values)) else values


# ================================================================== divergence
#: The loss "explodes" when it exceeds this multiple of its lowest value so far (as lr_find's stop) ...
EXPLODE_FACTOR = 4.0
#: ... by more than this share of its first epoch's value (a loss near 0 may quadruple harmlessly).
EXPLODE_MIN_RISE = 0.1


def divergence_fixes(s: Subject) -> list[Fix]:
    return [lower_rate(s), *s.scaling(), Fix("clip the gradient", (Change("clip_norm", 1.0),))]


def non_finite_loss(h: History, s: Subject) -> Finding | None:
    bad = np.flatnonzero(~np.isfinite(h.loss))
    if not bad.size:
        return None
    return Finding("divergence", "error", f"the training loss became {h.loss[bad[0]]} at epoch {bad[0] + 1}.",
                   fixes=divergence_fixes(s))  # fmt: skip


def loss_blow_up(h: History, s: Subject) -> Finding | None:
    """The loss rose above 4 times its lowest value of the epochs before, by over a tenth of its first value."""
    lowest_before = np.minimum.accumulate(h.loss)[:-1]
    later = h.loss[1:]
    rose = np.flatnonzero(
        (later > EXPLODE_FACTOR * lowest_before) & (later - lowest_before > EXPLODE_MIN_RISE * h.loss[0])
    )
    if not rose.size:
        return None
    t = rose[0] + 1
    return Finding(
        "divergence",
        "warning",
        f"the training loss rose from {lowest_before[t - 1]:.3g} to {h.loss[t]:.3g} at epoch {t + 1}.",
        fixes=divergence_fixes(s),
    )


def first_epoch_blow_up(h: History, s: Subject) -> Finding | None:
    """A classifier's first epoch averaged a loss above 4 times that of guessing: its first steps overshot."""
    if h.chance_loss is None or h.loss[0] <= EXPLODE_FACTOR * h.chance_loss:
        return None
    return Finding(
        "divergence",
        "warning",
        f"the first epoch's loss, {h.loss[0]:.3g}, is {h.loss[0] / h.chance_loss:.0f} times that of guessing"
        f" ({h.chance_loss:.3g}): the first steps overshot and threw the weights far off.",
        fixes=divergence_fixes(s),
    )


#: The first that finds something reports the divergence.
DIVERGENCE_CHECKS = (non_finite_loss, loss_blow_up, first_epoch_blow_up)


def divergence(h: History, s: Subject) -> Finding | None:
    """Non-finite loss (error), or a loss that exploded (4x its lowest before, or 4x guessing at the start)."""
    return next((found for check in DIVERGENCE_CHECKS if (found := check(h, s)) is not None), None)


# ======================================================= learning rate too high
#: A bouncing loss: over the last half of training (at least ``BOUNCE_EPOCHS`` epochs), at least this
#: share of the epochs end higher than the one before ...
BOUNCE_SHARE = 0.3
#: ... and they rise, on average, by at least this share of all the progress training made (first - lowest).
BOUNCE_RISE = 0.05
BOUNCE_EPOCHS = 10
#: Mini-batches are suggested to grow up to scikit-learn's 'auto' size.
MAX_STEADY_BATCH = 200


def bouncing_loss(h: History, s: Subject) -> Finding | None:
    """The loss goes up and down instead of settling: the seed guide's sign of a learning rate too high.
    Over the last half of the epochs, 30 % or more rise, by 5 % of the whole descent on average."""
    half = h.loss[len(h.loss) // 2 :]
    progress = h.loss[0] - np.min(h.loss)
    if len(half) < BOUNCE_EPOCHS or not np.all(np.isfinite(half)) or progress <= 0:
        return None
    steps = np.diff(half)
    rises = steps[steps > 0]
    share = rises.size / steps.size
    if share < BOUNCE_SHARE or rises.mean() < BOUNCE_RISE * progress:
        return None
    fixes = [lower_rate(s, "a smaller learning rate, a third to a tenth of it")]
    if s.batch_size != "auto" and int(s.batch_size) < MAX_STEADY_BATCH:
        fixes.append(Fix("larger mini-batches (steadier steps)", (Change("batch_size", min(MAX_STEADY_BATCH, 2 * int(s.batch_size))),)))
    return Finding(
        "learning_rate_too_high",
        "warning",
        f"the training loss bounces: over the last {len(half)} epochs {share:.0%} of them ended higher than the"
        f" one before, rising by {rises.mean():.3g} on average ({rises.mean() / progress:.0%} of the whole"
        f" descent from {h.loss[0]:.3g} to {np.min(h.loss):.3g}); steps this large overshoot the minimum.",
        fixes=fixes,
    )


# ================================================================ not converged
#: Not converged: training ran to max_iter while the loss still fell by at least this share per epoch
#: (over the last ``WINDOW`` epochs) ...
STILL_FALLING = 0.005
#: ... and was still above this share of its first value (a loss near 0 falling fast relatively is done).
CONVERGED_SHARE = 0.01
#: Over how many of the last epochs the change is measured (fewer when there are fewer).
WINDOW = 10


def not_converged(h: History, s: Subject) -> Finding | None:
    """Training stopped because it ran out of epochs, not because it was done: the training loss still fell
    by 0.5 % or more per epoch over the last (up to) 10 epochs, or the validation loss was at its best in the
    last 3 epochs."""
    if not h.hit_max_iter or len(h.loss) < 2 or not np.all(np.isfinite(h.loss)):
        return None
    k = min(WINDOW, len(h.loss) - 1)
    before, last = h.loss[-k - 1], h.loss[-1]
    rate = (before / last) ** (1 / k) - 1 if last > 0 else 0.0
    falling = rate >= STILL_FALLING and last > CONVERGED_SHARE * h.loss[0]
    val_best = None if h.val_loss is None else int(np.nanargmin(h.val_loss))
    val_improving = val_best is not None and val_best >= len(h.val_loss) - 3
    if not (falling or val_improving):
        return None
    facts = f"training stopped at max_iter={s.max_iter} after {len(h.loss)} epochs"
    if falling:
        facts += f" while the loss still fell by {rate:.1%} per epoch (to {last:.3g})"
    if val_improving:
        facts += f"{' and' if falling else ' while'} the validation loss was still at its best"
    return Finding(
        "not_converged",
        "warning",
        facts + ": it had not finished learning.",
        fixes=[Fix("train for more epochs", (s.epochs(4 if len(h.loss) < 50 else 2),)),
               Fix("or a larger learning rate", (s.lr(3),))],  # fmt: skip
    )


# ================================================================= overfitting
#: Overfitting: the validation loss ends at least this share above its minimum ...
OVERFIT_RISE = 0.1
#: ... (or, without a validation loss, the validation score at least this much below its best) ...
OVERFIT_SCORE_DROP = 0.05
#: ... reached at least this many epochs before the end.
OVERFIT_MIN_EPOCHS = 3


def overfitting(h: History, s: Subject) -> Finding | None:
    """Since its best epoch (3 or more epochs before the end) the validation loss rose by 10 % or
    more while the training loss fell; without a validation loss, the validation score fell by
    0.05 or more (accuracy or R^2)."""
    if h.val_loss is not None:
        best = int(np.nanargmin(h.val_loss))
        gone_bad = h.val_loss[-1] >= (1 + OVERFIT_RISE) * h.val_loss[best]
        what = f"the validation loss rose from {h.val_loss[best]:.3g} (epoch {best + 1}) to {h.val_loss[-1]:.3g}"
    else:
        best = int(np.nanargmax(h.val_score))
        gone_bad = h.val_score[-1] <= h.val_score[best] - OVERFIT_SCORE_DROP
        what = f"the validation score fell from {h.val_score[best]:.3g} (epoch {best + 1}) to {h.val_score[-1]:.3g}"
    long_enough = len(h.loss) - 1 - best >= OVERFIT_MIN_EPOCHS
    if not (gone_bad and long_enough and h.loss[-1] < h.loss[best]):
        return None
    fixes = [Fix("stronger regularisation", (Change("alpha", float(f"{max(s.alpha, 1e-5) * 10:.2g}")),))]
    if not s.early_stopping:
        fixes.append(Fix("stop on held-out data", (Change("early_stopping", True),)))
    fixes += [Fix("fewer hidden units", (s.widths(0.5),)), Fix("more data")]
    return Finding(
        "overfitting",
        "warning",
        f"{what} while the training loss kept falling ({h.loss[best]:.3g} to {h.loss[-1]:.3g}): the network"
        " learns its training rows by heart."
        + (" (Early stopping keeps the weights of the best validation epoch.)" if s.early_stopping else ""),
        fixes=fixes,
    )


# ================================================================ underfitting
#: Underfitting: after training settled, a classifier's loss is still at least this share of guessing's ...
UNDERFIT_SHARE = 0.5
#: ... or a regressor explains less than this share of the variance of the rows given (R^2).
UNDERFIT_R2 = 0.2


def underfitting(h: History, s: Subject) -> Finding | None:
    """Training settled with the network still poor on its own training data: a classifier's final loss at
    half that of guessing or more, or a regressor's R^2 below 0.2 on the rows given to ``diagnose``."""
    last = h.loss[-1]
    if h.chance_loss is not None and last >= UNDERFIT_SHARE * h.chance_loss:
        facts = f"the training loss settled at {last:.3g}, {last / h.chance_loss:.0%} of guessing's ({h.chance_loss:.3g})"
    elif h.train_score is not None and h.train_score < UNDERFIT_R2:
        facts = f"the network explains R^2 = {h.train_score:.2f} of the targets it was given"
    else:
        return None
    fixes = [Fix("a wider network", (s.widths(4),))]
    if s.alpha > 1e-4:
        fixes.append(Fix("less regularisation", (Change("alpha", float(f"{s.alpha / 10:.2g}")),)))
    fixes += [Fix("more epochs", (s.epochs(2),)), *s.scaling()]
    return Finding("underfitting", "warning", facts + ": it has not learned what the data holds.", fixes=fixes)


# ===================================================================== plateau
#: Plateau: the training loss changed by less than this share over the last ``WINDOW`` epochs ...
PLATEAU_CHANGE = 1e-3
#: ... while still above this share of where it started (or of guessing): little was learned.
STUCK_SHARE = 0.5


def plateau(h: History, s: Subject) -> Finding | None:
    """The training loss changed by < 0.1 % over the last 10 epochs while not converged: either
    the loss is still above half its starting value (or of guessing, for a classifier), or
    training ran to max_iter because the change, though tiny relative to the loss, still
    exceeded the stopping rule's absolute ``tol``."""
    if len(h.loss) <= WINDOW:
        return None
    before, last = h.loss[-WINDOW - 1], h.loss[-1]
    change = abs(last - before) / max(abs(before), np.finfo(float).tiny)
    reference = min(h.loss[0], h.chance_loss or np.inf)
    stuck = last > STUCK_SHARE * reference
    never_stopped = h.hit_max_iter and abs(last - before) > h.tol
    if change >= PLATEAU_CHANGE or not (stuck or never_stopped):
        return None
    facts = [f"the training loss changed by {change:.2%} over the last {WINDOW} epochs, at {last:.3g}"]
    fixes = []
    if stuck:
        facts.append(
            f"still {last / reference:.0%} of {'guessing' if reference == h.chance_loss else 'where it started'}"
        )
        fixes += [Fix("a larger learning rate", (s.lr(10),)), Fix(f"or the rate {s.words.lr_find} suggests"),
                  *s.scaling(), Fix("more units", (s.widths(2),))]  # fmt: skip
    if never_stopped:
        facts.append(
            f"training ran to max_iter because each epoch still improved by more than tol={h.tol:g}"
            " (an absolute amount), though by little for a loss this size"
        )
        fixes += [Fix("more epochs will not help at this rate; if the loss is large because the targets are,"
                      " scale them (sklearn.compose.TransformedTargetRegressor), or raise tol", (Change("tol", h.tol * 10),))]  # fmt: skip
    return Finding("plateau", "warning", "; ".join(facts) + ".", fixes=fixes)


#: name -> check of the training history.
CHECKS = {
    "divergence": divergence,
    "learning_rate_too_high": bouncing_loss,
    "not_converged": not_converged,
    "overfitting": overfitting,
    "underfitting": underfitting,
    "plateau": plateau,
}
#: Checks that need a validation curve.
NEEDS_VALIDATION = ("overfitting",)
#: A finding makes these others redundant (their signs follow from it): they are left out.
SUPERSEDES = {
    "divergence": ("learning_rate_too_high", "not_converged", "underfitting", "plateau"),
    "plateau": ("underfitting",),
    "not_converged": ("underfitting",),
}
