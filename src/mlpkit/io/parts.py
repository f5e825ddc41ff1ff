"""What a codec is given: the context of one save or one load, with the way to nested parts.

A codec is two functions, ``write(model, saving) -> section`` and ``read(section, loading, cls) ->
model``. A codec that holds other parts (a Pipeline's steps) asks the context for them
(``saving.part``, ``loading.part``), which looks them up in the codec table: no codec imports the
table, so adding a kind of part never touches the codecs that hold it. The contexts also carry where
the part's arrays are named (``prefix``) and where its section stands in the header (``where``, for
messages), so that a codec names its arrays and places as if it were alone in the file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .archive import Arrays
from .checks import any_json, check, mapping, text
from .errors import Invalid


@dataclass(frozen=True)
class Codec:
    """One row of the codec table: a kind of part, the class it is, and how it is written and read."""

    name: str  # in the header: an "estimator" name, or a step's "kind"
    path: str  # "module:Class", imported only when such a part is saved or loaded
    write: Callable  # (model, Saving) -> the part's JSON section
    read: Callable  # (section, Loading, cls) -> the model
    places: frozenset  # where such a part may stand: keys of PLACES

    @property
    def cls(self) -> type:
        module, _, name = self.path.partition(":")
        return getattr(importlib.import_module(module), name)


#: Where a part may stand -> how messages name that place.
PLACES = {
    "file": "a model file",
    "step": "a Pipeline's step before the network",
    "network": "a Pipeline's last step",
    "regressor": "a TransformedTargetRegressor's regressor",
    "target": "a TransformedTargetRegressor's transformer",
}


class Table:
    """The codec table, looked up by header name (loading) or by the model's type (saving)."""

    def __init__(self, codecs):
        self.codecs = {codec.name: codec for codec in codecs}

    def names(self, place: str) -> list:
        return [name for name, codec in self.codecs.items() if place in codec.places]

    def for_model(self, model, place: str, what: str) -> Codec:
        """The codec of ``model``'s exact type at ``place``; ValueError naming what the format holds there."""
        for codec in self.codecs.values():  # (a class is imported only when the type's name matches)
            if (
                place in codec.places
                and codec.path.endswith(f":{type(model).__name__}")
                and codec.cls is type(model)
            ):
                return codec
        kind = f"{type(model).__module__}.{type(model).__qualname__}"
        holds = ", ".join(self.names(place))
        raise ValueError(
            f"cannot save {what}: a {kind}; as {PLACES[place]} the mlpkit format holds {holds}."
            " Use pickle or joblib for other objects."
        )


@dataclass
class Saving:
    """One save under way: the arrays written so far, under ``prefix``, and what to store."""

    table: Table
    optimizer_state: bool
    arrays: dict = field(default_factory=dict)
    prefix: str = ""

    def at(self, prefix: str) -> Saving:
        """The context of a part whose arrays are named ``prefix`` + their names, under this one's."""
        return Saving(self.table, self.optimizer_state, self.arrays, self.prefix + prefix)

    def add(self, name: str, array) -> None:
        self.arrays[self.prefix + name] = array

    def part(self, model, place: str, what: str) -> tuple[str, dict]:
        """(header name, section) of a nested ``model`` standing at ``place``, through the table."""
        codec = self.table.for_model(model, place, what)
        return codec.name, codec.write(model, self)


@dataclass
class Loading:
    """One load under way: the file's arrays, and where in the file the part being read stands."""

    table: Table
    arrays: Arrays
    optimizer_state: bool
    prefix: str = ""
    where: str = "model"

    def at(self, prefix: str, *keys) -> Loading:
        """The context of the section at ``keys`` below this one's, its arrays under ``prefix``."""
        where = self.where + "".join(f"[{key!r}]" for key in keys)
        return Loading(self.table, self.arrays, self.optimizer_state, self.prefix + prefix, where)

    def take(self, name: str, what: str) -> np.ndarray:
        return self.arrays.take(self.prefix + name, what)

    def has(self, name: str) -> bool:
        return self.prefix + name in self.arrays.available

    def names_under(self, start: str) -> list:
        return [name for name in self.arrays.available if name.startswith(self.prefix + start)]

    def skip(self, start: str) -> None:
        """Count every array under ``start`` as read (ignored on purpose)."""
        self.arrays.skip(self.prefix + start)

    def part(self, name, section, place: str, name_where: str):
        """The part ``section`` describes, read by the codec of ``name`` (one allowed at ``place``)."""
        codec = self.table.codecs[check(name, text(choices=self.table.names(place)), name_where)]
        return codec.read(section, self, codec.cls)

    def kind_part(self, section, place: str):
        """The part whose section names its codec in its ``"kind"`` (a Pipeline's step, a target's
        transformer), read at ``place``; this context stands at the section."""
        if "kind" not in check(section, mapping(any_json()), self.where):
            raise Invalid(
                f"{self.where} lacks 'kind', which names the part: one of {self.table.names(place)}"
            )
        return self.part(section["kind"], section, place, f"{self.where}['kind']")

    def array(self, name: str, shape, dtype, what: str) -> np.ndarray:
        """The array ``name``, which must have ``shape`` and ``dtype`` and (floats) be finite."""
        array = self.take(name, what)
        name = self.prefix + name
        if array.shape != tuple(shape) or array.dtype != dtype:
            raise Invalid(
                f"the array {name!r} ({what}) has shape {array.shape} and dtype {array.dtype};"
                f" the header calls for {tuple(shape)} of {np.dtype(dtype)}"
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise Invalid(f"the array {name!r} ({what}) holds NaN or infinite values")
        return array
