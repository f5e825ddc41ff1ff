"""The codec of scikit-learn's per-column scalers, as Pipeline steps and as a target's transformer.

A scaler's section is ``{"kind": "StandardScaler" | "MinMaxScaler" | "RobustScaler", "params",
"fitted": null or {"n_features_in_", "arrays", "n_samples_seen_", "feature_names_in_"}}``; its
fitted arrays (those it has: ``"arrays"`` lists them) are float64, one number per column, named
``<prefix><attribute>`` (``steps.0.mean_``, ``target.scale_``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .checks import any_json, check, count, list_of, nullable, record, text
from .errors import Invalid
from .values import params_from_json, params_to_json, to_json, value

#: Scaler class name -> its fitted arrays (one number per column; some may be None).
ARRAYS = {
    "StandardScaler": ("mean_", "var_", "scale_"),
    "MinMaxScaler": ("min_", "scale_", "data_min_", "data_max_", "data_range_"),
    "RobustScaler": ("center_", "scale_"),
}

SECTION = record({"kind": text(choices=ARRAYS), "params": any_json(), "fitted": nullable(any_json())})
FITTED = record({
    "n_features_in_": count(1),
    "arrays": list_of(text()),
    "n_samples_seen_": nullable(value()),
    "feature_names_in_": nullable(value()),
})  # fmt: skip


def write(scaler, saving) -> dict:
    kind = type(scaler).__name__
    section = {"kind": kind, "params": params_to_json(scaler), "fitted": None}
    if not hasattr(scaler, "n_features_in_"):
        return section
    present = [name for name in ARRAYS[kind] if getattr(scaler, name, None) is not None]
    for name in present:
        saving.add(name, np.asarray(getattr(scaler, name), dtype=np.float64))
    seen = getattr(scaler, "n_samples_seen_", None)
    names = getattr(scaler, "feature_names_in_", None)
    section["fitted"] = {
        "n_features_in_": int(scaler.n_features_in_),
        "arrays": present,
        "n_samples_seen_": None if seen is None else to_json(np.asarray(seen).tolist(), "n_samples_seen_"),
        "feature_names_in_": None if names is None else to_json(np.asarray(names), "feature_names_in_"),
    }
    return section


def read(section, loading, cls):
    where = loading.where
    section = check(section, SECTION, where)
    kind = section["kind"]
    if kind != cls.__name__:
        raise Invalid(f"{where}['kind'] is {kind!r}, but the part was read as a {cls.__name__}")
    scaler = params_from_json(cls, section["params"], f"{where}['params']")
    if section["fitted"] is None:
        return scaler
    fitted = check(section["fitted"], FITTED, f"{where}['fitted']")
    n, present = fitted["n_features_in_"], fitted["arrays"]
    if not set(present) <= set(ARRAYS[kind]):
        raise Invalid(f"{where}['fitted']['arrays'] names {present}; a {kind} has {list(ARRAYS[kind])}")
    for name in ARRAYS[kind]:
        array = (
            loading.array(name, (n,), np.float64, f"{where}: the {kind}'s {name}")
            if name in present
            else None
        )
        setattr(scaler, name, array)
    scaler.n_features_in_ = n
    for name in ("n_samples_seen_", "feature_names_in_"):
        if fitted[name] is not None:
            setattr(
                scaler, name, np.asarray(fitted[name]) if isinstance(fitted[name], list) else fitted[name]
            )
    try:  # a scaler that cannot transform one row of its width is damaged
        with warnings.catch_warnings():  # (a row without names, for one that knows its columns' names)
            warnings.simplefilter("ignore", UserWarning)
            scaler.transform(np.zeros((1, n)))
    except Exception as error:
        raise Invalid(f"{where}: the stored {kind} does not work ({type(error).__name__}: {error})") from None
    return scaler


#: This module's codec, for the table (registry.TABLE).
CODEC = (write, read)
