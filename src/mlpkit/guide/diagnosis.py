"""``diagnose(model, X, y)``: what a fitted model's history and weights say, and what to try.

Three kinds of checks, each a small function that returns a ``Finding`` or None:

- on the training history (``loss_curve_``, ``validation_loss_curve_`` or
  ``validation_scores_``): divergence, overfitting, plateau;
- on the hidden units over rows ``X``: dead ReLUs, saturated sigmoid/tanh units;
- on the gradient at the fitted weights over ``X``, ``y``: its norm per layer
  (vanishing or exploding).

The thresholds are module constants next to the check that uses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import jax
import numpy as np
from sklearn.utils.validation import check_is_fitted

from .. import config, engine
from ..network import _activate, _normalize
from . import _estimator
from ._report import plain
from .advice import OVERFITTING_STEPS

SEVERITIES = ("info", "warning", "error")


@dataclass
class Finding:
    name: str  # e.g. 'overfitting'
    severity: str  # 'info', 'warning' or 'error'
    message: str  # what was seen, with the numbers
    suggestion: str  # what to try


@dataclass
class Diagnosis:
    """The findings, and the measurements behind the unit and gradient checks (None: not measured)."""

    findings: list[Finding]
    checked: list[str]  # the checks that ran
    skipped: dict[str, str]  # check -> why it did not run
    dead_units: list[float] | None = None  # share of dead ReLU units, per hidden layer
    saturated: list[float] | None = None  # share of |pre-activation| > 3, per hidden layer
    gradient_norms: list[float] | None = None  # per layer, weights and biases together
    names: list[str] = field(init=False)

    def __post_init__(self):
        self.names = [f.name for f in self.findings]

    @property
    def ok(self) -> bool:
        """No warning or error."""
        return all(f.severity == "info" for f in self.findings)

    def to_dict(self) -> dict:
        return plain(self)

    def __str__(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        summary = (
            ", ".join(f"{n} {s}{'s' if n > 1 else ''}" for s, n in counts.items() if n) or "no problems found"
        )
        lines = [f"mlpkit diagnosis: {summary}"]
        for f in self.findings:
            lines.append(f"[{f.severity}] {f.name}: {f.message}")
            lines.append(f"    try: {f.suggestion}")
        for label, values in (("dead ReLU units", self.dead_units), ("saturated units", self.saturated)):
            if values is not None:
                lines.append(f"{label} per hidden layer: " + ", ".join(f"{v:.0%}" for v in values))
        if self.gradient_norms is not None:
            lines.append("gradient norm per layer: " + ", ".join(f"{v:.2g}" for v in self.gradient_norms))
        lines.append("checked: " + ", ".join(self.checked))
        lines.extend(f"not checked: {name} ({why})" for name, why in self.skipped.items())
        return "\n".join(lines)


# ============================================================ training history
class History(NamedTuple):
    """What the history checks read from a fitted model."""

    loss: np.ndarray  # training loss per epoch
    val_loss: np.ndarray | None  # validation loss per epoch (early stopping)
    val_score: np.ndarray | None  # validation score per epoch (early stopping)
    hit_max_iter: bool  # the last fit ran all max_iter epochs (the stopping rule never fired)
    tol: float  # the stopping rule's least improvement (absolute)
    chance_loss: float | None  # loss of guessing (class frequencies unknown: uniform); None for regression


def curve(values) -> np.ndarray | None:
    """A history list as an array, None if absent or all NaN."""
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    return None if values.size == 0 or np.all(np.isnan(values)) else values


def history_of(model) -> History | None:
    """The model's training history, or None when it keeps none (solver='lbfgs')."""
    loss = curve(getattr(model, "loss_curve_", None))
    if loss is None:
        return None
    return History(
        loss=loss,
        val_loss=curve(getattr(model, "validation_loss_curve_", None)),
        val_score=curve(getattr(model, "validation_scores_", None)),
        hit_max_iter=model.n_iter_ >= model.max_iter,
        tol=float(model.tol),
        chance_loss=_estimator.chance_loss(model),
    )


#: The loss "explodes" when it exceeds this multiple of its lowest value so far (as lr_find's stop) ...
EXPLODE_FACTOR = 4.0
#: ... by more than this share of its first epoch's value (a loss near 0 may quadruple harmlessly).
EXPLODE_MIN_RISE = 0.1

DIVERGENCE_FIX = (
    "lower learning_rate_init by 10 (mlpkit.guide.lr_find suggests one), scale the inputs"
    " (StandardScaler) and, for regression, the targets, or clip the gradient (clip_norm=1.0)"
)


def non_finite_loss(h: History) -> Finding | None:
    bad = np.flatnonzero(~np.isfinite(h.loss))
    if not bad.size:
        return None
    return Finding(
        "divergence",
        "error",
        f"the training loss became {h.loss[bad[0]]} at epoch {bad[0] + 1}.",
        DIVERGENCE_FIX,
    )


def loss_blow_up(h: History) -> Finding | None:
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
        DIVERGENCE_FIX,
    )


def first_epoch_blow_up(h: History) -> Finding | None:
    """A classifier's first epoch averaged a loss above 4 times that of guessing: its first steps overshot."""
    if h.chance_loss is None or h.loss[0] <= EXPLODE_FACTOR * h.chance_loss:
        return None
    return Finding(
        "divergence",
        "warning",
        f"the first epoch's loss, {h.loss[0]:.3g}, is {h.loss[0] / h.chance_loss:.0f} times that of guessing"
        f" ({h.chance_loss:.3g}): the first steps overshot and threw the weights far off.",
        DIVERGENCE_FIX,
    )


#: The first that finds something reports the divergence.
DIVERGENCE_CHECKS = (non_finite_loss, loss_blow_up, first_epoch_blow_up)


def divergence(h: History) -> Finding | None:
    """Non-finite loss (error), or a loss that exploded (4x its lowest before, or 4x guessing at the start)."""
    return next((found for check in DIVERGENCE_CHECKS if (found := check(h)) is not None), None)


#: Overfitting: the validation loss ends at least this share above its minimum ...
OVERFIT_RISE = 0.1
#: ... (or, without a validation loss, the validation score at least this much below its best) ...
OVERFIT_SCORE_DROP = 0.05
#: ... reached at least this many epochs before the end.
OVERFIT_MIN_EPOCHS = 3


def overfitting(h: History) -> Finding | None:
    """Since its best epoch (3 or more epochs before the end) the validation loss rose by 10 % or
    more while the training loss fell; without a validation loss, the validation score fell by
    0.05 or more (accuracy or R^2)."""
    if h.val_loss is not None:
        best = int(np.nanargmin(h.val_loss))
        gone_bad = h.val_loss[-1] >= (1 + OVERFIT_RISE) * h.val_loss[best]
        what = (
            f"the validation loss rose from {h.val_loss[best]:.3g} (epoch {best + 1}) to {h.val_loss[-1]:.3g}"
        )
    else:
        best = int(np.nanargmax(h.val_score))
        gone_bad = h.val_score[-1] <= h.val_score[best] - OVERFIT_SCORE_DROP
        what = f"the validation score fell from {h.val_score[best]:.3g} (epoch {best + 1}) to {h.val_score[-1]:.3g}"
    long_enough = len(h.loss) - 1 - best >= OVERFIT_MIN_EPOCHS
    if not (gone_bad and long_enough and h.loss[-1] < h.loss[best]):
        return None
    return Finding(
        "overfitting",
        "warning",
        f"{what} while the training loss kept falling ({h.loss[best]:.3g} to {h.loss[-1]:.3g}): the network"
        " learns its training rows by heart. (Early stopping keeps the weights of the best validation epoch.)",
        "; ".join(OVERFITTING_STEPS),
    )


#: Plateau: the training loss changed by less than this share over the last this many epochs ...
WINDOW = 10
PLATEAU_CHANGE = 1e-3
#: ... while still above this share of where it started (or of guessing): little was learned.
STUCK_SHARE = 0.5


def plateau(h: History) -> Finding | None:
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
        fixes.append(
            "raise learning_rate_init (mlpkit.guide.lr_find), scale the inputs, check for dead or saturated units"
            " (diagnose(model, X)), or give the network more units"
        )
    if never_stopped:
        facts.append(
            f"training ran to max_iter because each epoch still improved by more than tol={h.tol:g}"
            " (an absolute amount), though by little for a loss this size"
        )
        fixes.append(
            "more epochs will not help at this rate; if the loss is large because the targets are, scale them"
            " (sklearn.compose.TransformedTargetRegressor), else raise tol"
        )
    return Finding("plateau", "warning", "; ".join(facts) + ".", "; ".join(fixes))


#: name -> check of the training history.
HISTORY_CHECKS = {"divergence": divergence, "overfitting": overfitting, "plateau": plateau}
#: Checks that need a validation curve.
NEEDS_VALIDATION = ("overfitting",)


# ================================================================ hidden units
def hidden_preactivations(params, stats, X, architecture) -> list[np.ndarray]:
    """Each hidden layer's pre-activation (after batch norm, before the activation) over the rows of X."""
    coefs, intercepts = params["coefs"], params["intercepts"]
    h, out = X, []
    for i in range(len(coefs) - 1):
        z = h @ coefs[i] + intercepts[i]
        if architecture.batch_norm:
            z = _normalize(
                z, stats["mean"][i], stats["var"][i], params["bn_scale"][i], params["bn_shift"][i], np
            )
        out.append(z)
        h = _activate(z, i, params, architecture, np)
    return out


def share_by_severity(share: float, thresholds) -> str | None:
    """The severity of the first (threshold, severity) row that ``share`` reaches, else None."""
    return next((severity for threshold, severity in thresholds if share >= threshold), None)


#: Share of dead units -> severity.
DEAD_THRESHOLDS = ((0.5, "warning"), (0.1, "info"))


def dead_units(preactivations) -> list[float]:
    """Per layer, the share of units whose pre-activation is <= 0 on every row (a ReLU then outputs 0
    and passes no gradient: it cannot recover)."""
    return [float(np.mean(np.all(z <= 0, axis=0))) for z in preactivations]


def dead_relu(shares, units, architecture) -> Finding | None:
    """Judge the per-layer ``shares`` of dead units (``units`` per layer) by ``DEAD_THRESHOLDS``."""
    total = float(np.average(shares, weights=units))
    severity = share_by_severity(total, DEAD_THRESHOLDS)
    if severity is None:
        return None
    return Finding(
        "dead_relu",
        severity,
        f"{total:.0%} of the hidden ReLU units output 0 for every row (per layer: "
        + ", ".join(f"{s:.0%}" for s in shares)
        + "); they no longer learn.",
        "lower learning_rate_init (large steps kill ReLUs), use activation='leaky_relu' or 'elu' (they cannot"
        " die), init='he_normal', and scale the inputs",
    )


#: A sigmoid or tanh unit is saturated where |pre-activation| > 3 (its slope is below 0.05 there).
SATURATION_LEVEL = 3.0
#: Share of saturated (unit, row) pairs -> severity.
SATURATION_THRESHOLDS = ((0.5, "warning"), (0.2, "info"))


def saturated_shares(preactivations) -> list[float]:
    """Per layer, the share of (row, unit) pairs with |pre-activation| > 3."""
    return [float(np.mean(np.abs(z) > SATURATION_LEVEL)) for z in preactivations]


def saturation(shares, units, architecture) -> Finding | None:
    """Judge the per-layer saturated ``shares`` (``units`` per layer) by ``SATURATION_THRESHOLDS``."""
    total = float(np.average(shares, weights=units))
    severity = share_by_severity(total, SATURATION_THRESHOLDS)
    if severity is None:
        return None
    return Finding(
        "saturation",
        severity,
        f"{total:.0%} of the {architecture.activation} units' values are saturated (|pre-activation| >"
        f" {SATURATION_LEVEL:g}, per layer: " + ", ".join(f"{s:.0%}" for s in shares) + "): their gradient is"
        " nearly 0, so they learn slowly.",
        "scale the inputs (StandardScaler), lower learning_rate_init, or use activation='relu'",
    )


class UnitCheck(NamedTuple):
    name: str
    measure: Callable  # hidden pre-activations -> one share per layer
    judge: Callable  # (shares, units per layer, architecture) -> Finding or None
    field: str  # the Diagnosis attribute that keeps the shares


#: Hidden activation -> the unit check that applies to it.
UNIT_CHECKS = {
    "relu": UnitCheck("dead_relu", dead_units, dead_relu, "dead_units"),
    "logistic": UnitCheck("saturation", saturated_shares, saturation, "saturated"),
    "tanh": UnitCheck("saturation", saturated_shares, saturation, "saturated"),
}


# =================================================================== gradients
@partial(jax.jit, static_argnames="program")
def _gradient(program, params, stats, X, Y, weight, rows, key, hyper):
    grads, _ = jax.grad(engine.batch_objective, has_aux=True)(
        params, stats, X, Y, weight, rows, key, program, hyper
    )
    return grads


def layer_gradient_norms(prepared) -> list[float]:
    """Norm of the training objective's gradient (weights and biases of each layer) at the fitted
    weights, over all rows at once, dropout off."""
    work = prepared.model
    program = config.loss_program(work, prepared.architecture)
    params, stats = _estimator.params_and_stats(work)
    n = prepared.X.shape[0]
    n_pad = engine.padded_rows(n)
    dtype = prepared.X.dtype
    hyper = prepared.hyper._replace(dropout=np.zeros_like(prepared.hyper.dropout))
    rows = (np.arange(n_pad) < n).astype(dtype)
    with _estimator.x64(dtype):
        grads = _gradient(
            program,
            params,
            stats,
            engine.pad_rows(prepared.X, n_pad),
            engine.pad_rows(prepared.Y, n_pad),
            engine.pad_rows(prepared.weight, n_pad),
            rows,
            jax.random.PRNGKey(0),
            hyper,
        )
        grads = jax.tree.map(np.asarray, grads)
    return [
        float(np.sqrt(np.sum(np.square(gW, dtype=float)) + np.sum(np.square(gb, dtype=float))))
        for gW, gb in zip(grads["coefs"], grads["intercepts"])
    ]


#: A layer whose gradient is below this share of the largest layer's barely learns (vanishing gradient) ...
VANISHING_RATIO = 1e-3
#: ... unless the largest is itself below this (a minimum: every gradient is small).
GRADIENT_FLOOR = 1e-8
#: A gradient norm above this is exploding.
EXPLODING_NORM = 1e3


def gradient_finding(norms: list[float]) -> Finding | None:
    """Non-finite (error) or exploding (> 1e3) norms, or a layer whose norm is below 1e-3 of the largest."""
    norms = np.asarray(norms)
    largest = float(np.max(norms)) if np.all(np.isfinite(norms)) else np.inf
    if not np.isfinite(largest) or largest > EXPLODING_NORM:
        return Finding(
            "exploding_gradient",
            "error" if not np.isfinite(largest) else "warning",
            f"the gradient norm per layer is {', '.join(f'{v:.3g}' for v in norms)}: steps this large throw the"
            " weights far off.",
            DIVERGENCE_FIX,
        )
    if len(norms) < 2 or largest < GRADIENT_FLOOR:
        return None
    weak = np.flatnonzero(norms < VANISHING_RATIO * largest)
    if not weak.size:
        return None
    return Finding(
        "vanishing_gradient",
        "warning",
        f"layer {', '.join(str(i + 1) for i in weak)}'s gradient is below {VANISHING_RATIO:g} of the largest"
        f" layer's (norms {', '.join(f'{v:.2g}' for v in norms)}): those weights barely learn.",
        "use activation='relu' with init='he_normal', fewer layers, batch_norm=True, or scale the inputs",
    )


# ==================================================================== diagnose
def diagnose(model, X=None, y=None, *, sample_weight=None) -> Diagnosis:
    """Findings and suggested fixes for a fitted ``MLPClassifier`` / ``MLPRegressor``.

    Parameters
    ----------
    model : a fitted estimator (not changed)
    X : array-like of shape (n_rows, n_features), optional
        Rows to check the hidden units on (dead ReLUs, saturated sigmoid/tanh units).
    y : array-like, optional
        Targets of ``X``: with them, the gradient norm of each layer is measured too.
    sample_weight : array-like of shape (n_rows,), optional

    Returns
    -------
    Diagnosis: ``findings`` (each with name, severity, message, suggestion),
    the measurements, and which checks ran. ``print`` it for a report.
    """
    check_is_fitted(model, "coefs_")
    if y is not None and X is None:
        raise ValueError("diagnose got y without X; pass both (diagnose(model, X, y)) to measure gradients.")
    findings, checked, skipped = [], [], {}
    result = {}

    history = history_of(model)
    for name, check in HISTORY_CHECKS.items():
        if history is None:
            skipped[name] = "the model keeps no per-epoch history (solver='lbfgs')"
        elif name in NEEDS_VALIDATION and history.val_loss is None and history.val_score is None:
            skipped[name] = "needs a validation curve: fit with early_stopping=True"
        else:
            checked.append(name)
            findings.append(check(history))

    architecture = _estimator.fitted_architecture(model)
    unit_check = UNIT_CHECKS.get(architecture.activation)
    if unit_check is None:
        skipped["units"] = f"no dead-unit or saturation check for activation={architecture.activation!r}"
    elif len(model.coefs_) < 2:
        skipped[unit_check.name] = "the network has no hidden layer"
    elif X is None:
        skipped[unit_check.name] = "needs rows: diagnose(model, X)"
    else:
        params, stats = _estimator.params_and_stats(model)
        z = hidden_preactivations(params, stats, _estimator.fitted_inputs(model, X), architecture)
        shares = unit_check.measure(z)
        checked.append(unit_check.name)
        findings.append(unit_check.judge(shares, [layer.shape[1] for layer in z], architecture))
        result[unit_check.field] = shares

    if y is None:
        skipped["gradients"] = "needs rows and targets: diagnose(model, X, y)"
    else:
        norms = layer_gradient_norms(_estimator.prepare(model, X, y, sample_weight))
        checked.append("gradients")
        findings.append(gradient_finding(norms))
        result["gradient_norms"] = norms

    found = sorted((f for f in findings if f is not None), key=lambda f: -SEVERITIES.index(f.severity))
    return Diagnosis(found, checked, skipped, **result)
