"""``/mlp/set NAME PARAM VALUE ...``: parameter names, as FluCoMa spells them or as Python does, to values.

OSC clients send numbers as they come (Pure Data sends every number as a float, so
``4.0`` counts as the whole number 4) and symbols as strings. Each entry of
``PARAMETERS`` turns the values of one ``/mlp/set`` into the Python value of one
estimator parameter, or raises :class:`BadValue` saying what was expected.
Entries are reachable by FluCoMa's camelCase name (``learnRate``) and by the
estimator's own (``learn_rate``); ``PYTHON_NAMES`` maps the first to the second.
A parameter of the estimator that has no entry here (one added to mlpkit later)
is passed as given: one value as itself, several as a list.

Two knobs belong to the server, not to the estimator: ``progress N`` (send
``/mlp/epoch NAME EPOCH LOSS`` every N epochs of a fit; 0: never) and ``inputs N``
(how many of a regressor's ``/mlp/point`` values are inputs, before its first point).
"""

from __future__ import annotations

import math
from numbers import Real

from ..flucoma import ACTIVATION_CODES, FLUCOMA_ACTIVATIONS


class BadValue(ValueError):
    """A value that one parameter cannot take; the message says which values it can."""


def whole(value, name: str, minimum: int | None = None) -> int:
    """A whole number (``3`` or ``3.0``, not ``True``) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value != int(value):
        raise BadValue(f"{name} must be a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise BadValue(f"{name} must be at least {minimum}, got {int(value)}")
    return int(value)


def number(value, name: str) -> float:
    """A finite number (not a boolean, not a string)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise BadValue(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _one(values, name: str):
    if len(values) != 1:
        raise BadValue(f"{name} takes one value, got {len(values)}")
    return values[0]


def _count(minimum):
    return lambda values, name: whole(_one(values, name), name, minimum)


def _within(low, high, high_included):
    """A number in [low, high] or [low, high)."""

    def parse(values, name):
        x = number(_one(values, name), name)
        if not (low <= x <= high if high_included else low <= x < high):
            raise BadValue(f"{name} must be in [{low}, {high}{']' if high_included else ')'}, got {x:g}")
        return x

    return parse


def _positive(values, name):
    x = number(_one(values, name), name)
    if x <= 0:
        raise BadValue(f"{name} must be greater than 0, got {x:g}")
    return x


def _layers(values, name):
    """Hidden layer sizes: any number of whole numbers >= 1 (none: no hidden layer)."""
    return [whole(v, f"{name} (each size)", 1) for v in values]


def _activation(values, name):
    """FluCoMa's code 0-3 or its name (``sigmoid``, ``relu``...), kept as the code."""
    value = _one(values, name)
    if isinstance(value, str):
        if value in ACTIVATION_CODES:
            return ACTIVATION_CODES[value]
    elif not isinstance(value, bool) and isinstance(value, Real) and value in FLUCOMA_ACTIVATIONS:
        return int(value)
    choices = ", ".join(f"{code} {'sigmoid' if n == 'logistic' else n}" for code, n in FLUCOMA_ACTIVATIONS.items())
    raise BadValue(f"{name} must be one of FluCoMa's activations {choices} (the code or the name), got {value!r}")


def _tap_out(values, name):
    tap = whole(_one(values, name), name, -1)
    if tap == 0:
        raise BadValue(f"{name} must be -1 (the last layer) or a layer from 1 on, got 0")
    return tap


def _seed(values, name):
    """FluCoMa's seed: -1 draws a new one (None in Python), else a whole number >= 0."""
    value = _one(values, name)
    if value is None:
        return None
    seed = whole(value, name, -1)
    return None if seed == -1 else seed


def _as_given(values, name):
    """A parameter this table does not know: one value as itself, several as a list."""
    values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    return values[0] if len(values) == 1 else list(values)


#: FluCoMa's name -> (the estimator's name, parser of the /mlp/set values).
FLUCOMA_NAMES = {
    "hiddenLayers": ("hidden_layers", _layers),
    "activation": ("activation", _activation),
    "outputActivation": ("output_activation", _activation),
    "learnRate": ("learn_rate", _positive),
    "maxIter": ("max_iter", _count(1)),
    "batchSize": ("batch_size", _count(1)),
    "momentum": ("momentum", _within(0.0, 1.0, high_included=True)),
    "validation": ("validation", _within(0.0, 1.0, high_included=False)),
    "tapIn": ("tap_in", _count(0)),
    "tapOut": ("tap_out", _tap_out),
    "seed": ("random_state", _seed),
}

#: FluCoMa's name -> the estimator's.
PYTHON_NAMES = {flucoma: python for flucoma, (python, _) in FLUCOMA_NAMES.items()}

#: The estimator's name -> parser.
PARSERS = {python: parser for python, parser in FLUCOMA_NAMES.values()}

#: The server's knobs -> parser.
KNOB_PARSERS = {"progress": _count(0), "inputs": _count(1)}


def python_name(param: str, estimator_params: dict) -> str:
    """The estimator's name for ``param`` (FluCoMa's or its own); ``BadValue`` listing the names it has.

    ``estimator_params``: the estimator's ``get_params()`` (a classifier has no
    ``outputActivation`` or taps).
    """
    python = PYTHON_NAMES.get(param, param)
    if python not in estimator_params:
        known = [f for f, p in PYTHON_NAMES.items() if p in estimator_params] + list(KNOB_PARSERS)
        known += [p for p in estimator_params if p not in PARSERS]
        raise BadValue(f"unknown parameter {param!r}; this model has {', '.join(sorted(known))} (or their Python names)")
    return python


def parse(param: str, values, estimator_params: dict) -> tuple[str, object]:
    """``(python name, value)`` for ``/mlp/set NAME param values...``; ``BadValue`` if it cannot be."""
    if param in KNOB_PARSERS:
        return param, KNOB_PARSERS[param](values, param)
    python = python_name(param, estimator_params)
    return python, PARSERS.get(python, _as_given)(list(values), param)
