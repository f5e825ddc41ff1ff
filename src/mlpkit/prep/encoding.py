"""What a fitted preparation knows about one column, as plain data, and how each kind is fitted and encoded.

A :class:`Column` record holds everything needed to encode its column again: the kind, the value that fills
its gaps, whether it gets a missing-value indicator, the category levels kept (and those grouped as rare),
the date parts. Fitting uses scikit-learn (``SimpleImputer`` for fill values, ``OneHotEncoder`` with
``min_frequency`` / ``max_categories`` for which levels are kept); its answer is copied into the record,
and encoding is a few lines of numpy on the record alone, so a record read back from a model file encodes
exactly as the one fitted (``Preparation.from_fitted``).

``FITTERS`` and ``ENCODERS`` map each kind to its functions.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from .columns import as_dates, as_numbers, missing_mask

EPOCH, DAY = np.datetime64("1970-01-01", "ns"), np.timedelta64(1, "D")

#: Date part -> (pandas DatetimeIndex -> numbers). ``days`` keeps the trend, the others the cycles.
DATE_PARTS = {
    "days": lambda dates: np.asarray((dates - EPOCH) / DAY, dtype=np.float64),  # days since 1970-01-01 (NaN for gaps)
    "month": lambda dates: dates.month.to_numpy(np.float64),
    "weekday": lambda dates: dates.day_of_week.to_numpy(np.float64),  # 0: Monday
    "hour": lambda dates: (dates.hour + dates.minute / 60).to_numpy(np.float64),
}

#: The name of the one-hot column of rare (and unseen) levels.
OTHER = "other"


class UnseenCategoryWarning(UserWarning):
    """A category column holds, at transform time, a level the training rows did not have."""


@dataclass(frozen=True)
class Column:
    """One input column of a fitted preparation: plain values only (text, numbers, lists, flags)."""

    name: str
    kind: str  # columns.KINDS
    why: str  # why it is of this kind, in words
    fill: float | str | None = None  # what fills a gap (numeric: the median; category: the commonest level; date: days)
    indicator: bool = False  # the training rows had gaps: one more 0/1 column says where
    levels: tuple = ()  # category: the levels kept, each its own one-hot column (text or numbers)
    rare: tuple = ()  # category: levels grouped into the 'other' column
    other: bool = False  # category: there is an 'other' column (rare levels, and unseen ones at transform time)
    numeric_levels: bool = False  # category: the levels are numbers (codes), compared as numbers
    parts: tuple = ()  # date: the DATE_PARTS made of it

    def outputs(self) -> list[str]:
        """The names of the columns this column becomes."""
        names = {
            "numeric": lambda: [self.name],
            "category": lambda: [f"{self.name}={level}" for level in self.levels] + ([f"{self.name}={OTHER}"] if self.other else []),
            "date": lambda: [f"{self.name}_{part}" for part in self.parts],
            "left out": lambda: [],
        }[self.kind]()
        return names + ([f"{self.name}_missing"] if self.indicator else [])

    def scaled_outputs(self) -> list[str]:
        """The outputs the scaler sees: measured numbers (a number, a date's parts), not 0/1 columns."""
        measured = {"numeric": 1, "date": len(self.parts)}.get(self.kind, 0)
        return self.outputs()[:measured]

    def to_dict(self) -> dict:
        return {**asdict(self), "levels": list(self.levels), "rare": list(self.rare), "parts": list(self.parts)}

    @classmethod
    def from_dict(cls, record: dict) -> Column:
        record = dict(record)
        for name in ("levels", "rare", "parts"):
            record[name] = tuple(record.get(name, ()))
        return cls(**record)


# ----------------------------------------------------------------------------- helpers
def _plain(value):
    """A level as plain data: whole numbers as int, other numbers as float, the rest as stripped text."""
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = float(value)
        return int(value) if value.is_integer() else value
    return str(value).strip()


def _keys(values, numeric_levels: bool) -> np.ndarray:
    """The column's values as the keys levels are compared by (float or text), None for gaps."""
    missing = missing_mask(values)
    if numeric_levels:
        numbers = as_numbers(values)
        return np.array([None if m else float(v) for v, m in zip(numbers, missing)], dtype=object)
    return np.array([None if m else str(v).strip() for v, m in zip(values, missing)], dtype=object)


def _level_key(level, numeric_levels: bool):
    return float(level) if numeric_levels else str(level)


def _numbers_of(column: Column, values) -> np.ndarray:
    numbers = as_numbers(values)
    if numbers is None:
        example = next(v for v in np.asarray(values) if as_numbers(np.array([v], dtype=object)) is None)
        raise ValueError(
            f"column {column.name!r} held numbers in training but holds {str(example)!r} now; give numbers"
            " (empty cells are gaps), or fit again treating it as a category"
        )
    return numbers


# ----------------------------------------------------------------------------- fit
def fit_numeric(name, values, why, params) -> Column:
    from sklearn.impute import SimpleImputer

    numbers = as_numbers(values)
    gaps = np.isnan(numbers)
    if gaps.all():
        return Column(name, "left out", "no values in the training rows")
    fill = float(SimpleImputer(strategy="median").fit(numbers.reshape(-1, 1)).statistics_[0])
    return Column(name, "numeric", why, fill=fill, indicator=bool(gaps.any()))


def fit_category(name, values, why, params) -> Column:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    numeric_levels = values.dtype.kind != "b" and as_numbers(values) is not None
    keys = _keys(values, numeric_levels)
    gaps = np.array([k is None for k in keys])
    if gaps.all():
        return Column(name, "left out", "no values in the training rows")
    column = keys.copy()
    column[gaps] = np.nan
    imputer = SimpleImputer(strategy="most_frequent", missing_values=np.nan)
    if numeric_levels:
        filled = imputer.fit_transform(column.astype(np.float64).reshape(-1, 1))
    else:
        filled = imputer.fit_transform(column.reshape(-1, 1))
    encoder = OneHotEncoder(min_frequency=params["min_frequency"], max_categories=params["max_levels"],
                            handle_unknown="infrequent_if_exist", sparse_output=False).fit(filled)  # fmt: skip
    levels = [_plain(level) for level in encoder.categories_[0]]
    infrequent = encoder.infrequent_categories_[0]
    rare = [] if infrequent is None else [_plain(level) for level in infrequent]
    kept = [level for level in levels if level not in rare]
    return Column(name, "category", why, fill=_plain(imputer.statistics_[0]), indicator=bool(gaps.any()),
                  levels=tuple(kept), rare=tuple(rare), other=bool(rare), numeric_levels=numeric_levels)  # fmt: skip


def fit_date(name, values, why, params) -> Column:
    dates = as_dates(values)
    days = DATE_PARTS["days"](dates)
    gaps = np.asarray(dates.isna())
    if gaps.all():
        return Column(name, "left out", "no values in the training rows")
    present = dates[~gaps]
    with_time = bool(np.any((present.hour != 0) | (present.minute != 0)))
    parts = ("days", "month", "weekday") + (("hour",) if with_time else ())
    return Column(name, "date", why, fill=float(np.median(days[~gaps])), indicator=bool(gaps.any()), parts=parts)


def fit_left_out(name, values, why, params) -> Column:
    return Column(name, "left out", why)


#: Kind -> fit(name, training values, why, params) -> Column.
FITTERS = {"numeric": fit_numeric, "category": fit_category, "date": fit_date, "left out": fit_left_out}


# ----------------------------------------------------------------------------- encode
def _with_indicator(column: Column, block: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    return np.column_stack([block, gaps.astype(np.float64)]) if column.indicator else block


def encode_numeric(column: Column, values) -> np.ndarray:
    numbers = _numbers_of(column, values)
    gaps = np.isnan(numbers)
    return _with_indicator(column, np.where(gaps, column.fill, numbers).reshape(-1, 1), gaps)


def encode_category(column: Column, values) -> np.ndarray:
    """One 0/1 column per kept level, then 'other' (rare levels, and levels never seen in training). A level
    never seen goes to 'other' when the column has one, else it gets all zeros; either way a warning names it."""
    keys = _keys(values, column.numeric_levels)
    gaps = np.array([k is None for k in keys])
    fill = _level_key(column.fill, column.numeric_levels)
    keys = np.array([fill if k is None else k for k in keys], dtype=object)
    kept = [_level_key(level, column.numeric_levels) for level in column.levels]
    block = np.column_stack([keys == level for level in kept]).astype(np.float64) if kept else np.zeros((len(keys), 0))
    outside = ~np.isin(keys, np.array(kept, dtype=object)) if kept else np.ones(len(keys), dtype=bool)
    rare = {_level_key(level, column.numeric_levels) for level in column.rare}
    unseen = sorted({str(k) for k in keys[outside] if k not in rare})
    if unseen:
        where = f"its '{OTHER}' column, as rare levels are" if column.other else "all zeros (no level of it is on)"
        warnings.warn(
            f"column {column.name!r} holds {len(unseen)} level(s) not seen in training ({', '.join(map(repr, unseen[:5]))}"
            f"{' ...' if len(unseen) > 5 else ''}); encoded as {where}",
            UnseenCategoryWarning, stacklevel=4,
        )  # fmt: skip
    if column.other:
        block = np.column_stack([block, outside.astype(np.float64)])
    return _with_indicator(column, block, gaps)


def encode_date(column: Column, values) -> np.ndarray:
    import pandas as pd

    dates = as_dates(values)
    if dates is None and missing_mask(values).all():  # (nothing to read as dates: all gaps)
        dates = pd.DatetimeIndex([pd.NaT] * len(values))
    if dates is None:
        example = next((v for v in np.asarray(values) if as_dates(np.array([v], dtype=object)) is None), "")
        raise ValueError(f"column {column.name!r} held dates in training but holds {str(example)!r} now; give dates")
    gaps = np.asarray(dates.isna())
    filled = dates.where(~gaps, pd.Timestamp(EPOCH) + pd.to_timedelta(column.fill, unit="D"))
    block = np.column_stack([DATE_PARTS[part](filled) for part in column.parts])
    return _with_indicator(column, block, gaps)


def encode_left_out(column: Column, values) -> np.ndarray:
    return np.zeros((len(values), 0))


#: Kind -> encode(Column, values) -> (n_rows, len(column.outputs())) float64.
ENCODERS = {"numeric": encode_numeric, "category": encode_category, "date": encode_date, "left out": encode_left_out}
