"""FluCoMa's identifier-keyed data: ``DataSet`` (rows of numbers) and ``LabelSet`` (one label each).

A FluCoMa DataSet maps identifiers (arbitrary strings such as ``"analysis-17"``) to rows of
``cols`` numbers; a LabelSet maps identifiers to one string label. Training pairs the rows of two
sets **by identifier**, never by position (:func:`pair_by_identifier`).

On disk (FluCoMa's ``write`` / ``read``, ``dump`` / ``load``)::

    DataSet:  {"cols": 2, "data": {"id-0": [0.1, 0.2], "id-1": [0.3, 0.4]}}
    LabelSet: {"cols": 1, "data": {"id-0": ["kick"], "id-1": ["snare"]}}

Identifiers keep the order they were added in (FluCoMa writes them sorted; reading a FluCoMa file
gives them in that sorted order). ``read``, ``from_dict``, ``from_numpy`` and ``from_pandas`` are
class methods that return a new set.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from . import jsonio
from .jsonio import FluCoMaFormatError

#: At most this many identifiers are named in an error message.
MAX_NAMED_IDS = 5


def _check_identifier(identifier) -> str:
    if not isinstance(identifier, str):
        raise TypeError(
            f"identifiers are strings, got {identifier!r} ({type(identifier).__name__}); "
            f"use str({identifier!r}) or name the point, e.g. 'point-{identifier}'"
        )
    return str(identifier)  # a plain str, also for str subclasses such as numpy.str_


def _import_pandas(what: str):
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{what} needs pandas, which is not installed: pip install pandas") from None
    return pandas


def _first_non_number(values, row: np.ndarray):
    """``(index, value)`` of the first entry that is not a real number (booleans are not), or None."""
    if row.dtype.kind in "iuf" and (
        isinstance(values, np.ndarray) or not any(isinstance(v, bool) for v in values)
    ):
        return None
    originals = np.asarray(values, dtype=object)  # the values as given, not as numpy cast them
    for i, v in enumerate(originals):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, float, np.floating)):
            return i, v
    return None


class _PointSet:
    """What DataSet and LabelSet share: an insertion-ordered dict from identifier to point.

    Subclasses say how a point is checked (``_checked``) and written to JSON (``_json_point``).
    """

    _kind = "point set"

    def __init__(self):
        self._points: dict[str, object] = {}
        self._version = 0  # counts changes: a model re-fitting again and again reuses its pairing until then

    # -- points ---------------------------------------------------------------------------------

    def add_point(self, identifier, point) -> None:
        """Add a new point; ``KeyError`` if ``identifier`` is already there (use ``set_point``)."""
        identifier = _check_identifier(identifier)
        if identifier in self._points:
            raise KeyError(
                f"{self._kind} already has a point {identifier!r}; "
                "use update_point to change it or set_point to add or change"
            )
        self._points[identifier] = self._checked(identifier, point)
        self._version += 1

    def update_point(self, identifier, point) -> None:
        """Replace an existing point; ``KeyError`` if there is none (use ``add_point``)."""
        identifier = self._require(identifier)
        self._points[identifier] = self._checked(identifier, point)
        self._version += 1

    def set_point(self, identifier, point) -> None:
        """Add the point, or replace it if the identifier is already there."""
        identifier = _check_identifier(identifier)
        self._points[identifier] = self._checked(identifier, point)
        self._version += 1

    def delete_point(self, identifier) -> None:
        """Remove a point; ``KeyError`` if there is none."""
        del self._points[self._require(identifier)]
        self._version += 1

    def _require(self, identifier) -> str:
        identifier = _check_identifier(identifier)
        if identifier not in self._points:
            raise KeyError(f"{self._kind} has no point {identifier!r} ({self.size} points)")
        return identifier

    # -- looking ----------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of points."""
        return len(self._points)

    @property
    def ids(self) -> list[str]:
        """Identifiers in the order they were added."""
        return list(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def __contains__(self, identifier) -> bool:
        return identifier in self._points

    def __iter__(self):
        """``(identifier, point)`` pairs in insertion order."""
        for identifier in list(self._points):
            yield identifier, self.get_point(identifier)

    def clear(self) -> None:
        """Remove every point."""
        self._points.clear()
        self._version += 1

    # -- FluCoMa JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """FluCoMa's JSON object: ``{"cols": n, "data": {identifier: [...]}}``."""
        return {
            "cols": self._json_cols(),
            "data": {identifier: self._json_point(p) for identifier, p in self._points.items()},
        }

    def write(self, path) -> None:
        """Write FluCoMa's JSON file, atomically (see :func:`jsonio.write_json`)."""
        jsonio.write_json(path, self.to_dict())

    @classmethod
    def read(cls, path):
        """A new set from a FluCoMa JSON file; ``FluCoMaFormatError`` names what is wrong."""
        return cls.from_dict(jsonio.read_json(path), source=str(path))

    @classmethod
    def _parse_header(cls, d, source) -> tuple[int, dict]:
        """Check the top level ``{"cols": n, "data": {...}}``; return ``(cols, data)``."""
        jsonio.require_object(d, source, "the top level")
        jsonio.require_keys(d, {"cols", "data"}, source)
        cols = jsonio.require_count(d["cols"], source, 'key "cols"')
        data = jsonio.require_object(d["data"], source, 'key "data"')
        for identifier in data:
            if not isinstance(identifier, str):
                raise FluCoMaFormatError(
                    f'{source}: "data" has the identifier {identifier!r}; identifiers are strings'
                )
        if cols == 0 and data:
            raise FluCoMaFormatError(f'{source}: "cols" is 0 but "data" has {len(data)} points')
        return cols, data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, cols={self._json_cols()})"


class DataSet(_PointSet):
    """Identifier -> row of ``cols`` finite numbers (float64), as FluCoMa's DataSet.

    ``DataSet()`` takes its width from the first point added; ``DataSet(cols)`` fixes it.
    ``clear()`` returns the set to how it was constructed (a ``DataSet()`` forgets its width).

    >>> ds = DataSet(2)
    >>> ds.add_point("a", [0.5, 1.0])
    >>> ds.get_point("a")
    array([0.5, 1. ])
    """

    _kind = "DataSet"

    def __init__(self, cols: int | None = None):
        super().__init__()
        if cols is not None and (isinstance(cols, bool) or not isinstance(cols, Integral) or cols < 1):
            raise ValueError(
                f"cols must be a whole number >= 1 (or None to take it from the first point), got {cols!r}"
            )
        self._cols_given = None if cols is None else int(cols)
        self._cols = self._cols_given

    @property
    def cols(self) -> int | None:
        """Numbers per row; None for a ``DataSet()`` that has had no point yet."""
        return self._cols

    def get_point(self, identifier) -> np.ndarray:
        """A copy of the row of ``identifier``; ``KeyError`` if there is none."""
        return self._points[self._require(identifier)].copy()

    def clear(self) -> None:
        super().clear()
        self._cols = self._cols_given

    def _checked(self, identifier: str, values) -> np.ndarray:
        """``values`` as a read-only float64 row of the right width, or a clear error."""
        try:
            row = np.asarray(values)
        except ValueError:  # numpy refuses ragged nesting such as [1, [2, 3]]
            row = np.asarray(values, dtype=object)
        if row.ndim != 1:
            raise ValueError(
                f"point {identifier!r}: expected a flat list of numbers, got {values!r} (shape {row.shape})"
            )
        bad = _first_non_number(values, row)
        if bad is not None:
            raise TypeError(
                f"point {identifier!r}: value {bad[0]} is {bad[1]!r} ({type(bad[1]).__name__}); "
                "DataSet values must be numbers"
            )
        if len(row) == 0:
            raise ValueError(f"point {identifier!r} has no values; a DataSet row needs at least one")
        width = self._cols if self._cols is not None else len(row)
        if len(row) != width:
            raise ValueError(
                f"point {identifier!r} has {len(row)} values, but this DataSet has cols = {width}"
            )
        row = row.astype(np.float64)
        if not np.isfinite(row).all():
            i = int(np.flatnonzero(~np.isfinite(row))[0])
            raise ValueError(f"point {identifier!r}: value {i} is {row[i]}; DataSet values must be finite")
        row.flags.writeable = False
        self._cols = width
        return row

    # -- arrays -----------------------------------------------------------------------------------

    def to_numpy(self) -> tuple[list[str], np.ndarray]:
        """``(ids, X)``: identifiers in order and their rows as one (size, cols) float64 array."""
        ids = self.ids
        if not ids:
            return ids, np.empty((0, self._cols or 0), dtype=np.float64)
        return ids, np.stack([self._points[i] for i in ids])

    @classmethod
    def from_numpy(cls, ids, array) -> DataSet:
        """A DataSet with row ``k`` of the 2-D ``array`` under identifier ``ids[k]``."""
        array = np.asarray(array)
        ids = list(ids)
        if array.ndim != 2:
            raise ValueError(f"from_numpy needs a 2-D array (points x cols), got shape {array.shape}")
        if len(ids) != array.shape[0]:
            raise ValueError(f"from_numpy got {len(ids)} ids for {array.shape[0]} rows; give one id per row")
        ds = cls(array.shape[1] if array.shape[1] else None)
        for identifier, row in zip(ids, array):
            ds.add_point(identifier, row)
        return ds

    def to_pandas(self):
        """A ``pandas.DataFrame`` with the identifiers as index and columns 0 .. cols-1."""
        pd = _import_pandas("DataSet.to_pandas")
        ids, X = self.to_numpy()
        return pd.DataFrame(X, index=pd.Index(ids, name="identifier", dtype=object))

    @classmethod
    def from_pandas(cls, df) -> DataSet:
        """A DataSet from a DataFrame whose index holds the identifiers (strings)."""
        _import_pandas("DataSet.from_pandas")
        return cls.from_numpy(list(df.index), df.to_numpy())

    # -- FluCoMa JSON -----------------------------------------------------------------------------

    def _json_cols(self) -> int:
        return self._cols or 0

    @staticmethod
    def _json_point(row: np.ndarray) -> list[float]:
        return row.tolist()

    @classmethod
    def from_dict(cls, d: dict, source: str = jsonio.NOT_A_FILE) -> DataSet:
        """A DataSet from FluCoMa's ``{"cols": n, "data": {identifier: [n numbers]}}``."""
        cols, data = cls._parse_header(d, source)
        ds = cls(cols or None)
        for identifier, row in data.items():
            where = f"data[{identifier!r}]"
            jsonio.require_array(row, source, where)
            if len(row) != cols:
                raise FluCoMaFormatError(
                    f'{source}: {where} has {len(row)} numbers, but "cols" is {cols}; '
                    "every row must have exactly cols numbers"
                )
            values = jsonio.require_numbers(row, source, where)
            values.flags.writeable = False
            ds._points[identifier] = values
        return ds


class LabelSet(_PointSet):
    """Identifier -> one string label, as FluCoMa's LabelSet (always ``cols`` = 1).

    >>> ls = LabelSet()
    >>> ls.add_point("a", "kick")
    >>> ls.get_point("a")
    'kick'
    """

    _kind = "LabelSet"
    cols = 1

    def get_point(self, identifier) -> str:
        """The label of ``identifier``; ``KeyError`` if there is none."""
        return self._points[self._require(identifier)]

    def _checked(self, identifier: str, label) -> str:
        if not isinstance(label, str):
            raise TypeError(
                f"point {identifier!r}: the label is {label!r} ({type(label).__name__}); "
                f"labels are strings, e.g. str({label!r})"
            )
        return str(label)

    def unique_labels(self) -> list[str]:
        """Distinct labels in order of first appearance (FluCoMa's MLPClassifier output order)."""
        return list(dict.fromkeys(self._points.values()))

    def to_numpy(self) -> tuple[list[str], np.ndarray]:
        """``(ids, labels)``: identifiers in order and a 1-D array of their labels (strings)."""
        return self.ids, np.array(list(self._points.values()), dtype=str)

    @classmethod
    def from_numpy(cls, ids, labels) -> LabelSet:
        """A LabelSet with ``labels[k]`` under identifier ``ids[k]``."""
        ids, labels = list(ids), list(labels)
        if len(ids) != len(labels):
            raise ValueError(f"from_numpy got {len(ids)} ids for {len(labels)} labels; give one id per label")
        ls = cls()
        for identifier, label in zip(ids, labels):
            ls.add_point(identifier, label)
        return ls

    def to_pandas(self):
        """A ``pandas.Series`` of labels named ``"label"``, indexed by identifier."""
        pd = _import_pandas("LabelSet.to_pandas")
        ids, labels = self.ids, list(self._points.values())
        return pd.Series(
            labels, index=pd.Index(ids, name="identifier", dtype=object), name="label", dtype=object
        )

    @classmethod
    def from_pandas(cls, series) -> LabelSet:
        """A LabelSet from a Series of string labels whose index holds the identifiers."""
        _import_pandas("LabelSet.from_pandas")
        if hasattr(series, "columns"):  # a DataFrame: take its only column
            if len(series.columns) != 1:
                raise ValueError(
                    "LabelSet.from_pandas needs a Series or a one-column DataFrame, "
                    f"got {len(series.columns)} columns"
                )
            series = series.iloc[:, 0]
        return cls.from_numpy(list(series.index), list(series))

    def _json_cols(self) -> int:
        return 1

    @staticmethod
    def _json_point(label: str) -> list[str]:
        return [label]

    @classmethod
    def from_dict(cls, d: dict, source: str = jsonio.NOT_A_FILE) -> LabelSet:
        """A LabelSet from FluCoMa's ``{"cols": 1, "data": {identifier: ["label"]}}``."""
        cols, data = cls._parse_header(d, source)
        if data and cols != 1:
            raise FluCoMaFormatError(
                f'{source}: "cols" is {cols}, but a LabelSet has one label per point (cols 1)'
            )
        ls = cls()
        for identifier, row in data.items():
            where = f"data[{identifier!r}]"
            jsonio.require_array(row, source, where)
            if len(row) != 1:
                raise FluCoMaFormatError(f"{source}: {where} has {len(row)} entries, expected one label")
            ls._points[identifier] = jsonio.require_string(row[0], source, f"{where}[0]")
        return ls


def _some(identifiers) -> str:
    """'3 are (a, b, c)': how many, and up to MAX_NAMED_IDS of them."""
    if not identifiers:
        return "none are"
    shown = ", ".join(repr(i) for i in identifiers[:MAX_NAMED_IDS])
    more = f" and {len(identifiers) - MAX_NAMED_IDS} more" if len(identifiers) > MAX_NAMED_IDS else ""
    return f"{len(identifiers)} {'is' if len(identifiers) == 1 else 'are'} ({shown}{more})"


def pair_by_identifier(source: DataSet, target: DataSet | LabelSet):
    """Rows of ``source`` and ``target`` matched by identifier, as FluCoMa's ``fit`` pairs them.

    Returns ``(ids, X, Y)``: the identifiers in ``source``'s order, ``X`` (size, source.cols)
    and ``Y`` (size, target.cols) for a DataSet target or a 1-D array of label strings for a
    LabelSet target. Both sets must hold exactly the same identifiers: ``ValueError`` names up
    to five on each side that are in only one of them, and how many there are.
    """
    if not isinstance(source, DataSet):
        raise TypeError(f"source must be a DataSet, got {type(source).__name__}")
    if not isinstance(target, (DataSet, LabelSet)):
        raise TypeError(f"target must be a DataSet or a LabelSet, got {type(target).__name__}")
    only_source = [i for i in source.ids if i not in target]
    only_target = [i for i in target.ids if i not in source]
    if only_source or only_target:
        raise ValueError(
            "source and target must have the same identifiers (rows are paired by identifier), but "
            f"{_some(only_source)} only in source and {_some(only_target)} only in target."
            " Add or delete those points so both sets match."
        )
    if source.size == 0:
        raise ValueError("source and target are empty: there is nothing to pair")
    ids, X = source.to_numpy()
    if isinstance(target, DataSet):
        Y = np.stack([target._points[i] for i in ids])
    else:
        Y = np.array([target._points[i] for i in ids], dtype=str)
    return ids, X, Y
