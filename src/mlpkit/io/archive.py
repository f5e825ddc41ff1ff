"""The ``.npz`` archive: numbered arrays and the JSON header, read without ever unpickling.

numpy allocates the shape an ``.npy`` header declares before it reads the data, so every member is
checked first (a stored ``.npy`` of numbers whose declared size is the size it holds): a damaged file
cannot make numpy allocate terabytes, and ``allow_pickle=False`` keeps objects out.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np

from .._files import strict_loads
from .checks import any_json, check, count, record, text
from .errors import Invalid
from .values import ARRAY_KINDS

#: The ``"format"`` entry of every header.
FORMAT_NAME = "mlpkit.model"
#: The version this mlpkit writes, and the newest it reads.
FORMAT_VERSION = 1
#: The archive entry holding the JSON header; no array has this name.
HEADER_KEY = "__header__"

#: The header around the model's section, checked once its format and version are known to be readable.
HEADER = record({"format": text(), "format_version": count(1), "mlpkit_version": text(), "estimator": text(),
                 "model": any_json()})  # fmt: skip


# ----------------------------------------------------------------------------- writing


def archive_bytes(header_text: str, arrays: dict) -> bytes:
    """The ``.npz`` archive of the header and the arrays (numbers only: nothing is pickled)."""
    entries = {**arrays, HEADER_KEY: np.frombuffer(header_text.encode("utf-8"), dtype=np.uint8)}
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- reading


class Arrays:
    """The arrays of a file by name; remembers which were taken, so that leftovers can be reported."""

    def __init__(self, arrays: dict):
        self.available = arrays
        self.taken = set()

    def take(self, name: str, what: str) -> np.ndarray:
        if name not in self.available:
            raise Invalid(f"the array {name!r} ({what}) is missing")
        self.taken.add(name)
        return self.available[name]

    def skip(self, prefix: str) -> None:
        """Count every array under ``prefix`` as taken (ignored on purpose)."""
        self.taken.update(name for name in self.available if name.startswith(prefix))

    def check_all_taken(self) -> None:
        unknown = sorted(set(self.available) - self.taken - {HEADER_KEY})
        if unknown:
            listed = ", ".join(map(repr, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
            raise Invalid(f"unknown array(s) {listed}, which the header does not describe")


def read_archive(data: bytes) -> tuple[dict, Arrays]:
    """The checked header and the arrays of the ``.npz`` archive in ``data``."""
    arrays = _read_arrays(data)
    if HEADER_KEY not in arrays.available:
        names = ", ".join(sorted(arrays.available)[:8]) or "none"
        raise Invalid(
            f"a .npz archive without the {HEADER_KEY!r} entry that mlpkit.save writes (its arrays: {names});"
            " it is not an mlpkit model file"
        )
    return parse_header(_header_text(arrays.take(HEADER_KEY, "the header"))), arrays


def parse_header(text: str) -> dict:
    """The header object, after its format name and version are checked, then its keys."""
    try:
        header = strict_loads(text)
    except json.JSONDecodeError as error:
        raise Invalid(f"the header is not valid JSON ({error.msg} at character {error.pos})") from None
    except (ValueError, RecursionError) as error:
        raise Invalid(f"the header is not valid JSON: it contains {error}") from None
    if not isinstance(header, dict):
        check(header, HEADER, "the header")  # (says what it is instead of an object)
    if header.get("format") != FORMAT_NAME:
        raise Invalid(
            f"the header's format is {header.get('format')!r}, not {FORMAT_NAME!r}: not an mlpkit model file"
        )
    version = check(header.get("format_version"), count(1), "the header's format_version")
    if version > FORMAT_VERSION:  # (before the keys: a newer format may have others)
        raise Invalid(
            f"written by a newer mlpkit (format {version}); this one reads up to {FORMAT_VERSION}:"
            " upgrade mlpkit"
        )
    return check(header, HEADER, "header")


def _read_arrays(data: bytes) -> Arrays:
    """Every array of the archive, each member checked before numpy reads it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise Invalid("the archive holds two entries of the same name")
            if sum(info.file_size for info in infos) > len(data):
                raise Invalid("the archive's entries claim more bytes than the file has; the file is damaged")
            for info in infos:
                _check_member(archive, info)
    except Invalid:
        raise
    except Exception as error:
        raise Invalid(
            f"not a readable .npz archive ({type(error).__name__}: {error}); the file is truncated or damaged"
        ) from None
    arrays = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for name in npz.files:
                arrays[name] = npz[name]
    except Exception as error:
        raise Invalid(
            f"an array could not be read ({type(error).__name__}: {error}); the file is damaged"
        ) from None
    return Arrays(arrays)


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """One archive entry must be an uncompressed .npy of numbers whose header matches its size."""
    where = f"the archive entry {info.filename!r}"
    if not info.filename.endswith(".npy"):
        raise Invalid(f"{where} is not a .npy array")
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise Invalid(f"{where} is compressed; mlpkit writes its arrays uncompressed (as np.savez does)")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read_header = _NPY_HEADERS.get(version)
        if read_header is None:
            raise Invalid(f"{where} is a .npy of version {version}, which mlpkit does not write")
        shape, _, dtype = read_header(member)
        header_size = member.tell()
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.hasobject:
        raise Invalid(f"{where} has dtype {dtype}; an mlpkit file holds numbers only")
    size = math.prod(shape) * dtype.itemsize
    if header_size + size != info.file_size:
        raise Invalid(
            f"{where} declares shape {shape} of {dtype} ({size} bytes) but holds"
            f" {info.file_size - header_size} bytes of data; the file is damaged"
        )


#: .npy format version -> its header reader (numpy writes 1.0, or 2.0 for very large headers).
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _header_text(array: np.ndarray) -> str:
    if array.dtype != np.uint8 or array.ndim != 1:
        raise Invalid(
            f"the header is a {array.dtype} array of shape {array.shape}, expected 1-D uint8 (UTF-8 JSON)"
        )
    try:
        return array.tobytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"the header is not UTF-8 text ({error.reason} at byte {error.start})") from None
