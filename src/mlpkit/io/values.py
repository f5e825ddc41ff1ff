"""Parameter and attribute values <-> JSON: plain values as themselves, the rest as tagged objects.

Floats are JSON numbers, or ``{"float": "nan" | "inf" | "-inf"}``; tuples are ``{"tuple": [...]}``;
dicts of string keys ``{"dict": {...}}``; numpy arrays of numbers or strings (``classes_``,
``feature_names_in_``) ``{"ndarray": [items...], "dtype": "<U5", "shape": [3]}``. Anything else
(a callable, an optax object, a RandomState) cannot be written: the format holds values, never code.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .checks import any_json, check, converted, list_of, mapping, text
from .errors import Invalid

ARRAY_KINDS = "biuf"  # the numeric dtype kinds: bool, int, unsigned, float


def to_json(value, where: str):
    """``value`` as JSON that :func:`from_json` turns back into an equal value; ValueError if impossible."""
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
        return [to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if type(value) is tuple:
        return {"tuple": [to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]}
    if type(value) is dict and all(isinstance(key, str) for key in value):
        return {"dict": {key: to_json(item, f"{where}[{key!r}]") for key, item in value.items()}}
    if isinstance(value, np.ndarray) and (value.dtype.kind in ARRAY_KINDS + "U" or value.dtype == object):
        items = [to_json(item, f"{where}[{i}]") for i, item in enumerate(value.ravel().tolist())]
        if value.dtype == object and not all(isinstance(item, (str, int, float, bool)) for item in items):
            raise ValueError(f"{where} is an object array holding other things than strings and numbers")
        return {"ndarray": items, "dtype": value.dtype.str, "shape": list(value.shape)}
    raise ValueError(f"{where} is {describe(value)}")


def describe(value) -> str:
    """A value's type and the start of its repr, for messages."""
    text = repr(value)
    return f"a {type(value).__name__} ({text[:60] + '...' if len(text) > 60 else text})"


def from_json(value, where: str):
    """The Python value :func:`to_json` encoded as ``value``; Invalid if it is not such an encoding."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [from_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        tag = _TAGS.get(frozenset(value))
        if tag is not None:
            return tag(value, where)
    raise Invalid(f"{where} is {value!r}, which is not a value mlpkit writes")


def value(decoded=None):
    """The Spec of a value :func:`to_json` wrote: checked and decoded, then checked against ``decoded``."""
    return converted(from_json, decoded)


def _tuple(value, where: str) -> tuple:
    return tuple(
        from_json(item, f"{where}[{i}]") for i, item in enumerate(check(value["tuple"], _ITEMS, where))
    )


def _dict(value, where: str) -> dict:
    if not isinstance(value["dict"], dict):
        raise Invalid(f"{where} is {value!r}, which is not a value mlpkit writes")
    return {key: from_json(item, f"{where}[{key!r}]") for key, item in value["dict"].items()}


def _float(value, where: str) -> float:
    return float(check(value["float"], _NON_FINITE, f"{where}['float']"))


def _ndarray(value, where: str) -> np.ndarray:
    items = [from_json(item, f"{where}[{i}]")
             for i, item in enumerate(check(value["ndarray"], _ITEMS, f"{where}['ndarray']"))]  # fmt: skip
    name = check(value["dtype"], text(), f"{where}['dtype']")
    try:
        dtype = np.dtype(name)
    except Exception:
        raise Invalid(f"{where}['dtype'] is {name!r}, which is not a numpy dtype") from None
    if not (dtype.kind in ARRAY_KINDS + "U" or dtype == object) or dtype.fields is not None:
        raise Invalid(f"{where} has dtype {dtype}; only numbers, booleans, strings and object arrays of them")
    shape = check(value["shape"], _ITEMS, f"{where}['shape']")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape) or math.prod(
        shape
    ) != len(items):
        raise Invalid(f"{where}: shape {shape} does not hold its {len(items)} items")
    expected = _ITEM_TYPES[dtype.kind]
    for i, item in enumerate(items):
        if not isinstance(item, expected) or (dtype.kind in "iuf" and isinstance(item, bool)):
            raise Invalid(f"{where}: item {i} is {item!r}, which does not fit dtype {dtype}")
    if dtype == object:
        array = np.empty(len(items), dtype=object)
        array[:] = items
    else:
        try:
            array = np.array(items, dtype=dtype)
        except (OverflowError, ValueError):
            raise Invalid(f"{where}: its items do not fit dtype {dtype}") from None
        if dtype.kind in "biuU" and array.tolist() != items:  # overflow, truncated strings
            raise Invalid(f"{where}: its items do not fit dtype {dtype}")
    return array.reshape(shape)


_ITEMS = list_of(any_json())
_NON_FINITE = text(choices=("nan", "inf", "-inf"))
#: numpy dtype kind -> the Python types its items may be written as.
_ITEM_TYPES = {"b": bool, "i": int, "u": int, "f": (int, float), "U": str, "O": (str, int, float, bool)}
#: The keys of a tagged object -> its decoder.
_TAGS = {
    frozenset({"tuple"}): _tuple,
    frozenset({"dict"}): _dict,
    frozenset({"float"}): _float,
    frozenset({"ndarray", "dtype", "shape"}): _ndarray,
}


# ------------------------------------------------------------------------ constructor parameters


def params_to_json(estimator, leave_out=()) -> dict:
    """Every constructor parameter (but ``leave_out``) as JSON; a clear ValueError for one that is not a
    plain value."""
    encoded = {}
    for name, param in estimator.get_params(deep=False).items():
        if name in leave_out:
            continue
        try:
            encoded[name] = to_json(param, name)
        except ValueError as problem:
            raise ValueError(
                f"cannot save this {type(estimator).__name__}: parameter {name!r} is not a plain value"
                f" ({problem}) and the mlpkit format stores plain values only, never pickled objects. Set it"
                f" to one first (model.set_params({name}=...): an int seed for random_state, a solver or"
                " schedule name, None for callbacks), or keep this model with pickle/joblib."
            ) from None
    return encoded


def params_from_json(cls, params, where: str):
    """An estimator of class ``cls`` with the stored parameters (defaults for any the file lacks: a
    parameter added to mlpkit after the file was written)."""
    known = cls().get_params(deep=False)
    unknown = sorted(set(check(params, mapping(any_json()), where)) - set(known))
    if unknown:
        raise Invalid(f"{where} has unknown parameter(s) {unknown} for {cls.__name__}")
    return cls(**{**known, **check(params, mapping(value()), where)})


def validated(est, validate, where: str):
    """``est`` once ``validate(est)`` has passed; the ValueError or TypeError it raises for parameters
    that do not fit together becomes an :class:`Invalid` at ``where``."""
    try:
        validate(est)
    except (ValueError, TypeError) as error:
        raise Invalid(f"{where}: {error}") from None
    return est
