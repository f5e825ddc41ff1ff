"""Normalize, Standardize, RobustScale: FluCoMa's numbers worked out by hand, JSON, scikit-learn."""

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpkit.flucoma import DataSet, FluCoMaFormatError, Normalize, RobustScale, Standardize
from mlpkit.flucoma.scalers import EPSILON, handle_zeros_in_scale, nearest_rank

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "flucoma"

# Column 0 spreads 1..5 (uneven), column 1 is constant.
X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0], [2.0, 10.0]])


# -- the numbers ----------------------------------------------------------------------------------


def test_normalize_by_hand():
    s = Normalize().fit(X)
    assert s.data_min_.tolist() == [1, 10] and s.data_max_.tolist() == [5, 10]
    # column 0: (x - 1) / 4; column 1: range 0 -> 1, so (10 - 10) / 1 = 0
    np.testing.assert_array_equal(s.transform(X), [[0, 0], [0.5, 0], [1, 0], [0.25, 0]])
    wide = Normalize(min=-1, max=3).fit(X)  # -1 + (x - 1) / 4 * 4
    np.testing.assert_array_equal(wide.transform(X)[:, 0], [-1, 1, 3, 0])
    np.testing.assert_array_equal(wide.transform(X)[:, 1], [-1, -1, -1, -1])
    np.testing.assert_allclose(wide.inverse_transform(wide.transform(X)), X)


def test_normalize_flat_output_range_is_one_as_in_flucoma():
    s = Normalize(min=2, max=2).fit(X)  # max - min = 0 < 10 eps -> 1: y = 2 + (x - 1) / 4
    np.testing.assert_array_equal(s.transform(X)[:, 0], [2, 2.5, 3, 2.25])


def test_standardize_by_hand():
    s = Standardize().fit(X)
    # column 0: mean (1 + 3 + 5 + 2) / 4 = 2.75; squared deviations 3.0625 + 0.0625 + 5.0625 + 0.5625 = 8.75
    assert s.mean_.tolist() == [2.75, 10]
    assert s.std_[0] == pytest.approx(math.sqrt(8.75 / 4), rel=1e-15)  # population std, ddof = 0
    assert s.std_[1] == 1.0  # constant column: 0 -> 1
    np.testing.assert_allclose(s.transform(X)[:, 0], (X[:, 0] - 2.75) / math.sqrt(8.75 / 4), rtol=1e-15)
    np.testing.assert_array_equal(s.transform(X)[:, 1], 0)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X)


@pytest.mark.parametrize(
    "column, percent, expected",
    [
        ([5, 1, 4, 2, 3], 50, 3),  # n = 5: index rint(0.5 * 4) = 2
        ([5, 1, 4, 2, 3], 25, 2),  # rint(1.0) = 1
        ([5, 1, 4, 2, 3], 75, 4),  # rint(3.0) = 3
        ([40, 10, 30, 20], 50, 30),  # n = 4: rint(1.5) = 2 (ties to even): the upper middle value
        ([6, 5, 4, 3, 2, 1], 50, 3),  # n = 6: rint(2.5) = 2 (ties to even): the lower middle value
        ([0, 10], 50, 0),  # n = 2: rint(0.5) = 0
        ([1, 2, 3, 4, 5, 6], 25, 2),  # rint(1.25) = 1
        ([1, 2, 3, 4, 5, 6], 75, 5),  # rint(3.75) = 4
        ([1, 2, 3, 4, 5, 6], 0, 1),
        ([1, 2, 3, 4, 5, 6], 100, 6),
        ([7], 90, 7),
    ],
)
def test_flucoma_percentile_rule(column, percent, expected):
    assert nearest_rank(np.sort(np.array(column, dtype=float)), percent) == expected


def test_robust_scale_by_hand():
    s = RobustScale().fit(X)
    # column 0 sorted: 1 2 3 5, n = 4.
    # median: rint(1.5) = 2 -> 3; low: rint(0.75) = 1 -> 2; high: rint(2.25) = 2 -> 3
    assert (
        s.median_.tolist() == [3, 10] and s.data_low_.tolist() == [2, 10] and s.data_high_.tolist() == [3, 10]
    )
    assert s.range_.tolist() == [1, 1]  # 3 - 2 = 1; the constant column's 0 -> 1
    np.testing.assert_array_equal(s.transform(X), [[-2, 0], [0, 0], [2, 0], [-1, 0]])
    wide = RobustScale(low=0, high=100).fit(X)  # range 5 - 1 = 4
    np.testing.assert_array_equal(wide.transform(X)[:, 0], [-0.5, 0, 0.5, -0.25])
    np.testing.assert_array_equal(wide.inverse_transform(wide.transform(X)), X)


def test_tiny_scales_become_one():
    assert handle_zeros_in_scale([0.0, 9 * EPSILON, 10 * EPSILON, -3.0, 2.0]).tolist() == [
        1,
        1,
        10 * EPSILON,
        1,
        2,
    ]


# -- DataSets, points, scikit-learn ------------------------------------------------------------


@pytest.mark.parametrize(
    "scaler", [Normalize(), Standardize(), RobustScale()], ids=lambda s: type(s).__name__
)
def test_dataset_in_dataset_out(scaler):
    ds = DataSet.from_numpy(["w", "x", "y", "z"], X)
    out = scaler.fit_transform(ds)
    assert isinstance(out, DataSet) and out.ids == ds.ids
    np.testing.assert_array_equal(out.to_numpy()[1], scaler.transform(X))
    back = scaler.inverse_transform(out)
    np.testing.assert_allclose(back.to_numpy()[1], X)
    np.testing.assert_array_equal(scaler.transform_point(X[2]), scaler.transform(X)[2])
    np.testing.assert_allclose(scaler.inverse_transform_point(scaler.transform_point(X[2])), X[2])
    assert scaler.transform(DataSet(2)).size == 0


@pytest.mark.parametrize(
    "scaler", [Normalize(), Standardize(), RobustScale()], ids=lambda s: type(s).__name__
)
def test_real_timbre_data_round_trips(scaler):
    ds = DataSet.read(EXAMPLES / "timbre-dataset.json")
    _, data = ds.to_numpy()
    scaled = scaler.fit(ds).transform(data)
    np.testing.assert_allclose(scaler.inverse_transform(scaled), data, rtol=1e-12, atol=1e-9)


def test_in_a_scikit_learn_pipeline():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 3)) * [1, 100, 0.01]
    y = A @ [1.0, 0.01, 100.0]
    for scaler in (Normalize(), Standardize(), RobustScale(low=10, high=90)):
        pipe = make_pipeline(clone(scaler), LinearRegression()).fit(A, y)
        np.testing.assert_allclose(pipe.predict(A), y, atol=1e-9)
    assert clone(Normalize(min=-1, max=1)).get_params() == {"min": -1, "max": 1}


def test_errors():
    with pytest.raises(NotFittedError):
        Standardize().transform(X)
    s = Standardize().fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but Standardize is expecting 2"):
        s.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        Standardize().fit([[1.0, np.nan]])
    with pytest.raises(ValueError, match="1-D vector"):
        s.transform_point(X)
    with pytest.raises(ValueError, match="the DataSet is empty"):
        Normalize().fit(DataSet(2))
    with pytest.raises(ValueError, match="low is a percentile from 0 to 100, got 150"):
        RobustScale(low=150).fit(X)
    with pytest.raises(ValueError, match="Normalize: min must be a finite number, got 'a'"):
        Normalize(min="a").fit(X)


# -- FluCoMa JSON ---------------------------------------------------------------------------------


def test_json_keys_and_types():
    d = Normalize().fit(X).to_dict()
    assert d == {"cols": 2, "data_max": [5.0, 10.0], "data_min": [1.0, 10.0], "max": 1.0, "min": 0.0}
    assert type(d["cols"]) is int and type(d["max"]) is float
    d = Standardize().fit(X).to_dict()
    assert sorted(d) == ["cols", "mean", "std"] and d["std"][1] == 1.0
    d = RobustScale().fit(X).to_dict()
    assert d == {
        "cols": 2,
        "data_high": [3.0, 10.0],
        "data_low": [2.0, 10.0],
        "high": 75.0,
        "low": 25.0,
        "median": [3.0, 10.0],
        "range": [1.0, 1.0],
    }


@pytest.mark.parametrize(
    "scaler",
    [Normalize(min=-1, max=2), Standardize(), RobustScale(low=10, high=60)],
    ids=lambda s: type(s).__name__,
)
def test_json_round_trip(scaler, tmp_path):
    scaler.fit(X * [1.5, 1] + [0, 0.25])
    scaler.write(tmp_path / "scaler.json")
    loaded = type(scaler).read(tmp_path / "scaler.json")
    assert loaded.get_params() == scaler.get_params() and loaded.n_features_in_ == 2
    np.testing.assert_array_equal(loaded.transform(X), scaler.transform(X))
    assert loaded.to_dict() == scaler.to_dict()


def test_loading_applies_flucomas_zero_guard():
    s = Standardize.from_dict({"cols": 2, "mean": [0.0, 1.0], "std": [2.0, 0.0]})
    np.testing.assert_array_equal(s.transform([[4.0, 3.0]]), [[2.0, 2.0]])


@pytest.mark.parametrize(
    "cls, d, message",
    [
        (Standardize, {"cols": 2, "mean": [0.0, 1.0]}, "missing key\\(s\\) 'std'"),
        (Standardize, {"cols": 2, "mean": [0.0, 1.0], "std": [1.0]}, 'key "std" has 1 numbers, expected 2'),
        (Standardize, {"cols": 0, "mean": [], "std": []}, "expected a whole number >= 1"),
        (
            Normalize,
            {"cols": 1, "data_max": [1.0], "data_min": [0.0], "max": "1", "min": 0.0},
            'key "max" is a string',
        ),
        (
            Normalize,
            {"cols": 1, "data_max": [1.0], "data_min": [0.0], "max": 1.0, "min": 0.0, "x": 1},
            "unexpected key",
        ),
        (
            RobustScale,
            {
                "cols": 1,
                "data_high": [1.0],
                "data_low": [0.0],
                "high": 75.0,
                "low": 25.0,
                "median": ["a"],
                "range": [1.0],
            },
            'key "median"\\[0\\] is a string',
        ),
    ],
)
def test_bad_scaler_dicts(cls, d, message):
    with pytest.raises(FluCoMaFormatError, match=message):
        cls.from_dict(d)


def test_a_dataset_file_is_not_a_scaler():
    with pytest.raises(FluCoMaFormatError, match=r"xys-dataset\.json: the top level has missing key"):
        Normalize.read(EXAMPLES / "xys-dataset.json")


@parametrize_with_checks([Normalize(), Standardize(), RobustScale()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
