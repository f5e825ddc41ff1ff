"""The codecs of FluCoMa: mlpkit.flucoma's estimators inside the .npz format, and FluCoMa's own JSON files.

A FluCoMa-style estimator's section is ``{"params", "attributes": {} or {"labels_": [...]}
(classifiers), "network": null or the section of its core network_ (an mlpkit.MLPRegressor)}``, the
network's arrays under ``network.``. ``load`` also reads the MLP model files FluCoMa's ``write``
makes (JSON): :func:`read_json_model`.
"""

from __future__ import annotations

from ..estimators import MLPRegressor
from . import network
from .checks import any_json, check, list_of, nullable, record, text
from .errors import Invalid
from .values import params_from_json, params_to_json, to_json, validated

SECTION = record({"params": any_json(), "attributes": any_json(), "network": nullable(any_json())})
CLASSIFIER_ATTRIBUTES = record({}, optional={"labels_": list_of(text())})
REGRESSOR_ATTRIBUTES = record({})


def write(est, saving) -> dict:
    network_ = vars(est).get("network_")
    return {
        "params": params_to_json(est),
        "attributes": {"labels_": to_json(est.labels_, "labels_")} if "labels_" in vars(est) else {},
        "network": None if network_ is None else network.write(network_, saving.at("network.")),
    }


def read(section, loading, cls):
    """A FluCoMa-style estimator: its parameters, labels and core network."""
    where = loading.where
    section = check(section, SECTION, where)
    params_where = f"{where}['params']"
    est = validated(params_from_json(cls, section["params"], params_where), _check_params, params_where)
    classifier = cls.__name__ == "MLPClassifier"
    attributes = check(section["attributes"], CLASSIFIER_ATTRIBUTES if classifier else REGRESSOR_ATTRIBUTES,
                       f"{where}['attributes']")  # fmt: skip
    if section["network"] is not None:
        network_ = network.read(section["network"], loading.at("network.", "network"), MLPRegressor)
        if "_state" not in vars(network_):
            raise Invalid(
                f"{where}['network'] is not fitted; a FluCoMa-style model holds a fitted network or none"
            )
        est.network_ = network_
    if classifier and "network_" in vars(est) and "labels_" not in attributes:
        raise Invalid(
            f"{where}['attributes'] lacks 'labels_', which a FluCoMa-style classifier with a network has"
        )
    if "labels_" in attributes:
        labels = attributes["labels_"]
        if len(set(labels)) != len(labels):
            raise Invalid(f"{where}['attributes']['labels_'] must be distinct strings")
        network_ = vars(est).get("network_")
        if network_ is not None and network_.n_outputs_ != len(labels):
            raise Invalid(f"{len(labels)} labels do not fit a network of {network_.n_outputs_} outputs")
        est.labels_ = labels
    return est


def _check_params(est) -> None:
    est._check_parameters()
    est._network_params(1)  # checks the activations


# ---------------------------------------------------------------------------- FluCoMa's JSON


def read_json_model(data: bytes, source: str):
    """A FluCoMa MLPRegressor or MLPClassifier from the JSON text of its model file."""
    from .. import flucoma
    from ..flucoma import jsonio

    if not data.strip():
        raise Invalid("the file is empty")
    if not data.lstrip().startswith(b"{"):
        raise Invalid("not a model file: neither an .npz archive (as mlpkit.save writes) nor FluCoMa JSON")
    try:
        text_ = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"not UTF-8 JSON ({error.reason} at byte {error.start})") from None
    readers = {
        frozenset({"layers"}): flucoma.MLPRegressor,
        frozenset({"labels", "mlp"}): flucoma.MLPClassifier,
    }
    try:
        obj = jsonio.loads(text_, source=source)
        if frozenset(obj) in readers:
            return readers[frozenset(obj)]().read(obj)
    except ValueError as error:  # FluCoMaFormatError and the models' own checks
        message = str(error)
        for prefix in (f"{source}: ", f"{jsonio.NOT_A_FILE}: "):
            message = message.removeprefix(prefix)
        raise Invalid(message) from None
    raise Invalid(
        f"JSON with the keys {sorted(obj)}, not a FluCoMa MLP model ('layers' for a regressor, 'labels' and"
        " 'mlp' for a classifier); read other FluCoMa objects with mlpkit.flucoma"
    )


#: This module's codec, for the table (registry.TABLE).
CODEC = (write, read)
