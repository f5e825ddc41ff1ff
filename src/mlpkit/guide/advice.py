"""``advise(X, y)``: a first network for the data, chosen on evidence where that is cheap, ready to ``fit``.

The report answers a learner's first questions in order: what task is this, how to
scale the inputs (and, for regression, the targets), which network to start with,
which learning rate, how big a mini-batch, and what to change if it under- or
overfits. ``advise(X, y).estimator()`` builds exactly that: an unfitted scikit-learn
``Pipeline`` (the scaler, then the network), in a ``TransformedTargetRegressor`` when
the targets need scaling too.

How each choice is made:

- **scaling**: from what the columns look like (``data.scaling_advice``);
- **width**: on small data (``evidence.affordable``), by evidence: one hidden layer of each
  of ``sizing.candidate_widths`` units, each at the rate ``lr_find`` suggests for it,
  trained as advised on ``evidence.FOLDS`` folds; the best mean held-out score wins. On
  larger data, by rule (``sizing.rule_width`` units, with early stopping on a held-out
  share to guard it). The report says which it did, with the scores;
- **learning rate**: ``lr_find`` on the scaled data (the model's default, 0.001, when
  its curve gives no clear answer, which the report says);
- **batch size**: ``sizing.suggest_batch_size`` (about 10 updates per epoch);
- **data size**: FluCoMa's rule of thumb (about 10 rows per parameter) is shown as
  context, with its caveat; it caps nothing (``sizing.data_size_note``).

The training settings of each kind of data are the tables ``SMALL_DATA`` and
``LARGE_DATA``; ``bench/guidance.py`` measures the advised estimator against the best
of a grid of widths and learning rates (``bench/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse
from sklearn.base import clone
from sklearn.utils import check_X_y

from . import data, evidence, sizing
from ._report import plain, section
from .vocabulary import Change, vocabulary

#: What to change, in this order, when the network underfits (training score poor).
UNDERFITTING_STEPS = (
    "widen the hidden layer (double its units)",
    "add a second hidden layer (about half the first one's width)",
    "lower alpha (divide by 10) or lower dropout",
    "train longer (raise max_iter), or raise learning_rate_init (mlpkit.guide.lr_find suggests one)",
)

#: What to change when it overfits (training score good, validation score poor).
OVERFITTING_STEPS = (
    "raise alpha (multiply by 10) or add dropout (0.1 to 0.3)",
    "stop on held-out data: early_stopping=True",
    "use fewer hidden units",
    "collect more data",
)

#: Training settings advised for data small enough for evidence: every row trains, for a fixed number of
#: epochs (the evidence measured exactly this), from the rate ``lr_find`` suggests.
SMALL_DATA = {"solver": "adam", "alpha": 1e-4, "max_iter": 200, "early_stopping": False}
#: ... and for larger data: a held-out share stops training on its loss and keeps the best epoch's weights.
LARGE_DATA = {
    "solver": "adam",
    "alpha": 1e-4,
    "max_iter": 200,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "early_stopping_monitor": "loss",
    "n_iter_no_change": 10,
}

#: Rate used when ``lr_find`` gives no clear answer: the estimators' default.
DEFAULT_RATE = 1e-3

#: How the report names each way the width was chosen.
BASES = {
    "evidence": "chosen on evidence",
    "rule": "chosen by rule (no trials: the data is large for quick ones, or they were turned off)",
    "given": "as given",
}


@dataclass
class Advice:
    """What ``advise`` found; ``print`` it for a short report, ``to_dict()`` for the numbers,
    ``estimator()`` for the advised unfitted estimator."""

    task: str  # 'classify' or 'regress'
    target_type: str  # scikit-learn's type_of_target(y)
    n_rows: int
    n_features: int
    n_outputs: int  # units of the output layer
    n_classes: int | None
    hidden_layer_sizes: tuple  # the advised network (or the one given)
    n_parameters: int
    rows_per_parameter: float
    data_size_note: str | None  # FluCoMa's rule of thumb, as context (None: 10 rows per parameter or more)
    sizing_basis: str  # 'evidence', 'rule' or 'given' (``BASES``)
    trials: list  # evidence.Trial per candidate width (empty without evidence)
    learning_rate_init: float
    learning_rate_basis: str  # what lr_find said (and what the held-out trials made of it)
    lr_find_rate: float | None  # lr_find's suggestion for the advised network (None: no clear answer)
    batch_size: int
    settings: dict  # the other training settings (``SMALL_DATA`` or ``LARGE_DATA``)
    scaling: data.ScalingAdvice
    target_scaling: str | None
    imbalance: data.ImbalanceAdvice | None
    random_state: int | None = 0
    notes: list[str] = field(default_factory=list)
    #: The data preparation (an unfitted ``mlpkit.Preparation``) for tables with text, gaps, identifiers or dates;
    #: None for plain numbers, which a scaler alone prepares.
    preparation: object = None
    preparation_choices: dict = field(default_factory=dict)  # interface -> label -> line (``prep.report``)
    if_underfitting: tuple = UNDERFITTING_STEPS
    if_overfitting: tuple = OVERFITTING_STEPS

    @property
    def suggested_hidden_layer_sizes(self) -> tuple:
        return self.hidden_layer_sizes

    @property
    def scale_targets(self) -> bool:
        return self.target_scaling is not None

    @property
    def warnings(self) -> list[str]:
        """The findings that call for action beyond ``estimator()`` (which scales what needs it)."""
        found = []
        if self.imbalance is not None and self.imbalance.imbalanced:
            found.append(self.imbalance.message)
        return found

    def network_params(self) -> dict:
        """The advised parameters of the network (``MLPClassifier`` / ``MLPRegressor``)."""
        return {
            "hidden_layer_sizes": self.hidden_layer_sizes,
            "learning_rate_init": self.learning_rate_init,
            "batch_size": self.batch_size,
            **self.settings,
            "random_state": self.random_state,
        }

    def estimator(self):
        """The advised, unfitted estimator: the network after the chosen scaler in a ``Pipeline`` (the network
        alone when no scaling is advised), in a ``TransformedTargetRegressor`` with a ``StandardScaler`` when
        the regression targets need scaling. Ready to ``fit(X, y)``."""
        if self.preparation is not None:
            from sklearn.base import clone

            return build(self.task, None, self.scale_targets, self.network_params(), clone(self.preparation))
        return build(self.task, self.scaling.scaler if self.scaling.needed else None, self.scale_targets,
                     self.network_params())  # fmt: skip

    def to_dict(self) -> dict:
        return {**plain(self), "warnings": self.warnings}

    def describe_task(self) -> str:
        if self.task == "regress":
            return f"regression, {self.n_outputs} target{'s' if self.n_outputs > 1 else ''}"
        if self.target_type == "multilabel-indicator":
            return f"classification, {self.n_classes} labels"
        return f"classification, {self.n_classes} classes"

    def start_with(self, interface: str = "python") -> list[str]:
        """The advised settings, in the words of ``interface``: Python's parameters, or a ``mlpkit fit`` command."""
        words = vocabulary(interface)
        params = self.network_params()
        changes = [Change(name, params[name]) for name in ("hidden_layer_sizes", "learning_rate_init", "batch_size")]
        changes += [Change(name, value) for name, value in self.settings.items() if name != "solver"]
        if interface == "cli":
            changes.append(Change("scaler", self.scaling.scaler if self.scaling.needed else "none"))
            said = list(dict.fromkeys(text for change in changes if (text := words.says(change))))  # (once each)
            target = " --scale-target standard" if self.scale_targets else ""
            return [f"mlpkit fit DATA --target COL {' '.join(said)}{target} --out MODEL"]
        lines = [words.join(*changes)]
        first = ["Preparation"] if self.preparation is not None else [self.scaling.scaler] if self.scaling.needed else []
        steps = first + [
            "MLPClassifier" if self.task == "classify" else "MLPRegressor"
        ]
        if interface == "python":
            built = f"Pipeline({', '.join(steps)})" if len(steps) > 1 else steps[0]
            if self.scale_targets:
                built = f"TransformedTargetRegressor({built}, transformer=StandardScaler())"
            lines.append(f"advise(X, y).estimator() builds it: {built}")
        elif self.scaling.needed:
            lines.append(f"with {words.join(Change('scaler', self.scaling.scaler))}")
        return lines

    def width_lines(self) -> list[str]:
        line = f"{BASES[self.sizing_basis]}"
        if self.trials:
            metric = "accuracy" if self.task == "classify" else "R^2"
            best = {}
            for t in self.trials:  # the best rate of each width
                if t.hidden_layer_sizes not in best or t.score > best[t.hidden_layer_sizes].score:
                    best[t.hidden_layer_sizes] = t
            scores = ", ".join(f"{','.join(map(str, h))}: {t.score:.3f} (rate {t.learning_rate_init:.2g})" for h, t in best.items())
            line += (f": {evidence.FOLDS}-fold held-out {metric}, each network at {len(evidence.RATE_FACTORS)} rates"
                     f" around lr_find's, best of each: {scores}")  # fmt: skip
        return [line]

    def describe(self, interface: str = "python") -> str:
        """The report, with settings in the words of ``interface`` ('python' or 'cli')."""
        layers = " -> ".join(str(n) for n in (self.n_features, *self.hidden_layer_sizes, self.n_outputs))
        network = [f"{layers}: {self.n_parameters} parameters, {self.rows_per_parameter:.3g} rows per parameter"]
        if self.data_size_note:
            network.append(self.data_size_note)
        shape = f"{self.n_rows} rows x {self.n_features} features -> {self.n_outputs} output units"
        scaling = self.scaling.lines() + ([self.target_scaling] if self.target_scaling else [])
        blocks = [
            f"mlpkit advice: {self.describe_task()}",
            section("data", [shape]),
            section("start with", self.start_with(interface)),
            section("width", self.width_lines()),
            section("network", network),
            section("learning rate", [f"{self.learning_rate_init:.2g}: {self.learning_rate_basis}"]),
            section("batch_size", [f"{self.batch_size} (about 10 updates per epoch, at most 200)"]),
            section("scaling", scaling),
        ]
        if self.preparation is not None:
            choices = self.preparation_choices.get(interface) or self.preparation_choices.get("python", {})
            blocks.insert(2, section("columns", [f"{label}: {line}" for label, line in choices.items()]))
        if self.imbalance is not None:
            blocks.append(section("classes", self.imbalance.lines()))
        if self.notes:
            blocks.append(section("note", self.notes))
        blocks.append(section("underfits?", list(self.if_underfitting)))
        blocks.append(section("overfits?", list(self.if_overfitting)))
        return "\n".join(blocks)

    def __str__(self) -> str:
        return self.describe("python")


def build(task: str, scaler: str | None, scale_targets: bool, params: dict, preparation=None):
    """The estimator ``Advice.estimator`` describes: ``scaler`` (a name in sklearn.preprocessing, or None)
    or ``preparation`` (an ``mlpkit.Preparation``) before an mlpkit network with ``params``, the targets
    standardised when ``scale_targets``."""
    from sklearn import preprocessing
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    from .. import estimators  # (the guide builds on the estimators: imported when asked for)

    network = (estimators.MLPClassifier if task == "classify" else estimators.MLPRegressor)(**params)
    model = network if scaler is None else Pipeline([("scale", getattr(preprocessing, scaler)()), ("mlp", network)])
    if preparation is not None:
        model = Pipeline([("prepare", preparation), ("mlp", network)])
    if scale_targets:
        return TransformedTargetRegressor(regressor=model, transformer=preprocessing.StandardScaler())
    return model


def advise(X, y, hidden_layer_sizes=None, task=None, feature_names=None, *, evidence_trials="auto",
           random_state=0, categorical=None, keep=None) -> Advice:  # fmt: skip
    """Advice on a first network for ``X``, ``y``, and the estimator that follows it (``.estimator()``).

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_rows, n_features)
    y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Class labels, label indicator rows, or real numbers.
    hidden_layer_sizes : tuple of int, optional
        The architecture you have in mind: advised as given (the learning rate and the rest
        are found for it). None: choose one.
    task : {'classify', 'regress'}, optional
        None detects it from y as scikit-learn does (``type_of_target``):
        whole numbers are read as class labels, so pass 'regress' for counts.
    feature_names : list of str, optional
        The columns' names, used in the advice ("column 'age'"); default: a
        DataFrame's column names, else the columns are named by index.
    evidence_trials : 'auto', True or False
        Choose the width by short trainings on held-out folds: 'auto' where the data is
        small enough for them to be quick (``evidence.affordable``).
    random_state : int or None
        Seeds the folds, the range test and the advised estimator.
    categorical, keep : list of str, optional
        For a table (a DataFrame or dict of columns) with text, yes/no, gaps, identifiers or dates, which an
        ``mlpkit.Preparation`` prepares (``estimator()`` starts with it): columns of number codes to treat as
        categories, and identifier-like columns to keep (see ``mlpkit.Preparation``).

    Returns
    -------
    Advice, which prints as a short report; ``.estimator()`` is the advised unfitted estimator.

    Example
    -------
    >>> from sklearn.datasets import load_wine
    >>> X, y = load_wine(return_X_y=True)
    >>> advice = advise(X, y)            # doctest: +SKIP
    >>> print(advice)                    # doctest: +SKIP
    >>> model = advice.estimator().fit(X, y)   # doctest: +SKIP
    """
    from ..prep.target import drop_missing_targets

    X, y, left_out = drop_missing_targets(X, y)  # (a target cannot be filled in: it is what is learned)
    preparation, preparation_choices = None, {}
    if needs_preparation(X, categorical, keep):
        from ..prep import Preparation
        from ..prep.report import choices

        preparation = Preparation(categorical=categorical, keep=keep).fit(X)
        preparation_choices = {interface: choices(preparation, interface) for interface in ("python", "cli")}
        feature_names = [str(name) for name in preparation.get_feature_names_out()]
        X = preparation.transform(X)  # (prepared on all rows for the advice; the estimator prepares in its own fit)
    elif feature_names is None and hasattr(X, "columns"):  # a DataFrame names its columns
        feature_names = [str(name) for name in X.columns]
    X, y = check_X_y(X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype="numeric")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    task, target_type = data.detect_task(y, task)
    if evidence_trials not in ("auto", True, False):
        raise ValueError(f"evidence_trials must be 'auto', True or False; got {evidence_trials!r}.")
    n_rows, n_features = X.shape
    n_outputs, n_classes = data.output_units(y, task, target_type)
    X = data.dense_2d(X)
    scaling = data.scaling_advice(X, feature_names or None) if preparation is None else prepared_scaling(preparation)
    target_scaling = data.target_scaling_note(y) if task == "regress" else None
    small = evidence.affordable(n_rows, n_features) if evidence_trials == "auto" else evidence_trials
    batch_size = sizing.suggest_batch_size(n_rows)
    settings = dict(SMALL_DATA if small else LARGE_DATA)
    scaler = scaling.scaler if scaling.needed and preparation is None else None  # (prepared X is scaled already)

    def params(hidden, rate):
        return {"hidden_layer_sizes": hidden, "learning_rate_init": rate, "batch_size": batch_size,
                **settings, "random_state": random_state}  # fmt: skip

    def build_trial(trial):
        return build(task, scaler, target_scaling is not None, params(trial.hidden_layer_sizes, trial.learning_rate_init))

    given = None if hidden_layer_sizes is None else sizing.as_hidden_tuple(hidden_layer_sizes)
    if given is not None:
        widths = [given]
    elif small:
        widths = [(width,) for width in sizing.candidate_widths(n_outputs)]
    else:
        widths = [(sizing.rule_width(n_outputs),)]
    found = {w: _rate(task, scaler, target_scaling is not None, params(w, DEFAULT_RATE), X, y) for w in widths}
    if small:
        trials = [evidence.Trial(w, float(f"{found[w].rate * factor:.2g}"), factor)
                  for w in widths for factor in evidence.RATE_FACTORS]  # fmt: skip
        best = evidence.compare(build_trial, trials, X, y, classify=task == "classify", random_state=random_state)
        hidden, rate = best.hidden_layer_sizes, best.learning_rate_init
        rate_basis = found[hidden].basis + (
            "; kept by the held-out trials" if best.rate_factor == 1
            else f"; the held-out trials preferred {evidence.FACTOR_WORDS[best.rate_factor]} it"
        )  # fmt: skip
    else:
        trials, hidden = [], widths[0]
        rate, rate_basis = found[hidden].rate, found[hidden].basis
    basis = "given" if given is not None else "evidence" if small else "rule"
    n_parameters = sizing.count_parameters(n_features, hidden, n_outputs)
    return Advice(
        task=task,
        target_type=target_type,
        n_rows=n_rows,
        n_features=n_features,
        n_outputs=n_outputs,
        n_classes=n_classes,
        hidden_layer_sizes=hidden,
        n_parameters=n_parameters,
        rows_per_parameter=sizing.rows_per_parameter(n_rows, n_parameters),
        data_size_note=sizing.data_size_note(n_rows, n_features, hidden, n_outputs),
        sizing_basis=basis,
        trials=trials,
        learning_rate_init=rate,
        learning_rate_basis=rate_basis,
        lr_find_rate=found[hidden].rate if found[hidden].clear else None,
        batch_size=batch_size,
        settings=settings,
        scaling=scaling,
        target_scaling=target_scaling,
        imbalance=data.imbalance_advice(y, target_type) if task == "classify" else None,
        random_state=random_state,
        notes=data.task_notes(y, task, target_type)
        + ([f"{left_out} row(s) with a missing target were left out"] if left_out else []),
        preparation=None if preparation is None else clone(preparation),
        preparation_choices=preparation_choices,
    )


def needs_preparation(X, categorical=None, keep=None) -> bool:
    """Whether ``X`` needs more than a scaler: a table of columns (a dict), text or other objects, gaps, or
    columns named as categories or to keep."""
    if categorical or keep or isinstance(X, dict):
        return True
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame
        return any(dtype.kind not in "biuf" for dtype in X.dtypes) or bool(X.isna().to_numpy().any())
    if scipy.sparse.issparse(X):
        return False
    X = np.asarray(X)
    return X.dtype.kind not in "biuf" or (X.dtype.kind == "f" and bool(np.isnan(X).any()))


def prepared_scaling(preparation) -> data.ScalingAdvice:
    """The scaling a fitted preparation chose, as the advice reports scaling."""
    chosen = preparation.scaling_
    if chosen.scaler is None:
        return data.ScalingAdvice(False)
    flucoma = {choice.scaler: choice.flucoma_scaler for choice in data.SCALERS}[chosen.scaler]
    return data.ScalingAdvice(True, [chosen.why], chosen.scaler, flucoma,
                              "of the numeric columns and date parts, inside the preparation")  # fmt: skip


class Rate(NamedTuple):
    rate: float
    clear: bool  # lr_find's curve gave a clear answer (else: the default rate)
    basis: str  # what lr_find said


def _rate(task, scaler, scale_targets, params, X, y) -> Rate:
    """lr_find's rate for the network of ``params`` on the data as the advised estimator's steps prepare it
    (scaled inputs and targets); the default when its curve gives no clear answer."""
    from .lr_finder import lr_find

    model = build(task, scaler, scale_targets, params)
    if scale_targets:
        y = model.transformer.fit_transform(np.asarray(y, dtype=float).reshape(len(y), -1)).reshape(np.shape(y))
        model = model.regressor
    if scaler is not None:
        X = model.steps[0][1].fit_transform(X)
        model = model.steps[-1][1]
    result = lr_find(model, X, y)
    if result.clear:  # (two significant digits: the sweep's steps are 0.07 decades apart anyway)
        rate = float(f"{result.suggestion:.2g}")
        return Rate(rate, True, f"lr_find suggested {rate:.2g} ({result.reason})")
    return Rate(DEFAULT_RATE, False, f"the default {DEFAULT_RATE:g}: lr_find gave no clear answer ({result.reason})")
