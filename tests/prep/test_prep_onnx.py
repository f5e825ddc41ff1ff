"""A prepared model (mlpkit.Preparation before the network) exported to ONNX: onnxruntime on the raw columns gives
what transform, predict and predict_proba give, for kept, rare, unseen and missing values; dates are refused."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from prep_helpers import mixed_table
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, Preparation, _wrappers
from mlpkit.prep import UnseenCategoryWarning

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = dict(rtol=1e-5, atol=1e-5)  # as tests/test_onnx.py
SMALL = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0)


def table(n=80, seed=0) -> pd.DataFrame:
    """mixed_table without its date: row names and an id (left out), yes/no, numbers with gaps, text with rare
    levels (blue, mauve) and a gap, booleans, and an integer code (marked categorical below)."""
    return mixed_table(n, seed).drop(columns=["when"])


def awkward_rows() -> pd.DataFrame:
    """New rows with every case transform treats specially."""
    new = table(14, seed=1)
    new["colour"] = ["purple", None, "", "NA", " red\t", "\u00a0green", "blue", "mauve", "Red", "n/a", "red",
                     "green", "nan", "re d"]  # fmt: skip
    new.loc[[0, 1], "x"] = np.nan
    new["grade"] = new["grade"].astype(float)
    new.loc[2, "grade"], new.loc[3, "grade"] = 7.0, np.nan  # a code never seen, and a gap
    new.loc[4, "owner"], new.loc[5, "owner"] = None, pd.NA
    return new


def dtype_of(model) -> np.dtype:
    return _wrappers.network_of(model).coefs_[0].dtype


def session_of(model, extra_output=None):
    """onnxruntime on the exported model; ``extra_output``: an inner tensor of the network's dtype to return too."""
    proto = mlpkit.export_onnx(model)
    if extra_output:
        elem_type = onnx.helper.np_dtype_to_tensor_dtype(dtype_of(model))
        proto.graph.output.append(onnx.helper.make_tensor_value_info(extra_output, elem_type, None))
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def feed(session, frame) -> dict:
    """The columns the graph takes, as the export's docstring says to give them: text via str with gaps as '',
    numbers as float64 with NaN for gaps."""
    def column(values, text):
        return values.astype(object).fillna("").astype(str).to_numpy(object) if text else \
            values.to_numpy("float64", na_value=np.nan)  # fmt: skip

    return {i.name: column(frame[i.name], i.type == "tensor(string)") for i in session.get_inputs()}


def quietly(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        return function(*args)


@pytest.fixture(scope="module")
def classifier():
    frame = table()
    y = np.where(np.nan_to_num(frame["x"].to_numpy(), nan=50) + 8 * (frame["colour"] == "red") > 52, "hi", "lo")
    model = Pipeline([("prepare", Preparation(categorical=["grade"])), ("mlp", MLPClassifier(**SMALL, dtype="float32"))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (five epochs do not converge)
        return model.fit(frame, y)


def test_the_graph_prepares_the_columns_as_transform_does(classifier):
    preparation = classifier.steps[0][1]
    kinds = {column.name: (column.kind, column.numeric_levels, column.rare) for column in preparation.columns_}
    assert kinds["colour"] == ("category", False, ("blue", "mauve")) and kinds["grade"][:2] == ("category", True)
    session = session_of(classifier, extra_output="prepared")
    assert [i.name for i in session.get_inputs()] == ["owner", "x", "colour", "flag", "grade"]  # not the ids
    new = awkward_rows()
    prepared = session.run(["prepared"], feed(session, new))[0]
    expected = quietly(preparation.transform, new)
    names = list(preparation.get_feature_names_out())
    other, missing = names.index("colour=other"), names.index("colour_missing")
    assert expected[[0, 6, 7, 8, 13], other].tolist() == [1, 1, 1, 1, 1]  # unseen, rare, case and inner space
    assert expected[[1, 2, 3, 9, 12], missing].tolist() == [1, 1, 1, 1, 1]  # gaps, read as the fill level
    assert prepared.dtype == np.float32  # cast for the network, as it casts transform's float64
    np.testing.assert_allclose(prepared, expected.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_a_prepared_classifier_predicts_as_mlpkit(classifier):
    session = session_of(classifier)
    new = pd.concat([awkward_rows(), table(30, seed=2)], ignore_index=True)
    label, probabilities = session.run(None, feed(session, new))
    np.testing.assert_array_equal(label, quietly(classifier.predict, new))
    np.testing.assert_allclose(probabilities, quietly(classifier.predict_proba, new), **TOLERANCE)


def test_a_prepared_regressor_with_scaled_targets_predicts_as_mlpkit():
    frame = table()
    y = 3 * np.nan_to_num(frame["x"].to_numpy(), nan=50) + 20 * (frame["owner"] == "yes") + 100
    model = TransformedTargetRegressor(
        Pipeline([("prepare", Preparation(categorical=["grade"], scale="standard")), ("mlp", MLPRegressor(**SMALL))]),
        transformer=StandardScaler(),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, y)
    session = session_of(model)
    new = awkward_rows()
    (variable,) = session.run(None, feed(session, new))
    np.testing.assert_allclose(variable, quietly(model.predict, new), **TOLERANCE)


def test_every_level_rare_leaves_only_other_and_a_scaler_may_follow():
    """A category whose levels are all rare is one 'other' column of ones (and its indicator); a scaler step after
    the preparation is folded in after it, as for a Pipeline of scalers."""
    frame = table(40)
    model = Pipeline([("prepare", Preparation(min_frequency=1000, scale="none")), ("scale", StandardScaler()),
                      ("mlp", MLPRegressor(**SMALL))])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, np.arange(40.0))
    preparation = model.steps[0][1]
    colour = next(column for column in preparation.columns_ if column.name == "colour")
    assert colour.levels == () and colour.other
    session = session_of(model, extra_output="prepared")
    new = awkward_rows()
    variable, prepared = session.run(None, feed(session, new))
    np.testing.assert_allclose(prepared, quietly(preparation.transform, new), rtol=1e-12)
    np.testing.assert_allclose(variable, quietly(model.predict, new), **TOLERANCE)


def unfitted_network_after(frame, **params) -> Pipeline:
    """A fitted preparation before an unfitted network: enough for the refusals, which come first."""
    return Pipeline([("prepare", Preparation(**params).fit(frame)), ("mlp", MLPClassifier())])


def test_a_date_column_is_refused_naming_it_and_what_to_do(tmp_path):
    with pytest.raises(ValueError, match=r"data preparation \(mlpkit.Preparation\): column 'when' is a date \(the"
                                         r" preparation makes days, month, weekday of it\).*--drop when"):  # fmt: skip
        mlpkit.export_onnx(unfitted_network_after(mixed_table()), tmp_path / "never-written.onnx")
    assert not list(tmp_path.iterdir())


def test_a_column_named_as_a_graph_output_is_refused():
    frame = table().rename(columns={"x": "label"})
    with pytest.raises(ValueError, match="column 'label' would be a graph input of the same name as a graph output"):
        mlpkit.export_onnx(unfitted_network_after(frame))


def test_convert_writes_a_prepared_model_as_onnx(run_cli, tmp_path):
    frame = table(60)
    frame["label"] = np.where(np.nan_to_num(frame["x"].to_numpy(), nan=50) > 50, "high", "low")
    frame.to_csv(tmp_path / "people.csv", index=False)
    model = tmp_path / "people.mlpkit"
    code, _, err = run_cli("fit", tmp_path / "people.csv", "--target", "label", "--out", model,
                           "--set", "max_iter=5", "--hidden", "6", "--seed", "0")  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli("convert", model, "--to", "onnx", "--out", tmp_path / "people.onnx")
    assert code == 0, err
    assert "one input each (N,): owner (text, '' for gaps), x (float64, NaN for gaps), colour (text" in err
    session = ort.InferenceSession(str(tmp_path / "people.onnx"), providers=["CPUExecutionProvider"])
    new = awkward_rows()
    label, probabilities = session.run(None, feed(session, new))
    fitted = mlpkit.load(model)
    np.testing.assert_array_equal(label, quietly(fitted.predict, new))
    np.testing.assert_allclose(probabilities, quietly(fitted.predict_proba, new), **TOLERANCE)
