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

The package, read top to bottom
-------------------------------
- ``archive``: the ``.npz`` archive and the header around the model (format name and version).
- ``checks``: declarative checks of the header: each section described as data (``record``,
  ``list_of``, ``text(choices=...)``, ...), one ``check`` function giving where, expected and found.
- ``values``: parameter and attribute values <-> JSON (tagged floats, tuples, dicts, arrays).
- ``parts``: what a codec is given (the save's or load's context, through which it reaches nested
  parts) and the ``Codec`` row; ``registry``: the table of codecs.
- one codec per kind of part: ``network`` (core MLPClassifier / MLPRegressor), ``scalers``,
  ``wrappers`` (Pipeline, TransformedTargetRegressor), ``ensemble``, ``flucoma`` (mlpkit.flucoma's
  estimators, and FluCoMa's JSON model files).

How to add a codec
------------------
A new kind of part (say a data-preparation step) is one module and one table row. The module
describes its section with ``checks`` (``record({"kind": text(choices=["mlpkit.Preparation"]),
"columns": list_of(record({"name": text(), "kind": text(choices=KINDS), "fill":
nullable(either(text(), number()))}, optional={"levels": list_of(either(text(), number()))}))})``),
and has ``write(model, saving) -> section`` (its arrays through ``saving.add(name, array)``,
nested parts through ``saving.part``) and ``read(section, loading, cls) -> model`` (``check`` the
section at ``loading.where``, arrays through ``loading.array``, nested parts through
``loading.part``; raise ``errors.Invalid`` saying where, what was expected and what was found).
Then add its row to ``registry.TABLE``: its header name, ``"module:Class"``, the module's
``CODEC = (write, read)`` and where it may stand (``{"step"}`` for a Pipeline step: a step's
section names its codec in ``"kind"``; tests/test_io_checks.py adds one this way). Old files
stay readable: a new key is ``optional`` in the old sections, and ``FORMAT_VERSION`` goes up only
when old mlpkits must refuse the new files (they refuse an unknown "estimator" or step "kind"
already, with a message naming it).

File format, version 1
----------------------
A zip archive as ``np.savez`` writes it (entries stored, not compressed), holding
``.npy`` arrays of numbers only:

``__header__``
    uint8 array: the UTF-8 text of a JSON object (no NaN or Infinity literals)::

        {"format": "mlpkit.model",      # FORMAT_NAME
         "format_version": 1,           # FORMAT_VERSION; a newer one is refused: upgrade mlpkit
         "mlpkit_version": "0.1.0",     # who wrote it (information only)
         "estimator": "mlpkit.MLPClassifier",   # a name of registry.TABLE: or "mlpkit.MLPRegressor",
                          # "mlpkit.flucoma.MLPRegressor", "mlpkit.flucoma.MLPClassifier",
                          # "mlpkit.EnsembleClassifier", "mlpkit.EnsembleRegressor",
                          # "sklearn.pipeline.Pipeline", "sklearn.compose.TransformedTargetRegressor"
         "model": SECTION}

    A core estimator's SECTION (``network``)::

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
                            and the training state's counters (``network.STATE_COUNTERS``:
                            "_epoch", "_step", "_cycle_start", "_optimizer_start", "_lr_reference",
                            "_no_improvement_count", "_best_monitored", "_best_loss",
                            "_plateau_best", "_plateau_count"; older files lack some: a new
                            network's values)},
             "labels": {"type": "binary" | "multiclass" | "multilabel-indicator",
                        "sparse_input": false},              # classifiers only
             "best_weights": "current" | "stored",          # early stopping's record
             "optimizer": null or {"solver": "adam", "static": [[argument, value], ...],
                                   "hyperparams": {parameter: value}}}}

    A FluCoMa-style estimator's SECTION (``flucoma``)::

        {"params": {...}, "attributes": {} or {"labels_": [...]} (classifiers),
         "network": null or the SECTION of its core network_ (an mlpkit.MLPRegressor)}

    A scikit-learn ``Pipeline``'s SECTION (``wrappers``): zero or more steps, then a core network::

        {"steps": [[name, STEP], ...],
         "network": {"name": step name, "estimator": "mlpkit.MLPClassifier", "model": SECTION}}

    and a ``TransformedTargetRegressor``'s::

        {"regressor": {"estimator": "mlpkit.MLPRegressor" or "sklearn.pipeline.Pipeline", "model": SECTION},
         "transformer": STEP, "check_inverse": true, "training_dim": 1, 2 or null (not fitted)}

    A STEP names its codec in ``"kind"``: the data preparation (``"mlpkit.Preparation"``, a Pipeline's
    first step; its section in ``preparation``), or a SCALER (``scalers``):
    ``{"kind": "StandardScaler" | "MinMaxScaler" | "RobustScaler", "params": {...},
    "fitted": null or {"n_features_in_", "arrays": [the fitted arrays present, e.g. "mean_",
    "var_", "scale_"], "n_samples_seen_", "feature_names_in_"}}``; its arrays are float64,
    one number per column, named ``steps.I.<name>`` (``target.<name>`` for the target's), and
    a wrapped network's arrays carry the prefix ``network.`` (``regressor.`` inside a target
    regressor, so ``regressor.network.coefs.0`` for a pipeline inside one).

    An ensemble's ("mlpkit.EnsembleClassifier", "mlpkit.EnsembleRegressor") SECTION (``ensemble``)::

        {"params": {every get_params(deep=False) value but "estimator"},
         "estimator": null or {"params": {...}, "fitted": null},   # the members' settings
         "members": null (not fitted) or [one core SECTION per member],
         "attributes": {} or {"n_features_in_", and "feature_names_in_" where it has them}}

    Values (``values``): JSON null, booleans, integers, strings and lists as themselves; floats
    as JSON numbers, or ``{"float": "nan" | "inf" | "-inf"}``; tuples as
    ``{"tuple": [...]}``; dicts of string keys (an ensemble's ``vary``) as ``{"dict": {...}}``;
    numpy arrays (``classes_``, ``feature_names_in_``) as
    ``{"ndarray": [items...], "dtype": "<U5", "shape": [3]}``. A parameter the
    file lacks (one added to mlpkit after the file was written) takes its default.

the network's arrays, in the model's dtype, named for their place
    ``coefs.I`` (units[I], units[I+1]) and ``intercepts.I`` (units[I+1],) for each layer;
    for each hidden layer ``prelu_slopes.I`` (prelu networks) and
    ``batch_norm.scale.I``, ``.shift.I``, ``.mean.I``, ``.var.I`` (batch_norm networks);
    ``best.I``: the leaves of early stopping's best ``(params, stats)``, only when
    they differ from the current weights; ``optimizer.I``: the leaves of the optax
    state, in ``jax.tree.leaves`` order of the state the same solver builds here,
    and ``optimizer.random_key`` (uint32, 2): training's random stream.
    A FluCoMa-style model's network arrays carry the prefix ``network.``; an ensemble's member ``I``'s
    carry ``members.I.``.

Every problem found on loading raises :class:`ModelFileError` (a ``ValueError``)
whose message starts with the file's name and says what is wrong; an ``OSError``
means the file could not be opened at all (missing, a directory, no permission).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._files import write_atomically
from .archive import (
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_KEY,
    Arrays,
    archive_bytes,
    parse_header,
    read_archive,
)
from .errors import Invalid, ModelFileError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "ModelFileError",
    "load",
    "save",
    "write_atomically",  # (onnx_export writes its files through it, as save does)
]


def save(model, path, *, optimizer_state=True, format="mlpkit"):
    """Write ``model`` to ``path`` atomically: the old file stays intact if anything fails.

    Parameters
    ----------
    model : mlpkit.MLPClassifier, mlpkit.MLPRegressor, mlpkit.flucoma.MLPRegressor /
        MLPClassifier, mlpkit.EnsembleClassifier / EnsembleRegressor; a scikit-learn Pipeline of an
        mlpkit.Preparation or StandardScaler / MinMaxScaler / RobustScaler steps before a core network (what
        ``advise(X, y).estimator()`` and ``mlpkit fit`` build), or a TransformedTargetRegressor
        with such a scaler around either; fitted or not.
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
        The model cannot be written: not a model the format holds, a parameter that is
        not a plain value (the message names it), or weights that are not finite.
    """
    if format == "flucoma":
        from ..flucoma import write_model

        write_model(model, path)
        return
    if format != "mlpkit":
        raise ValueError(
            f"format must be 'mlpkit' (mlpkit's .npz) or 'flucoma' (FluCoMa's JSON); got {format!r}"
        )
    from .._version import __version__
    from .parts import Saving
    from .registry import TABLE  # (the codecs import the estimators: only when a model is saved)

    saving = Saving(TABLE, bool(optimizer_state))
    name, section = saving.part(model, "file", "this model")
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlpkit_version": __version__,
        "estimator": name,
        "model": section,
    }
    header_text = json.dumps(header, allow_nan=False, sort_keys=True)
    try:  # write only what load accepts: check the payload as load will
        _read_model(parse_header(header_text), Arrays(dict(saving.arrays)), optimizer_state=True)
    except Invalid as problem:
        raise ValueError(f"cannot save this {type(model).__name__} to {os.fspath(path)}: {problem}") from None
    write_atomically(path, archive_bytes(header_text, saving.arrays))


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
    A fitted (or, if saved unfitted, a fresh) model of a kind :func:`save` writes, or the
    ``mlpkit.flucoma.MLPRegressor`` / ``MLPClassifier`` of a FluCoMa model file.

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
            header, arrays = read_archive(data)
            return _read_model(header, arrays, optimizer_state)
        from .flucoma import read_json_model

        return read_json_model(data, source)
    except Invalid as problem:
        raise ModelFileError(f"{source}: {problem}") from None
    except ModelFileError:
        raise
    except Exception as error:  # a safety net: every failure is a ModelFileError
        raise ModelFileError(
            f"{source}: unexpected error while reading the model ({type(error).__name__}: {error});"
            " the file is probably damaged"
        ) from error


def _read_model(header: dict, arrays: Arrays, optimizer_state: bool):
    """The model a checked header and its arrays describe; every array must have been read."""
    from .parts import Loading
    from .registry import TABLE

    loading = Loading(TABLE, arrays, optimizer_state)
    model = loading.part(header["estimator"], header["model"], "file", "the header's estimator")
    arrays.check_all_taken()
    return model
