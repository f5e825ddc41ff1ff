"""FluCoMa JSON on disk: read with clear errors, write exactly as FluCoMa does, atomically.

FluCoMa (flucoma-core's ``FluidJSON.hpp``) writes every object with nlohmann::json's
``dump(2)`` followed by a newline: keys sorted, two-space indent, ``","`` then a newline
between items, ``": "`` after keys, non-ASCII text as raw UTF-8. The same text comes from ::

    json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\\n"

Numbers are doubles written with enough digits to read back the same double. Python writes a
float with ``repr`` (the shortest text that reads back the same double) and an int as an int,
so writing keeps every number exactly. The text of a number can still differ from FluCoMa's:

* nlohmann's Grisu2 digits are not always the shortest (``-0.13654457676669501`` where
  Python writes ``-0.136544576766695``);
* when the double lies exactly half-way between two shortest texts, Grisu2 rounds the last
  digit up and Python rounds to even (``10.6021270751953125`` is written
  ``10.602127075195313`` by FluCoMa and ``10.602127075195312`` by Python);
* nlohmann switches to exponent notation from 1e15 up (``1e+15``), Python from 1e16 up.

In all three cases both texts read back as the same double. Key order needs no care: both
libraries sort keys by code point (bytewise in UTF-8).

Reading checks everything FluCoMa needs and more: the file is JSON, the top level is an
object, every expected key is there and no other, every value has the right type and every
number is finite. Each problem raises :class:`FluCoMaFormatError` naming the file (or
``<dict>``), the place in the file and what to do. The ``require_*`` helpers below are those
checks, shared by the DataSet, scaler and model readers.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from .._files import strict_loads, write_atomically

#: Shown in errors about an object that did not come from a file.
NOT_A_FILE = "<dict>"


class FluCoMaFormatError(ValueError):
    """A FluCoMa JSON file or dict that does not have the expected structure.

    The message starts with the file name (or ``<dict>``), then says where and what.
    """


# --------------------------------------------------------------------------- text <-> objects


def dumps(obj) -> str:
    """FluCoMa's text for ``obj``: sorted keys, 2-space indent, raw UTF-8, final newline.

    Refuses NaN and infinities (FluCoMa cannot read them back): ``ValueError``.
    """
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def loads(text: str, source: str = NOT_A_FILE) -> dict:
    """Parse FluCoMa JSON text; the top level must be an object."""
    try:
        obj = strict_loads(text)
    except json.JSONDecodeError as err:
        raise FluCoMaFormatError(
            f"{source}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}). "
            "Is the file complete? Write it again from FluCoMa."
        ) from None
    except ValueError as err:
        raise FluCoMaFormatError(f"{source}: contains {err}") from None
    except RecursionError:
        raise FluCoMaFormatError(f"{source}: nested too deeply to be a FluCoMa file") from None
    if not isinstance(obj, dict):
        raise FluCoMaFormatError(
            f"{source}: the top level is a JSON {_json_type(obj)}, expected an object {{...}}"
        )
    return obj


def read_json(path) -> dict:
    """Read a FluCoMa JSON file (UTF-8) and return its top-level object."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise FluCoMaFormatError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return loads(text, source=str(path))


def write_json(path, obj) -> None:
    """Write ``obj`` to ``path`` as FluCoMa does, atomically.

    The text goes to a temporary file in the same directory, is flushed to disk, then
    ``os.replace`` puts it in place in one step. If anything fails, the temporary file is
    removed and the file that was at ``path`` (if any) is left untouched.
    """
    write_atomically(path, dumps(obj).encode("utf-8"))  # dumps fails before any file is touched


# --------------------------------------------------------------------------- checks


def _json_type(value) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (Integral, Real)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def require_object(value, source: str, where: str) -> dict:
    """``value`` must be a JSON object."""
    if not isinstance(value, dict):
        raise FluCoMaFormatError(f"{source}: {where} is a {_json_type(value)}, expected an object {{...}}")
    return value


def require_array(value, source: str, where: str) -> list:
    """``value`` must be a JSON array."""
    if not isinstance(value, (list, tuple)):
        raise FluCoMaFormatError(f"{source}: {where} is a {_json_type(value)}, expected an array [...]")
    return value


def require_keys(obj: dict, expected, source: str, where: str = "the top level") -> None:
    """``obj`` must have exactly the keys in ``expected``: none missing, none extra."""
    missing = sorted(set(expected) - set(obj))
    extra = sorted(set(obj) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing key(s) " + ", ".join(map(repr, missing)))
        if extra:
            parts.append("unexpected key(s) " + ", ".join(map(repr, extra)))
        raise FluCoMaFormatError(
            f"{source}: {where} has "
            + " and ".join(parts)
            + f"; expected exactly {sorted(expected)}. Is this the right kind of FluCoMa file?"
        )


def require_count(value, source: str, where: str, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (FluCoMa writes counts as JSON integers; 2.0 is accepted)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not _is_whole(value):
        raise FluCoMaFormatError(f"{source}: {where} is {value!r}, expected a whole number")
    if value < minimum:
        raise FluCoMaFormatError(f"{source}: {where} is {value!r}, expected a whole number >= {minimum}")
    return int(value)


def _is_whole(value) -> bool:
    return isinstance(value, Integral) or (math.isfinite(value) and value == int(value))


def _finite_float(value) -> float | None:
    """``float(value)``, or None when it is not finite or does not fit a double."""
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def require_number(value, source: str, where: str) -> float:
    """A finite number (not a boolean, not a string), returned as a float."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise FluCoMaFormatError(f"{source}: {where} is a {_json_type(value)} ({value!r}), expected a number")
    x = _finite_float(value)
    if x is None:
        raise FluCoMaFormatError(f"{source}: {where} is {value!r}, expected a finite number")
    return x


def require_numbers(value, source: str, where: str, length: int | None = None) -> np.ndarray:
    """An array of finite numbers, of ``length`` entries if given; returned as float64."""
    require_array(value, source, where)
    if length is not None and len(value) != length:
        raise FluCoMaFormatError(f"{source}: {where} has {len(value)} numbers, expected {length}")
    return np.array(
        [require_number(x, source, f"{where}[{i}]") for i, x in enumerate(value)], dtype=np.float64
    )


def require_matrix(value, source: str, where: str, rows: int, cols: int) -> np.ndarray:
    """An array of ``rows`` arrays of ``cols`` finite numbers; returned as a float64 matrix."""
    require_array(value, source, where)
    if len(value) != rows:
        raise FluCoMaFormatError(f"{source}: {where} has {len(value)} rows, expected {rows}")
    matrix = np.empty((rows, cols), dtype=np.float64)
    for i, row in enumerate(value):
        matrix[i] = require_numbers(row, source, f"{where}[{i}]", length=cols)
    return matrix


def require_string(value, source: str, where: str) -> str:
    """A JSON string."""
    if not isinstance(value, str):
        raise FluCoMaFormatError(f"{source}: {where} is a {_json_type(value)} ({value!r}), expected a string")
    return value


def source_of(path_or_dict) -> tuple[dict, str]:
    """``(object, source name)`` from a path (read and parsed) or an already parsed dict."""
    if isinstance(path_or_dict, dict):
        return path_or_dict, NOT_A_FILE
    if isinstance(path_or_dict, (str, os.PathLike)):
        return read_json(path_or_dict), str(path_or_dict)
    raise TypeError(
        f"expected a file path or a dict parsed from FluCoMa JSON, got {type(path_or_dict).__name__}"
    )
