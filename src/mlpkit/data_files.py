"""Read training data from files: CSV, TSV, Parquet, NumPy ``.npy`` / ``.npz``, FluCoMa JSON.

``read_data(path, target=...)`` returns a :class:`Data`: the feature matrix ``X``
(float64), the target ``y`` (or None), and the names that go with them. The
reader is chosen by the file's suffix (``READERS``). The layouts:

``.csv``, ``.tsv`` (``.txt``: comma-separated)
    A header row of column names, then one row per sample. ``target`` names
    the target column (``"a,b"``: several, for multi-output regression or
    multi-label classification); every other column is a feature. Features that
    are all numbers without gaps give ``X`` as a float64 array; text, yes/no,
    dates and empty cells are handed on as they are, in a pandas DataFrame, for
    the data preparation (``mlpkit.prep``) to encode. Target columns may hold
    text (class labels); rows whose target is empty are left out
    (``Data.target_rows_left_out`` says how many).
``.parquet``, ``.pq``
    The same, read with pyarrow (``pip install "mlpkit[parquet]"``).
``.npy``
    One 2-D numeric array, one row per sample. ``target`` is a column index
    (``"-1"``: the last column); the other columns are the features.
``.npz``
    Arrays ``X`` (2-D: samples x features) and ``y`` (1-D, or 2-D for several
    outputs), as ``np.savez(path, X=X, y=y)`` writes them. ``target`` names the
    target array; without it, ``y`` is used when there is one.
``.json``
    A FluCoMa DataSet (``{"cols": n, "data": {identifier: [n numbers]}}``).
    ``target`` is the path of a FluCoMa DataSet (regression) or LabelSet
    (classification) JSON file; rows are paired by identifier, as FluCoMa does.

Every problem raises :class:`DataFileError` (a ``ValueError``) with a one-line
message that names the file, the column, and what to do about it.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._files import strict_loads
from .prep.target import missing_targets

__all__ = ["READERS", "Data", "DataFileError", "read_data", "suffix_of"]

#: At most this many names are listed in an error message.
MAX_NAMES_SHOWN = 12


class DataFileError(ValueError):
    """A data file that cannot be used: missing, unreadable, wrong layout, or a bad column."""


@dataclass
class Data:
    """Features (and target) read from one file."""

    X: object  # (n_samples, n_features): a float64 array, or a pandas DataFrame when some column is not all numbers
    y: np.ndarray | None  # (n_samples,) or (n_samples, n_targets); None without a target
    source: str  # the file, as the user named it
    format: str  # 'csv', 'tsv', 'parquet', 'npy', 'npz' or 'flucoma'
    feature_names: list[str] | None = None  # column names, where the file has them
    target_names: list[str] = field(default_factory=list)
    ids: list[str] | None = None  # FluCoMa identifiers, row by row
    target_rows_left_out: int = 0  # rows whose target was missing, left out

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


# ---------------------------------------------------------------------------- columns


def _names(names) -> str:
    names = [repr(str(n)) for n in names]
    more = f" and {len(names) - MAX_NAMES_SHOWN} more" if len(names) > MAX_NAMES_SHOWN else ""
    return ", ".join(names[:MAX_NAMES_SHOWN]) + more


def _convert_column(values: list[str]) -> np.ndarray:
    """Text cells as int64 if all are whole numbers, else float64 if all are numbers, else str.

    Empty cells (and ``nan``, ``NA``) become NaN in a numeric column; a text column keeps them as ''.
    """
    cells = [v.strip() for v in values]
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    missing = {"", "na", "nan", "null", "none"}
    try:
        return np.array([math.nan if c.lower() in missing else float(c) for c in cells], dtype=np.float64)
    except ValueError:
        return np.array(cells, dtype=str)


def _columns_from_rows(source: str, rows: list[list[str]]) -> dict[str, np.ndarray]:
    """Header + rows of text cells -> column name -> array."""
    if not rows:
        raise DataFileError(f"{source} is empty: expected a header row of column names, then one row per sample")
    header = [name.strip() for name in rows[0]]
    numbered = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if not numbered:  # blank lines do not count
        raise DataFileError(f"{source} has a header but no rows of data")
    duplicates = sorted({n for n in header if header.count(n) > 1})
    if duplicates:
        raise DataFileError(f"{source}: column names must be unique; {_names(duplicates)} appear more than once")
    for number, row in numbered:
        if len(row) != len(header):
            raise DataFileError(
                f"{source}, line {number}: {len(row)} cells but the header has {len(header)} columns;"
                " every row needs one cell per column (check the delimiter and quoting)"
            )
    return {name: _convert_column([row[i] for _, row in numbered]) for i, name in enumerate(header)}


def _split_columns(columns, source, target, drop, features) -> tuple:
    """(X, y, feature names, target names) from named columns.

    ``features`` (a model's ``feature_names_in_``) picks exactly those columns, in that
    order; otherwise every column that is neither a target nor dropped is a feature.
    """
    available = list(columns)
    target_names = _resolve_names(target, available, source, "target column") if target else []
    dropped = _resolve_names(",".join(drop), available, source, "column to drop") if drop else []
    if features is not None:
        missing = [f for f in features if f not in columns]
        if missing:
            raise DataFileError(
                f"{source} lacks the column(s) {_names(missing)} that the model was trained on;"
                f" its columns are {_names(available)}"
            )
        feature_names = [str(f) for f in features]
    else:
        feature_names = [n for n in available if n not in target_names and n not in dropped]
    if not feature_names:
        raise DataFileError(f"{source}: no feature columns left (columns: {_names(available)}); a model needs at least one")
    y, kept = None, slice(None)
    if target_names:
        y, kept = _target(columns, target_names, source)
    features = {name: columns[name][kept] for name in feature_names}
    if all(values.dtype.kind in "biuf" and np.isfinite(values).all() for values in features.values()):
        X = np.column_stack([_numeric_feature(values, name, source) for name, values in features.items()])
    else:
        X = _mixed_features(features, source)
    return X, y, feature_names, target_names


def _mixed_features(features: dict, source: str):
    """Feature columns that are not all numbers (text, yes/no, dates, gaps) as a pandas DataFrame, for the
    data preparation to encode: numeric columns as float64 with NaN for gaps, text with None for empty cells.
    Infinite numbers are still refused: they are not a gap, and no preparation can tell what they stand for."""
    import pandas as pd

    frame = {}
    for name, values in features.items():
        if values.dtype.kind in "biuf":
            values = values.astype(np.float64)
            infinite = np.isinf(values)
            if infinite.any():
                raise DataFileError(
                    f"{source}: feature column {name!r} has {int(infinite.sum())} infinite value(s)"
                    f" (first in data row {int(np.flatnonzero(infinite)[0]) + 1}); replace them or remove those rows"
                )
        else:
            values = np.array([None if str(v).strip() == "" else v for v in values], dtype=object)
        frame[name] = values
    return pd.DataFrame(frame)


def _resolve_names(spec: str, available: list[str], source: str, what: str) -> list[str]:
    """Column names from ``"name"`` or ``"a,b"``; a clear error naming the columns there are."""
    if spec in available:
        return [spec]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in available]
    if unknown or not names:
        close = difflib.get_close_matches(unknown[0], available, n=1) if unknown else []
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataFileError(
            f"{source} has no {what} {(unknown or [spec])[0]!r}.{hint} Its columns are: {_names(available)}"
        )
    return names


def _numeric_feature(values: np.ndarray, name: str, source: str) -> np.ndarray:
    if values.dtype.kind not in "biuf":
        example = next((v for v in values if not _is_number(v)), values[0])
        raise DataFileError(
            f"{source}: feature column {name!r} is not numeric (it holds {str(example)!r}); features must be"
            f" numbers: encode it (e.g. one column per category) or leave it out (--drop {name}; drop=[{name!r}] in Python)"
        )
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataFileError(
            f"{source}: feature column {name!r} has {int(bad.sum())} missing or non-finite value(s)"
            f" (first in data row {int(np.flatnonzero(bad)[0]) + 1}); fill them in or remove those rows"
        )
    return values


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def _target(columns, names, source) -> tuple[np.ndarray, np.ndarray]:
    """(the target columns: 1-D for one, 2-D for several; the rows kept). Rows whose target is missing (an
    empty cell, NaN) are left out: a target is what is learned, so it cannot be filled in. Labels may be text;
    numbers must be finite."""
    parts, missing = [], np.zeros(len(next(iter(columns.values()))), dtype=bool)
    for name in names:
        values = columns[name]
        if values.dtype.kind == "f" and np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0]) + 1
            raise DataFileError(f"{source}: target column {name!r} has infinite values (first in data row {row}); remove those rows")
        missing |= missing_targets(values)
        parts.append(values)
    if missing.all():
        raise DataFileError(f"{source}: target column(s) {_names(names)} have no values; name the column that holds the target")
    kept = ~missing
    if len(parts) == 1:
        return parts[0][kept], kept
    if any(p.dtype.kind in "UO" for p in parts):
        raise DataFileError(f"{source}: several target columns ({_names(names)}) must all be numeric")
    return np.column_stack(parts)[kept], kept


def _left_out(columns: dict, y) -> int:
    """How many rows the target left out (``_target``)."""
    return 0 if y is None else len(next(iter(columns.values()))) - len(y)


# ---------------------------------------------------------------------------- readers
# Each reader takes (path, source, target, drop, features) and returns a Data.


def _read_delimited(delimiter: str, name: str):
    def read(path, source, target, drop, features):
        try:
            with open(path, newline="", encoding="utf-8-sig") as file:
                rows = list(csv.reader(file, delimiter=delimiter))
        except UnicodeDecodeError:
            raise DataFileError(f"{source} is not UTF-8 text; is it really a {name.upper()} file?") from None
        except csv.Error as error:
            raise DataFileError(f"{source} is not valid {name.upper()}: {error}") from None
        columns = _columns_from_rows(source, rows)
        X, y, feature_names, target_names = _split_columns(columns, source, target, drop, features)
        return Data(X, y, source, name, feature_names, target_names, target_rows_left_out=_left_out(columns, y))

    read.__doc__ = f"A {name.upper()} file with a header row (delimiter {delimiter!r})."
    return read


def _read_parquet(path, source, target, drop, features):
    """A Parquet file, read with pyarrow."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataFileError(
            f"reading {source} needs pyarrow, which is not installed: pip install \"mlpkit[parquet]\""
            " (or save the data as CSV)"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises its own ArrowInvalid and others
        raise DataFileError(f"{source} is not a readable Parquet file: {error}") from None
    columns = {}
    for name in table.column_names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        if values.dtype == object:  # text, or numbers with nulls
            values = np.array(["" if v is None else str(v) for v in values], dtype=str)
        columns[str(name)] = values
    if table.num_rows == 0:
        raise DataFileError(f"{source} has no rows of data")
    X, y, feature_names, target_names = _split_columns(columns, source, target, drop, features)
    return Data(X, y, source, "parquet", feature_names, target_names, target_rows_left_out=_left_out(columns, y))


def _load_numpy(path, source):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:  # object arrays need pickle, which never runs here
        raise DataFileError(f"{source}: {error}; save plain numeric arrays (np.save / np.savez)") from None
    except Exception as error:  # noqa: BLE001 - a damaged file fails in many ways
        raise DataFileError(f"{source} is not a NumPy file that np.load reads: {error}") from None


def _read_npy(path, source, target, drop, features):
    """One 2-D numeric array; ``target`` is a column index."""
    array = _load_numpy(path, source)
    if not isinstance(array, np.ndarray) or array.ndim != 2 or array.dtype.kind not in "biuf":
        raise DataFileError(
            f"{source}: expected one 2-D numeric array (rows = samples), got"
            f" {getattr(array, 'shape', '?')} {getattr(array, 'dtype', type(array).__name__)}"
        )
    columns = {str(i): array[:, i] for i in range(array.shape[1])}

    def index(text, what):
        try:
            i = int(text)
        except ValueError:
            raise DataFileError(
                f"{source}: a .npy file has no column names; give the {what} as a column index"
                f" (0 to {array.shape[1] - 1}, or -1 for the last), not {text!r}"
            ) from None
        if not -array.shape[1] <= i < array.shape[1]:
            raise DataFileError(f"{source} has {array.shape[1]} columns; {what} {i} is out of range")
        return str(i % array.shape[1])

    target = ",".join(index(t, "target") for t in target.split(",")) if target else None
    drop = [index(d, "column to drop") for d in drop]
    X, y, _, target_names = _split_columns(columns, source, target, drop, None)
    return Data(X, y, source, "npy", None, target_names)


def _read_npz(path, source, target, drop, features):
    """Arrays ``X`` and ``y``; ``target`` names the target array (default ``y`` when present)."""
    archive = _load_numpy(path, source)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFileError(f"{source} holds a single array, not an .npz archive; name it .npy, or save np.savez(path, X=X, y=y)")
    try:
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # noqa: BLE001 - a damaged member fails in many ways (bad CRC, EOF, ...)
        raise DataFileError(f"{source}: an array in the archive is damaged or unreadable ({error})") from None
    if "X" not in arrays:
        raise DataFileError(
            f"{source} has no array named 'X' (it has {_names(arrays) or 'none'});"
            " save features and target as np.savez(path, X=X, y=y)"
        )
    X = arrays["X"]
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise DataFileError(f"{source}: 'X' must be a 2-D numeric array (samples x features), got {X.shape} {X.dtype}")
    X = _numeric_feature(X.astype(np.float64).ravel(), "X", source).reshape(X.shape)
    y, target_names = None, []
    if target:
        if target not in arrays:
            raise DataFileError(f"{source} has no array {target!r} to use as the target; its arrays: {_names(arrays)}")
        y, target_names = arrays[target], [target]
        if y.ndim not in (1, 2) or len(y) != len(X):
            raise DataFileError(
                f"{source}: target {target!r} has shape {y.shape}; it needs one entry (or row) per row of X ({len(X)})"
            )
    return Data(X, y, source, "npz", None, target_names)


def _read_flucoma(path, source, target, drop, features):
    """A FluCoMa DataSet; the target is another JSON file (DataSet or LabelSet) paired by identifier."""
    from .flucoma import DataSet, pair_by_identifier

    dataset = _read_flucoma_set(path, source, DataSet, "the data (features)")
    if not target:
        ids, X = dataset.to_numpy()
        if not ids:
            raise DataFileError(f"{source} is an empty DataSet: it has no points")
        return Data(X, None, source, "flucoma", None, [], ids)
    target_path = Path(target)
    if not target_path.is_file():
        raise DataFileError(
            f"{source} is a FluCoMa DataSet, so --target names a FluCoMa DataSet or LabelSet JSON file"
            f" paired with it by identifier; {target!r} is not a file"
        )
    target_set = _read_flucoma_set(target_path, target, None, "the target")
    try:
        ids, X, y = pair_by_identifier(dataset, target_set)
    except ValueError as error:
        raise DataFileError(f"{source} and {target}: {error}") from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    return Data(X, y, source, "flucoma", None, [target_path.name], ids)


def _read_flucoma_set(path, source, kind, role):
    """A FluCoMa DataSet or LabelSet (``kind`` None: whichever the file is)."""
    from .flucoma import DataSet, LabelSet

    try:
        document = strict_loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise DataFileError(f"{source} is not valid JSON: {error}") from None
    if not (isinstance(document, dict) and set(document) == {"cols", "data"} and isinstance(document["data"], dict)):
        what = "a FluCoMa model" if isinstance(document, dict) and ("layers" in document or "mlp" in document) else "not"
        raise DataFileError(
            f"{source} is {what} a FluCoMa DataSet or LabelSet ({{\"cols\": n, \"data\": {{...}}}});"
            f" give {role} as one"
        )
    rows = list(document["data"].values())
    is_labels = bool(rows) and all(isinstance(r, list) and r and isinstance(r[0], str) for r in rows)
    cls = LabelSet if is_labels else DataSet
    if kind is not None and cls is not kind:
        raise DataFileError(
            f"{source} is a FluCoMa LabelSet; give the DataSet of features as DATA and the LabelSet with --target"
        )
    try:
        return cls.from_dict(document, source)
    except (TypeError, ValueError) as error:
        raise DataFileError(str(error)) from None


#: File suffix -> reader. A reader takes (path, source, target, drop, features) and returns a Data.
READERS = {
    ".csv": _read_delimited(",", "csv"),
    ".txt": _read_delimited(",", "csv"),
    ".tsv": _read_delimited("\t", "tsv"),
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".json": _read_flucoma,
}


def suffix_of(path) -> str:
    """The lower-case suffix that picks the reader."""
    return Path(path).suffix.lower()


def read_data(path, target: str | None = None, *, drop=(), features=None) -> Data:
    """Read features (and a target) from ``path``; the suffix picks the reader (``READERS``).

    Parameters
    ----------
    path : str or os.PathLike
    target : str or None
        The target: column name(s) (``"a,b"`` for several), a column index for
        ``.npy``, an array name for ``.npz``, a FluCoMa DataSet/LabelSet file for
        ``.json``. None: read the features only (to predict).
    drop : sequence of str
        Columns that are neither features nor target (an identifier column, say).
    features : sequence of str or None
        The feature columns, by name, in order (a fitted model's ``feature_names_in_``);
        other columns are ignored. None: every column not a target or dropped.

    Raises
    ------
    DataFileError
        With a one-line message naming the file and what to do.
    """
    source = os.fspath(path)
    if not Path(path).is_file():
        what = "is a directory" if Path(path).is_dir() else "does not exist"
        raise DataFileError(f"{source} {what}; give the path of a data file ({', '.join(sorted(READERS))})")
    suffix = suffix_of(path)
    if suffix not in READERS:
        raise DataFileError(
            f"{source}: cannot tell the format from the suffix {suffix or '(none)'!r};"
            f" mlpkit reads {', '.join(sorted(READERS))}"
        )
    try:
        return READERS[suffix](path, source, target, list(drop), features)
    except OSError as error:
        raise DataFileError(f"{source} cannot be read: {error.strerror or error}") from None
