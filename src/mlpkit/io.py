"""Save and load mlpkit models safely: one ``.npz`` file of arrays and a JSON header, never pickle.

>>> mlpkit.save(model, "model.npz")     # atomically: the old file survives a failed write
>>> model = mlpkit.load("model.npz")    # validated: a complete model, or ModelFileError

Loading never runs code from the file: the arrays are read with
``np.load(..., allow_pickle=False)`` (after checking that each array's declared
shape matches the bytes it holds, so a damaged file cannot make numpy allocate
terabytes) and the rest is plain JSON, checked key by key and type by type. The
estimator is rebuilt from its parameters, its network from the arrays, and the
two must agree. ``save(model, path, format="flucoma")`` writes FluCoMa's JSON
instead, and ``load`` reads FluCoMa MLP model files too.

What the format cannot hold (a callable learning rate, an optax object as
solver, a RandomState as random_state, callbacks) is refused at ``save`` with
the parameter's name; pickle and joblib still work for such models, with their
usual caveat: unpickling runs code, so unpickle only files you trust.

File format, version 1
----------------------
A zip archive as ``np.savez`` writes it (entries stored, not compressed), holding
``.npy`` arrays of numbers only:

``__header__``
    uint8 array: the UTF-8 text of a JSON object (no NaN or Infinity literals)::

        {"format": "mlpkit.model",      # FORMAT_NAME
         "format_version": 1,           # FORMAT_VERSION; a newer one is refused: upgrade mlpkit
         "mlpkit_version": "0.1.0",     # who wrote it (information only)
         "estimator": "mlpkit.MLPClassifier",   # or "mlpkit.MLPRegressor",
                          # "mlpkit.flucoma.MLPRegressor", "mlpkit.flucoma.MLPClassifier",
                          # "mlpkit.EnsembleClassifier", "mlpkit.EnsembleRegressor"
         "model": SECTION}

    A core estimator's SECTION::

        {"params": {every get_params() value, encoded as below},
         "fitted": null (not fitted) or {
             "layer_units": [n_features, hidden..., n_outputs],
             "architecture": {"activation", "out_activation", "negative_slope", "batch_norm",
                              "dropout", "alpha_dropout"},   # the fitted forward pass
             "loss": "log_loss", "dtype": "float32",
             "attributes": {"n_features_in_", "n_outputs_", "n_layers_", "out_activation_",
                            "t_", "n_iter_", and those the model has of: "feature_names_in_",
                            "classes_", "loss_", "best_loss_", "loss_curve_",
                            "learning_rate_curve_", "validation_scores_",
                            "validation_loss_curve_", "best_validation_score_", "_diverged",
                            and the training state's counters (``_STATE_COUNTERS``: "_epoch",
                            "_step", "_cycle_start", "_optimizer_start", "_lr_reference",
                            "_no_improvement_count", "_best_monitored", "_best_loss",
                            "_plateau_best", "_plateau_count"; older files lack some: a new
                            network's values)},
             "labels": {"type": "binary" | "multiclass" | "multilabel-indicator",
                        "sparse_input": false},              # classifiers only
             "best_weights": "current" | "stored",          # early stopping's record
             "optimizer": null or {"solver": "adam", "static": [[argument, value], ...],
                                   "hyperparams": {parameter: value}}}}

    A FluCoMa-style estimator's SECTION::

        {"params": {...}, "attributes": {} or {"labels_": [...]} (classifiers),
         "network": null or the SECTION of its core network_ (an mlpkit.MLPRegressor)}

    A scikit-learn ``Pipeline``'s SECTION (header estimator ``"sklearn.pipeline.Pipeline"``):
    zero or more scalers, then a core network::

        {"steps": [[name, SCALER], ...],
         "network": {"name": step name, "estimator": "mlpkit.MLPClassifier", "model": SECTION}}

    and a ``TransformedTargetRegressor``'s (``"sklearn.compose.TransformedTargetRegressor"``)::

        {"regressor": {"estimator": "mlpkit.MLPRegressor" or "sklearn.pipeline.Pipeline", "model": SECTION},
         "transformer": SCALER, "check_inverse": true, "training_dim": 1, 2 or null (not fitted)}

    A SCALER is ``{"kind": "StandardScaler" | "MinMaxScaler" | "RobustScaler", "params": {...},
    "fitted": null or {"n_features_in_", "arrays": [the fitted arrays present, e.g. "mean_",
    "var_", "scale_"], "n_samples_seen_", "feature_names_in_"}}``; its arrays are float64,
    one number per column, named ``steps.I.<name>`` (``target.<name>`` for the target's), and
    a wrapped network's arrays carry the prefix ``network.`` (``regressor.`` inside a target
    regressor, so ``regressor.network.coefs.0`` for a pipeline inside one).

    An ensemble's ("mlpkit.EnsembleClassifier", "mlpkit.EnsembleRegressor") SECTION::

        {"params": {every get_params(deep=False) value but "estimator"},
         "estimator": null or {"params": {...}, "fitted": null},   # the members' settings
         "members": null (not fitted) or [one core SECTION per member],
         "attributes": {} or {"n_features_in_", and "feature_names_in_" where it has them}}

    Values: JSON null, booleans, integers, strings and lists as themselves; floats
    as JSON numbers, or ``{"float": "nan" | "inf" | "-inf"}``; tuples as
    ``{"tuple": [...]}``; dicts of string keys (an ensemble's ``vary``) as ``{"dict": {...}}``; numpy arrays (``classes_``, ``feature_names_in_``) as
    ``{"ndarray": [items...], "dtype": "<U5", "shape": [3]}``. A parameter the
    file lacks (one added to mlpkit after the file was written) takes its default.

the network's arrays, in the model's dtype, named for their place
    ``coefs.I`` (units[I], units[I+1]) and ``intercepts.I`` (units[I+1],) for each layer;
    for each hidden layer ``prelu_slopes.I`` (prelu networks) and
    ``batch_norm.scale.I``, ``.shift.I``, ``.mean.I``, ``.var.I`` (batch_norm networks);
    ``best.I``: the leaves of early stopping's best ``(params, stats)``, only when
    they differ from the current weights; ``optimizer.I``: the leaves of the optax
    state, in ``jax.tree.leaves`` order of the state the same solver builds here.
    A FluCoMa-style model's network arrays carry the prefix ``network.``; an ensemble's member ``I``'s
    carry ``members.I.``.

Every problem found on loading raises :class:`ModelFileError` (a ``ValueError``)
whose message starts with the file's name and says what is wrong; an ``OSError``
means the file could not be opened at all (missing, a directory, no permission).
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
import zipfile
from numbers import Integral, Real
from pathlib import Path

import jax
import numpy as np

from . import _wrappers
from ._base import _copy_tree, _x64
from ._dtypes import DTYPES
from ._refits import Origin
from ._files import strict_loads, write_atomically
from .ensemble import EnsembleClassifier, EnsembleRegressor
from .estimators import MLPClassifier, MLPRegressor
from .network import Architecture
from .optim import STOCHASTIC_SOLVERS, SolverSpec, make_optimizer

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "ModelFileError", "load", "save"]

#: The ``"format"`` entry of every header.
FORMAT_NAME = "mlpkit.model"
#: The version this mlpkit writes, and the newest it reads.
FORMAT_VERSION = 1
#: The archive entry holding the JSON header; no array has this name.
HEADER_KEY = "__header__"

_HEADER_KEYS = {"format", "format_version", "mlpkit_version", "estimator", "model"}
_CORE_SECTION_KEYS = {"params", "fitted"}
_FITTED_KEYS = {"layer_units", "architecture", "loss", "dtype", "attributes", "best_weights", "optimizer"}
_FLUCOMA_SECTION_KEYS = {"params", "attributes", "network"}
_OPTIMIZER_KEYS = {"solver", "static", "hyperparams"}
_LABEL_KEYS = {"type", "sparse_input"}
_LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")
_ARRAY_KINDS = "biuf"  # numeric arrays only: bool, int, unsigned, float


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not an mlpkit (or FluCoMa) model, damaged,
    written by a newer mlpkit, or inconsistent. The message starts with the file's name."""


class _Invalid(Exception):
    """A problem in the file's contents, found while reading it; ``load`` adds the file name."""


# ------------------------------------------------------------------------------ public API


def save(model, path, *, optimizer_state=True, format="mlpkit"):
    """Write ``model`` to ``path`` atomically: the old file stays intact if anything fails.

    Parameters
    ----------
    model : mlpkit.MLPClassifier, mlpkit.MLPRegressor, or mlpkit.flucoma.MLPRegressor /
        MLPClassifier; a scikit-learn Pipeline of an mlpkit.Preparation or StandardScaler / MinMaxScaler /
        RobustScaler steps before a core network (what ``advise(X, y).estimator()`` and ``mlpkit fit`` build),
        or a TransformedTargetRegressor with such a scaler around either; fitted or not.
    path : str or os.PathLike
        Written as given (no extension is added; ``.npz`` is a good one).
    optimizer_state : bool, default=True
        Also store the optimiser's moments, so that ``partial_fit`` or a
        ``warm_start`` fit of the loaded model continues exactly as the original
        would. False makes the file smaller; training then restarts the moments.
    format : {'mlpkit', 'flucoma'}, default='mlpkit'
        'flucoma' writes FluCoMa's MLP JSON (:func:`mlpkit.flucoma.write_model`):
        weights only, for FluCoMa's ``read`` or :func:`load`.

    Raises
    ------
    ValueError
        The model cannot be written: not an mlpkit estimator, a parameter that is
        not a plain value (the message names it), or weights that are not finite.
    """
    if format == "flucoma":
        from .flucoma import write_model

        write_model(model, path)
        return
    if format != "mlpkit":
        raise ValueError(
            f"format must be 'mlpkit' (mlpkit's .npz) or 'flucoma' (FluCoMa's JSON); got {format!r}"
        )
    header, arrays = _payload(model, bool(optimizer_state))
    header_text = json.dumps(header, allow_nan=False, sort_keys=True)
    try:  # write only what load accepts: check the payload as load will
        _build(_parse_header_text(header_text), _Arrays(arrays), optimizer_state=True)
    except _Invalid as problem:
        raise ValueError(f"cannot save this {type(model).__name__} to {os.fspath(path)}: {problem}") from None
    arrays[HEADER_KEY] = np.frombuffer(header_text.encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # numbers only (checked above): nothing is pickled
    write_atomically(path, buffer.getvalue())


def load(path, *, optimizer_state=True):
    """The model saved at ``path`` by :func:`save`, or a FluCoMa MLP model file.

    Parameters
    ----------
    path : str or os.PathLike
    optimizer_state : bool, default=True
        Restore the optimiser's moments stored in the file. False ignores them
        (the next fit starts them afresh): the way to load a file whose stored
        state does not fit this version's optimiser.

    Returns
    -------
    A fitted (or, if saved unfitted, a fresh) ``mlpkit.MLPClassifier`` /
    ``MLPRegressor``, ``mlpkit.flucoma.MLPRegressor`` / ``MLPClassifier``, or the
    ``Pipeline`` / ``TransformedTargetRegressor`` around a core network that was saved.

    Raises
    ------
    ModelFileError
        Anything wrong with the file's contents; the message names the file and
        the problem. Nothing half-loaded is ever returned.
    OSError
        The file cannot be opened (missing, a directory, no permission).
    """
    source = os.fspath(path)
    data = Path(path).read_bytes()
    try:
        if data.startswith(b"PK"):
            arrays = _read_archive(data)
            if HEADER_KEY not in arrays.available:
                names = ", ".join(sorted(arrays.available)[:8]) or "none"
                raise _Invalid(
                    f"a .npz archive without the {HEADER_KEY!r} entry that mlpkit.save writes (its arrays: {names});"
                    " it is not an mlpkit model file"
                )
            header = _parse_header_text(_header_text(arrays.take(HEADER_KEY, "the header")))
            return _build(header, arrays, optimizer_state=optimizer_state)
        return _load_flucoma_json(data, source)
    except _Invalid as problem:
        raise ModelFileError(f"{source}: {problem}") from None
    except ModelFileError:
        raise
    except Exception as error:  # a safety net: every failure is a ModelFileError
        raise ModelFileError(
            f"{source}: unexpected error while reading the model ({type(error).__name__}: {error});"
            " the file is probably damaged"
        ) from error


# ------------------------------------------------------------------ which estimators


def _estimator_classes() -> dict:
    """Header name -> class, for every estimator the format holds."""
    from . import flucoma

    return {
        "mlpkit.MLPClassifier": MLPClassifier,
        "mlpkit.MLPRegressor": MLPRegressor,
        "mlpkit.flucoma.MLPRegressor": flucoma.MLPRegressor,
        "mlpkit.flucoma.MLPClassifier": flucoma.MLPClassifier,
        "mlpkit.EnsembleClassifier": EnsembleClassifier,
        "mlpkit.EnsembleRegressor": EnsembleRegressor,
    }


def _kind(name: str) -> str:
    """Which section a header name has: 'core', 'flucoma' or 'ensemble'."""
    if name.startswith("mlpkit.flucoma."):
        return "flucoma"
    return "ensemble" if name.startswith("mlpkit.Ensemble") else "core"


# ------------------------------------------------------------------ values <-> JSON


def _to_json(value, where: str):
    """``value`` as JSON that :func:`_from_json` turns back into an equal value; ValueError if impossible."""
    if value is None or isinstance(value, str):
        return None if value is None else str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (Integral, np.integer)):
        return int(value)
    if isinstance(value, (Real, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else {"float": repr(number)}
    if type(value) is list:  # exactly: a subclass (a NamedTuple such as an optax object) is not plain
        return [_to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if type(value) is tuple:
        return {"tuple": [_to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]}
    if type(value) is dict and all(isinstance(key, str) for key in value):
        return {"dict": {key: _to_json(item, f"{where}[{key!r}]") for key, item in value.items()}}
    if isinstance(value, np.ndarray) and (value.dtype.kind in _ARRAY_KINDS + "U" or value.dtype == object):
        items = [_to_json(item, f"{where}[{i}]") for i, item in enumerate(value.ravel().tolist())]
        if value.dtype == object and not all(isinstance(item, (str, int, float, bool)) for item in items):
            raise ValueError(f"{where} is an object array holding other things than strings and numbers")
        return {"ndarray": items, "dtype": value.dtype.str, "shape": list(value.shape)}
    raise ValueError(f"{where} is {_describe(value)}")


def _describe(value) -> str:
    text = repr(value)
    return f"a {type(value).__name__} ({text[:60] + '...' if len(text) > 60 else text})"


def _from_json(value, where: str):
    """The Python value :func:`_to_json` encoded as ``value``; _Invalid if it is not such an encoding."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_from_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(
                _from_json(item, f"{where}[{i}]") for i, item in enumerate(_list(value["tuple"], where))
            )
        if set(value) == {"dict"} and isinstance(value["dict"], dict):
            return {key: _from_json(item, f"{where}[{key!r}]") for key, item in value["dict"].items()}
        if set(value) == {"float"}:
            if value["float"] not in ("nan", "inf", "-inf"):
                raise _Invalid(f"{where} is {value!r}; a tagged float is 'nan', 'inf' or '-inf'")
            return float(value["float"])
        if set(value) == {"ndarray", "dtype", "shape"}:
            return _ndarray_from_json(value, where)
    raise _Invalid(f"{where} is {value!r}, which is not a value mlpkit writes")


def _ndarray_from_json(value, where: str) -> np.ndarray:
    items = [
        _from_json(item, f"{where}[{i}]")
        for i, item in enumerate(_list(value["ndarray"], f"{where}['ndarray']"))
    ]
    if not isinstance(value["dtype"], str):
        raise _Invalid(f"{where}['dtype'] is {value['dtype']!r}, expected a numpy dtype string such as '<U5'")
    try:
        dtype = np.dtype(value["dtype"])
    except Exception:
        raise _Invalid(f"{where}['dtype'] is {value['dtype']!r}, which is not a numpy dtype") from None
    if not (dtype.kind in _ARRAY_KINDS + "U" or dtype == object) or dtype.fields is not None:
        raise _Invalid(
            f"{where} has dtype {dtype}; only numbers, booleans, strings and object arrays of them"
        )
    shape = _list(value["shape"], f"{where}['shape']")
    if not all(_is_count(n) for n in shape) or math.prod(shape) != len(items):
        raise _Invalid(f"{where}: shape {shape} does not hold its {len(items)} items")
    expected = {"b": bool, "i": int, "u": int, "f": (int, float), "U": str, "O": (str, int, float, bool)}[
        dtype.kind
    ]
    for i, item in enumerate(items):
        if not isinstance(item, expected) or (dtype.kind in "iuf" and isinstance(item, bool)):
            raise _Invalid(f"{where}: item {i} is {item!r}, which does not fit dtype {dtype}")
    if dtype == object:
        array = np.empty(len(items), dtype=object)
        array[:] = items
    else:
        try:
            array = np.array(items, dtype=dtype)
        except (OverflowError, ValueError):
            raise _Invalid(f"{where}: its items do not fit dtype {dtype}") from None
        if dtype.kind in "biuU" and array.tolist() != items:  # overflow, truncated strings
            raise _Invalid(f"{where}: its items do not fit dtype {dtype}")
    return array.reshape(shape)


# ----------------------------------------------------------------- small type checks
# Each returns the checked value or raises _Invalid saying where, what it is and what it should be.


def _json_type(value) -> str:
    for kind, name in ((bool, "boolean"), (str, "string"), (list, "list"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else "number" if isinstance(value, (int, float)) else type(value).__name__


def _object(value, where: str, keys=None) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} is a {_json_type(value)}, expected an object")
    if keys is not None and set(value) != set(keys):
        missing, extra = sorted(set(keys) - set(value)), sorted(set(value) - set(keys))
        parts = ([f"lacks {missing}"] if missing else []) + ([f"has unknown {extra}"] if extra else [])
        raise _Invalid(f"{where} " + " and ".join(parts) + f"; expected the keys {sorted(keys)}")
    return value


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise _Invalid(f"{where} is a {_json_type(value)}, expected a list")
    return value


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _count(value, where: str, minimum: int = 0) -> int:
    if not _is_count(value) or value < minimum:
        raise _Invalid(f"{where} is {value!r}, expected a whole number >= {minimum}")
    return value


def _flag(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{where} is {value!r}, expected true or false")
    return value


def _text(value, where: str, choices=None) -> str:
    if not isinstance(value, str) or (choices is not None and value not in choices):
        expected = f"one of {list(choices)}" if choices is not None else "a string"
        raise _Invalid(f"{where} is {value!r}, expected {expected}")
    return value


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"{where} is {value!r}, expected a number")
    return float(value)


def _number_or_none(value, where: str):
    return None if value is None else _number(value, where)


def _numbers(value, where: str) -> list:
    return [_number(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where))]


def _numbers_or_none(value, where: str):
    return None if value is None else _numbers(value, where)


# ------------------------------------------------------------------------- writing


def _payload(model, optimizer_state: bool) -> tuple[dict, dict]:
    """The header (a JSON-able dict) and the named arrays that describe ``model``."""
    from ._version import __version__

    arrays = {}
    name, section = _named_section(model, arrays, "", optimizer_state)
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlpkit_version": __version__,
        "estimator": name,
        "model": section,
    }
    return header, arrays


def _named_section(model, arrays: dict, prefix: str, optimizer_state: bool) -> tuple[str, dict]:
    """(header name, section) of any model the format holds; its arrays go into ``arrays`` under ``prefix``."""
    names = {cls: name for name, cls in _estimator_classes().items()}
    name = names.get(type(model))
    if name is not None and _kind(name) == "core":
        return name, _core_section(model, arrays, prefix, optimizer_state)
    if name is not None and not prefix:  # (FluCoMa's estimators and the ensembles only at the top)
        writer = _flucoma_section if _kind(name) == "flucoma" else _ensemble_section
        return name, writer(model, arrays, optimizer_state)
    wrapper = next((key for key, (kind, _, _) in _WRAPPERS.items() if type(model).__name__ == kind), None)
    if wrapper is not None:
        return wrapper, _WRAPPERS[wrapper][1](model, arrays, prefix, optimizer_state)
    raise ValueError(
        f"mlpkit.save writes mlpkit's MLPClassifier and MLPRegressor (and mlpkit.flucoma's, and the ensembles), a scikit-learn"
        f" Pipeline of {', '.join(_SCALER_ARRAYS)} steps before one of them, and a TransformedTargetRegressor"
        f" of those; got a {type(model).__module__}.{type(model).__qualname__}. Use pickle or joblib for other objects."
    )


def _params_to_json(estimator, leave_out=()) -> dict:
    """Every constructor parameter (but ``leave_out``) as JSON; a clear ValueError for one that is not a
    plain value."""
    encoded = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in leave_out:
            continue
        try:
            encoded[name] = _to_json(value, name)
        except ValueError as problem:
            raise ValueError(
                f"cannot save this {type(estimator).__name__}: parameter {name!r} is not a plain value ({problem})"
                " and the mlpkit format stores plain values only, never pickled objects. Set it to one first"
                f" (model.set_params({name}=...): an int seed for random_state, a solver or schedule name,"
                " None for callbacks), or keep this model with pickle/joblib."
            ) from None
    return encoded


def _core_section(est, arrays: dict, prefix: str, optimizer_state: bool) -> dict:
    """The header section of a core estimator; its arrays go into ``arrays`` under ``prefix``."""
    section = {"params": _params_to_json(est), "fitted": None}
    if "_state" not in vars(est):
        return section
    _check_structure_matches_params(est)
    units, architecture, loss, dtype_name = est._structure
    dtype = DTYPES[dtype_name]
    fitted = {
        "layer_units": [int(n) for n in units],
        "architecture": {k: _to_json(v, k) for k, v in architecture._asdict().items()},
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
        for i, value in enumerate(values):
            arrays[f"{prefix}{name}.{i}"] = np.asarray(value, dtype=dtype)
    if not _best_is_current(est):
        fitted["best_weights"] = "stored"
        for i, leaf in enumerate(jax.tree.leaves((est._state.best_params, est._state.best_stats))):
            arrays[f"{prefix}best.{i}"] = np.asarray(leaf)
    state, origin = est._state, vars(est).get("_origin")
    if optimizer_state and state.opt_state is not None and origin is not None and origin.solver.transformation is None:
        spec = origin.solver
        fitted["optimizer"] = {
            "solver": spec.name,
            "static": [[argument, _to_json(value, argument)] for argument, value in spec.static],
            "hyperparams": {k: _to_json(v, k) for k, v in origin.settings.items()},
        }
        for i, leaf in enumerate(jax.tree.leaves(state.opt_state)):
            arrays[f"{prefix}optimizer.{i}"] = np.asarray(leaf)
        if state.key is not None:  # training's random stream carries on after loading, too
            arrays[f"{prefix}optimizer.random_key"] = np.asarray(state.key, np.uint32)
    section["fitted"] = fitted
    return section


def _check_structure_matches_params(est) -> None:
    """The parameters must still describe the fitted network, so that load can rebuild it from them."""
    units, fitted, loss, dtype = est._structure
    try:
        now = (est._architecture(units[-1], len(units) - 2), est._loss_name(), est.dtype or dtype)  # None: any
    except ValueError as error:
        raise ValueError(
            f"cannot save this {type(est).__name__}: its parameters were changed after fit and no longer fit"
            f" together ({error}). Set them back, or fit again, before saving."
        ) from None
    if now != (fitted, loss, dtype):
        changes = [
            f"{field}: fitted {a!r}, now {b!r}"
            for field, a, b in zip(
                (*Architecture._fields, "loss", "dtype"), (*fitted, loss, dtype), (*now[0], now[1], now[2])
            )
            if a != b
        ]
        raise ValueError(
            f"cannot save this {type(est).__name__}: its parameters were changed after fit and no longer describe"
            f" its network ({'; '.join(changes)}). Set them back, or fit again, before saving."
        )


#: Fitted attributes of the training history: name -> checker of the decoded value.
_HISTORY = {
    "loss_": _number,
    "best_loss_": _number_or_none,
    "loss_curve_": _numbers,
    "learning_rate_curve_": _numbers,
    "validation_scores_": _numbers_or_none,
    "validation_loss_curve_": _numbers_or_none,
    "best_validation_score_": _number_or_none,
    "_diverged": _flag,
}
#: Counters of the training state, stored beside the history: attribute name -> (state field, checker).
#: Files written before a counter was kept lack it: it starts as a new network's.
_STATE_COUNTERS = {
    "_no_improvement_count": ("no_improvement", _count),
    "_best_monitored": ("best_monitored", _number),
    "_best_loss": ("best_loss", _number),
    "_epoch": ("epoch", _count),
    "_step": ("step", _count),
    "_cycle_start": ("cycle_start", _count),
    "_optimizer_start": ("optimizer_start", _count),
    "_lr_reference": ("lr_reference", _number),
    "_plateau_best": ("plateau_best", _number),
    "_plateau_count": ("plateau_count", _count),
}
#: Fitted attributes always present, checked against the network on loading.
_REQUIRED = ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_", "t_", "n_iter_")


def _attributes_to_json(est) -> dict:
    names = [*_REQUIRED, "feature_names_in_", "classes_", *_HISTORY]
    attributes = {name: _to_json(vars(est)[name], name) for name in names if name in vars(est)}
    for name, (field, _) in _STATE_COUNTERS.items():
        attributes[name] = _to_json(np.asarray(getattr(est._state, field)).item(), name)
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
    """Whether early stopping's best (params, stats) are the current weights (then they are not stored twice)."""
    then = jax.tree.leaves((est._state.best_params, est._state.best_stats))
    now = jax.tree.leaves((est._params(), est._stats()))
    return len(then) == len(now) and all(
        np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)
        for a, b in zip(then, now)
    )


def _flucoma_section(est, arrays: dict, optimizer_state: bool) -> dict:
    attributes = {"labels_": _to_json(est.labels_, "labels_")} if "labels_" in vars(est) else {}
    network = vars(est).get("network_")
    return {
        "params": _params_to_json(est),
        "attributes": attributes,
        "network": None if network is None else _core_section(network, arrays, "network.", optimizer_state),
    }


# ------------------------------------------------------------------------- reading


class _Arrays:
    """The arrays of a file by name; remembers which were taken, so leftovers can be reported."""

    def __init__(self, arrays: dict):
        self.available = arrays
        self.taken = set()

    def take(self, name: str, what: str) -> np.ndarray:
        if name not in self.available:
            raise _Invalid(f"the array {name!r} ({what}) is missing")
        self.taken.add(name)
        return self.available[name]

    def skip(self, prefix: str) -> None:
        """Count every array under ``prefix`` as taken (ignored on purpose)."""
        self.taken.update(name for name in self.available if name.startswith(prefix))

    def check_all_taken(self) -> None:
        unknown = sorted(set(self.available) - self.taken - {HEADER_KEY})
        if unknown:
            listed = ", ".join(map(repr, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
            raise _Invalid(f"unknown array(s) {listed}, which the header does not describe")


def _read_archive(data: bytes) -> _Arrays:
    """Every array of the .npz archive in ``data``, each checked before numpy reads it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise _Invalid("the archive holds two entries of the same name")
            if sum(info.file_size for info in infos) > len(data):
                raise _Invalid(
                    "the archive's entries claim more bytes than the file has; the file is damaged"
                )
            for info in infos:
                _check_member(archive, info)
    except _Invalid:
        raise
    except Exception as error:
        raise _Invalid(
            f"not a readable .npz archive ({type(error).__name__}: {error}); the file is truncated or damaged"
        ) from None
    arrays = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for name in npz.files:
                arrays[name] = npz[name]
    except Exception as error:
        raise _Invalid(
            f"an array could not be read ({type(error).__name__}: {error}); the file is damaged"
        ) from None
    return _Arrays(arrays)


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """One archive entry must be an uncompressed .npy of numbers whose header matches its size.

    Checked before numpy reads it, because numpy allocates the shape a header
    declares before reading the data: a damaged header could ask for terabytes.
    """
    where = f"the archive entry {info.filename!r}"
    if not info.filename.endswith(".npy"):
        raise _Invalid(f"{where} is not a .npy array")
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise _Invalid(f"{where} is compressed; mlpkit writes its arrays uncompressed (as np.savez does)")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise _Invalid(f"{where} is a .npy of version {version}, which mlpkit does not write")
        header_size = member.tell()
    if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or dtype.hasobject:
        raise _Invalid(f"{where} has dtype {dtype}; an mlpkit file holds numbers only")
    size = math.prod(shape) * dtype.itemsize
    if header_size + size != info.file_size:
        raise _Invalid(
            f"{where} declares shape {shape} of {dtype} ({size} bytes) but holds {info.file_size - header_size}"
            " bytes of data; the file is damaged"
        )


def _header_text(array: np.ndarray) -> str:
    if array.dtype != np.uint8 or array.ndim != 1:
        raise _Invalid(
            f"the header is a {array.dtype} array of shape {array.shape}, expected 1-D uint8 (UTF-8 JSON)"
        )
    try:
        return array.tobytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Invalid(f"the header is not UTF-8 text ({error.reason} at byte {error.start})") from None


def _parse_header_text(text: str) -> dict:
    """The header object, after its format name and version are checked."""
    try:
        header = strict_loads(text)
    except json.JSONDecodeError as error:
        raise _Invalid(f"the header is not valid JSON ({error.msg} at character {error.pos})") from None
    except (ValueError, RecursionError) as error:
        raise _Invalid(f"the header is not valid JSON: it contains {error}") from None
    _object(header, "the header")
    if header.get("format") != FORMAT_NAME:
        raise _Invalid(
            f"the header's format is {header.get('format')!r}, not {FORMAT_NAME!r}: not an mlpkit model file"
        )
    version = header.get("format_version")
    if not _is_count(version) or version < 1:
        raise _Invalid(f"the header's format_version is {version!r}, expected a whole number >= 1")
    if version > FORMAT_VERSION:
        raise _Invalid(
            f"written by a newer mlpkit (format {version}); this one reads up to {FORMAT_VERSION}: upgrade mlpkit"
        )
    return _object(header, "the header", _HEADER_KEYS)


def _build(header: dict, arrays: _Arrays, optimizer_state: bool):
    """The estimator a checked header and its arrays describe."""
    _text(header["mlpkit_version"], "the header's mlpkit_version")
    classes = _estimator_classes()
    name = _text(header["estimator"], "the header's estimator", choices=[*classes, *_WRAPPERS])
    if name in _WRAPPERS:
        model = _WRAPPERS[name][2](header["model"], arrays, "", "model", optimizer_state)
    elif _kind(name) == "core":
        model = _load_core(header["model"], classes[name], arrays, "", "model", optimizer_state)
    else:
        reader = _load_flucoma if _kind(name) == "flucoma" else _load_ensemble
        model = reader(header["model"], classes[name], arrays, optimizer_state)
    arrays.check_all_taken()
    return model


def _load_params(cls, params, where: str):
    """An estimator of class ``cls`` with the stored parameters (defaults for any the file lacks)."""
    params = _object(params, where)
    known = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise _Invalid(f"{where} has unknown parameter(s) {unknown} for {cls.__name__}")
    values = {name: _from_json(value, f"{where}[{name!r}]") for name, value in params.items()}
    return cls(**{**known, **values})


def _load_core(section, cls, arrays: _Arrays, prefix: str, where: str, optimizer_state: bool):
    section = _object(section, where, _CORE_SECTION_KEYS)
    est = _load_params(cls, section["params"], f"{where}['params']")
    try:
        est._validate_params()
    except ValueError as error:
        raise _Invalid(f"{where}['params']: {error}") from None
    if section["fitted"] is None:
        return est
    where = f"{where}['fitted']"
    keys = _FITTED_KEYS | ({"labels"} if cls is MLPClassifier else set())
    fitted = _object(section["fitted"], where, keys)
    units = [
        _count(n, f"{where}['layer_units'][{i}]", 1)
        for i, n in enumerate(_list(fitted["layer_units"], where))
    ]
    if len(units) < 2:
        raise _Invalid(
            f"{where}['layer_units'] is {units}: a network has at least an input and an output layer"
        )
    architecture = _architecture(fitted["architecture"], f"{where}['architecture']")
    loss = _text(fitted["loss"], f"{where}['loss']")
    dtype_name = _text(fitted["dtype"], f"{where}['dtype']", choices=DTYPES)
    attributes = {
        name: _from_json(value, f"{where}['attributes'][{name!r}]")
        for name, value in _object(fitted["attributes"], f"{where}['attributes']").items()
    }
    if cls is MLPClassifier:
        _restore_labels(est, fitted["labels"], attributes, units, f"{where}['labels']")
    layers = _layer_arrays(arrays, prefix, units, architecture, DTYPES[dtype_name])
    try:
        est._adopt_network(layers["coefs"], layers["intercepts"])
    except ValueError as error:
        raise _Invalid(f"{where}: the parameters do not fit the stored network: {error}") from None
    structure = (tuple(units), architecture, loss, dtype_name)
    if est._structure != structure:
        raise _Invalid(
            f"{where}: the parameters describe the network {est._structure}, but the file says {structure};"
            " the header is inconsistent"
        )
    state = est._state
    params = {**state.params, **{k: tuple(layers.get(k, ())) for k in ("slopes", "bn_scale", "bn_shift")}}
    stats = {k: tuple(layers.get(k, ())) for k in ("mean", "var")}
    est._state = state._replace(params=params, stats=stats)
    _restore_attributes(est, attributes, f"{where}['attributes']")
    _restore_best(est, fitted["best_weights"], arrays, prefix, f"{where}['best_weights']")
    if optimizer_state:
        _restore_optimizer(est, fitted["optimizer"], arrays, prefix, f"{where}['optimizer']")
    else:
        arrays.skip(f"{prefix}optimizer.")
    return est


def _architecture(value, where: str) -> Architecture:
    value = _object(value, where, Architecture._fields)
    return Architecture(
        activation=_text(value["activation"], f"{where}['activation']"),
        out_activation=_text(value["out_activation"], f"{where}['out_activation']"),
        negative_slope=_number(value["negative_slope"], f"{where}['negative_slope']"),
        batch_norm=_flag(value["batch_norm"], f"{where}['batch_norm']"),
        dropout=_flag(value["dropout"], f"{where}['dropout']"),
        alpha_dropout=_flag(value["alpha_dropout"], f"{where}['alpha_dropout']"),
    )


def _layer_arrays(arrays: _Arrays, prefix: str, units: list, architecture: Architecture, dtype) -> dict:
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
    layers = {}
    for key, (name, shapes) in wanted.items():
        layers[key] = [
            _checked_array(arrays, f"{prefix}{name}.{i}", shape, dtype, f"layer {i}'s {name}")
            for i, shape in enumerate(shapes)
        ]
    if any((v < 0).any() for v in layers.get("var", [])):
        raise _Invalid("a batch-norm variance is negative")
    return layers


def _checked_array(arrays: _Arrays, name: str, shape, dtype, what: str) -> np.ndarray:
    array = arrays.take(name, what)
    if array.shape != tuple(shape) or array.dtype != dtype:
        raise _Invalid(
            f"the array {name!r} ({what}) has shape {array.shape} and dtype {array.dtype};"
            f" the header's layer sizes call for {tuple(shape)} of {np.dtype(dtype)}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise _Invalid(f"the array {name!r} ({what}) holds NaN or infinite values")
    return array


def _restore_labels(est, labels, attributes: dict, units: list, where: str) -> None:
    """A classifier's ``classes_`` and label binarizer, rebuilt from the stored classes."""
    from sklearn.preprocessing import LabelBinarizer

    labels = _object(labels, where, _LABEL_KEYS)
    kind = _text(labels["type"], f"{where}['type']", choices=_LABEL_TYPES)
    sparse_input = _flag(labels["sparse_input"], f"{where}['sparse_input']")
    classes = attributes.get("classes_")
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or classes.dtype.kind not in "biufUO":
        raise _Invalid(f"{where}: the attribute classes_ is missing or not a 1-D array of labels")
    n_outputs = units[-1]
    if n_outputs != (1 if kind == "binary" else len(classes)):
        raise _Invalid(f"{where}: {len(classes)} classes of a {kind} target do not fit {n_outputs} outputs")
    binarizer = LabelBinarizer()
    try:
        binarizer.fit(np.eye(n_outputs, dtype=int) if kind == "multilabel-indicator" else classes)
    except (ValueError, TypeError) as error:
        raise _Invalid(f"{where}: the classes {classes!r} cannot be fitted: {error}") from None
    if binarizer.y_type_ != kind or not np.array_equal(binarizer.classes_, classes):
        raise _Invalid(
            f"{where}: the classes {classes.tolist()!r} are not sorted, distinct labels of a {kind} target"
        )
    binarizer.classes_ = classes
    binarizer.sparse_input_ = sparse_input
    est._label_binarizer = binarizer
    est.classes_ = classes


def _restore_attributes(est, attributes: dict, where: str) -> None:
    """Check the structural attributes against the network, set the history, drop history the file lacks."""
    known = {*_REQUIRED, "feature_names_in_", "classes_", *_HISTORY, *_STATE_COUNTERS}
    unknown = sorted(set(attributes) - known)
    missing = sorted(set(_REQUIRED) - set(attributes))
    if unknown or missing:
        parts = ([f"has unknown attribute(s) {unknown}"] if unknown else []) + (
            [f"lacks {missing}"] if missing else []
        )
        raise _Invalid(f"{where} " + " and ".join(parts))
    for name in ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_"):
        if attributes[name] != getattr(est, name) or type(attributes[name]) is not type(getattr(est, name)):
            raise _Invalid(
                f"{where}[{name!r}] is {attributes[name]!r} but the network has {getattr(est, name)!r}"
            )
    est.t_ = _count(attributes["t_"], f"{where}['t_']")
    est.n_iter_ = _count(attributes["n_iter_"], f"{where}['n_iter_']")
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if not (
            isinstance(names, np.ndarray) and names.shape == (est.n_features_in_,) and names.dtype == object
        ):
            raise _Invalid(
                f"{where}['feature_names_in_'] is not an object array of {est.n_features_in_} names"
            )
        if not all(isinstance(n, str) for n in names):
            raise _Invalid(f"{where}['feature_names_in_'] holds other things than strings")
        est.feature_names_in_ = names
    for name, check in _HISTORY.items():
        if name in attributes:
            setattr(est, name, check(attributes[name], f"{where}[{name!r}]"))
        else:
            vars(est).pop(name, None)
    counters = {}
    for name, (field, check) in _STATE_COUNTERS.items():
        if name in attributes:
            kept = np.asarray(getattr(est._state, field))
            counters[field] = np.asarray(check(attributes[name], f"{where}[{name!r}]"), kept.dtype)
    if "best_loss" not in counters and est.__dict__.get("best_loss_") is not None:  # (older files)
        counters["best_loss"] = np.asarray(est.best_loss_, np.asarray(est._state.best_loss).dtype)
    est._state = est._state._replace(**counters)


def _restore_best(est, best_weights, arrays: _Arrays, prefix: str, where: str) -> None:
    """Early stopping's record of the best (params, stats): the current weights, or stored arrays."""
    kind = _text(best_weights, where, choices=("current", "stored"))
    current = (est._params(), est._stats())
    if kind == "current":
        est._state = est._state._replace(best_params=_copy_tree(current[0]), best_stats=_copy_tree(current[1]))
        return
    leaves, treedef = jax.tree.flatten(current)
    best = [
        _checked_array(arrays, f"{prefix}best.{i}", leaf.shape, leaf.dtype, "early stopping's best weights")
        for i, leaf in enumerate(leaves)
    ]
    best_params, best_stats = jax.tree.unflatten(treedef, [np.array(b) for b in best])
    est._state = est._state._replace(best_params=best_params, best_stats=best_stats)


def _restore_optimizer(est, section, arrays: _Arrays, prefix: str, where: str) -> None:
    """The optimiser state, its structure built by this mlpkit's optimiser and filled with the stored arrays."""
    if section is None:
        return
    section = _object(section, where, _OPTIMIZER_KEYS)
    name = _text(section["solver"], f"{where}['solver']", choices=STOCHASTIC_SOLVERS)
    solver = STOCHASTIC_SOLVERS[name]
    static = _list(section["static"], f"{where}['static']")
    pairs = []
    for i, pair in enumerate(static):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise _Invalid(f"{where}['static'][{i}] is {pair!r}, expected [argument, value]")
        pairs.append((pair[0], _from_json(pair[1], f"{where}['static'][{i}]")))
    if sorted(arg for arg, _ in pairs) != sorted(solver.static):
        raise _Invalid(
            f"{where}['static'] names {[a for a, _ in pairs]}; {name} takes {sorted(solver.static)}"
        )
    hyper = {}
    for k, v in _object(
        section["hyperparams"], f"{where}['hyperparams']", set(solver.hyperparams.values())
    ).items():
        hyper[k] = _from_json(v, f"{where}['hyperparams'][{k!r}]")
        _number(hyper[k], f"{where}['hyperparams'][{k!r}]")
    spec = SolverSpec(name, tuple(sorted(pairs)))
    dtype = est.coefs_[0].dtype
    params = est._params()
    with _x64(dtype):
        optimizer = make_optimizer(spec, {k: np.asarray(v, dtype) for k, v in hyper.items()})
        template = jax.eval_shape(optimizer.init, params)
    leaves, treedef = jax.tree.flatten(template)
    key_name = f"{prefix}optimizer.random_key"  # (files written before mlpkit kept the key have none)
    key = _checked_array(arrays, key_name, (2,), np.uint32, "the random key") if key_name in arrays.available else None
    stored = [k for k in arrays.available if k.startswith(f"{prefix}optimizer.") and k != key_name]
    if len(stored) != len(leaves):
        raise _Invalid(
            f"{where}: the file holds {len(stored)} arrays of optimizer state, but {name}'s state here has"
            f" {len(leaves)}; if another mlpkit or optax version wrote it, load with optimizer_state=False"
        )
    state = [
        np.array(_checked_array(arrays, f"{prefix}optimizer.{i}", leaf.shape, leaf.dtype, f"{name}'s state"))
        for i, leaf in enumerate(leaves)
    ]
    est._state = est._state._replace(
        opt_state=jax.tree.unflatten(treedef, state), key=None if key is None else np.array(key)
    )
    est._origin = Origin(spec, hyper, est.random_state)


def _load_flucoma(section, cls, arrays: _Arrays, optimizer_state: bool):
    """A FluCoMa-style estimator: its parameters, labels and core network."""
    section = _object(section, "model", _FLUCOMA_SECTION_KEYS)
    est = _load_params(cls, section["params"], "model['params']")
    try:
        est._check_parameters()
        est._network_params(1)  # checks the activations
    except (ValueError, TypeError) as error:
        raise _Invalid(f"model['params']: {error}") from None
    attributes = _object(section["attributes"], "model['attributes']")
    allowed = {"labels_"} if cls.__name__ == "MLPClassifier" else set()
    if set(attributes) - allowed:
        raise _Invalid(f"model['attributes'] has unknown {sorted(set(attributes) - allowed)}")
    if section["network"] is not None:
        network = _load_core(
            section["network"], MLPRegressor, arrays, "network.", "model['network']", optimizer_state
        )
        if "_state" not in vars(network):
            raise _Invalid(
                "model['network'] is not fitted; a FluCoMa-style model holds a fitted network or none"
            )
        est.network_ = network
    if cls.__name__ == "MLPClassifier" and "network_" in vars(est) and "labels_" not in attributes:
        raise _Invalid(
            "model['attributes'] lacks 'labels_', which a FluCoMa-style classifier with a network has"
        )
    if "labels_" in attributes:
        labels = _list(attributes["labels_"], "model['attributes']['labels_']")
        if not all(isinstance(x, str) for x in labels) or len(set(labels)) != len(labels):
            raise _Invalid("model['attributes']['labels_'] must be distinct strings")
        network = vars(est).get("network_")
        if network is not None and network.n_outputs_ != len(labels):
            raise _Invalid(f"{len(labels)} labels do not fit a network of {network.n_outputs_} outputs")
        est.labels_ = labels
    return est


# ------------------------------------------------------------------------- scalers and wrappers

#: Scaler (sklearn.preprocessing) -> its fitted arrays (one number per column; some may be None).
_SCALER_ARRAYS = {
    "StandardScaler": ("mean_", "var_", "scale_"),
    "MinMaxScaler": ("min_", "scale_", "data_min_", "data_max_", "data_range_"),
    "RobustScaler": ("center_", "scale_"),
}
_SCALER_KEYS = {"kind", "params", "fitted"}
_SCALER_FITTED_KEYS = {"n_features_in_", "arrays", "n_samples_seen_", "feature_names_in_"}


def _scaler_section(scaler, arrays: dict, prefix: str, where: str) -> dict:
    kind = type(scaler).__name__
    if kind not in _SCALER_ARRAYS or type(scaler).__module__.split(".")[0] != "sklearn":
        raise ValueError(
            f"cannot save {where}: a {kind}; the mlpkit format holds {', '.join(_SCALER_ARRAYS)} steps"
            " (scikit-learn's) before the network. Use pickle or joblib for other pipelines."
        )
    section = {"kind": kind, "params": _params_to_json(scaler), "fitted": None}
    if not hasattr(scaler, "n_features_in_"):
        return section
    present = [name for name in _SCALER_ARRAYS[kind] if getattr(scaler, name, None) is not None]
    for name in present:
        arrays[f"{prefix}{name}"] = np.asarray(getattr(scaler, name), dtype=np.float64)
    seen = getattr(scaler, "n_samples_seen_", None)
    names = getattr(scaler, "feature_names_in_", None)
    section["fitted"] = {
        "n_features_in_": int(scaler.n_features_in_),
        "arrays": present,
        "n_samples_seen_": None if seen is None else _to_json(np.asarray(seen).tolist(), "n_samples_seen_"),
        "feature_names_in_": None if names is None else _to_json(np.asarray(names), "feature_names_in_"),
    }
    return section


def _load_scaler(section, arrays: _Arrays, prefix: str, where: str):
    from sklearn import preprocessing

    section = _object(section, where, _SCALER_KEYS)
    kind = _text(section["kind"], f"{where}['kind']", choices=_SCALER_ARRAYS)
    scaler = _load_params(getattr(preprocessing, kind), section["params"], f"{where}['params']")
    if section["fitted"] is None:
        return scaler
    fitted = _object(section["fitted"], f"{where}['fitted']", _SCALER_FITTED_KEYS)
    n = _count(fitted["n_features_in_"], f"{where}['fitted']['n_features_in_']", 1)
    present = _list(fitted["arrays"], f"{where}['fitted']['arrays']")
    if not set(present) <= set(_SCALER_ARRAYS[kind]):
        raise _Invalid(f"{where}['fitted']['arrays'] names {present}; a {kind} has {list(_SCALER_ARRAYS[kind])}")
    for name in _SCALER_ARRAYS[kind]:
        value = None
        if name in present:
            value = _checked_array(arrays, f"{prefix}{name}", (n,), np.float64, f"{where}: the {kind}'s {name}")
        setattr(scaler, name, value)
    scaler.n_features_in_ = n
    for name in ("n_samples_seen_", "feature_names_in_"):
        if fitted[name] is not None:
            value = _from_json(fitted[name], f"{where}['fitted'][{name!r}]")
            setattr(scaler, name, np.asarray(value) if isinstance(value, list) else value)
    try:  # a scaler that cannot transform one row of its width is damaged
        with warnings.catch_warnings():  # (a row without names, for one that knows its columns' names)
            warnings.simplefilter("ignore", UserWarning)
            scaler.transform(np.zeros((1, n)))
    except Exception as error:
        raise _Invalid(f"{where}: the stored {kind} does not work ({type(error).__name__}: {error})") from None
    return scaler


def _pipeline_section(model, arrays: dict, prefix: str, optimizer_state: bool) -> dict:
    *steps, (network_name, network) = model.steps
    name, section = _named_section(network, arrays, f"{prefix}network.", optimizer_state)
    if not _kind(name) == "core" or _WRAPPERS.get(name):
        raise ValueError("cannot save this Pipeline: its last step must be an mlpkit MLPClassifier or MLPRegressor")
    return {
        "steps": [[step_name, _step_section(step, arrays, f"{prefix}steps.{i}.", f"step {step_name!r}")]
                  for i, (step_name, step) in enumerate(steps)],  # fmt: skip
        "network": {"name": network_name, "estimator": name, "model": section},
    }


def _load_pipeline(section, arrays: _Arrays, prefix: str, where: str, optimizer_state: bool):
    from sklearn.pipeline import Pipeline

    section = _object(section, where, {"steps", "network"})
    steps = []
    for i, step in enumerate(_list(section["steps"], f"{where}['steps']")):
        step = _list(step, f"{where}['steps'][{i}]")
        if len(step) != 2:
            raise _Invalid(f"{where}['steps'][{i}] is {step!r}, expected [name, scaler]")
        name = _text(step[0], f"{where}['steps'][{i}][0]")
        load_step = _load_preparation if _is_preparation_section(step[1]) else _load_scaler
        steps.append((name, load_step(step[1], arrays, f"{prefix}steps.{i}.", f"{where}['steps'][{i}][1]")))
    network = _object(section["network"], f"{where}['network']", {"name", "estimator", "model"})
    classes = {name: cls for name, cls in _estimator_classes().items() if _kind(name) == "core"}
    cls = classes[_text(network["estimator"], f"{where}['network']['estimator']", choices=classes)]
    estimator = _load_core(network["model"], cls, arrays, f"{prefix}network.", f"{where}['network']['model']",
                           optimizer_state)  # fmt: skip
    widths = {_width_out(step) for _, step in steps if hasattr(step, "n_features_in_")}
    if "_state" in vars(estimator):
        widths.add(estimator.n_features_in_)
    if len(widths) > 1:
        raise _Invalid(f"{where}: the steps and the network take different numbers of columns {sorted(widths)}")
    return Pipeline(steps + [(_text(network["name"], f"{where}['network']['name']"), estimator)])


def _step_section(step, arrays: dict, prefix: str, where: str) -> dict:
    """A Pipeline step before the network: the data preparation or a scaler."""
    if type(step).__name__ == "Preparation" and type(step).__module__.startswith("mlpkit.prep"):
        return _preparation_section(step, arrays, prefix, where)
    return _scaler_section(step, arrays, prefix, where)


def _width_out(step) -> int:
    """How many columns a fitted step hands on (a scaler: as many as it takes)."""
    return len(step.get_feature_names_out()) if hasattr(step, "columns_") else step.n_features_in_


def _target_regressor_section(model, arrays: dict, prefix: str, optimizer_state: bool) -> dict:
    fitted = hasattr(model, "regressor_")
    regressor = model.regressor_ if fitted else model.regressor
    transformer = model.transformer_ if fitted else model.transformer
    if model.func is not None or model.inverse_func is not None or transformer is None:
        raise ValueError("cannot save this TransformedTargetRegressor: the mlpkit format holds a scaler as its"
                         " transformer, not func / inverse_func")  # fmt: skip
    name, section = _named_section(regressor, arrays, f"{prefix}regressor.", optimizer_state)
    if name == "sklearn.compose.TransformedTargetRegressor":
        raise ValueError("cannot save a TransformedTargetRegressor inside another")
    return {
        "regressor": {"estimator": name, "model": section},
        "transformer": _scaler_section(transformer, arrays, f"{prefix}target.", "the target transformer"),
        "check_inverse": bool(model.check_inverse),
        "training_dim": int(model._training_dim) if fitted else None,
    }


def _load_target_regressor(section, arrays: _Arrays, prefix: str, where: str, optimizer_state: bool):
    from sklearn.base import clone
    from sklearn.compose import TransformedTargetRegressor

    section = _object(section, where, {"regressor", "transformer", "check_inverse", "training_dim"})
    inner = _object(section["regressor"], f"{where}['regressor']", {"estimator", "model"})
    kinds = ["mlpkit.MLPRegressor", "sklearn.pipeline.Pipeline"]
    kind = _text(inner["estimator"], f"{where}['regressor']['estimator']", choices=kinds)
    inner_where, inner_prefix = f"{where}['regressor']['model']", f"{prefix}regressor."
    if kind in _WRAPPERS:
        regressor = _WRAPPERS[kind][2](inner["model"], arrays, inner_prefix, inner_where, optimizer_state)
    else:
        regressor = _load_core(inner["model"], MLPRegressor, arrays, inner_prefix, inner_where, optimizer_state)
    transformer = _load_scaler(section["transformer"], arrays, f"{prefix}target.", f"{where}['transformer']")
    model = TransformedTargetRegressor(regressor=clone(regressor), transformer=clone(transformer),
                                       check_inverse=_flag(section["check_inverse"], f"{where}['check_inverse']"))  # fmt: skip
    dim = section["training_dim"]
    fitted = hasattr(transformer, "n_features_in_") and "_state" in vars(_wrappers.network_of(regressor))
    if dim is None and not fitted:
        return model
    if dim not in (1, 2) or not fitted:
        raise _Invalid(f"{where}: a fitted target regressor needs a fitted regressor, transformer and training_dim 1 or 2")
    model.regressor_, model.transformer_, model._training_dim = regressor, transformer, dim
    if hasattr(regressor, "feature_names_in_"):
        model.feature_names_in_ = regressor.feature_names_in_
    return model


#: Header name -> (class name, section writer, section reader) of the scikit-learn wrappers the format holds.
_WRAPPERS = {
    "sklearn.pipeline.Pipeline": ("Pipeline", _pipeline_section, _load_pipeline),
    "sklearn.compose.TransformedTargetRegressor": (
        "TransformedTargetRegressor", _target_regressor_section, _load_target_regressor),
}


# ------------------------------------------------------------------------- the data preparation
# mlpkit.Preparation as a Pipeline step: its parameters, and its fitted state as the plain data of
# Preparation.fitted_state() (column records in the header, the scaler's arrays as float64 arrays), rebuilt by
# Preparation.from_fitted. (Kept apart and small: it becomes the io/ package's codec for the preparation.)

_PREPARATION_KIND = "mlpkit.Preparation"
_PREPARATION_KEYS = {"kind", "params", "fitted"}
_PREPARATION_FITTED_KEYS = {"columns", "scaling", "named"}
_PREPARATION_COLUMN_KEYS = {"name", "kind", "why", "fill", "indicator", "levels", "rare", "other", "numeric_levels",
                            "parts"}  # fmt: skip
_PREPARATION_SCALING_KEYS = {"scaler", "why", "columns", "arrays"}


def _is_preparation_section(section) -> bool:
    return isinstance(section, dict) and section.get("kind") == _PREPARATION_KIND


def _preparation_section(prep, arrays: dict, prefix: str, where: str) -> dict:
    section = {"kind": _PREPARATION_KIND, "params": _params_to_json(prep), "fitted": None}
    if not hasattr(prep, "columns_"):
        return section
    state = prep.fitted_state()
    scaling = dict(state["scaling"])
    for name, values in scaling["arrays"].items():
        arrays[f"{prefix}{name}"] = np.asarray(values, dtype=np.float64)
    scaling["arrays"] = sorted(scaling["arrays"])
    section["fitted"] = {"columns": state["columns"], "scaling": scaling, "named": state["named"]}
    return section


def _plain_value(value, where: str):
    """A fill value or a level: a finite number or a text (None for no fill)."""
    if value is None or isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                                    and math.isfinite(value)):  # fmt: skip
        return value
    raise _Invalid(f"{where} is {value!r}; expected a finite number or a text")


def _load_preparation_column(record, where: str):
    from .prep.columns import KINDS
    from .prep.encoding import DATE_PARTS, Column

    record = _object(record, where, _PREPARATION_COLUMN_KEYS)
    return Column(
        name=_text(record["name"], f"{where}['name']"),
        kind=_text(record["kind"], f"{where}['kind']", choices=KINDS),
        why=_text(record["why"], f"{where}['why']"),
        fill=_plain_value(record["fill"], f"{where}['fill']"),
        indicator=_flag(record["indicator"], f"{where}['indicator']"),
        levels=tuple(_plain_value(v, f"{where}['levels'][{i}]") for i, v in enumerate(_list(record["levels"], where))),
        rare=tuple(_plain_value(v, f"{where}['rare'][{i}]") for i, v in enumerate(_list(record["rare"], where))),
        other=_flag(record["other"], f"{where}['other']"),
        numeric_levels=_flag(record["numeric_levels"], f"{where}['numeric_levels']"),
        parts=tuple(_text(v, f"{where}['parts'][{i}]", choices=DATE_PARTS) for i, v in enumerate(_list(record["parts"], where))),
    )


def _load_preparation(section, arrays: _Arrays, prefix: str, where: str):
    from .prep import Preparation, Scaling
    from .prep.preparation import SCALER_ARRAYS

    section = _object(section, where, _PREPARATION_KEYS)
    params = _object(section["params"], f"{where}['params']")
    prep = _load_params(Preparation, params, f"{where}['params']")
    if section["fitted"] is None:
        return prep
    fitted = _object(section["fitted"], f"{where}['fitted']", _PREPARATION_FITTED_KEYS)
    columns = [_load_preparation_column(record, f"{where}['fitted']['columns'][{i}]")
               for i, record in enumerate(_list(fitted["columns"], f"{where}['fitted']['columns']"))]  # fmt: skip
    at = f"{where}['fitted']['scaling']"
    scaling = _object(fitted["scaling"], at, _PREPARATION_SCALING_KEYS)
    scaler = None if scaling["scaler"] is None else _text(scaling["scaler"], f"{at}['scaler']", choices=SCALER_ARRAYS)
    scaled = [_text(name, f"{at}['columns'][{i}]") for i, name in enumerate(_list(scaling["columns"], f"{at}['columns']"))]
    names = _list(scaling["arrays"], f"{at}['arrays']")
    if not set(names) <= set(SCALER_ARRAYS.get(scaler, ())):
        raise _Invalid(f"{at}['arrays'] names {names}; a {scaler} has {list(SCALER_ARRAYS.get(scaler, ()))}")
    values = {name: _checked_array(arrays, f"{prefix}{name}", (len(scaled),), np.float64, f"{where}: the scaler's {name}")
              for name in names}  # fmt: skip
    try:
        return Preparation.from_fitted(columns, Scaling(scaler, _text(scaling["why"], f"{at}['why']"), tuple(scaled), values),
                                       named=_flag(fitted["named"], f"{where}['fitted']['named']"), **prep.get_params())  # fmt: skip
    except (TypeError, ValueError) as error:
        raise _Invalid(f"{where}: the stored preparation does not fit together ({error})") from None


# ------------------------------------------------------------------------- ensembles

_ENSEMBLE_SECTION_KEYS = {"params", "estimator", "members", "attributes"}
_ENSEMBLE_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


def _ensemble_section(est, arrays: dict, optimizer_state: bool) -> dict:
    """An ensemble: its own parameters, its estimator's (settings only), each member as a core section."""
    template = est.estimator
    section = {
        "params": _params_to_json(est, leave_out=("estimator",)),
        "estimator": None if template is None else {"params": _params_to_json(template), "fitted": None},
        "members": None,
        "attributes": {},
    }
    if "estimators_" in vars(est):
        section["members"] = [
            _core_section(member, arrays, f"members.{i}.", optimizer_state) for i, member in enumerate(est.estimators_)
        ]
        section["attributes"] = {name: _to_json(vars(est)[name], name) for name in _ENSEMBLE_ATTRIBUTES if name in vars(est)}
    return section


def _load_ensemble(section, cls, arrays: _Arrays, optimizer_state: bool):
    """An ensemble: its parameters, its estimator, and its members, which must agree with each other."""
    section = _object(section, "model", _ENSEMBLE_SECTION_KEYS)
    member_class = cls._member_class
    template = None
    if section["estimator"] is not None:
        template = _load_core(section["estimator"], member_class, arrays, "estimator.", "model['estimator']", False)
        if "_state" in vars(template):
            raise _Invalid("model['estimator'] is fitted; an ensemble's estimator holds the members' settings only")
    params = _object(section["params"], "model['params']")
    if "estimator" in params:
        raise _Invalid("model['params'] holds 'estimator', which an ensemble's file keeps in model['estimator']")
    est = _load_params(cls, params, "model['params']")
    est.estimator = template
    try:
        est._validate_params()
    except ValueError as error:
        raise _Invalid(f"model['params']: {error}") from None
    attributes = {
        name: _from_json(value, f"model['attributes'][{name!r}]")
        for name, value in _object(section["attributes"], "model['attributes']").items()
    }
    if section["members"] is None:
        if attributes:
            raise _Invalid("model['attributes'] describes a fitted ensemble, but model['members'] is null")
        return est
    members = _list(section["members"], "model['members']")
    if len(members) != est.n_members:
        raise _Invalid(f"model['members'] holds {len(members)} networks; n_members is {est.n_members}")
    est.estimators_ = [
        _load_core(member, member_class, arrays, f"members.{i}.", f"model['members'][{i}]", optimizer_state)
        for i, member in enumerate(members)
    ]
    if not all("_state" in vars(member) for member in est.estimators_):
        raise _Invalid("model['members'] holds an unfitted network; a fitted ensemble's members are all fitted")
    unknown = sorted(set(attributes) - set(_ENSEMBLE_ATTRIBUTES))
    if unknown or "n_features_in_" not in attributes:
        raise _Invalid(f"model['attributes'] must hold n_features_in_ (and may hold feature_names_in_); it has {sorted(attributes)}")
    widths = {member.n_features_in_ for member in est.estimators_}
    if widths != {attributes["n_features_in_"]}:
        raise _Invalid(f"the members take {sorted(widths)} features, the ensemble {attributes['n_features_in_']!r}")
    est.n_features_in_ = attributes["n_features_in_"]
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if not (isinstance(names, np.ndarray) and names.shape == (est.n_features_in_,) and all(isinstance(n, str) for n in names)):
            raise _Invalid(f"model['attributes']['feature_names_in_'] is not an array of {est.n_features_in_} names")
        est.feature_names_in_ = names
    if member_class is MLPClassifier:
        classes = est.estimators_[0].classes_
        if not all(np.array_equal(member.classes_, classes) for member in est.estimators_):
            raise _Invalid("the members of the classifier were fitted on different classes")
        est.classes_ = classes
    return est


# ------------------------------------------------------------------------- FluCoMa JSON


def _load_flucoma_json(data: bytes, source: str):
    """A FluCoMa MLPRegressor or MLPClassifier from the JSON text of its model file."""
    from . import flucoma
    from .flucoma import jsonio

    if not data.strip():
        raise _Invalid("the file is empty")
    if not data.lstrip().startswith(b"{"):
        raise _Invalid("not a model file: neither an .npz archive (as mlpkit.save writes) nor FluCoMa JSON")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Invalid(f"not UTF-8 JSON ({error.reason} at byte {error.start})") from None
    try:
        obj = jsonio.loads(text, source=source)
        if set(obj) == {"layers"}:
            return flucoma.MLPRegressor().read(obj)
        if set(obj) == {"labels", "mlp"}:
            return flucoma.MLPClassifier().read(obj)
    except ValueError as error:  # FluCoMaFormatError and the models' own checks
        message = str(error)
        for prefix in (f"{source}: ", f"{jsonio.NOT_A_FILE}: "):
            message = message.removeprefix(prefix)
        raise _Invalid(message) from None
    raise _Invalid(
        f"JSON with the keys {sorted(obj)}, not a FluCoMa MLP model ('layers' for a regressor, 'labels' and"
        " 'mlp' for a classifier); read other FluCoMa objects with mlpkit.flucoma"
    )
