"""mlpkit.Preparation: each kind of column, unseen levels, missing and extra columns, rebuilding from plain data."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from prep_helpers import mixed_table
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpkit import MLPClassifier, Preparation
from mlpkit.prep import UnseenCategoryWarning


def table(n=60, seed=0) -> pd.DataFrame:
    return mixed_table(n, seed)


def test_every_kind_of_column_is_recognised():
    prep = Preparation(categorical=["grade"]).fit(table())
    kinds = {column.name: column.kind for column in prep.columns_}
    assert kinds == {"rownames": "left out", "name": "left out", "owner": "category", "when": "date",
                     "x": "numeric", "colour": "category", "flag": "category", "grade": "category"}
    out = list(prep.get_feature_names_out())
    assert out[:5] == ["owner=no", "owner=yes", "when_days", "when_month", "when_weekday"]
    assert "x_missing" in out and "colour_missing" in out and "colour=other" in out
    assert ["grade=1", "grade=2", "grade=3"] == [name for name in out if name.startswith("grade")]
    assert not any(name.startswith(("rownames", "name")) for name in out)


def test_without_categorical_a_code_is_numeric_and_keep_keeps_an_identifier():
    prep = Preparation(keep=["name"]).fit(table())
    kinds = {column.name: column.kind for column in prep.columns_}
    assert kinds["grade"] == "numeric"
    assert kinds["name"] == "category"  # kept: text, so one-hot (its levels are rare: all in 'other')


def test_gaps_are_filled_and_indicated_and_numbers_scaled_but_not_0_1_columns():
    frame = table()
    prep = Preparation().fit(frame)
    out = prep.transform(frame)
    names = list(prep.get_feature_names_out())
    assert np.isfinite(out).all()
    x = out[:, names.index("x")]
    assert abs(x.mean()) < 0.2 and 0.8 < x.std() < 1.2  # StandardScaler: x was around 50
    gaps = frame["x"].isna().to_numpy()
    np.testing.assert_array_equal(out[:, names.index("x_missing")], gaps.astype(float))
    one_hot = [i for i, name in enumerate(names) if "=" in name or name.endswith("_missing")]
    assert set(np.unique(out[:, one_hot])) <= {0.0, 1.0}
    assert prep.scaling_.scaler == "StandardScaler" and "x" in prep.scaling_.columns


def test_rare_levels_are_grouped_and_unseen_levels_warn_and_go_to_other():
    frame = table()
    prep = Preparation().fit(frame)
    colour = next(column for column in prep.columns_ if column.name == "colour")
    assert set(colour.rare) == {"blue", "mauve"} and colour.other
    new = frame.head(2).copy()
    new["colour"] = ["purple", "red"]
    with pytest.warns(UnseenCategoryWarning, match="'colour'.*'purple'.*other"):
        out = prep.transform(new)
    names = list(prep.get_feature_names_out())
    assert out[0, names.index("colour=other")] == 1 and out[0, names.index("colour=red")] == 0


def test_an_unseen_level_without_an_other_column_is_all_zeros():
    frame = table()
    prep = Preparation().fit(frame)
    new = frame.head(1).copy()
    new["owner"] = ["maybe"]
    with pytest.warns(UnseenCategoryWarning, match="all zeros"):
        out = prep.transform(new)
    names = list(prep.get_feature_names_out())
    assert out[0, names.index("owner=yes")] == 0 and out[0, names.index("owner=no")] == 0


def test_a_missing_column_is_an_error_naming_it_and_extra_columns_are_ignored():
    frame = table()
    prep = Preparation().fit(frame)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['x'\]"):
        prep.transform(frame.drop(columns=["x"]))
    shuffled = frame.assign(target=1, other_extra="z")[list(reversed(frame.columns)) + ["target", "other_extra"]]
    np.testing.assert_array_equal(prep.transform(shuffled), prep.transform(frame))


def test_text_in_a_numeric_column_at_transform_is_an_error_naming_it():
    frame = table()
    prep = Preparation().fit(frame)
    with pytest.raises(ValueError, match="column 'x' held numbers in training but holds 'lots'"):
        prep.transform(frame.head(2).assign(x=["lots", 1.0]))


def test_dicts_and_arrays_work_too():
    frame = table()
    by_dict = Preparation().fit({name: frame[name].to_numpy() for name in frame.columns})
    np.testing.assert_allclose(by_dict.transform(frame), Preparation().fit(frame).transform(frame))
    numbers = np.random.default_rng(0).normal(size=(30, 3))
    array_prep = Preparation().fit(numbers)
    assert list(array_prep.get_feature_names_out()) == ["x0", "x1", "x2"] and array_prep.only_scales()
    mixed = np.array([["a", 1.0], ["b", 2.0], ["a", np.nan]] * 5, dtype=object)
    out = Preparation(min_frequency=1).fit_transform(mixed)
    assert out.shape == (15, 4)  # x0=a, x0=b, x1, x1_missing


def test_rebuilt_from_plain_data_transforms_identically():
    frame = table()
    prep = Preparation(categorical=["grade"]).fit(frame)
    state = json.loads(json.dumps(prep.fitted_state()))  # plain data: survives JSON
    rebuilt = Preparation.from_fitted(**state, **prep.get_params())
    new = table(n=25, seed=1)
    new.loc[0, "colour"] = "purple"  # unseen
    new.loc[1, "owner"] = None  # a gap the training rows did not have
    new.loc[2, "when"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        np.testing.assert_allclose(rebuilt.transform(new), prep.transform(new), rtol=0, atol=1e-12)
    assert list(rebuilt.get_feature_names_out()) == list(prep.get_feature_names_out())


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust", "none"])
def test_each_scaler_rebuilds(scale):
    frame = table()
    prep = Preparation(scale=scale).fit(frame)
    rebuilt = Preparation.from_fitted(**prep.fitted_state())
    np.testing.assert_allclose(rebuilt.transform(frame), prep.transform(frame), rtol=0, atol=1e-12)


def test_it_is_a_scikit_learn_transformer_in_pipelines_and_searches():
    frame, y = table(), np.random.default_rng(2).choice(["a", "b"], 60)
    prep = Preparation(categorical=["grade"], scale="minmax")
    assert clone(prep).get_params() == prep.get_params()
    model = Pipeline([("prepare", prep), ("mlp", MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0))])
    search = GridSearchCV(model, {"prepare__scale": ["standard", "none"]}, cv=2).fit(frame, y)
    assert search.best_estimator_.predict(frame.head(3)).shape == (3,)


def test_bad_parameters_say_what_is_wrong():
    with pytest.raises(ValueError, match="scale must be"):
        Preparation(scale="log").fit(table())
    with pytest.raises(ValueError, match=r"categorical=\['nope'\]: no such column"):
        Preparation(categorical=["nope"]).fit(table())


def test_running_indexes_are_left_out_by_name_or_order_and_kept_when_asked():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"customer_id": rng.permutation(40) + 1000, "row": np.arange(40), "age": rng.integers(18, 90, 40)})
    prep = Preparation().fit(frame)
    kinds = {column.name: column.kind for column in prep.columns_}
    assert kinds == {"customer_id": "left out", "row": "left out", "age": "numeric"}
    assert "running index" in prep.columns_[1].why
    assert {c.name: c.kind for c in Preparation(keep=["row"]).fit(frame).columns_}["row"] == "numeric"


def test_pandas_nullable_and_time_zone_columns():
    frame = pd.DataFrame({
        "count": pd.array([1, None, 3, 4] * 5, dtype="Int64"),
        "word": pd.array(["a", None, "b", "a"] * 5, dtype="string"),
        "at": pd.date_range("2024-01-01", periods=20, freq="D", tz="Europe/Oslo"),
    })
    prep = Preparation(min_frequency=1).fit(frame)
    kinds = {column.name: column.kind for column in prep.columns_}
    assert kinds == {"count": "numeric", "word": "category", "at": "date"}
    assert np.isfinite(prep.transform(frame)).all()


@parametrize_with_checks([Preparation()])
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)  # every one: users put it in their own Pipelines


@pytest.mark.parametrize("bad, error, message", [
    (table().iloc[:0], ValueError, r"0 sample\(s\) \(shape=\(0, 8\)\) while a minimum of 1 is required by Preparation"),
    (table()[[]], ValueError, r"0 feature\(s\) \(shape=\(60, 0\)\) while a minimum of 1 is required by Preparation"),
    ({"z": np.array([1 + 2j, 3.0])}, ValueError, r"Complex data not supported: the column\(s\) \['z'\]"),
    (scipy.sparse.dok_matrix(np.eye(3)), TypeError, "Sparse data was passed"),  # a dict, but not of columns
    (np.array(["a", "b", "c"]), ValueError, "Expected 2D array, got 1D array instead"),
])  # fmt: skip
def test_named_tables_and_arrays_are_refused_with_scikit_learns_messages(bad, error, message):
    with pytest.raises(error, match=message):
        Preparation().fit(bad)


def test_a_different_number_of_unnamed_columns_is_refused_as_scikit_learn_does():
    prep = Preparation().fit(np.random.default_rng(0).normal(size=(20, 4)))
    with pytest.raises(ValueError, match="X has 3 features, but Preparation is expecting 4 features as input"):
        prep.transform(np.zeros((5, 3)))
    frame = table()
    by_position = Preparation().fit(frame).transform(frame.to_numpy(dtype=object))  # named fit, unnamed rows: as before
    np.testing.assert_array_equal(by_position, Preparation().fit(frame).transform(frame))
