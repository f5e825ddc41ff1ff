"""DataSet, LabelSet and pair_by_identifier: operations, FluCoMa JSON, and every error."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpkit.flucoma import DataSet, FluCoMaFormatError, LabelSet, pair_by_identifier
from mlpkit.flucoma.jsonio import dumps, loads

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "flucoma"


def small():
    ds = DataSet()
    ds.add_point("b", [1.0, 2.0])
    ds.add_point("a", [3, 4])  # ints become floats
    return ds


# -- DataSet operations -------------------------------------------------------------------------


def test_dataset_basics():
    ds = small()
    assert ds.cols == 2 and ds.size == 2 and len(ds) == 2
    assert ds.ids == ["b", "a"]  # insertion order
    assert "a" in ds and "z" not in ds
    np.testing.assert_array_equal(ds.get_point("a"), [3.0, 4.0])
    assert ds.get_point("a").dtype == np.float64
    assert [(i, row.tolist()) for i, row in ds] == [("b", [1.0, 2.0]), ("a", [3.0, 4.0])]
    assert repr(ds) == "DataSet(size=2, cols=2)"


def test_update_set_delete():
    ds = small()
    ds.update_point("a", [5, 6])
    ds.set_point("a", [7, 8])
    ds.set_point("c", [9, 10])
    assert ds.get_point("a").tolist() == [7.0, 8.0] and ds.ids == ["b", "a", "c"]
    ds.delete_point("b")
    assert ds.ids == ["a", "c"]


def test_get_point_is_a_copy():
    ds = small()
    row = ds.get_point("a")
    row[0] = 100
    assert ds.get_point("a")[0] == 3.0


def test_clear_returns_to_construction():
    ds = small()
    ds.clear()
    assert ds.size == 0 and ds.cols is None
    ds.add_point("x", [1, 2, 3])  # a DataSet() takes any width again
    fixed = DataSet(2)
    fixed.add_point("x", [1, 2])
    fixed.clear()
    assert fixed.cols == 2


def test_numpy_round_trip():
    ids, X = small().to_numpy()
    assert ids == ["b", "a"] and X.tolist() == [[1, 2], [3, 4]] and X.dtype == np.float64
    back = DataSet.from_numpy(ids, X)
    assert back.to_dict() == small().to_dict()
    empty_ids, empty = DataSet(3).to_numpy()
    assert empty_ids == [] and empty.shape == (0, 3)


def test_pandas_round_trip():
    df = small().to_pandas()
    assert list(df.index) == ["b", "a"] and df.shape == (2, 2)
    assert DataSet.from_pandas(df).to_dict() == small().to_dict()
    with pytest.raises(TypeError, match="identifiers are strings"):
        DataSet.from_pandas(df.reset_index(drop=True))


def test_pandas_missing_gives_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes "import pandas" fail
    with pytest.raises(ImportError, match="needs pandas.*pip install pandas"):
        small().to_pandas()
    with pytest.raises(ImportError, match="needs pandas"):
        LabelSet().to_pandas()


# -- DataSet errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier, values, error, message",
    [
        ("c", [1.0], ValueError, "'c' has 1 values, but this DataSet has cols = 2"),
        ("c", [1.0, float("nan")], ValueError, "'c': value 1 is nan"),
        ("c", [np.inf, 1.0], ValueError, "'c': value 0 is inf"),
        ("c", [1.0, "x"], TypeError, "'c': value 1 is 'x'"),
        ("c", [1.0, None], TypeError, "'c': value 1 is None"),
        ("c", [True, 1.0], TypeError, "'c': value 0 is True"),
        ("c", [[1.0, 2.0]], ValueError, "flat list"),
        ("c", 3.0, ValueError, "flat list"),
        (3, [1.0, 2.0], TypeError, "identifiers are strings, got 3"),
        (None, [1.0, 2.0], TypeError, "identifiers are strings"),
    ],
)
def test_bad_points(identifier, values, error, message):
    ds = small()
    with pytest.raises(error, match=message):
        ds.add_point(identifier, values)
    with pytest.raises(error, match=message):
        ds.set_point(identifier, values)
    assert ds.to_dict() == small().to_dict()  # unchanged


def test_empty_row_and_bad_cols():
    with pytest.raises(ValueError, match="no values"):
        DataSet().add_point("a", [])
    for cols in (0, -1, 2.5, "2", True):
        with pytest.raises(ValueError, match="cols must be a whole number"):
            DataSet(cols)


def test_missing_and_existing_ids():
    ds = small()
    with pytest.raises(KeyError, match="already has a point 'a'"):
        ds.add_point("a", [0, 0])
    for method in (ds.get_point, ds.delete_point):
        with pytest.raises(KeyError, match="no point 'zz'"):
            method("zz")
    with pytest.raises(KeyError, match="no point 'zz'"):
        ds.update_point("zz", [0, 0])


def test_from_numpy_errors():
    with pytest.raises(ValueError, match="2-D"):
        DataSet.from_numpy(["a"], np.zeros(3))
    with pytest.raises(ValueError, match="2 ids for 3 rows"):
        DataSet.from_numpy(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(KeyError, match="already has a point 'a'"):
        DataSet.from_numpy(["a", "a"], np.zeros((2, 2)))


# -- DataSet JSON ---------------------------------------------------------------------------------


def test_to_dict_is_flucomas_format():
    assert small().to_dict() == {"cols": 2, "data": {"b": [1.0, 2.0], "a": [3.0, 4.0]}}
    assert DataSet().to_dict() == {"cols": 0, "data": {}}
    assert DataSet.from_dict({"cols": 0, "data": {}}).cols is None
    assert DataSet.from_dict({"cols": 3, "data": {}}).cols == 3


def test_write_read(tmp_path):
    small().write(tmp_path / "ds.json")
    text = (tmp_path / "ds.json").read_text()
    assert text.index('"a"') < text.index('"b"')  # written with sorted keys, as FluCoMa
    back = DataSet.read(tmp_path / "ds.json")
    assert back.ids == ["a", "b"] and back.get_point("b").tolist() == [1.0, 2.0]


def test_every_example_dataset_loads():
    xys = DataSet.read(EXAMPLES / "xys-dataset.json")
    assert (xys.size, xys.cols) == (4, 2)
    assert xys.ids == ["example-4", "example-5", "example-6", "example-7"]
    chords = DataSet.read(EXAMPLES / "chords-dataset.json")
    assert (chords.size, chords.cols) == (4, 10) and chords.ids == xys.ids
    timbre = DataSet.read(EXAMPLES / "timbre-dataset.json")
    assert (timbre.size, timbre.cols) == (1863, 24)
    labels = LabelSet.read(EXAMPLES / "timbre-labelset.json")
    assert labels.size == 1863 and sorted(labels.ids) == sorted(timbre.ids)
    counts = {label: sum(1 for _, x in labels if x == label) for label in labels.unique_labels()}
    assert counts == {"bass": 1008, "music-box": 855}


@pytest.mark.parametrize(
    "d, message",
    [
        ({"data": {}}, "missing key\\(s\\) 'cols'"),
        ({"cols": 1}, "missing key\\(s\\) 'data'"),
        ({"cols": 1, "data": {}, "rows": 0}, "unexpected key\\(s\\) 'rows'"),
        ({"cols": "2", "data": {}}, "key \"cols\" is '2', expected a whole number"),
        ({"cols": 1.5, "data": {}}, "expected a whole number"),
        ({"cols": -1, "data": {}}, "expected a whole number >= 0"),
        ({"cols": 2, "data": []}, 'key "data" is a array, expected an object'),
        ({"cols": 2, "data": {"a": [1.0]}}, "data\\['a'\\] has 1 numbers, but \"cols\" is 2"),
        ({"cols": 2, "data": {"a": [1.0, 2.0, 3.0]}}, "data\\['a'\\] has 3 numbers"),
        (
            {"cols": 2, "data": {"a": [1.0, "x"]}},
            "data\\['a'\\]\\[1\\] is a string \\('x'\\), expected a number",
        ),
        ({"cols": 2, "data": {"a": [1.0, True]}}, "data\\['a'\\]\\[1\\] is a boolean"),
        ({"cols": 2, "data": {"a": [1.0, None]}}, "is a null"),
        ({"cols": 2, "data": {"a": [1.0, float("nan")]}}, "expected a finite number"),
        ({"cols": 2, "data": {"a": 1.0}}, "data\\['a'\\] is a number, expected an array"),
        ({"cols": 0, "data": {"a": [1.0]}}, '"cols" is 0 but "data" has 1 points'),
        ({"cols": 1, "data": {1: [1.0]}}, "identifier 1; identifiers are strings"),
        ([1, 2], "the top level is a array"),
    ],
)
def test_bad_dataset_dicts(d, message):
    with pytest.raises(FluCoMaFormatError, match=message) as err:
        DataSet.from_dict(d)
    assert str(err.value).startswith("<dict>: ")


def test_bad_file_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"cols": 2, "data": {"a": [1.0, 2.0], "b": [1.0]}}))
    with pytest.raises(
        FluCoMaFormatError, match=r"broken\.json: data\['b'\] has 1 numbers, but \"cols\" is 2"
    ):
        DataSet.read(path)
    path.write_text('{"cols": 2, "data": {"a": [1.0, 2.')  # truncated
    with pytest.raises(FluCoMaFormatError, match=r"broken\.json: not valid JSON"):
        DataSet.read(path)


def test_a_labelset_file_is_not_a_dataset():
    with pytest.raises(
        FluCoMaFormatError, match=r"timbre-labelset\.json: data\['analysis-0'\]\[0\] is a string"
    ):
        DataSet.read(EXAMPLES / "timbre-labelset.json")


identifiers = st.text(min_size=0, max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda cols: st.dictionaries(identifiers, st.lists(finite, min_size=cols, max_size=cols), max_size=8)
    )
)
def test_dict_and_text_round_trip(points):
    ds = DataSet()
    for identifier, row in points.items():
        ds.add_point(identifier, row)
    d = ds.to_dict()
    back = DataSet.from_dict(d)
    assert back.ids == ds.ids and back.to_dict() == d
    again = DataSet.from_dict(loads(dumps(d)))  # through FluCoMa's text: the same doubles
    assert again.to_dict() == d
    assert dumps(again.to_dict()) == dumps(d)


# -- LabelSet -------------------------------------------------------------------------------------


def labels():
    ls = LabelSet()
    for identifier, label in [("x", "kick"), ("y", "snare"), ("z", "kick")]:
        ls.add_point(identifier, label)
    return ls


def test_labelset_operations():
    ls = labels()
    assert ls.size == 3 and ls.cols == 1 and ls.ids == ["x", "y", "z"] and "y" in ls
    assert ls.get_point("y") == "snare" and next(iter(ls)) == ("x", "kick")
    assert ls.unique_labels() == ["kick", "snare"]
    ls.update_point("y", "hat")
    ls.set_point("w", "kick")
    ls.delete_point("x")
    assert ls.to_dict() == {"cols": 1, "data": {"y": ["hat"], "z": ["kick"], "w": ["kick"]}}
    ls.clear()
    assert ls.size == 0 and ls.to_dict() == {"cols": 1, "data": {}}


def test_labelset_errors():
    ls = labels()
    with pytest.raises(TypeError, match="'x': the label is 1 \\(int\\); labels are strings"):
        ls.set_point("x", 1)
    with pytest.raises(TypeError, match="the label is \\['kick'\\]"):
        ls.set_point("x", ["kick"])
    with pytest.raises(KeyError, match="already has a point 'x'"):
        ls.add_point("x", "hat")
    with pytest.raises(KeyError, match="no point 'q'"):
        ls.get_point("q")
    with pytest.raises(ValueError, match="2 ids for 1 labels"):
        LabelSet.from_numpy(["a", "b"], ["kick"])


def test_labelset_numpy_pandas():
    ids, y = labels().to_numpy()
    assert ids == ["x", "y", "z"] and y.tolist() == ["kick", "snare", "kick"]
    assert LabelSet.from_numpy(ids, y).to_dict() == labels().to_dict()
    series = labels().to_pandas()
    assert series.name == "label" and list(series.index) == ids
    assert LabelSet.from_pandas(series).to_dict() == labels().to_dict()
    assert LabelSet.from_pandas(series.to_frame()).to_dict() == labels().to_dict()


def test_labelset_json(tmp_path):
    labels().write(tmp_path / "ls.json")
    assert LabelSet.read(tmp_path / "ls.json").to_dict() == {
        "cols": 1,
        "data": {"x": ["kick"], "y": ["snare"], "z": ["kick"]},
    }


@pytest.mark.parametrize(
    "d, message",
    [
        ({"cols": 2, "data": {"a": ["x", "y"]}}, '"cols" is 2, but a LabelSet has one label'),
        ({"cols": 1, "data": {"a": ["x", "y"]}}, "data\\['a'\\] has 2 entries, expected one label"),
        ({"cols": 1, "data": {"a": []}}, "has 0 entries"),
        ({"cols": 1, "data": {"a": [3]}}, "data\\['a'\\]\\[0\\] is a number \\(3\\), expected a string"),
        ({"cols": 1, "data": {"a": "x"}}, "is a string, expected an array"),
        ({"cols": 1}, "missing key"),
    ],
)
def test_bad_labelset_dicts(d, message):
    with pytest.raises(FluCoMaFormatError, match=message):
        LabelSet.from_dict(d)


def test_a_dataset_file_is_not_a_labelset():
    with pytest.raises(FluCoMaFormatError, match=r"xys-dataset\.json: \"cols\" is 2"):
        LabelSet.read(EXAMPLES / "xys-dataset.json")


# -- pairing by identifier -------------------------------------------------------------------------


def test_pair_follows_identifiers_not_positions():
    source = DataSet.from_numpy(["p", "q", "r"], [[1.0], [2.0], [3.0]])
    target = DataSet.from_numpy(["r", "p", "q"], [[30.0], [10.0], [20.0]])
    ids, X, Y = pair_by_identifier(source, target)
    assert ids == ["p", "q", "r"] and X.ravel().tolist() == [1, 2, 3] and Y.ravel().tolist() == [10, 20, 30]
    names = LabelSet.from_numpy(["q", "r", "p"], ["two", "three", "one"])
    ids, X, y = pair_by_identifier(source, names)
    assert y.tolist() == ["one", "two", "three"]


def test_pair_mismatch_names_identifiers():
    source = DataSet.from_numpy([f"s{i}" for i in range(8)] + ["shared"], np.zeros((9, 1)))
    target = LabelSet.from_numpy(["shared", "t0"], ["a", "b"])
    with pytest.raises(ValueError) as err:
        pair_by_identifier(source, target)
    message = str(err.value)
    # up to five on each side, so the one in target is named even when source has many
    assert "8 are ('s0', 's1', 's2', 's3', 's4' and 3 more) only in source" in message
    assert "1 is ('t0') only in target" in message
    assert "'s5'" not in message and "shared" not in message


def test_pair_small_mismatch_lists_all():
    source = DataSet.from_numpy(["a", "b"], np.zeros((2, 1)))
    target = DataSet.from_numpy(["a", "c"], np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"1 is \('b'\) only in source and 1 is \('c'\) only in target\. "):
        pair_by_identifier(source, target)


def test_pair_wrong_types_and_empty():
    with pytest.raises(TypeError, match="source must be a DataSet"):
        pair_by_identifier(labels(), labels())
    with pytest.raises(TypeError, match="target must be a DataSet or a LabelSet"):
        pair_by_identifier(small(), {"a": 1})
    with pytest.raises(ValueError, match="empty"):
        pair_by_identifier(DataSet(), LabelSet())
