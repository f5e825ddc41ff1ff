"""``diagnose(model, X, y)``: what a fitted model's history and weights say, and what to change.

The checks, each a small function that returns a ``Finding`` or None:

- on the training history (``history_checks.py``): divergence, a learning rate too high
  (a bouncing loss), not converged, overfitting, underfitting, a plateau;
- on rows ``X`` (``unit_checks.py``): dead ReLUs, saturated sigmoid/tanh units, unscaled inputs;
- with targets ``y`` too: the gradient norm per layer (vanishing or exploding).

``model`` may be an mlpkit estimator, a scikit-learn ``Pipeline`` ending in one (``X`` goes
through the steps before it, so the network is judged on the inputs it sees), a
``TransformedTargetRegressor`` around either (``y`` transformed likewise), or a FluCoMa-style
estimator (its ``network_``). Each finding's ``suggestion`` says what to change in the words
of the interface in use (``vocabulary.py``): Python's parameter names, the command line's
``--set``, or the FluCoMa estimators' (``learn_rate``, ``hidden_layers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import _estimator, history_checks, unit_checks
from ._report import plain
from .findings import SEVERITIES, Finding, subject_of
from .history_checks import History, curve
from .vocabulary import Change, for_model, vocabulary

__all__ = ["Diagnosis", "Finding", "History", "diagnose"]


@dataclass
class Diagnosis:
    """The findings, and the measurements behind the unit and gradient checks (None: not measured)."""

    findings: list[Finding]
    checked: list[str]  # the checks that ran
    skipped: dict[str, str]  # check -> why it did not run
    dead_units: list[float] | None = None  # share of dead ReLU units, per hidden layer
    saturated: list[float] | None = None  # share of |pre-activation| > 3, per hidden layer
    gradient_norms: list[float] | None = None  # per layer, weights and biases together
    interface: str = "python"  # whose words the suggestions use (``vocabulary.VOCABULARIES``)
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
            if f.suggestion:  # (empty where the interface has none of the fixes)
                lines.append(f"    try: {f.suggestion}")
        for label, values in (("dead ReLU units", self.dead_units), ("saturated units", self.saturated)):
            if values is not None:
                lines.append(f"{label} per hidden layer: " + ", ".join(f"{v:.0%}" for v in values))
        if self.gradient_norms is not None:
            lines.append("gradient norm per layer: " + ", ".join(f"{v:.2g}" for v in self.gradient_norms))
        lines.append("checked: " + ", ".join(self.checked))
        lines.extend(f"not checked: {name} ({why})" for name, why in self.skipped.items())
        return "\n".join(lines)


def history_of(network, train_score=None) -> History | None:
    """The network's training history, or None when it keeps none (solver='lbfgs')."""
    loss = curve(getattr(network, "loss_curve_", None))
    if loss is None:
        return None
    return History(
        loss=loss,
        val_loss=curve(getattr(network, "validation_loss_curve_", None)),
        val_score=curve(getattr(network, "validation_scores_", None)),
        hit_max_iter=network.n_iter_ >= network.max_iter,
        tol=float(network.tol),
        chance_loss=_estimator.chance_loss(network),
        train_score=train_score,
    )


# ============================================================== the model
def _targets_of_transformed(model, y):
    y = np.asarray(y, dtype=float)
    return model.transformer_.transform(y.reshape(len(y), -1)).reshape(y.shape)


def _is_dataset(X) -> bool:
    """A FluCoMa DataSet, known by name (the guide does not import the FluCoMa estimators that build on it)."""
    return type(X).__name__ == "DataSet" and type(X).__module__.startswith("mlpkit.flucoma")


def _flucoma_rows(model, X, y):
    """A FluCoMa-style model's rows as arrays: DataSets paired by identifier, a classifier's labels one-hot."""
    if _is_dataset(X):
        if y is None:
            X = X.to_numpy()[1]
        else:
            _, X, y = model._pairs(X, y)
    if y is not None and hasattr(model, "labels_"):
        labels = np.asarray(y).astype(str).ravel()
        y = (labels[:, None] == np.asarray(model.labels_)[None, :]).astype(float)
    elif y is not None and np.ndim(y) == 2 and np.shape(y)[1] == 1:
        y = np.ravel(y)  # (one output: as the network's own score takes it)
    return X, y


def unwrap(model, X, y):
    """(the mlpkit network, X as its inputs, y as its targets, the interface's name): through a
    TransformedTargetRegressor, a Pipeline's steps, or a FluCoMa-style model's ``network_``."""
    interface = for_model(model).name
    if hasattr(model, "transformer") and hasattr(model, "regressor"):  # TransformedTargetRegressor
        check_is_fitted(model)
        y = None if y is None else _targets_of_transformed(model, y)
        model = model.regressor_
    if hasattr(model, "steps"):  # Pipeline
        check_is_fitted(model)
        X = None if X is None else model[:-1].transform(X)
        model = model.steps[-1][1]
    if "network_" in vars(model) or type(model).__module__.startswith("mlpkit.flucoma"):
        if vars(model).get("network_") is None:
            raise _estimator.not_fitted(model)
        X, y = _flucoma_rows(model, X, y)
        return model.network_, X, y, interface, hasattr(model, "labels_")
    return model, X, y, interface, False


def training_score(network, X, y, classifier_in_disguise: bool) -> float | None:
    """R^2 of a regressor on the rows given (for the underfitting check); None for classifiers or without rows."""
    if y is None or hasattr(network, "classes_") or classifier_in_disguise:
        return None
    return float(network.score(_estimator.fitted_inputs(network, X), y))


def _drop_superseded(findings):
    names = {f.name for f in findings}
    dropped = {other for name in names for other in history_checks.SUPERSEDES.get(name, ())}
    return [f for f in findings if f.name not in dropped]


# ==================================================================== diagnose
def diagnose(model, X=None, y=None, *, sample_weight=None, interface=None) -> Diagnosis:
    """Findings and what to change, for a fitted network.

    Parameters
    ----------
    model : a fitted ``MLPClassifier`` / ``MLPRegressor``, a ``Pipeline`` ending in one, a
        ``TransformedTargetRegressor`` around either, or a FluCoMa-style estimator (not changed)
    X : array-like of shape (n_rows, n_features), optional (a FluCoMa DataSet for FluCoMa's estimators)
        Rows to check the hidden units and the input scaling on (the training rows are best).
    y : array-like, optional (a DataSet or LabelSet for FluCoMa's)
        Targets of ``X``: with them, the gradient norm of each layer is measured too, and a regressor's
        fit to them (underfitting).
    sample_weight : array-like of shape (n_rows,), optional
    interface : {'python', 'cli', 'flucoma'}, optional
        Whose words the suggestions use; default: FluCoMa's for its estimators, else Python's.

    Returns
    -------
    Diagnosis: ``findings`` (each with name, severity, message, suggestion), the measurements, and
    which checks ran. ``print`` it for a report.
    """
    if y is not None and X is None:
        raise ValueError("diagnose got y without X; pass both (diagnose(model, X, y)) to measure gradients.")
    network, X, y, detected, disguised = unwrap(model, X, y)
    check_is_fitted(network, "coefs_")
    words = vocabulary(interface or detected)
    inputs = None if X is None else _estimator.fitted_inputs(network, X)
    scaled = None if inputs is None else not unit_checks.unscaled_reasons(inputs)
    subject = subject_of(network, words, scaled)
    findings, checked, skipped, result = [], [], {}, {}

    history = history_of(network, training_score(network, X, y, disguised) if X is not None else None)
    for name, check in history_checks.CHECKS.items():
        if history is None:
            skipped[name] = "the model keeps no per-epoch history (solver='lbfgs')"
        elif name in history_checks.NEEDS_VALIDATION and history.val_loss is None and history.val_score is None:
            skipped[name] = f"needs a validation curve: {words.join(Change('early_stopping', True))}"
        else:
            checked.append(name)
            findings.append(check(history, subject))

    architecture = _estimator.fitted_architecture(network)
    unit_check = unit_checks.UNIT_CHECKS.get(architecture.activation)
    if unit_check is None:
        skipped["units"] = f"no dead-unit or saturation check for activation={architecture.activation!r}"
    elif len(network.coefs_) < 2:
        skipped[unit_check.name] = "the network has no hidden layer"
    elif inputs is None:
        skipped[unit_check.name] = "needs rows: diagnose(model, X)"
    else:
        params, stats = _estimator.params_and_stats(network)
        z = unit_checks.hidden_preactivations(params, stats, inputs, architecture)
        shares = unit_check.measure(z)
        checked.append(unit_check.name)
        findings.append(unit_check.judge(shares, [layer.shape[1] for layer in z], architecture, subject))
        result[unit_check.field] = shares

    if inputs is None:
        skipped["unscaled_inputs"] = "needs rows: diagnose(model, X)"
    else:
        checked.append("unscaled_inputs")
        findings.append(unit_checks.unscaled_inputs(inputs, subject))

    if y is None:
        skipped["gradients"] = "needs rows and targets: diagnose(model, X, y)"
    else:
        norms = unit_checks.layer_gradient_norms(_estimator.prepare(network, X, y, sample_weight))
        checked.append("gradients")
        findings.append(unit_checks.gradient_finding(norms, subject))
        result["gradient_norms"] = norms

    found = _drop_superseded([f.said(words) for f in findings if f is not None])
    found.sort(key=lambda f: -SEVERITIES.index(f.severity))
    return Diagnosis(found, checked, skipped, **result, interface=words.name)
