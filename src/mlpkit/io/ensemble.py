"""The codec of mlpkit's ``EnsembleClassifier`` and ``EnsembleRegressor``: settings and member networks.

Its section is ``{"params": every get_params(deep=False) value but "estimator", "estimator": null or
the members' settings as an unfitted core section, "members": null (not fitted) or one core section
per member, "attributes": {} or {"n_features_in_", "feature_names_in_" where it has them}}``; member
I's arrays carry the prefix ``members.I.``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import network
from .checks import any_json, check, count, list_of, nullable, record
from .errors import Invalid
from .values import params_from_json, params_to_json, to_json, validated, value

ATTRIBUTES = ("n_features_in_", "feature_names_in_")
SECTION = record({
    "params": any_json(),
    "estimator": nullable(any_json()),
    "members": nullable(list_of(any_json())),
    "attributes": record({}, optional={"n_features_in_": value(count(1)), "feature_names_in_": value()}),
})  # fmt: skip


def write(est, saving) -> dict:
    """An ensemble: its own parameters, its estimator's (settings only), each member as a core section."""
    template = est.estimator
    section = {
        "params": params_to_json(est, leave_out=("estimator",)),
        "estimator": None if template is None else {"params": params_to_json(template), "fitted": None},
        "members": None,
        "attributes": {},
    }
    if "estimators_" in vars(est):
        section["members"] = [
            network.write(member, saving.at(f"members.{i}.")) for i, member in enumerate(est.estimators_)
        ]
        section["attributes"] = {
            name: to_json(vars(est)[name], name) for name in ATTRIBUTES if name in vars(est)
        }
    return section


def read(section, loading, cls):
    """An ensemble: its parameters, its estimator, and its members, which must agree with each other."""
    where = loading.where
    section = check(section, SECTION, where)
    member_class = cls._member_class
    template = None
    if section["estimator"] is not None:
        settings = replace(loading.at("estimator.", "estimator"), optimizer_state=False)
        template = network.read(section["estimator"], settings, member_class)
        if "_state" in vars(template):
            raise Invalid(
                f"{where}['estimator'] is fitted; an ensemble's estimator holds the members' settings only"
            )
    if isinstance(section["params"], dict) and "estimator" in section["params"]:
        raise Invalid(
            f"{where}['params'] holds 'estimator', which an ensemble's file keeps in {where}['estimator']"
        )
    est = params_from_json(cls, section["params"], f"{where}['params']")
    est.estimator = template
    validated(est, cls._validate_params, f"{where}['params']")
    attributes = section["attributes"]
    if section["members"] is None:
        if attributes:
            raise Invalid(
                f"{where}['attributes'] describes a fitted ensemble, but {where}['members'] is null"
            )
        return est
    members = section["members"]
    if len(members) != est.n_members:
        raise Invalid(f"{where}['members'] holds {len(members)} networks; n_members is {est.n_members}")
    est.estimators_ = [network.read(member, loading.at(f"members.{i}.", "members", i), member_class)
                       for i, member in enumerate(members)]  # fmt: skip
    if not all("_state" in vars(member) for member in est.estimators_):
        raise Invalid(
            f"{where}['members'] holds an unfitted network; a fitted ensemble's members are all fitted"
        )
    if "n_features_in_" not in attributes:
        raise Invalid(
            f"{where}['attributes'] must hold n_features_in_ (and may hold feature_names_in_);"
            f" it has {sorted(attributes)}"
        )
    widths = {member.n_features_in_ for member in est.estimators_}
    if widths != {attributes["n_features_in_"]}:
        raise Invalid(
            f"the members take {sorted(widths)} features, the ensemble {attributes['n_features_in_']!r}"
        )
    est.n_features_in_ = attributes["n_features_in_"]
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if not (
            isinstance(names, np.ndarray)
            and names.shape == (est.n_features_in_,)
            and all(isinstance(n, str) for n in names)
        ):
            raise Invalid(
                f"{where}['attributes']['feature_names_in_'] is not an array of {est.n_features_in_} names"
            )
        est.feature_names_in_ = names
    if member_class.__name__ == "MLPClassifier":
        classes = est.estimators_[0].classes_
        if not all(np.array_equal(member.classes_, classes) for member in est.estimators_):
            raise Invalid("the members of the classifier were fitted on different classes")
        est.classes_ = classes
    return est


#: This module's codec, for the table (registry.TABLE).
CODEC = (write, read)
