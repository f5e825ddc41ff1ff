"""The codec of ``mlpkit.Preparation``, the data preparation, as a Pipeline's step before the network.

Its section is its parameters and its fitted state as plain data (``Preparation.fitted_state()``)::

    {"kind": "mlpkit.Preparation", "params": {...},
     "fitted": null or {"columns": [COLUMN, ...], "named": true,
                        "scaling": {"scaler": "StandardScaler" or null, "why": "...",
                                    "columns": [the output columns it scales], "arrays": ["mean_", ...]}}}

    COLUMN = {"name", "kind": "numeric" | "category" | "date" | "left out", "why", "fill": a number, a
              text or null, "indicator": bool, "levels": [texts or numbers], "rare": [...], "other": bool,
              "numeric_levels": bool, "parts": ["days", "month", ...]}

The scaler's arrays are float64, one number per scaled column, named ``<prefix><attribute>``
(``steps.0.mean_``). Loading rebuilds it with ``Preparation.from_fitted``: nothing is refitted, so it
transforms exactly as the one saved.
"""

from __future__ import annotations

import math

import numpy as np

from .checks import any_json, check, converted, flag, list_of, nullable, record, text
from .errors import Invalid
from .values import params_from_json, params_to_json

KIND = "mlpkit.Preparation"


def _plain(found, where: str):
    """A level or a fill value: a text or a finite number, kept as it is (3 stays 3, so the output
    column's name ``col=3`` is the same after loading)."""
    if isinstance(found, str) or (isinstance(found, (int, float)) and not isinstance(found, bool)
                                  and math.isfinite(found)):  # fmt: skip
        return found
    raise Invalid(f"{where} is {found!r}, expected a text or a finite number")


PLAIN = converted(_plain)


def _column_spec():
    from ..prep.columns import KINDS
    from ..prep.encoding import DATE_PARTS

    return record({
        "name": text(), "kind": text(choices=KINDS), "why": text(), "fill": nullable(PLAIN), "indicator": flag(),
        "levels": list_of(PLAIN), "rare": list_of(PLAIN), "other": flag(), "numeric_levels": flag(),
        "parts": list_of(text(choices=DATE_PARTS)),
    })  # fmt: skip


SECTION = record({"kind": text(choices=[KIND]), "params": any_json(), "fitted": nullable(any_json())})
FITTED = record({"columns": any_json(), "scaling": any_json(), "named": flag()})


def write(prep, saving) -> dict:
    section = {"kind": KIND, "params": params_to_json(prep), "fitted": None}
    if not hasattr(prep, "columns_"):
        return section
    state = prep.fitted_state()
    scaling = dict(state["scaling"])
    for name, values in scaling["arrays"].items():
        saving.add(name, np.asarray(values, dtype=np.float64))
    scaling["arrays"] = sorted(scaling["arrays"])
    section["fitted"] = {"columns": state["columns"], "scaling": scaling, "named": state["named"]}
    return section


def read(section, loading, cls):
    from ..prep.preparation import SCALER_ARRAYS

    where = loading.where
    section = check(section, SECTION, where)
    prep = params_from_json(cls, section["params"], f"{where}['params']")
    if section["fitted"] is None:
        return prep
    fitted = check(section["fitted"], FITTED, f"{where}['fitted']")
    columns = check(fitted["columns"], list_of(_column_spec()), f"{where}['fitted']['columns']")
    at = f"{where}['fitted']['scaling']"
    scaling = check(fitted["scaling"], record({
        "scaler": nullable(text(choices=SCALER_ARRAYS)), "why": text(), "columns": list_of(text()),
        "arrays": list_of(text()),
    }), at)  # fmt: skip
    has = SCALER_ARRAYS.get(scaling["scaler"], ())
    if not set(scaling["arrays"]) <= set(has):
        raise Invalid(f"{at}['arrays'] names {scaling['arrays']}; a {scaling['scaler']} has {list(has)}")
    n_scaled = len(scaling["columns"])
    scaling["arrays"] = {name: loading.array(name, (n_scaled,), np.float64, f"{where}: the scaler's {name}")
                         for name in scaling["arrays"]}  # fmt: skip
    try:
        return cls.from_fitted(columns, scaling, named=fitted["named"], **prep.get_params())
    except (TypeError, ValueError) as error:
        raise Invalid(f"{where}: the stored preparation does not fit together ({error})") from None


#: This module's codec, for the table (registry.TABLE).
CODEC = (write, read)
