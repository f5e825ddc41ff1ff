"""The model format's declarative checks and its codec table: what a new kind of part (a data
preparation step) will need, shown with a small step of the test's own."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline

import mlpkit
from mlpkit.io import ModelFileError, registry
from mlpkit.io.checks import (
    check,
    count,
    either,
    flag,
    items,
    list_of,
    mapping,
    nullable,
    number,
    record,
    text,
)
from mlpkit.io.errors import Invalid
from mlpkit.io.parts import Codec, Table
from mlpkit.io.values import params_from_json, params_to_json, value

# A data preparation's fitted state as plain data: per column a kind, a fill value, kept levels.
COLUMN = record(
    {
        "name": text(),
        "kind": text(choices=("numeric", "categorical")),
        "fill": nullable(either(text(), number())),
    },
    optional={"levels": list_of(either(text(), number()))},
)
PREPARATION = record({"columns": list_of(COLUMN), "drop": list_of(text()), "scale": flag()})


def refused(found, spec, *fragments):
    with pytest.raises(Invalid) as error:
        check(found, spec, "model['steps'][0][1]")
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_preparation_like_section_is_checked_and_returned():
    section = {
        "columns": [
            {"name": "age", "kind": "numeric", "fill": 41},
            {"name": "owner", "kind": "categorical", "fill": "no", "levels": ["no", "yes", 3]},
        ],
        "drop": ["id"],
        "scale": True,
    }
    checked = check(section, PREPARATION, "model")
    assert checked["columns"][0]["fill"] == 41.0 and checked["columns"][1]["levels"] == ["no", "yes", 3.0]
    assert "levels" not in checked["columns"][0]  # optional: absent stays absent


@pytest.mark.parametrize(
    "found, spec, fragments",
    [
        (
            {"columns": [], "drop": []},
            PREPARATION,
            ["model['steps'][0][1] lacks ['scale']", "expected the keys"],
        ),
        ({"columns": [], "drop": [], "scale": True, "x": 1}, PREPARATION, ["has unknown ['x']"]),
        (
            {"name": "a", "kind": "date", "fill": None},
            COLUMN,
            ["['kind'] is 'date'", "one of ['numeric', 'categorical']"],
        ),
        ({"name": "a", "kind": "numeric", "fill": [1]}, COLUMN, ["['fill'] is [1]", "a string or a number"]),
        ({"name": "a", "kind": "numeric", "fill": 1, "levels": [True]}, COLUMN, ["['levels'][0] is True"]),
        (
            {"name": "a", "kind": "numeric", "fill": 1, "lvls": []},
            COLUMN,
            ["has unknown ['lvls']", "may have ['levels']"],
        ),
        (["a"], COLUMN, ["is a list, expected an object"]),
        ({"a": 1}, list_of(text()), ["is an object, expected a list"]),
        (-1, count(), ["is -1, expected a whole number >= 0"]),
        (True, count(), ["is True, expected a whole number >= 0"]),
        ("1", number(), ["is '1', expected a number"]),
        (0, flag(), ["is 0, expected true or false"]),
        (["a"], items(text(), number(), label="[name, value]"), ["is ['a'], expected [name, value]"]),
        ({"a": "x"}, mapping(count()), ["model['steps'][0][1]['a'] is 'x'"]),
        ({"float": "big"}, value(), ["['float'] is 'big'", "one of ['nan', 'inf', '-inf']"]),
        ({"tuple": [1]}, value(text()), ["is (1,), expected a string"]),
    ],
)
def test_every_kind_says_where_what_was_expected_and_what_was_found(found, spec, fragments):
    assert refused(found, spec, *fragments).startswith("model['steps'][0][1]")


def test_nullable_and_tagged_values():
    assert check(None, nullable(count()), "x") is None
    assert np.isnan(check({"float": "nan"}, value(number()), "x"))
    array = check({"ndarray": ["a", "b"], "dtype": "<U1", "shape": [2]}, value(), "x")
    assert array.tolist() == ["a", "b"]


# ------------------------------------------------------- a new kind of part: one module, one row


class Shift(TransformerMixin, BaseEstimator):
    """A step of the test's own: adds a fitted offset per column."""

    def __init__(self, by=1.0):
        self.by = by

    def fit(self, X, y=None):
        self.offset_ = np.full(np.shape(X)[1], float(self.by))
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        return np.asarray(X) + self.offset_


SHIFT = record(
    {"kind": text(choices=["tests.Shift"]), "params": mapping(value()), "fitted": nullable(count(1))}
)


def write_shift(step, saving):
    if "offset_" in vars(step):
        saving.add("offset_", step.offset_)
    return {"kind": "tests.Shift", "params": params_to_json(step), "fitted": vars(step).get("n_features_in_")}


def read_shift(section, loading, cls):
    section = check(section, SHIFT, loading.where)
    step = params_from_json(cls, section["params"], f"{loading.where}['params']")
    if section["fitted"] is not None:
        step.n_features_in_ = section["fitted"]
        step.offset_ = loading.array("offset_", (step.n_features_in_,), np.float64, "the shift's offsets")
    return step


def test_a_new_step_is_one_codec_and_one_table_row(monkeypatch, tmp_path):
    row = Codec("tests.Shift", f"{__name__}:Shift", write_shift, read_shift, frozenset({"step"}))
    monkeypatch.setattr(registry, "TABLE", Table([*registry.TABLE.codecs.values(), row]))
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    model = make_pipeline(Shift(by=2.0), mlpkit.MLPClassifier(hidden_layer_sizes=(4,), max_iter=3)).fit(X, y)
    mlpkit.save(model, tmp_path / "m.npz")
    loaded = mlpkit.load(tmp_path / "m.npz")
    assert isinstance(loaded.steps[0][1], Shift) and loaded.steps[0][1].by == 2.0
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))

    monkeypatch.undo()  # without its row, the file names the step this mlpkit does not know
    with pytest.raises(
        ModelFileError, match=r"\['steps'\]\[0\]\[1\]\['kind'\] is 'tests.Shift', expected one of"
    ):
        mlpkit.load(tmp_path / "m.npz")
    with pytest.raises(
        ValueError, match="cannot save step 'shift'.*StandardScaler, MinMaxScaler, RobustScaler"
    ):
        mlpkit.save(model, tmp_path / "m.npz")
