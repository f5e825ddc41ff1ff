"""The codec of mlpkit's core ``MLPClassifier`` and ``MLPRegressor``: parameters, network, training state.

Its section is ``{"params", "fitted"}``; "fitted" is null for an unfitted estimator. The network's
arrays are named for their place (``coefs.I``, ``intercepts.I``, ``prelu_slopes.I``,
``batch_norm.scale.I`` ...), early stopping's best weights ``best.I`` (only when they differ from the
current ones) and the optimiser's state ``optimizer.I`` in ``jax.tree.leaves`` order of the state the
same solver builds here. The estimator is rebuilt from its parameters, its network from the arrays,
and the two must agree.
"""

from __future__ import annotations

import numpy as np

from .. import _tree
from .._dtypes import DTYPES, x64
from .._refits import Origin
from ..estimators import MLPClassifier
from ..network import Architecture
from ..solvers import STOCHASTIC_SOLVERS, SolverSpec, fresh_state
from ..state import copied
from .checks import any_json, check, count, flag, items, list_of, nullable, number, record, text
from .errors import Invalid
from .values import params_from_json, params_to_json, to_json, validated, value

LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")

#: Fitted attributes of the training history -> what their decoded value must be.
HISTORY = {
    "loss_": number(),
    "best_loss_": nullable(number()),
    "loss_curve_": list_of(number()),
    "learning_rate_curve_": list_of(number()),
    "validation_scores_": nullable(list_of(number())),
    "validation_loss_curve_": nullable(list_of(number())),
    "best_validation_score_": nullable(number()),
    "_diverged": flag(),
}
#: Counters of the training state, stored beside the history: attribute name -> (state field, Spec).
#: Files written before a counter was kept lack it: it starts as a new network's.
STATE_COUNTERS = {
    "_no_improvement_count": ("no_improvement", count()),
    "_best_monitored": ("best_monitored", number()),
    "_best_loss": ("best_loss", number()),
    "_epoch": ("epoch", count()),
    "_step": ("step", count()),
    "_cycle_start": ("cycle_start", count()),
    "_optimizer_start": ("optimizer_start", count()),
    "_lr_reference": ("lr_reference", number()),
    "_plateau_best": ("plateau_best", number()),
    "_plateau_count": ("plateau_count", count()),
}
#: Fitted attributes always present; the first four are checked against the network on loading.
STRUCTURAL = ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_")

SECTION = record({"params": any_json(), "fitted": nullable(any_json())})
ATTRIBUTES = record(
    {**{name: value() for name in STRUCTURAL}, "t_": value(count()), "n_iter_": value(count())},
    optional={
        "feature_names_in_": value(),
        "classes_": value(),
        **{name: value(spec) for name, spec in HISTORY.items()},
        **{name: value(spec) for name, (_, spec) in STATE_COUNTERS.items()},
    },
)
ARCHITECTURE = record({"activation": text(), "out_activation": text(), "negative_slope": number(),
                       "batch_norm": flag(), "dropout": flag(), "alpha_dropout": flag()})  # fmt: skip
FITTED = {
    "layer_units": list_of(count(1)),
    "architecture": ARCHITECTURE,
    "loss": text(),
    "dtype": text(choices=DTYPES),
    "attributes": ATTRIBUTES,
    "best_weights": text(choices=("current", "stored")),
    "optimizer": nullable(any_json()),  # checked only where it is restored (optimizer_state=False ignores it)
}
FITTED_REGRESSOR = record(FITTED)
FITTED_CLASSIFIER = record(
    {**FITTED, "labels": record({"type": text(choices=LABEL_TYPES), "sparse_input": flag()})}
)
OPTIMIZER = record({
    "solver": text(choices=STOCHASTIC_SOLVERS),
    "static": list_of(items(text(), value(), label="[argument, value]")),
    "hyperparams": any_json(),  # its keys depend on the solver
})  # fmt: skip


# ------------------------------------------------------------------------------- writing


def write(est, saving) -> dict:
    """The section of a core estimator; its arrays go into ``saving``."""
    section = {"params": params_to_json(est), "fitted": None}
    if "_state" not in vars(est):
        return section
    _check_structure_matches_params(est)
    units, architecture, loss, dtype_name = est._structure
    dtype = DTYPES[dtype_name]
    fitted = {
        "layer_units": [int(n) for n in units],
        "architecture": {k: to_json(v, k) for k, v in architecture._asdict().items()},
        "loss": loss,
        "dtype": dtype_name,
        "attributes": _attributes_to_json(est),
        "best_weights": "current",
        "optimizer": None,
    }
    if isinstance(est, MLPClassifier):
        binarizer = est._label_binarizer
        fitted["labels"] = {"type": binarizer.y_type_, "sparse_input": bool(binarizer.sparse_input_)}
    for name, values in _network_arrays(est).items():
        for i, array in enumerate(values):
            saving.add(f"{name}.{i}", np.asarray(array, dtype=dtype))
    if not _best_is_current(est):
        fitted["best_weights"] = "stored"
        for i, leaf in enumerate(_tree.leaves((est._state.best_params, est._state.best_stats))):
            saving.add(f"best.{i}", np.asarray(leaf))
    state, origin = est._state, vars(est).get("_origin")
    if (
        saving.optimizer_state
        and state.opt_state is not None
        and origin is not None
        and origin.solver.transformation is None
    ):
        spec = origin.solver
        fitted["optimizer"] = {
            "solver": spec.name,
            "static": [[argument, to_json(v, argument)] for argument, v in spec.static],
            "hyperparams": {k: to_json(v, k) for k, v in origin.settings.items()},
        }
        for i, leaf in enumerate(_tree.leaves(state.opt_state)):
            saving.add(f"optimizer.{i}", np.asarray(leaf))
        if state.key is not None:  # training's random stream carries on after loading, too
            saving.add("optimizer.random_key", np.asarray(state.key, np.uint32))
    section["fitted"] = fitted
    return section


def _check_structure_matches_params(est) -> None:
    """The parameters must still describe the fitted network, so that load can rebuild it from them."""
    units, fitted, loss, dtype = est._structure
    try:
        now = (
            est._architecture(units[-1], len(units) - 2),
            est._loss_name(),
            est.dtype or dtype,
        )  # None: any
    except ValueError as error:
        raise ValueError(
            f"cannot save this {type(est).__name__}: its parameters were changed after fit and no longer fit"
            f" together ({error}). Set them back, or fit again, before saving."
        ) from None
    if now != (fitted, loss, dtype):
        fields = (*Architecture._fields, "loss", "dtype")
        pairs = zip(fields, (*fitted, loss, dtype), (*now[0], now[1], now[2]))
        changes = [f"{field}: fitted {a!r}, now {b!r}" for field, a, b in pairs if a != b]
        raise ValueError(
            f"cannot save this {type(est).__name__}: its parameters were changed after fit and no longer"
            f" describe its network ({'; '.join(changes)}). Set them back, or fit again, before saving."
        )


def _attributes_to_json(est) -> dict:
    names = [*STRUCTURAL, "t_", "n_iter_", "feature_names_in_", "classes_", *HISTORY]
    attributes = {name: to_json(vars(est)[name], name) for name in names if name in vars(est)}
    for name, (field, _) in STATE_COUNTERS.items():
        attributes[name] = to_json(np.asarray(getattr(est._state, field)).item(), name)
    return attributes


def _network_arrays(est) -> dict:
    """Array name -> list of per-layer arrays, for every part of the network it has."""
    parts = {"coefs": est.coefs_, "intercepts": est.intercepts_}
    if hasattr(est, "prelu_slopes_"):
        parts["prelu_slopes"] = est.prelu_slopes_
    if hasattr(est, "batch_norm_"):
        for key in ("scale", "shift", "mean", "var"):
            parts[f"batch_norm.{key}"] = est.batch_norm_[key]
    return parts


def _best_is_current(est) -> bool:
    """Whether early stopping's best (params, stats) are the current weights (then not stored twice)."""
    then = _tree.leaves((est._state.best_params, est._state.best_stats))
    now = _tree.leaves((est._params(), est._stats()))
    return len(then) == len(now) and all(
        np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)
        for a, b in zip(then, now)
    )


# ------------------------------------------------------------------------------- reading


def read(section, loading, cls):
    """The core estimator of class ``cls`` that ``section`` and its arrays describe."""
    where = loading.where
    section = check(section, SECTION, where)
    params_where = f"{where}['params']"
    est = validated(
        params_from_json(cls, section["params"], params_where), cls._validate_params, params_where
    )
    if section["fitted"] is None:
        return est
    where = f"{where}['fitted']"
    fitted = check(section["fitted"], FITTED_CLASSIFIER if cls is MLPClassifier else FITTED_REGRESSOR, where)
    units = fitted["layer_units"]
    if len(units) < 2:
        raise Invalid(
            f"{where}['layer_units'] is {units}: a network has at least an input and an output layer"
        )
    architecture = Architecture(**fitted["architecture"])
    attributes = fitted["attributes"]
    if cls is MLPClassifier:
        _restore_labels(est, fitted["labels"], attributes, units, f"{where}['labels']")
    layers = _layer_arrays(loading, units, architecture, DTYPES[fitted["dtype"]])
    try:
        est._adopt_network(layers["coefs"], layers["intercepts"])
    except ValueError as error:
        raise Invalid(f"{where}: the parameters do not fit the stored network: {error}") from None
    structure = (tuple(units), architecture, fitted["loss"], fitted["dtype"])
    if est._structure != structure:
        raise Invalid(
            f"{where}: the parameters describe the network {est._structure}, but the file says {structure};"
            " the header is inconsistent"
        )
    state = est._state
    params = {**state.params, **{k: tuple(layers.get(k, ())) for k in ("slopes", "bn_scale", "bn_shift")}}
    stats = {k: tuple(layers.get(k, ())) for k in ("mean", "var")}
    est._state = state._replace(params=params, stats=stats)
    _restore_attributes(est, attributes, f"{where}['attributes']")
    _restore_best(est, fitted["best_weights"], loading)
    if loading.optimizer_state:
        _restore_optimizer(est, fitted["optimizer"], loading, f"{where}['optimizer']")
    else:
        loading.skip("optimizer.")
    return est


def _layer_arrays(loading, units: list, architecture: Architecture, dtype) -> dict:
    """Weights, biases and the per-hidden-layer extras, each of the shape ``units`` gives, finite."""
    n_layers = len(units) - 1
    hidden = units[1:-1]
    wanted = {
        "coefs": ("coefs", [(units[i], units[i + 1]) for i in range(n_layers)]),
        "intercepts": ("intercepts", [(units[i + 1],) for i in range(n_layers)]),
    }
    if architecture.activation == "prelu":
        wanted["slopes"] = ("prelu_slopes", [(n,) for n in hidden])
    if architecture.batch_norm:
        for key, part in (("bn_scale", "scale"), ("bn_shift", "shift"), ("mean", "mean"), ("var", "var")):
            wanted[key] = (f"batch_norm.{part}", [(n,) for n in hidden])
    layers = {
        key: [
            loading.array(f"{name}.{i}", shape, dtype, f"layer {i}'s {name}")
            for i, shape in enumerate(shapes)
        ]
        for key, (name, shapes) in wanted.items()
    }
    if any((v < 0).any() for v in layers.get("var", [])):
        raise Invalid("a batch-norm variance is negative")
    return layers


def _restore_labels(est, labels: dict, attributes: dict, units: list, where: str) -> None:
    """A classifier's ``classes_`` and label binarizer, rebuilt from the stored classes."""
    from sklearn.preprocessing import LabelBinarizer

    kind = labels["type"]
    classes = attributes.get("classes_")
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or classes.dtype.kind not in "biufUO":
        raise Invalid(f"{where}: the attribute classes_ is missing or not a 1-D array of labels")
    n_outputs = units[-1]
    if n_outputs != (1 if kind == "binary" else len(classes)):
        raise Invalid(f"{where}: {len(classes)} classes of a {kind} target do not fit {n_outputs} outputs")
    binarizer = LabelBinarizer()
    try:
        binarizer.fit(np.eye(n_outputs, dtype=int) if kind == "multilabel-indicator" else classes)
    except (ValueError, TypeError) as error:
        raise Invalid(f"{where}: the classes {classes!r} cannot be fitted: {error}") from None
    if binarizer.y_type_ != kind or not np.array_equal(binarizer.classes_, classes):
        raise Invalid(
            f"{where}: the classes {classes.tolist()!r} are not sorted, distinct labels of a {kind} target"
        )
    binarizer.classes_ = classes
    binarizer.sparse_input_ = labels["sparse_input"]
    est._label_binarizer = binarizer
    est.classes_ = classes


def _restore_attributes(est, attributes: dict, where: str) -> None:
    """Check the structural attributes against the network, set the history, drop history the file lacks."""
    for name in STRUCTURAL:
        if attributes[name] != getattr(est, name) or type(attributes[name]) is not type(getattr(est, name)):
            raise Invalid(
                f"{where}[{name!r}] is {attributes[name]!r} but the network has {getattr(est, name)!r}"
            )
    est.t_, est.n_iter_ = attributes["t_"], attributes["n_iter_"]
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if not (
            isinstance(names, np.ndarray) and names.shape == (est.n_features_in_,) and names.dtype == object
        ):
            raise Invalid(
                f"{where}['feature_names_in_'] is not an object array of {est.n_features_in_} names"
            )
        if not all(isinstance(n, str) for n in names):
            raise Invalid(f"{where}['feature_names_in_'] holds other things than strings")
        est.feature_names_in_ = names
    for name in HISTORY:
        if name in attributes:
            setattr(est, name, attributes[name])
        else:
            vars(est).pop(name, None)
    counters = {
        field: np.asarray(attributes[name], np.asarray(getattr(est._state, field)).dtype)
        for name, (field, _) in STATE_COUNTERS.items()
        if name in attributes
    }
    if "best_loss" not in counters and est.__dict__.get("best_loss_") is not None:  # (older files)
        counters["best_loss"] = np.asarray(est.best_loss_, np.asarray(est._state.best_loss).dtype)
    est._state = est._state._replace(**counters)


def _restore_best(est, kind: str, loading) -> None:
    """Early stopping's record of the best (params, stats): the current weights, or stored arrays."""
    current = (est._params(), est._stats())
    if kind == "current":
        est._state = est._state._replace(
            best_params=copied(current[0]), best_stats=copied(current[1])
        )
        return
    leaves = _tree.leaves(current)
    best = [loading.array(f"best.{i}", leaf.shape, leaf.dtype, "early stopping's best weights")
            for i, leaf in enumerate(leaves)]  # fmt: skip
    best_params, best_stats = _tree.unflatten(current, [np.array(b) for b in best])
    est._state = est._state._replace(best_params=best_params, best_stats=best_stats)


def _restore_optimizer(est, section, loading, where: str) -> None:
    """The optimiser state: its structure built by this mlpkit's optimiser, filled with the stored arrays."""
    if section is None:
        return
    section = check(section, OPTIMIZER, where)
    name = section["solver"]
    solver = STOCHASTIC_SOLVERS[name]
    pairs = [tuple(pair) for pair in section["static"]]
    if sorted(argument for argument, _ in pairs) != sorted(solver.static):
        raise Invalid(
            f"{where}['static'] names {[a for a, _ in pairs]}; {name} takes {sorted(solver.static)}"
        )
    hyper_where = f"{where}['hyperparams']"
    hyper = check(
        section["hyperparams"], record({k: value() for k in solver.hyperparams.values()}), hyper_where
    )
    for k, v in hyper.items():  # numbers, kept as written (an int stays an int when saved again)
        check(v, number(), f"{hyper_where}[{k!r}]")
    spec = SolverSpec(name, tuple(sorted(pairs)))
    dtype = est.coefs_[0].dtype
    values = {k: np.asarray(v, dtype) for k, v in hyper.items()}
    template = fresh_state(spec, values, est._params())  # (in numpy: no JAX import to load a model)
    if template is None:  # a solver whose state only its optax transformation knows
        import jax

        from ..optim import make_optimizer

        with x64(dtype):
            template = jax.eval_shape(make_optimizer(spec, values).init, est._params())
    leaves = _tree.leaves(template)
    # (files written before mlpkit kept the random key have none)
    key = (
        loading.array("optimizer.random_key", (2,), np.uint32, "the random key")
        if loading.has("optimizer.random_key")
        else None
    )
    stored = [n for n in loading.names_under("optimizer.") if n != loading.prefix + "optimizer.random_key"]
    if len(stored) != len(leaves):
        raise Invalid(
            f"{where}: the file holds {len(stored)} arrays of optimizer state, but {name}'s state here has"
            f" {len(leaves)}; if another mlpkit or optax version wrote it, load with optimizer_state=False"
        )
    state = [np.array(loading.array(f"optimizer.{i}", leaf.shape, leaf.dtype, f"{name}'s state"))
             for i, leaf in enumerate(leaves)]  # fmt: skip
    est._state = est._state._replace(
        opt_state=_tree.unflatten(template, state), key=None if key is None else np.array(key)
    )
    est._origin = Origin(spec, hyper, est.random_state)


#: This module's codec, for the table (registry.TABLE).
CODEC = (write, read)
