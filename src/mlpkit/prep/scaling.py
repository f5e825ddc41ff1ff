"""Whether a table's numeric columns need scaling, and which scaler fits them.

Each check is a small function on numbers computed once per column (``column_stats``); the rules
and their thresholds are the tables below, so they can be read (and changed) in one place. The
guide's advice (``mlpkit.guide.data``), ``mlpkit fit --scale auto`` and ``Preparation(scale='auto')``
all choose by these rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse


@dataclass
class ColumnStats:
    """Per-column statistics of a data matrix (arrays of one value per column)."""

    mean: np.ndarray
    std: np.ndarray
    rms: np.ndarray  # sqrt(mean(x^2)): the typical size of the values, offset included
    span: np.ndarray  # max - min
    q1: np.ndarray
    q3: np.ndarray
    far_out_share: np.ndarray  # share of values beyond Tukey's far-out fences (q1 - 3 iqr, q3 + 3 iqr)
    names: list | None = None  # the columns' names (a CSV header, a DataFrame's columns), or None

    def column(self, index) -> str:
        """How the advice names a column: by its name where the data has names, else by its index."""
        return f"column {self.names[index]!r}" if self.names is not None else f"column {index}"


def dense_2d(X) -> np.ndarray:
    """X as a 2-D float array (sparse input is made dense: advice is for data that fits in memory)."""
    X = X.toarray() if scipy.sparse.issparse(X) else np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D table of rows x columns; got an array of shape {X.shape}.")
    return X.astype(float, copy=False)


def column_stats(X, names=None) -> ColumnStats:
    X = dense_2d(X)
    if names is not None and len(names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(names)} names for {X.shape[1]} columns; give one name per column")
    q1, q3 = np.percentile(X, [25, 75], axis=0)
    iqr = q3 - q1
    far_out = (X < q1 - 3 * iqr) | (X > q3 + 3 * iqr)
    return ColumnStats(
        mean=X.mean(axis=0),
        std=X.std(axis=0),
        rms=np.sqrt(np.mean(X**2, axis=0)),
        span=np.ptp(X, axis=0),
        q1=q1,
        q3=q3,
        far_out_share=np.where(iqr > 0, far_out.mean(axis=0), 0.0),
        names=None if names is None else [str(name) for name in names],
    )


#: A column whose values are typically (root mean square) larger than this is "large".
LARGE_VALUE = 5.0
#: Columns whose ranges differ by more than this factor are "uneven".
UNEVEN_RATIO = 100.0
#: A column centred more than this many standard deviations (and more than 1) away from 0 is "off-centre".
OFFSET_STDS = 3.0


def large_values(s: ColumnStats) -> str | None:
    """Rule: some column's root mean square exceeds 5. The initial weights of a network
    (Glorot, He) assume inputs of about unit size; large ones saturate or blow up its units."""
    worst = int(np.argmax(s.rms))
    if s.rms[worst] <= LARGE_VALUE:
        return None
    return f"{s.column(worst)} has values of typical size {s.rms[worst]:.3g} (networks expect about 1)"


def uneven_ranges(s: ColumnStats) -> str | None:
    """Rule: the widest column's range is more than 100 times the narrowest (constant columns aside).
    Gradient steps move every weight alike, so narrow columns learn that many times slower."""
    spans = np.where(s.span > 0, s.span, np.nan)
    if np.all(np.isnan(spans)) or np.nanmax(spans) <= UNEVEN_RATIO * np.nanmin(spans):
        return None
    wide, narrow = int(np.nanargmax(spans)), int(np.nanargmin(spans))
    return (
        f"column ranges differ {spans[wide] / spans[narrow]:.3g}-fold"
        f" ({s.column(wide)}: {spans[wide]:.3g}, {s.column(narrow)}: {spans[narrow]:.3g})"
    )


def off_centre(s: ColumnStats) -> str | None:
    """Rule: some column's mean is more than 3 standard deviations and more than 1 away from 0.
    Inputs all of one sign make the first layer's weights zig-zag (LeCun et al. 1998, "Efficient BackProp")."""
    distance = np.abs(s.mean) / np.where(s.std > 0, s.std, np.inf)
    flagged = (distance > OFFSET_STDS) & (np.abs(s.mean) > 1)
    if not flagged.any():
        return None
    worst = int(np.argmax(np.where(flagged, distance, -1)))
    return (
        f"{s.column(worst)} is centred at {s.mean[worst]:.3g}, {distance[worst]:.3g} standard deviations from 0"
    )


#: Checks that call for scaling; each returns a reason or None.
SCALING_CHECKS = (large_values, uneven_ranges, off_centre)

#: A column with at least this share of values beyond Tukey's far-out fences has heavy outliers.
OUTLIER_SHARE = 0.01
#: Columns whose range is within this many standard deviations are spread over a bounded interval
#: (uniform data: 3.5; a bell curve of 100 rows: about 5).
BOUNDED_SPAN_STDS = 4.0


def has_heavy_outliers(s: ColumnStats) -> bool:
    """Some column has >= 1 % of its values beyond q1 - 3 IQR or q3 + 3 IQR (Tukey's far-out values)."""
    return bool(np.any(s.far_out_share >= OUTLIER_SHARE))


def zero_iqr_columns(s: ColumnStats) -> np.ndarray:
    """Indices of the columns that vary but whose interquartile range is 0 (mostly one value: pixels that
    are usually blank, counts that are usually 0). RobustScaler divides by the IQR and leaves such a
    column as it is (scikit-learn's scale 1), so it would stay in the thousands if it was."""
    return np.flatnonzero((s.span > 0) & (s.q3 - s.q1 == 0))


def robust_scaling_fits(s: ColumnStats) -> bool:
    """Heavy outliers (``has_heavy_outliers``) in data where every varying column has an IQR to divide by."""
    return has_heavy_outliers(s) and zero_iqr_columns(s).size == 0


def looks_bounded(s: ColumnStats) -> bool:
    """Every varying column's range is at most 4 standard deviations: values fill an interval, no tails."""
    varying = s.std > 0
    return bool(varying.any() and np.all(s.span[varying] <= BOUNDED_SPAN_STDS * s.std[varying]))


class ScalerChoice(NamedTuple):
    applies: Callable[[ColumnStats], bool]
    scaler: str  # in sklearn.preprocessing
    flucoma_scaler: str  # the same in mlpkit.flucoma
    why: str


def always(s: ColumnStats) -> bool:
    return True


#: The first choice that applies is suggested.
SCALERS = (
    ScalerChoice(
        robust_scaling_fits,
        "RobustScaler",
        "RobustScale",
        (
            "some columns have heavy outliers; RobustScaler centres on the median and divides by the"
            " interquartile range, so a few extreme values do not squash the rest of the column"
        ),
    ),
    ScalerChoice(
        looks_bounded,
        "MinMaxScaler",
        "Normalize",
        (
            "the columns fill bounded ranges (like MIDI values, sliders or pixel intensities); MinMaxScaler"
            " maps each range onto [0, 1]"
        ),
    ),
    ScalerChoice(
        always,
        "StandardScaler",
        "Standardize",
        (
            "StandardScaler centres each column on 0 with standard deviation 1, the scale a network's"
            " initial weights are made for"
        ),
    ),
)


@dataclass
class ScalingAdvice:
    needed: bool
    reasons: list[str] = field(default_factory=list)
    scaler: str | None = None  # scikit-learn's name (sklearn.preprocessing)
    flucoma_scaler: str | None = None  # the same in mlpkit.flucoma
    why: str = ""
    constant_columns: list = field(default_factory=list)  # names where the data has them, else indices

    def lines(self) -> list[str]:
        if not self.needed:
            text = ["not needed: the columns are of similar, moderate size around 0"]
        else:
            use = (
                f"use sklearn.preprocessing.{self.scaler} (mlpkit.flucoma.{self.flucoma_scaler}): {self.why}."
                " Fit it on the training rows only (a Pipeline does that)"
            )
            text = [f"needed: {'; '.join(self.reasons)}", use]
        if self.constant_columns:
            text.append(f"columns {self.constant_columns} are constant and carry no information: drop them")
        return text


def scaling_advice(X, names=None) -> ScalingAdvice:
    """Whether X's columns need scaling (``SCALING_CHECKS``) and which scaler fits them (``SCALERS``); the
    columns are named by ``names`` where given (a CSV header), else by index."""
    s = column_stats(X, names)
    reasons = [reason for check in SCALING_CHECKS if (reason := check(s)) is not None]
    constant = [s.names[i] if s.names else int(i) for i in np.flatnonzero(s.span == 0)]
    if not reasons:
        return ScalingAdvice(False, constant_columns=constant)
    choice = next(choice for choice in SCALERS if choice.applies(s))
    return ScalingAdvice(True, reasons, choice.scaler, choice.flucoma_scaler, choice.why, constant)


def target_scaling_note(y) -> str | None:
    """For regression: a note when the targets themselves are large or off-centre (same rules as X)."""
    s = column_stats(np.asarray(y, dtype=float))
    reasons = [reason.replace("column", "target column") for check in SCALING_CHECKS if (reason := check(s))]
    if not reasons:
        return None
    return (
        f"the targets need scaling too ({'; '.join(reasons)}): large targets give large losses and"
        " gradients, and the stopping rule's tol is absolute. Wrap the model in"
        " sklearn.compose.TransformedTargetRegressor(regressor=model, transformer=StandardScaler())."
    )
