"""The codecs of the scikit-learn wrappers around a network: ``Pipeline`` and ``TransformedTargetRegressor``.

A Pipeline's section is ``{"steps": [[name, STEP], ...], "network": {"name", "estimator", "model"}}``:
each STEP is the section of a part that names its codec in its ``"kind"`` (the preparation, the scalers), read
through the codec table, its arrays under ``steps.I.``; the last step is a core network, its arrays
under ``network.``. A TransformedTargetRegressor's is ``{"regressor": {"estimator", "model"},
"transformer": STEP, "check_inverse", "training_dim"}``: the regressor's arrays under ``regressor.``,
the transformer's under ``target.``.
"""

from __future__ import annotations

from itertools import pairwise

from .. import _wrappers
from .checks import any_json, check, count, flag, items, list_of, nullable, record, text
from .errors import Invalid

PIPELINE = record({
    "steps": list_of(items(text(), any_json(), label="[name, step]")),
    "network": record({"name": text(), "estimator": text(), "model": any_json()}),
})  # fmt: skip
TARGET_REGRESSOR = record({
    "regressor": record({"estimator": text(), "model": any_json()}),
    "transformer": any_json(),
    "check_inverse": flag(),
    "training_dim": nullable(count(1)),
})  # fmt: skip


# -------------------------------------------------------------------------------- Pipeline


def write_pipeline(model, saving) -> dict:
    *steps, (network_name, network) = model.steps
    # (the network's arrays first: files have always been written in this order)
    name, section = saving.at("network.").part(network, "network", "this Pipeline's last step")
    written = [[step_name, saving.at(f"steps.{i}.").part(step, "step", f"step {step_name!r}")[1]]
               for i, (step_name, step) in enumerate(steps)]  # fmt: skip
    return {"steps": written, "network": {"name": network_name, "estimator": name, "model": section}}


def read_pipeline(section, loading, cls):
    where = loading.where
    section = check(section, PIPELINE, where)
    steps = [(name, loading.at(f"steps.{i}.", "steps", i, 1).kind_part(step, "step"))
             for i, (name, step) in enumerate(section["steps"])]  # fmt: skip
    network = section["network"]
    estimator = loading.at("network.", "network", "model").part(
        network["estimator"], network["model"], "network", f"{where}['network']['estimator']"
    )
    _check_widths(steps + [(network["name"], estimator)], where)
    return cls(steps + [(network["name"], estimator)])


def _check_widths(steps: list, where: str) -> None:
    """Each fitted step must put out as many columns as the next fitted one takes."""
    fitted = [(name, step) for name, step in steps if hasattr(step, "n_features_in_")]
    for (name, step), (after, following) in pairwise(fitted):
        width = _columns_out(step, name, where)
        if width != following.n_features_in_:
            raise Invalid(
                f"{where}: step {name!r} puts out {width} columns but step {after!r} takes"
                f" {following.n_features_in_}; the steps and the network do not fit together"
            )


def _columns_out(step, name: str, where: str) -> int:
    """How many columns a fitted step puts out (a one-hot encoder puts out more than it takes)."""
    if not hasattr(step, "get_feature_names_out"):
        return step.n_features_in_
    try:
        return len(step.get_feature_names_out())
    except Exception as error:  # (stored attributes that do not agree with each other)
        raise Invalid(
            f"{where}: step {name!r} cannot name its output columns ({type(error).__name__}: {error})"
        ) from None


#: The Pipeline's codec, for the table (registry.TABLE).
PIPELINE_CODEC = (write_pipeline, read_pipeline)


# --------------------------------------------------------------------- TransformedTargetRegressor


def write_target_regressor(model, saving) -> dict:
    fitted = hasattr(model, "regressor_")
    regressor = model.regressor_ if fitted else model.regressor
    transformer = model.transformer_ if fitted else model.transformer
    if model.func is not None or model.inverse_func is not None or transformer is None:
        raise ValueError(
            "cannot save this TransformedTargetRegressor: the mlpkit format holds a scaler as its"
            " transformer, not func / inverse_func"
        )
    name, section = saving.at("regressor.").part(
        regressor, "regressor", "this TransformedTargetRegressor's regressor"
    )
    return {
        "regressor": {"estimator": name, "model": section},
        "transformer": saving.at("target.").part(transformer, "target", "the target transformer")[1],
        "check_inverse": bool(model.check_inverse),
        "training_dim": int(model._training_dim) if fitted else None,
    }


def read_target_regressor(section, loading, cls):
    from sklearn.base import clone

    where = loading.where
    section = check(section, TARGET_REGRESSOR, where)
    inner = section["regressor"]
    regressor = loading.at("regressor.", "regressor", "model").part(
        inner["estimator"], inner["model"], "regressor", f"{where}['regressor']['estimator']"
    )
    transformer = loading.at("target.", "transformer").kind_part(section["transformer"], "target")
    model = cls(
        regressor=clone(regressor), transformer=clone(transformer), check_inverse=section["check_inverse"]
    )
    dim = section["training_dim"]
    fitted = hasattr(transformer, "n_features_in_") and "_state" in vars(_wrappers.network_of(regressor))
    if dim is None and not fitted:
        return model
    if dim not in (1, 2) or not fitted:
        raise Invalid(
            f"{where}: a fitted target regressor needs a fitted regressor, transformer and"
            " training_dim 1 or 2"
        )
    model.regressor_, model.transformer_, model._training_dim = regressor, transformer, dim
    if hasattr(regressor, "feature_names_in_"):
        model.feature_names_in_ = regressor.feature_names_in_
    return model


#: The TransformedTargetRegressor's codec, for the table (registry.TABLE).
TARGET_REGRESSOR_CODEC = (write_target_regressor, read_target_regressor)
