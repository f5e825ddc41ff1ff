"""``Preparation``: a table as a network needs it, chosen from what the columns look like.

A scikit-learn transformer: ``fit`` on the training rows sorts each column into a kind (``columns.py``),
fits what that kind needs (``encoding.py``: fill values, kept levels, date parts) and then a scaler for the
measured numbers (``scaling.py``'s rules, as ``mlpkit fit --scale auto``); ``transform`` turns any table with
those columns into one float64 matrix, in the order of ``get_feature_names_out()``.

Which outputs are scaled: the numeric columns and the date parts. The one-hot and missing-value indicator
columns stay 0/1: they are already of unit size, and standardising a rare level (present in 2 % of rows)
would turn its 1 into about 7, a large input the initial weights are not made for (measured: see
/work/notes/prep.md).

The fitted state is plain data (``columns_``: a :class:`~mlpkit.prep.encoding.Column` per input column;
``scaling_``: the scaler's name, the columns it scales and its fitted arrays), and
:meth:`Preparation.from_fitted` builds the same fitted transformer from exactly that data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import scaling as scaling_rules
from .columns import as_table, sort_column
from .encoding import ENCODERS, FITTERS, Column

#: ``scale=`` value -> scaler in sklearn.preprocessing (None: none).
SCALERS = {"standard": "StandardScaler", "minmax": "MinMaxScaler", "robust": "RobustScaler", "none": None}

#: Scaler -> its fitted arrays (one number per scaled column), what ``from_fitted`` sets again.
SCALER_ARRAYS = {
    "StandardScaler": ("mean_", "var_", "scale_"),
    "MinMaxScaler": ("min_", "scale_", "data_min_", "data_max_", "data_range_"),
    "RobustScaler": ("center_", "scale_"),
}


@dataclass(frozen=True)
class Scaling:
    """The fitted scaler as plain data: its class in sklearn.preprocessing (None: no scaling), why, the output
    columns it scales (in order), and its fitted arrays by attribute name."""

    scaler: str | None
    why: str
    columns: tuple = ()
    arrays: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**asdict(self), "columns": list(self.columns),
                "arrays": {name: list(map(float, values)) for name, values in self.arrays.items()}}  # fmt: skip

    @classmethod
    def from_dict(cls, record: dict) -> Scaling:
        return cls(record["scaler"], record["why"], tuple(record.get("columns", ())),
                   {name: list(values) for name, values in record.get("arrays", {}).items()})  # fmt: skip


def _scaler_object(scaling: Scaling):
    """The fitted sklearn scaler that ``scaling`` describes (None without one), its arrays set as fit sets them."""
    if scaling.scaler is None:
        return None
    from sklearn import preprocessing

    scaler = getattr(preprocessing, scaling.scaler)()
    for name in SCALER_ARRAYS[scaling.scaler]:
        values = scaling.arrays.get(name)
        setattr(scaler, name, None if values is None else np.asarray(values, dtype=np.float64))
    scaler.n_features_in_ = len(scaling.columns)
    return scaler


class Preparation(TransformerMixin, BaseEstimator):
    """Turn a table (text, yes/no, gaps, identifiers, dates) into the numbers a network learns from.

    Each column is sorted into a kind from what its training rows hold, and encoded:

    - numbers: gaps filled with the training median (``SimpleImputer``);
    - text, booleans, ``yes``/``no`` and the columns in ``categorical``: one 0/1 column per level
      (``OneHotEncoder``), levels with fewer than ``min_frequency`` training rows (and beyond
      ``max_levels``) grouped in one ``=other`` column; a level unseen in training is encoded as
      ``other`` (or all zeros when there is no such column), with an ``UnseenCategoryWarning``;
    - dates and times: days since 1970, month, weekday (and hour where the times vary);
    - identifier-like columns (an unnamed first column such as R's row names, a distinct text per row, a
      running integer index): left out, unless named in ``keep``;
    - every column with gaps in the training rows gets a 0/1 missing-value indicator column.

    The numeric columns and date parts are then scaled (``scale``), the 0/1 columns not.

    Parameters
    ----------
    categorical : list of str, optional
        Columns to treat as categories although they hold numbers (few-valued codes such as 1, 2, 3).
    keep : list of str, optional
        Columns to keep although they look like identifiers.
    scale : {'auto', 'standard', 'minmax', 'robust', 'none'}, default='auto'
        'auto' picks the scaler from what the numeric columns look like (``mlpkit.guide``'s rules:
        RobustScaler for heavy outliers, MinMaxScaler for bounded columns, else StandardScaler, or none
        when the columns are of moderate size around 0).
    min_frequency : int or float, default=5
        Levels with fewer training rows (a float: share of the rows) are grouped as rare
        (``OneHotEncoder(min_frequency=...)``).
    max_levels : int or None, default=40
        At most this many one-hot columns per category column, 'other' included
        (``OneHotEncoder(max_categories=...)``; skrub's TableVectorizer draws the line at 40 too).

    Attributes
    ----------
    columns_ : list of Column
        Per input column: its kind, why, fill value, indicator flag, levels kept and grouped, date parts.
    scaling_ : Scaling
        The scaler chosen, why, the output columns it scales and its fitted arrays.
    scaler_ : sklearn scaler or None
        The same scaler as an object.
    n_features_in_, feature_names_in_ : as scikit-learn's transformers (names only for a DataFrame or dict).

    Examples
    --------
    >>> from mlpkit import MLPClassifier, Preparation
    >>> from sklearn.pipeline import make_pipeline
    >>> model = make_pipeline(Preparation(categorical=["grade"]), MLPClassifier())  # doctest: +SKIP
    >>> model.fit(frame, y).predict(new_frame)                                      # doctest: +SKIP
    """

    def __init__(self, categorical=None, keep=None, scale="auto", min_frequency=5, max_levels=40):
        self.categorical = categorical
        self.keep = keep
        self.scale = scale
        self.min_frequency = min_frequency
        self.max_levels = max_levels

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Choose and fit each column's encoding, and the scaler, on these (training) rows."""
        if self.scale not in ("auto", *SCALERS):
            raise ValueError(f"scale must be 'auto', {', '.join(map(repr, SCALERS))}; got {self.scale!r}")
        table, named = as_table(X, type(self).__name__)
        for param in ("categorical", "keep"):
            unknown = [name for name in (getattr(self, param) or ()) if name not in table]
            if unknown:
                raise ValueError(f"{param}={unknown}: no such column; the columns are {list(table)}")
        params = {"min_frequency": self.min_frequency, "max_levels": self.max_levels}
        columns = []
        for position, (name, values) in enumerate(table.items()):
            kind, why = sort_column(name, values, position, self.categorical or (), self.keep or ())
            columns.append(FITTERS[kind](name, np.asarray(values), why, params))
        self._set_fitted(columns, Scaling(None, ""), named)  # the columns first: the scaler is fitted on their encoding
        self._set_fitted(columns, self._fit_scaling(self._encode(table)), named)
        return self

    def _fit_scaling(self, encoded: np.ndarray) -> Scaling:
        names = [name for column in self.columns_ for name in column.scaled_outputs()]
        if not names:
            return Scaling(None, "no numeric columns to scale")
        block = encoded[:, [self._outputs.index(name) for name in names]]
        if self.scale == "auto":
            advice = scaling_rules.scaling_advice(block, names)
            scaler = advice.scaler if advice.needed else None
            why = f"chosen from the data: {advice.reasons[0]}" if advice.needed else \
                "chosen from the data: the numeric columns are of moderate size around 0"  # fmt: skip
        else:
            scaler, why = SCALERS[self.scale], "as asked"
        if scaler is None:
            return Scaling(None, why)
        from sklearn import preprocessing

        fitted = getattr(preprocessing, scaler)().fit(block)
        arrays = {attr: np.asarray(getattr(fitted, attr), dtype=np.float64).tolist()
                  for attr in SCALER_ARRAYS[scaler] if getattr(fitted, attr, None) is not None}  # fmt: skip
        return Scaling(scaler, why, tuple(names), arrays)

    def _set_fitted(self, columns, scaling: Scaling, named: bool) -> None:
        self.columns_ = list(columns)
        self.scaling_ = scaling
        self.scaler_ = _scaler_object(scaling)
        self.n_features_in_ = len(self.columns_)
        if named:
            self.feature_names_in_ = np.asarray([column.name for column in self.columns_], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._outputs = [name for column in self.columns_ for name in column.outputs()]
        self._scaled = [self._outputs.index(name) for name in scaling.columns]

    @classmethod
    def from_fitted(cls, columns, scaling, *, named: bool = True, **params) -> Preparation:
        """The fitted Preparation that ``columns`` (its ``columns_``: Column records or their ``to_dict()``) and
        ``scaling`` (its ``scaling_``, or ``to_dict()``) describe; nothing is refitted, so it transforms
        exactly as the one they came from. ``named``: whether it was fitted on named columns (a DataFrame or
        dict); ``params``: its constructor parameters."""
        columns = [c if isinstance(c, Column) else Column.from_dict(c) for c in columns]
        scaling = scaling if isinstance(scaling, Scaling) else Scaling.from_dict(scaling)
        outputs = [name for column in columns for name in column.outputs()]
        missing = [name for name in scaling.columns if name not in outputs]
        if missing:
            raise ValueError(f"the scaler scales columns {missing} that the columns do not make (they make {outputs})")
        prep = cls(**params)
        prep._set_fitted(columns, scaling, named)
        return prep

    # ------------------------------------------------------------------ transform
    def transform(self, X) -> np.ndarray:
        """The table as a float64 matrix (rows x ``get_feature_names_out()``)."""
        check_is_fitted(self, "columns_")
        encoded = self._encode(self._columns_of(X))
        if self.scaler_ is not None:
            encoded[:, self._scaled] = self.scaler_.transform(encoded[:, self._scaled])
        return encoded

    def _columns_of(self, X) -> dict:
        """The fitted columns of ``X``: by name where both have names (extra columns ignored), else by position."""
        table, named = as_table(X, type(self).__name__)
        expected = [column.name for column in self.columns_]
        if named and hasattr(self, "feature_names_in_"):
            missing = [name for name in expected if name not in table]
            if missing:
                raise ValueError(
                    f"X lacks the column(s) {missing} that the preparation was fitted on; give every training"
                    f" column (extra columns are ignored). Its columns are {list(table)}"
                )
            return {name: table[name] for name in expected}
        if len(table) != len(expected):  # by position: scikit-learn's message (validation._check_n_features)
            raise ValueError(f"X has {len(table)} features, but {type(self).__name__} is expecting"
                             f" {self.n_features_in_} features as input.")  # fmt: skip
        return dict(zip(expected, table.values()))

    def _encode(self, table: dict) -> np.ndarray:
        rows = len(next(iter(table.values())))
        blocks = [ENCODERS[column.kind](column, np.asarray(table[column.name])) for column in self.columns_]
        return np.column_stack(blocks).astype(np.float64) if blocks else np.zeros((rows, 0))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The output columns' names: ``col`` for numbers, ``col=level`` / ``col=other`` for categories,
        ``col_days`` / ``_month`` / ``_weekday`` / ``_hour`` for dates, ``col_missing`` for indicators."""
        check_is_fitted(self, "columns_")
        return np.asarray(self._outputs, dtype=object)

    # ------------------------------------------------------------------ reading it
    def columns_of_kind(self, kind: str) -> list[str]:
        """The names of the input columns of one kind ('numeric', 'category', 'date', 'left out')."""
        check_is_fitted(self, "columns_")
        return [column.name for column in self.columns_ if column.kind == kind]

    def fitted_state(self) -> dict:
        """The fitted state as plain data (JSON-able): ``from_fitted(**state, **params)`` rebuilds it."""
        check_is_fitted(self, "columns_")
        return {"columns": [column.to_dict() for column in self.columns_], "scaling": self.scaling_.to_dict(),
                "named": hasattr(self, "feature_names_in_")}  # fmt: skip

    def only_scales(self) -> bool:
        """Every column is numeric without gaps and none is left out: the preparation is its scaler alone."""
        check_is_fitted(self, "columns_")
        return all(column.kind == "numeric" and not column.indicator for column in self.columns_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
