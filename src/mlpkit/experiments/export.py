"""The best model of a sweep in FluCoMa's JSON, with its scaler, beside the native file.

FluCoMa users train in Python and play in Max, Pure Data or SuperCollider: they
need the network as a FluCoMa MLP file *and* the scaler that prepared its inputs
as a FluCoMa scaler file, or the network sees numbers it never learned on.

A scikit-learn ``Pipeline`` whose first step is a ``StandardScaler``,
``MinMaxScaler`` or ``RobustScaler`` (or one of ``mlpkit.flucoma``'s scalers) and
whose last is an mlpkit network converts cleanly: FluCoMa's ``Standardize``,
``Normalize`` and ``RobustScale`` apply the same formulas to the same numbers.
Settings FluCoMa cannot express (``with_mean=False``, ``clip=True``,
``unit_variance=True``, other steps) mean no scaler file, and a note saying why;
so does a network FluCoMa cannot express (activations beyond its four, a softmax
classifier): then only the native file is written. A model whose first step is
``mlpkit.Preparation`` (text categories one-hot, gaps filled, dates as numbers) is
not written as FluCoMa JSON at all: FluCoMa's files take numbers only, and a network
that learned on encoded columns is of no use without its encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FluCoMaFiles", "network_of", "write_flucoma_beside"]


def network_of(estimator):
    """The mlpkit network of an estimator: itself, or a Pipeline's last step."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if isinstance(steps, list) else estimator


def _standardize(scaler, X):
    from ..flucoma import Standardize

    if not (scaler.with_mean and scaler.with_std):
        raise ValueError("StandardScaler(with_mean=False or with_std=False) has no FluCoMa equivalent")
    converted = Standardize()
    converted.mean_, converted.std_ = np.asarray(scaler.mean_, float), np.asarray(scaler.scale_, float)
    return converted


def _normalize(scaler, X):
    from ..flucoma import Normalize

    if scaler.clip:
        raise ValueError("MinMaxScaler(clip=True) clips; FluCoMa's Normalize does not")
    low, high = scaler.feature_range
    converted = Normalize(min=float(low), max=float(high))
    converted.data_min_, converted.data_max_ = np.asarray(scaler.data_min_, float), np.asarray(scaler.data_max_, float)
    return converted


def _robust_scale(scaler, X):
    from ..flucoma import RobustScale

    if not (scaler.with_centering and scaler.with_scaling) or scaler.unit_variance:
        raise ValueError("RobustScaler without centring or scaling, or with unit_variance=True, has no FluCoMa equivalent")
    low, high = scaler.quantile_range
    converted = RobustScale(low=float(low), high=float(high))
    # scikit-learn keeps only the median and the spread; the percentiles are recomputed as it computed them.
    converted.data_low_, converted.data_high_ = np.nanpercentile(np.asarray(X, float), [low, high], axis=0)
    converted.median_, converted.range_ = np.asarray(scaler.center_, float), np.asarray(scaler.scale_, float)
    return converted


#: scikit-learn scaler class name -> function(fitted scaler, the data it was fitted on) -> fitted FluCoMa scaler.
SCALER_CONVERSIONS = {"StandardScaler": _standardize, "MinMaxScaler": _normalize, "RobustScaler": _robust_scale}


def flucoma_scaler(scaler, X):
    """The FluCoMa scaler doing what a fitted scikit-learn (or FluCoMa) scaler does; ValueError if none does."""
    from ..flucoma import Normalize, RobustScale, Standardize

    if isinstance(scaler, (Normalize, RobustScale, Standardize)):
        return scaler
    convert = SCALER_CONVERSIONS.get(type(scaler).__name__)
    if convert is None or type(scaler).__module__.split(".")[0] != "sklearn":
        raise ValueError(
            f"{type(scaler).__name__} has no FluCoMa equivalent (FluCoMa has Standardize, Normalize, RobustScale:"
            f" use {', '.join(SCALER_CONVERSIONS)} or mlpkit.flucoma's scalers)"
        )
    converted = convert(scaler, X)
    converted.n_features_in_ = int(scaler.n_features_in_)
    return converted


@dataclass
class FluCoMaFiles:
    """What ``write_flucoma_beside`` wrote, and why anything was left out."""

    model: Path | None = None
    scaler: Path | None = None
    notes: list = field(default_factory=list)


def _preparation_refusal(estimator) -> str | None:
    """Why FluCoMa cannot hold a model that starts with an ``mlpkit.Preparation``, naming what it does; None
    for any other model."""
    steps = getattr(estimator, "steps", None)
    before = [step for _, step in steps[:-1]] if isinstance(steps, list) else []
    preparation = next((step for step in before if type(step).__name__ == "Preparation"), None)
    if preparation is None:
        return None
    kinds = {"category": "encodes the categories of", "date": "turns into numbers the dates of",
             "left out": "leaves out"}
    named = {what: [repr(c.name) for c in preparation.columns_ if c.kind == kind] for kind, what in kinds.items()}
    named["fills the gaps of"] = [repr(c.name) for c in preparation.columns_ if c.indicator]
    done = [f"{what} {', '.join(names)}" for what, names in named.items() if names]
    return (
        f"not saved as FluCoMa JSON: the model's first step, the data preparation (mlpkit.Preparation),"
        f" {'; '.join(done) or 'prepares the columns'}, and FluCoMa's MLP and scaler files take numbers only."
        " The native file holds the whole model; for FluCoMa, train on a table of numbers without gaps"
        " (a scaler and a network)"
    )


def write_flucoma_beside(estimator, X, native_path) -> FluCoMaFiles:
    """Write ``<stem>.flucoma.json`` (and ``<stem>.scaler.json``) beside ``native_path`` where FluCoMa can
    express the fitted ``estimator``; the notes say what was not written and why."""
    from ..flucoma import to_flucoma_dict, write_json

    native_path = Path(native_path)
    stem = native_path.with_suffix("")
    written = FluCoMaFiles()
    refusal = _preparation_refusal(estimator)
    if refusal is not None:
        written.notes.append(refusal)
        return written
    steps = getattr(estimator, "steps", None)
    try:
        model = to_flucoma_dict(network_of(estimator))
    except ValueError as reason:
        written.notes.append(f"not saved as FluCoMa JSON: {reason}")
        return written
    scaler = None
    if isinstance(steps, list) and len(steps) > 1:
        transformers = [step for _, step in steps[:-1] if step not in (None, "passthrough")]
        try:
            if len(transformers) != 1:
                raise ValueError(f"the pipeline has {len(transformers)} steps before the network; FluCoMa's"
                                 " files hold one scaler")
            scaler = flucoma_scaler(transformers[0], X)
        except ValueError as reason:
            written.notes.append(
                f"the FluCoMa model file expects inputs already transformed by the pipeline's steps, but they"
                f" were not saved for FluCoMa: {reason}"
            )
    written.model = stem.with_name(stem.name + ".flucoma.json")
    write_json(written.model, model)
    if scaler is not None:
        written.scaler = stem.with_name(stem.name + ".scaler.json")
        scaler.write(written.scaler)
    return written
