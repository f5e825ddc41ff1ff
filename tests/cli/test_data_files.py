"""``mlpkit.data_files.read_data``: each layout, column selection, and the task the CLI detects."""

import builtins
import json

import numpy as np
import pytest
from cli_helpers import write_csv

from mlpkit.cli.options import detect_task, parse_setting
from mlpkit.data_files import DataFileError, read_data


def test_csv_columns_become_features_and_target(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["id", "a", "b", "label"], [["p1", 1, 2.5, "cat"], ["p2", 3, 4.5, "dog"]])
    data = read_data(path, "label", drop=["id"])
    assert data.feature_names == ["a", "b"] and data.target_names == ["label"] and data.format == "csv"
    np.testing.assert_array_equal(data.X, [[1, 2.5], [3, 4.5]])
    assert data.X.dtype == np.float64 and data.y.tolist() == ["cat", "dog"]


def test_whole_number_targets_stay_integers_and_several_targets_make_columns(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x", "k", "u", "v"], [[0.5, 1, 1.5, 2], [0.25, 0, 2.5, 3]])
    assert read_data(path, "k").y.dtype == np.int64
    data = read_data(path, "u,v")
    assert data.y.shape == (2, 2) and data.feature_names == ["x", "k"]


def test_features_by_name_pick_and_order_columns_and_ignore_the_rest(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["b", "extra", "a"], [[2, "z", 1], [4, "z", 3]])
    data = read_data(path, features=["a", "b"])
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4]])
    with pytest.raises(DataFileError, match=r"lacks the column\(s\) 'c' that the model was trained on"):
        read_data(path, features=["a", "c"])


def test_a_byte_order_mark_and_blank_lines_are_harmless(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffa,y\n1,0\n\n2,1\n".encode("utf-8"))
    data = read_data(path, "y")
    assert data.feature_names == ["a"] and data.y.tolist() == [0, 1]


def test_npy_targets_are_column_indexes(tmp_path):
    np.save(tmp_path / "d.npy", np.arange(12.0).reshape(4, 3))
    data = read_data(tmp_path / "d.npy", "-1")
    assert data.y.tolist() == [2, 5, 8, 11] and data.X.shape == (4, 2) and data.feature_names is None
    assert read_data(tmp_path / "d.npy", "0", drop=["1"]).X.tolist() == [[2], [5], [8], [11]]


def test_npz_holds_x_and_a_named_target(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.array([0, 1, 0]), other=np.array([1.0, 2.0, 3.0]))
    assert read_data(tmp_path / "d.npz", "y").y.tolist() == [0, 1, 0]
    assert read_data(tmp_path / "d.npz", "other").y.tolist() == [1.0, 2.0, 3.0]
    assert read_data(tmp_path / "d.npz").y is None


def test_flucoma_sets_are_paired_by_identifier_not_position(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"cols": 1, "data": {"b": [2.0], "a": [1.0]}}))
    (tmp_path / "y.json").write_text(json.dumps({"cols": 1, "data": {"a": ["one"], "b": ["two"]}}))
    data = read_data(tmp_path / "x.json", str(tmp_path / "y.json"))
    assert data.ids == ["b", "a"] and data.X.ravel().tolist() == [2.0, 1.0] and data.y.tolist() == ["two", "one"]


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataFileError, match=r"needs pyarrow, which is not installed: pip install \"mlpkit\[parquet\]\""):
        read_data(tmp_path / "d.parquet", "y")


@pytest.mark.parametrize(
    "y, task",
    [
        (["a", "b", "a"], "classify"),
        ([True, False, True, True], "classify"),
        ([0, 1, 2, 1, 0, 2, 1], "classify"),
        ([0.0, 1.0, 1.0, 0.0, 1.0], "classify"),  # whole numbers written as floats
        ([0.5, 1.5, 2.25], "regress"),
        (list(range(100)), "regress"),  # as many values as rows: a quantity
        (np.arange(400) % 30, "regress"),  # more than 20 distinct whole numbers
        (np.array([[0, 1], [1, 0], [1, 1]]), "classify"),  # label indicator rows
        (np.array([[0.5, 1], [1, 0], [1, 1]]), "regress"),
    ],
)
def test_task_detection(y, task):
    assert detect_task(np.asarray(y))[0] == task


@pytest.mark.parametrize(
    "text, expected",
    [
        ("alpha=0.01", ("alpha", 0.01)),
        ("activation=tanh", ("activation", "tanh")),
        ("early_stopping=True", ("early_stopping", True)),
        ("hidden_layer_sizes=(64, 32)", ("hidden_layer_sizes", (64, 32))),
        ("dropout=[0.1, 0.2]", ("dropout", [0.1, 0.2])),
        ("n_iter_no_change=inf", ("n_iter_no_change", float("inf"))),
        ("out_activation=None", ("out_activation", None)),
        (" max_iter = 50 ", ("max_iter", 50)),
    ],
)
def test_set_values_are_python_literals_or_text(text, expected):
    assert parse_setting(text) == expected
