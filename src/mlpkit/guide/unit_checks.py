"""``diagnose``'s checks of a network on rows: dead or saturated hidden units, gradient norms, unscaled inputs.

- hidden units over rows ``X``: dead ReLUs (``DEAD_RELU``), saturated sigmoid/tanh units
  (``SATURATION``); ``UNIT_CHECKS`` maps each activation to its check;
- the gradient of the training objective at the fitted weights over ``X``, ``y``: its norm per
  layer (vanishing or exploding, ``gradient_finding``);
- the inputs the network receives: unscaled columns (``unscaled_inputs``, the rules of ``data.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import numpy as np

from .. import config, engine
from ..network import _activate, _normalize
from . import _estimator, data
from .findings import Finding, Fix, Subject, fraction, lower_rate
from .history_checks import divergence_fixes
from .vocabulary import Change


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


def judged(shares, units, thresholds) -> tuple[float, str | None]:
    """(share over all units, its severity): the per-layer ``shares`` weighted by ``units`` per layer."""
    total = float(np.average(shares, weights=units))
    return total, share_by_severity(total, thresholds)


#: Share of dead units -> severity.
DEAD_THRESHOLDS = ((0.5, "warning"), (0.1, "info"))


def dead_units(preactivations) -> list[float]:
    """Per layer, the share of units whose pre-activation is <= 0 on every row (a ReLU then outputs 0
    and passes no gradient: it cannot recover)."""
    return [float(np.mean(np.all(z <= 0, axis=0))) for z in preactivations]


def dead_message(total, shares, architecture) -> str:
    return f"{total:.0%} of the hidden ReLU units output 0 for every row (per layer: {fraction(shares)}); they no longer learn."


def dead_fixes(s: Subject) -> list[Fix]:
    return [lower_rate(s, "a smaller learning rate, as large steps kill ReLUs"),
            Fix("an activation that cannot die", (Change("activation", "leaky_relu"),)),
            Fix("He initialisation", (Change("init", "he_normal"),)), *s.scaling()]  # fmt: skip


#: A sigmoid or tanh unit is saturated where |pre-activation| > 3 (its slope is below 0.05 there).
SATURATION_LEVEL = 3.0
#: Share of saturated (unit, row) pairs -> severity.
SATURATION_THRESHOLDS = ((0.5, "warning"), (0.2, "info"))


def saturated_shares(preactivations) -> list[float]:
    """Per layer, the share of (row, unit) pairs with |pre-activation| > 3."""
    return [float(np.mean(np.abs(z) > SATURATION_LEVEL)) for z in preactivations]


def saturation_message(total, shares, architecture) -> str:
    return (
        f"{total:.0%} of the {architecture.activation} units' values are saturated (|pre-activation| >"
        f" {SATURATION_LEVEL:g}, per layer: {fraction(shares)}): their gradient is nearly 0, so they learn slowly."
    )


def saturation_fixes(s: Subject) -> list[Fix]:
    return [*s.scaling(), lower_rate(s), Fix("an activation that does not saturate", (Change("activation", "relu"),))]


class UnitCheck(NamedTuple):
    name: str
    measure: Callable  # hidden pre-activations -> one share per layer
    thresholds: tuple  # (share, severity) rows, most severe first
    message: Callable  # (share over all units, shares per layer, architecture) -> what was seen
    fixes: Callable  # subject -> the fixes to suggest
    field: str  # the Diagnosis attribute that keeps the shares

    def judge(self, shares, units, architecture, s: Subject) -> Finding | None:
        """The finding for the per-layer ``shares`` (``units`` per layer), by ``thresholds``; None below them."""
        total, severity = judged(shares, units, self.thresholds)
        if severity is None:
            return None
        return Finding(self.name, severity, self.message(total, shares, architecture), fixes=self.fixes(s))


DEAD_RELU = UnitCheck("dead_relu", dead_units, DEAD_THRESHOLDS, dead_message, dead_fixes, "dead_units")
SATURATION = UnitCheck("saturation", saturated_shares, SATURATION_THRESHOLDS, saturation_message, saturation_fixes,
                       "saturated")  # fmt: skip

#: Hidden activation -> the unit check that applies to it.
UNIT_CHECKS = {"relu": DEAD_RELU, "logistic": SATURATION, "tanh": SATURATION}


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


def gradient_finding(norms: list[float], s: Subject) -> Finding | None:
    """Non-finite (error) or exploding (> 1e3) norms, or a layer whose norm is below 1e-3 of the largest."""
    norms = np.asarray(norms)
    largest = float(np.max(norms)) if np.all(np.isfinite(norms)) else np.inf
    if not np.isfinite(largest) or largest > EXPLODING_NORM:
        return Finding(
            "exploding_gradient",
            "error" if not np.isfinite(largest) else "warning",
            f"the gradient norm per layer is {', '.join(f'{v:.3g}' for v in norms)}: steps this large throw the"
            " weights far off.",
            fixes=divergence_fixes(s),
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
        fixes=[Fix("ReLU units with He initialisation", (Change("activation", "relu"), Change("init", "he_normal"))),
               Fix("batch normalisation", (Change("batch_norm", True),)), Fix("fewer layers"), *s.scaling()],  # fmt: skip
    )


# ============================================================== unscaled inputs
#: Rules of ``data.py`` whose reason says the inputs are unscaled (sizes far from 1, uneven ranges).
UNSCALED_RULES = (data.large_values, data.uneven_ranges)


def unscaled_reasons(X) -> list[str]:
    """What breaks ``UNSCALED_RULES`` in the network's inputs ``X`` (empty: they look scaled)."""
    stats = data.column_stats(X)
    return [reason for rule in UNSCALED_RULES if (reason := rule(stats)) is not None]


def unscaled_inputs(X, s: Subject) -> Finding | None:
    """The network's inputs break a scaling rule of ``data.py``: values typically larger than 5, or ranges
    more than 100-fold apart. The scaler suggested is the one ``data.scaling_advice`` picks for them."""
    reasons = unscaled_reasons(X)
    if not reasons:
        return None
    scaler = data.scaling_advice(X).scaler or "StandardScaler"
    return Finding(
        "unscaled_inputs",
        "warning",
        f"the network receives unscaled inputs: {'; '.join(reasons)}. Its initial weights assume inputs of"
        " about unit size; larger ones saturate units or make the first steps overshoot.",
        fixes=[Fix("scale the inputs", (Change("scaler", scaler),))],
    )
