"""FluCoMa's three scalers with its exact numbers: ``Normalize``, ``Standardize``, ``RobustScale``.

Each learns per-column statistics with ``fit`` and maps data with ``transform`` /
``inverse_transform`` (and ``transform_point`` for one vector), on a :class:`DataSet` (giving a
new DataSet with the same identifiers) or a 2-D array (giving an array). They are scikit-learn
transformers, so they also work inside a ``Pipeline`` on arrays.

The formulas follow flucoma-core (``algorithms/public/Normalization.hpp``,
``Standardization.hpp``, ``RobustScaling.hpp``, ``util/ScalerUtils.hpp``), operation for
operation:

* every range or standard deviation below ``10 * eps`` (eps = 2.22e-16, the float64 machine
  epsilon) is replaced by 1, so constant columns pass through shifted but not blown up. As in
  FluCoMa this also applies to a negative range (``min > max`` or ``low > high``).
* Standardize uses the population standard deviation (ddof = 0).
* RobustScale's percentiles are elements of the sorted column, no interpolation: the ``p``-th
  percentile of ``n`` values is ``sorted[rint(p / 100 * (n - 1))]`` with ``rint`` rounding
  halves to even (C's ``lrint``). The median is the 50th percentile by the same rule, so for an
  even ``n`` it is one of the two middle values, never their mean.

Files hold FluCoMa's keys (``to_dict`` / ``from_dict``, ``write`` / ``read``)::

    Normalize:   {"cols", "data_max", "data_min", "max", "min"}
    Standardize: {"cols", "mean", "std"}
    RobustScale: {"cols", "data_high", "data_low", "high", "low", "median", "range"}
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import jsonio
from .dataset import DataSet

#: Machine epsilon of float64 (FluCoMa's ``fluid::algorithm::epsilon``).
EPSILON = float(np.finfo(np.float64).eps)


def handle_zeros_in_scale(scale):
    """``scale`` with every entry below ``10 * EPSILON`` replaced by 1 (FluCoMa's rule)."""
    return np.where(np.asarray(scale, dtype=np.float64) < 10 * EPSILON, 1.0, scale)


def nearest_rank(sorted_column: np.ndarray, percent: float) -> float:
    """FluCoMa's percentile of an ascending column: ``sorted[rint(percent / 100 * (n - 1))]``."""
    return sorted_column[int(np.rint(percent / 100.0 * (len(sorted_column) - 1)))]


class _FluCoMaScaler(TransformerMixin, BaseEstimator):
    """fit / transform / inverse_transform on DataSets or arrays, JSON in and out.

    A subclass defines ``_fit_array(X)`` (set the fitted attributes), ``_forward(X)``,
    ``_inverse(X)``, ``_json_fields()`` and ``_from_json(d, cols, source)``.
    """

    #: JSON keys besides "cols".
    _json_keys: tuple[str, ...] = ()

    # -- scikit-learn API ---------------------------------------------------------------------------

    def fit(self, data, y=None):
        """Learn the per-column statistics of ``data`` (a DataSet or a 2-D array)."""
        self._check_params()
        _, X = self._matrix(data, reset=True)
        self._fit_array(X)
        return self

    def transform(self, data):
        """Scale ``data``: a DataSet gives a new DataSet (same ids), an array gives an array."""
        ids, X = self._matrix(data, reset=False)
        return self._wrap(ids, self._forward(X))

    def inverse_transform(self, data):
        """Undo :meth:`transform`."""
        ids, X = self._matrix(data, reset=False)
        return self._wrap(ids, self._inverse(X))

    def transform_point(self, vector) -> np.ndarray:
        """Scale one point (1-D, ``cols`` values)."""
        return self.transform(self._point(vector))[0]

    def inverse_transform_point(self, vector) -> np.ndarray:
        """Undo :meth:`transform_point`."""
        return self.inverse_transform(self._point(vector))[0]

    # -- data in and out ---------------------------------------------------------------------------

    def _matrix(self, data, reset: bool):
        """``(ids or None, X)`` with X a checked finite float64 array (n, cols)."""
        if not reset:
            check_is_fitted(self)
        if isinstance(data, DataSet):
            ids, X = data.to_numpy()
            if not ids and reset:
                raise ValueError(f"{type(self).__name__}.fit needs at least one point; the DataSet is empty")
            if not ids and data.cols in (None, self.n_features_in_):
                return ids, np.empty((0, self.n_features_in_))
        else:
            ids, X = None, data
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=True)
        return ids, X

    @staticmethod
    def _wrap(ids, X):
        """An array stays an array; rows from a DataSet go back under their identifiers."""
        if ids is None:
            return X
        return DataSet.from_numpy(ids, X) if ids else DataSet(X.shape[1])

    @staticmethod
    def _point(vector) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float64)
        if v.ndim != 1:
            raise ValueError(f"a point is a 1-D vector, got shape {v.shape}; use transform for 2-D data")
        return v[None, :]

    def _check_params(self) -> None:
        for name in self.get_params():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
                raise ValueError(f"{type(self).__name__}: {name} must be a finite number, got {value!r}")

    # -- FluCoMa JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """FluCoMa's JSON object for this fitted scaler."""
        check_is_fitted(self)
        return {"cols": int(self.n_features_in_), **self._json_fields()}

    def write(self, path) -> None:
        """Write FluCoMa's JSON file, atomically."""
        jsonio.write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: dict, source: str = jsonio.NOT_A_FILE):
        """A fitted scaler from FluCoMa's JSON object (every key, length and number checked)."""
        jsonio.require_object(d, source, "the top level")
        jsonio.require_keys(d, {"cols", *cls._json_keys}, source)
        cols = jsonio.require_count(d["cols"], source, 'key "cols"', minimum=1)
        scaler = cls._from_json(d, cols, source)
        scaler.n_features_in_ = cols
        return scaler

    @classmethod
    def read(cls, path):
        """A fitted scaler from a FluCoMa JSON file."""
        return cls.from_dict(jsonio.read_json(path), source=str(path))

    @staticmethod
    def _vector(d, key, cols, source):
        return jsonio.require_numbers(d[key], source, f'key "{key}"', length=cols)


class Normalize(_FluCoMaScaler):
    """Map each column's [data_min, data_max] onto [min, max].

    ``y = min + (x - data_min) / data_range * range`` with ``data_range = data_max - data_min``
    and ``range = max - min``, each replaced by 1 below ``10 * eps``. Inverse:
    ``x = data_min + (y - min) / range * data_range``.
    """

    _json_keys = ("data_max", "data_min", "max", "min")

    def __init__(self, min=0.0, max=1.0):
        self.min = min
        self.max = max

    def _fit_array(self, X):
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)

    def _scales(self):
        return handle_zeros_in_scale(self.data_max_ - self.data_min_), float(
            handle_zeros_in_scale(self.max - self.min)
        )

    def _forward(self, X):
        data_range, out_range = self._scales()
        return self.min + ((X - self.data_min_) / data_range) * out_range

    def _inverse(self, X):
        data_range, out_range = self._scales()
        return self.data_min_ + ((X - self.min) / out_range) * data_range

    def _json_fields(self):
        return {
            "data_max": self.data_max_.tolist(),
            "data_min": self.data_min_.tolist(),
            "max": float(self.max),
            "min": float(self.min),
        }

    @classmethod
    def _from_json(cls, d, cols, source):
        scaler = cls(
            min=jsonio.require_number(d["min"], source, 'key "min"'),
            max=jsonio.require_number(d["max"], source, 'key "max"'),
        )
        scaler.data_min_ = cls._vector(d, "data_min", cols, source)
        scaler.data_max_ = cls._vector(d, "data_max", cols, source)
        return scaler


class Standardize(_FluCoMaScaler):
    """Centre each column on its mean and divide by its population standard deviation.

    ``y = (x - mean) / std`` with ``std = sqrt(mean((x - mean)^2))`` (ddof = 0), replaced by 1
    below ``10 * eps``. Inverse: ``x = y * std + mean``.
    """

    _json_keys = ("mean", "std")

    def _fit_array(self, X):
        self.mean_ = X.mean(axis=0)
        self.std_ = handle_zeros_in_scale(np.sqrt(np.square(X - self.mean_).mean(axis=0)))

    def _forward(self, X):
        return (X - self.mean_) / self.std_

    def _inverse(self, X):
        return X * self.std_ + self.mean_

    def _json_fields(self):
        return {"mean": self.mean_.tolist(), "std": self.std_.tolist()}

    @classmethod
    def _from_json(cls, d, cols, source):
        scaler = cls()
        scaler.mean_ = cls._vector(d, "mean", cols, source)
        scaler.std_ = handle_zeros_in_scale(cls._vector(d, "std", cols, source))  # as FluCoMa does on load
        return scaler


class RobustScale(_FluCoMaScaler):
    """Centre each column on its median and divide by the spread between two percentiles.

    ``y = (x - median) / range`` with ``range = data_high - data_low``, where ``data_low`` and
    ``data_high`` are the ``low``-th and ``high``-th percentiles (FluCoMa's rule
    ``sorted[rint(p / 100 * (n - 1))]``, see the module docstring) and ``range`` is replaced by 1
    below ``10 * eps``. Inverse: ``x = y * range + median``.
    """

    _json_keys = ("data_high", "data_low", "high", "low", "median", "range")

    def __init__(self, low=25.0, high=75.0):
        self.low = low
        self.high = high

    def _check_params(self):
        super()._check_params()
        for name in ("low", "high"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(
                    f"RobustScale: {name} is a percentile from 0 to 100, got {getattr(self, name)!r}"
                )

    def _fit_array(self, X):
        columns = np.sort(X, axis=0).T
        self.median_ = np.array([nearest_rank(c, 50.0) for c in columns])
        self.data_low_ = np.array([nearest_rank(c, self.low) for c in columns])
        self.data_high_ = np.array([nearest_rank(c, self.high) for c in columns])
        self.range_ = handle_zeros_in_scale(self.data_high_ - self.data_low_)

    def _forward(self, X):
        return (X - self.median_) / self.range_

    def _inverse(self, X):
        return X * self.range_ + self.median_

    def _json_fields(self):
        return {
            "data_high": self.data_high_.tolist(),
            "data_low": self.data_low_.tolist(),
            "high": float(self.high),
            "low": float(self.low),
            "median": self.median_.tolist(),
            "range": self.range_.tolist(),
        }

    @classmethod
    def _from_json(cls, d, cols, source):
        scaler = cls(
            low=jsonio.require_number(d["low"], source, 'key "low"'),
            high=jsonio.require_number(d["high"], source, 'key "high"'),
        )
        scaler.data_low_ = cls._vector(d, "data_low", cols, source)
        scaler.data_high_ = cls._vector(d, "data_high", cols, source)
        scaler.median_ = cls._vector(d, "median", cols, source)
        scaler.range_ = handle_zeros_in_scale(
            cls._vector(d, "range", cols, source)
        )  # as FluCoMa does on load
        return scaler
