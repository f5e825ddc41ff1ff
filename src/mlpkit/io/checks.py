"""Declarative checks of the JSON header: each section is described as data, and one function checks it.

A description (a :class:`Spec`) is built from a few kinds::

    LABELS = record({"type": text(choices=("binary", "multiclass")), "sparse_input": flag()})
    HISTORY = record({"loss_curve_": list_of(number())}, optional={"best_loss_": nullable(number())})
    COLUMN = record({"name": text(), "levels": list_of(either(text(), number()))},
                    optional={"fill": nullable(either(text(), number()))})

and ``check(value, LABELS, "model['fitted']['labels']")`` returns the value (numbers as float, counts
as int, converted values converted) or raises :class:`Invalid` saying where, what was expected and
what was found: ``model['fitted']['labels']['type'] is 'ternary', expected one of ['binary',
'multiclass']``. (``number()`` gives floats: levels whose exact dtype matters, such as an encoder's
``categories_``, are better stored as ``values.value()``, a tagged array that keeps its dtype.)

Why not msgspec or another library: their messages name the type found, not the value, list neither
the choices nor the expected keys, and the header holds tagged values (``{"float": "nan"}``) and
choices known only at run time (the solvers, the dtypes) that need hooks anyway. This table is short,
imports nothing, and keeps the messages the format has always had.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .errors import Invalid

__all__ = ["Spec", "any_json", "check", "converted", "count", "either", "flag", "items", "list_of", "mapping",
           "nullable", "number", "record", "text"]  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """What one place of the header must hold; build it with the functions below, not directly."""

    kind: str  # a key of _CHECKERS
    choices: tuple | None = None  # text: the allowed strings; items: (how the list should look,)
    minimum: int = 0  # count: the smallest allowed
    item: Spec | None = None  # list_of, mapping, converted: what each item (or the converted value) must be
    fields: dict = field(default_factory=dict)  # record: key -> Spec, required
    optional: dict = field(default_factory=dict)  # record: key -> Spec, may be absent
    options: tuple = ()  # either: the Specs tried in turn; items: the Spec of each item
    convert: object = None  # converted: (found, where) -> value, raising Invalid
    nullable: bool = False  # JSON null is allowed too (and returned as None)


def text(choices=None) -> Spec:
    """A string; one of ``choices`` (any iterable of strings, a dict's keys too) if given."""
    return Spec("text", choices=None if choices is None else tuple(choices))


def count(minimum: int = 0) -> Spec:
    """A whole number >= ``minimum`` (not a boolean)."""
    return Spec("count", minimum=minimum)


def number() -> Spec:
    """A JSON number (not a boolean), returned as a float."""
    return Spec("number")


def flag() -> Spec:
    """true or false."""
    return Spec("flag")


def list_of(item: Spec) -> Spec:
    """A list whose every item is ``item``."""
    return Spec("list", item=item)


def items(*specs: Spec, label: str | None = None) -> Spec:
    """A list of exactly ``len(specs)`` items, each checked by its Spec: ``items(text(), any_json(),
    label="[name, step]")``; ``label`` says in messages what the list should look like."""
    return Spec("items", options=specs, choices=(label or f"a list of {len(specs)} items",))


def mapping(item: Spec) -> Spec:
    """An object of any string keys, each value ``item``."""
    return Spec("mapping", item=item)


def record(fields: dict, optional: dict | None = None) -> Spec:
    """An object with exactly the keys of ``fields`` (each checked by its Spec), and any of ``optional``."""
    return Spec("record", fields=dict(fields), optional=dict(optional or {}))


def either(*options: Spec) -> Spec:
    """The first of ``options`` that the value fits (e.g. a level that is a string or a number)."""
    return Spec("either", options=options)


def nullable(spec: Spec) -> Spec:
    """``spec``, or JSON null."""
    return replace(spec, nullable=True)


def converted(convert, then: Spec | None = None) -> Spec:
    """``convert(found, where)``'s result (it raises :class:`Invalid` for what it cannot convert), which
    must then fit ``then`` if given: ``values.value(count())`` is a tagged value decoding to a whole
    number."""
    return Spec("converted", item=then, convert=convert)


def any_json() -> Spec:
    """Anything, left for its own codec to check (a nested part, read through the codec table)."""
    return Spec("any")


# -------------------------------------------------------------------------------- checking


def check(found, spec: Spec, where: str):
    """``found`` checked against ``spec``; raises :class:`Invalid` naming ``where``, what was expected
    and what was found. Returns the value, with numbers as float, counts as int and converted values
    converted."""
    if found is None and spec.nullable:
        return None
    return _CHECKERS[spec.kind](found, spec, where)


def _refuse(found, where: str, expected: str):
    text = repr(found)  # (a whole section would drown the message)
    raise Invalid(f"{where} is {text if len(text) <= 100 else text[:100] + '...'}, expected {expected}")


def _json_type(found) -> str:
    """What a JSON value is, with its article: 'an object', 'null'."""
    for kind, name in ((bool, "a boolean"), (str, "a string"), (list, "a list"), (dict, "an object")):
        if isinstance(found, kind):
            return name
    return (
        "null"
        if found is None
        else "a number"
        if isinstance(found, (int, float))
        else f"a {type(found).__name__}"
    )


def _text(found, spec: Spec, where: str) -> str:
    if not isinstance(found, str) or (spec.choices is not None and found not in spec.choices):
        _refuse(found, where, f"one of {list(spec.choices)}" if spec.choices is not None else "a string")
    return found


def _count(found, spec: Spec, where: str) -> int:
    if not isinstance(found, int) or isinstance(found, bool) or found < spec.minimum:
        _refuse(found, where, f"a whole number >= {spec.minimum}")
    return found


def _number(found, spec: Spec, where: str) -> float:
    if isinstance(found, bool) or not isinstance(found, (int, float)):
        _refuse(found, where, "a number")
    return float(found)


def _flag(found, spec: Spec, where: str) -> bool:
    if not isinstance(found, bool):
        _refuse(found, where, "true or false")
    return found


def _list(found, spec: Spec, where: str) -> list:
    if not isinstance(found, list):  # (the whole list is not repeated in the message: it may be long)
        raise Invalid(f"{where} is {_json_type(found)}, expected a list")
    return [check(item, spec.item, f"{where}[{i}]") for i, item in enumerate(found)]


def _items(found, spec: Spec, where: str) -> list:
    if not isinstance(found, list) or len(found) != len(spec.options):
        _refuse(found, where, spec.choices[0])
    return [check(item, option, f"{where}[{i}]") for i, (item, option) in enumerate(zip(found, spec.options))]


def _object(found, where: str) -> dict:
    if not isinstance(found, dict):
        raise Invalid(f"{where} is {_json_type(found)}, expected an object")
    return found


def _mapping(found, spec: Spec, where: str) -> dict:
    return {key: check(item, spec.item, f"{where}[{key!r}]") for key, item in _object(found, where).items()}


def _record(found, spec: Spec, where: str) -> dict:
    found = _object(found, where)
    missing = sorted(set(spec.fields) - set(found))
    extra = sorted(set(found) - set(spec.fields) - set(spec.optional))
    if missing or extra:
        parts = ([f"lacks {missing}"] if missing else []) + ([f"has unknown {extra}"] if extra else [])
        may = f" (and may have {sorted(spec.optional)})" if spec.optional else ""
        raise Invalid(f"{where} " + " and ".join(parts) + f"; expected the keys {sorted(spec.fields)}{may}")
    specs = {**spec.fields, **spec.optional}
    return {key: check(item, specs[key], f"{where}[{key!r}]") for key, item in found.items()}


def _either(found, spec: Spec, where: str):
    for option in spec.options:
        try:
            return check(found, option, where)
        except Invalid:
            continue
    _refuse(found, where, " or ".join(_EXPECTED.get(option.kind, option.kind) for option in spec.options))


#: How an option of ``either`` is named in its message.
_EXPECTED = {"text": "a string", "count": "a whole number", "number": "a number", "flag": "true or false",
             "list": "a list", "items": "a list", "mapping": "an object", "record": "an object"}  # fmt: skip


def _converted(found, spec: Spec, where: str):
    result = spec.convert(found, where)
    return result if spec.item is None else check(result, spec.item, where)


#: Spec kind -> the function that checks a value of that kind.
_CHECKERS = {
    "text": _text,
    "count": _count,
    "number": _number,
    "flag": _flag,
    "list": _list,
    "items": _items,
    "mapping": _mapping,
    "record": _record,
    "either": _either,
    "converted": _converted,
    "any": lambda found, spec, where: found,
}
