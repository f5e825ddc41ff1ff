"""Sort each column of a table into a kind: numeric, category, date, or left out (an identifier).

``as_table(X)`` turns what a user passes (a pandas DataFrame, a dict of columns, a 2-D numpy array of
numbers or objects) into column name -> 1-D array. ``sort_column(...)`` then tries the rules of
``RULES`` in order; the first that recognises the column gives its kind and the reason, in words, that
the report prints. The rules look at the training rows only.

The kinds, and what ``preparation.py`` does with each (``KINDS``):

- ``numeric``: numbers, gaps filled with the training median;
- ``category``: text, booleans, ``yes``/``no``, and columns named in ``categorical=``: one-hot, rare levels
  grouped into one column;
- ``date``: dates and times (a datetime column, or text every value of which reads as a date): a few
  numbers per date (``DATE_PARTS``), never one category per day;
- ``left out``: identifier-like columns (an unnamed first column such as R's row names, a distinct text per
  row, a running integer index) carry no pattern a network can learn; ``keep=`` keeps one.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

KINDS = ("numeric", "category", "date", "left out")

#: Names a table's row-name column gets: R's write.csv header is empty, pandas reads it as 'Unnamed: 0',
#: Rdatasets' CSVs call it 'rownames'.
ROW_NAME_COLUMNS = {"", "unnamed: 0", "rownames", "rowname", "row.names"}

#: Names (lower case, after stripping '_' and ' ') that say a column identifies rows.
IDENTIFIER_NAMES = {"id", "index", "idx", "rowid", "key", "uuid", "identifier"}

#: A column needs at least this many rows before "a distinct value per row" reads as an identifier.
MIN_ROWS_FOR_IDENTIFIER = 10

#: Texts (lower case) that make a column yes/no.
BOOLEAN_WORDS = ({"yes", "no"}, {"true", "false"}, {"y", "n"}, {"t", "f"})

#: Cells that mean "no value" in a text column (as a CSV reader leaves them).
MISSING_TEXT = {"", "na", "nan", "n/a", "null", "none", "nat", "?"}

#: A text value that can be a date: digits with '-', '/', '.' or ':' between them (not a plain number).
DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.:]\d{1,2}([-/.:T ]\d{1,4})*")


class ColumnView(NamedTuple):
    """What a rule may look at: the column and the user's choices."""

    name: str
    values: np.ndarray  # 1-D, the training rows
    position: int  # 0 for the first column
    categorical: frozenset  # names the user asked to treat as categories
    keep: frozenset  # names the user asked to keep even if they look like identifiers


# ----------------------------------------------------------------------------- input
def as_table(X, estimator: str | None = None) -> tuple[dict, bool]:
    """(column name -> 1-D array, whether the input named its columns).

    A DataFrame or a dict keeps its names; a 2-D array's columns are named ``x0``, ``x1``, ... as
    scikit-learn names unnamed columns. Input that is not a table is refused with scikit-learn's own
    messages (sparse, complex, 1-D, no rows or no columns), which ``estimator`` (a name) ends as
    ``check_array`` does, so that a Preparation fails in a Pipeline as scikit-learn's transformers do.
    """
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
        table, rows = {str(name): X[name].to_numpy() for name in X.columns}, len(X)
    elif isinstance(X, dict) and not _is_sparse(X):  # (scipy's DOK sparse matrix is a dict too)
        table = {str(name): np.asarray(values) for name, values in X.items()}
        flat = [name for name, values in table.items() if values.ndim != 1]
        if flat:
            raise ValueError(f"the columns {flat} of X are not 1-D; give each column as a sequence of one value per row")
        lengths = {len(v) for v in table.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns of X have different lengths {sorted(lengths)}; give one value per row in each")
        rows = lengths.pop() if lengths else 0
    else:
        # Not a table of named columns: scikit-learn's check, keeping the dtype (text and dates stay as they
        # are) and the gaps (the preparation fills them).
        from sklearn.utils.validation import check_array

        X = check_array(X, accept_sparse=False, dtype=None, ensure_all_finite=False, estimator=estimator)
        return {f"x{j}": X[:, j] for j in range(X.shape[1])}, False
    # Named columns cannot all go through check_array (it would make one object array of dates, text and
    # pandas' nullable columns), so they get its checks, and its messages, here.
    shape, by = (rows, len(table)), f" by {estimator}" if estimator else ""
    for count, what in ((rows, "sample(s)"), (len(table), "feature(s)")):  # check_array's order and words
        if count < 1:
            raise ValueError(f"Found array with 0 {what} (shape={shape}) while a minimum of 1 is required{by}.")
    complex_columns = [name for name, values in table.items() if values.dtype.kind == "c"]
    if complex_columns:
        raise ValueError(f"Complex data not supported: the column(s) {complex_columns} of X")
    return table, True


def _is_sparse(X) -> bool:
    from scipy import sparse

    return sparse.issparse(X)


def missing_mask(values) -> np.ndarray:
    """True where a value is missing: NaN, None, pandas' NA/NaT, or a text such as '' or 'NA'."""
    import pandas as pd

    values = np.asarray(values)
    if values.dtype.kind in "biu":
        return np.zeros(len(values), dtype=bool)
    if values.dtype.kind in "fcmM":
        return np.asarray(pd.isna(values))
    return np.array([bool(pd.isna(v)) if not isinstance(v, str) else v.strip().lower() in MISSING_TEXT
                     for v in values], dtype=bool)  # fmt: skip


def as_numbers(values) -> np.ndarray | None:
    """The column as float64 with NaN for gaps, or None if some present value is not a number."""
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    if values.dtype.kind not in "OUS":
        return None
    missing = missing_mask(values)
    out = np.full(len(values), np.nan)
    for i in np.flatnonzero(~missing):
        value = values[i]
        if isinstance(value, (bool, np.bool_)):
            return None
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            return None
    return out


def as_dates(values):
    """The column as pandas datetimes (NaT for gaps), or None if some present value is not a date."""
    import pandas as pd

    values = np.asarray(values)
    if values.dtype.kind == "M":
        return pd.DatetimeIndex(values)
    if values.dtype.kind not in "OUS":
        return None
    if any(getattr(v, "tzinfo", None) is not None for v in values[:1]):  # time-zone aware: as UTC wall time
        return pd.DatetimeIndex(pd.to_datetime(pd.Series(values), utc=True)).tz_convert(None)
    missing = missing_mask(values)
    present = [str(v) for v in values[~missing]]
    if not present or not all(isinstance(v, str) or hasattr(v, "year") for v in values[~missing]):
        return None
    if not all(DATE_LIKE.match(text) for text in present):
        return None
    with warnings.catch_warnings():  # (pandas warns when it guesses a format per value)
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(pd.Series(np.where(missing, None, values.astype(object))), errors="coerce",
                                format="mixed")  # fmt: skip
    if parsed.isna().to_numpy()[~missing].any():
        return None
    return pd.DatetimeIndex(parsed)


# ----------------------------------------------------------------------------- rules
# Each rule takes a ColumnView and returns why the column is of its kind, or None.


def asked_categorical(column: ColumnView) -> str | None:
    if column.name in column.categorical:
        return "named as categorical"
    return None


def row_names(column: ColumnView) -> str | None:
    if column.position == 0 and column.name.strip().lower() in ROW_NAME_COLUMNS:
        return "an unnamed first column: row names, not a measurement"
    return None


def distinct_text(column: ColumnView) -> str | None:
    values = column.values
    if as_numbers(values) is not None or as_dates(values) is not None or len(values) < MIN_ROWS_FOR_IDENTIFIER:
        return None
    present = values[~missing_mask(values)]
    if len(present) == len(values) and len({str(v).strip() for v in present}) == len(values):
        return "a distinct text in every row, like a name or a code"
    return None


def running_index(column: ColumnView) -> str | None:
    numbers = as_numbers(column.values)
    if numbers is None or len(numbers) < MIN_ROWS_FOR_IDENTIFIER or np.isnan(numbers).any():
        return None
    if not np.all(np.mod(numbers, 1) == 0) or len(np.unique(numbers)) != len(numbers):
        return None
    named = re.sub(r"[\s_.]", "", column.name.lower()) in IDENTIFIER_NAMES or column.name.lower().endswith("_id")
    in_order = bool(np.all(np.diff(numbers) == 1))
    if named or in_order:
        return "a running index: a different whole number in every row" + (" (and named so)" if named else "")
    return None


def identifier(column: ColumnView) -> str | None:
    """Row names, a distinct text per row or a running index, unless the user keeps the column."""
    if column.name in column.keep:
        return None
    return row_names(column) or distinct_text(column) or running_index(column)


def boolean(column: ColumnView) -> str | None:
    values = column.values
    if values.dtype.kind == "b":
        return "true/false values"
    if values.dtype.kind not in "OUS":
        return None
    present = {str(v).strip().lower() for v in values[~missing_mask(values)]}
    if present and any(present <= words for words in BOOLEAN_WORDS):
        return f"{'/'.join(sorted(present))} values"
    return None


def date(column: ColumnView) -> str | None:
    if as_dates(column.values) is not None:
        return "dates" if np.asarray(column.values).dtype.kind != "M" else "a date/time column"
    return None


def numeric(column: ColumnView) -> str | None:
    if column.values.dtype.kind == "b":
        return None
    return "numbers" if as_numbers(column.values) is not None else None


def text(column: ColumnView) -> str | None:
    return "text values"


class Rule(NamedTuple):
    kind: str
    recognises: Callable[[ColumnView], str | None]


#: Tried in order; the first rule that recognises a column gives its kind.
RULES = (
    Rule("category", asked_categorical),
    Rule("left out", identifier),
    Rule("category", boolean),
    Rule("date", date),
    Rule("numeric", numeric),
    Rule("category", text),
)


def sort_column(name: str, values, position: int = 0, categorical=(), keep=()) -> tuple[str, str]:
    """(kind, why) of one column by ``RULES``; ``values`` are its training rows."""
    view = ColumnView(name, np.asarray(values), position, frozenset(categorical), frozenset(keep))
    for rule in RULES:
        why = rule.recognises(view)
        if why is not None:
            return rule.kind, why
    raise AssertionError("the last rule recognises every column")  # (text)
