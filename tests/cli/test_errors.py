"""Bad files, columns and options: exit code 2 and one line ``mlpkit: error: ...`` that says what to do, no traceback."""

import json

import numpy as np
import pytest
from cli_helpers import QUICK, assert_one_line_error, write_csv


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """Files that are wrong in one way each."""
    d = tmp_path_factory.mktemp("bad")
    write_csv(d / "text_feature.csv", ["size", "colour", "y"], [[1.0, "red", 0], [2.0, "blue", 1], [3.0, "red", 0]])
    write_csv(d / "infinite.csv", ["a", "b", "y"], [[1.0, "x", 0], ["inf", "y", 1], [3.0, "x", 0]])
    (d / "ragged.csv").write_text("a,b,y\n1,2,0\n3,4\n")
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("a,b,y\n")
    (d / "data.xlsx").write_bytes(b"PK\x03\x04")
    np.save(d / "three_d.npy", np.zeros((2, 2, 2)))
    np.savez(d / "no_x.npz", features=np.zeros((3, 2)), y=np.zeros(3))
    (d / "labels.json").write_text(json.dumps({"cols": 1, "data": {"a": ["x"], "b": ["y"]}}))
    (d / "points.json").write_text(json.dumps({"cols": 1, "data": {"a": [1.0], "c": [2.0]}}))
    (d / "not_json.json").write_text("{cols: 1")
    (d / "not_a_model.npz").write_bytes(b"this is not a zip archive")
    return d


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["fit", "{data}/nowhere.csv", "--target", "y"], ["nowhere.csv does not exist"]),
        (["fit", "{data}", "--target", "y"], ["is a directory"]),
        (["fit", "{bad}/data.xlsx", "--target", "y"], ["cannot tell the format from the suffix '.xlsx'", ".csv"]),
        (["fit", "{data}/iris.csv"], ["iris.csv: name the target with --target"]),
        (["fit", "{data}/iris.csv", "--target", "specie"], ["has no target column 'specie'", "Did you mean 'species'?", "petal_width"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--drop", "petals"], ["no column to drop 'petals'"]),
        (["fit", "{bad}/infinite.csv", "--target", "y"], ["feature column 'a' has 1 infinite value(s)", "data row 2"]),
        (["fit", "{bad}/text_feature.csv", "--target", "y", "--categorical", "size,shade"], ["--categorical: categorical=['shade']: no such column"]),
        (["fit", "{bad}/ragged.csv", "--target", "y"], ["ragged.csv, line 3: 2 cells but the header has 3 columns"]),
        (["fit", "{bad}/empty.csv", "--target", "y"], ["empty.csv is empty"]),
        (["fit", "{bad}/header_only.csv", "--target", "y"], ["has a header but no rows"]),
        (["fit", "{bad}/three_d.npy", "--target", "-1"], ["expected one 2-D numeric array"]),
        (["fit", "{data}/iris.npy", "--target", "species"], ["give the target as a column index", "not 'species'"]),
        (["fit", "{data}/iris.npy", "--target", "9"], ["has 5 columns; target 9 is out of range"]),
        (["fit", "{bad}/no_x.npz"], ["no array named 'X'", "np.savez(path, X=X, y=y)"]),
        (["fit", "{data}/iris.npz", "--target", "labels"], ["no array 'labels' to use as the target"]),
        (["fit", "{bad}/labels.json", "--target", "{bad}/points.json"], ["is a FluCoMa LabelSet; give the DataSet of features as DATA"]),
        (["fit", "{data}/iris-dataset.json", "--target", "{bad}/nothing.json"], ["--target names a FluCoMa DataSet or LabelSet", "is not a file"]),
        (["fit", "{data}/iris-dataset.json", "--target", "{bad}/points.json"], ["same identifiers", "only in source"]),
        (["fit", "{bad}/not_json.json", "--target", "{bad}/points.json"], ["not_json.json is not valid JSON"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--set", "alpha=-1"], ["--set: The 'alpha' parameter of MLPClassifier must be a float in the range [0.0, inf). Got -1 instead."]),
        (["fit", "{data}/iris.csv", "--target", "species", "--set", "activation=sigmoidal"], ["The 'activation' parameter of MLPClassifier must be a str among"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--set", "lerning_rate_init=0.1"], ["has no parameter 'lerning_rate_init'", "did you mean 'learning_rate_init'?"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--set", "alpha"], ["--set 'alpha': write it as KEY=VALUE"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--hidden", "64,x"], ["--hidden '64,x': give the hidden layer sizes as whole numbers"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--hidden", "0"], ["every layer needs at least 1 unit"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--test-size", "1.5"], ["--test-size 1.5: give the share of rows to hold out"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--out", "{bad}/no/such/dir/m.npz"], ["the directory", "does not exist; create it first"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--task", "guess"], ["argument --task: invalid choice: 'guess'", "(see mlpkit fit --help)"]),
        (["fit", "{data}/iris.csv", "--target", "sepal_length", "--drop", "species", "--task", "classify"], ["--task classify: sepal_length holds real numbers (such as 5.1)", "use --task regress"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--task", "regress"], ["--task regress: species holds text (such as 'setosa')"]),
        (["fit", "{data}/diabetes.csv", "--target", "progression", "--task", "classify"], ["--task classify: progression holds 214 distinct numbers in 442 rows", "use --task regress"]),
        (["fit", "{data}/iris.csv", "--target", "species", "--set", "early_stopping=True", "--set", "validation_fraction=0.001"], ["training failed: The validation set is too small"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
        (["predict", "{bad}/nothing.npz", "{data}/iris.csv"], ["nothing.npz: no such model file"]),
        (["predict", "{bad}/not_a_model.npz", "{data}/iris.csv"], ["not_a_model.npz"]),
        (["predict", "{model}", "{data}/diabetes.csv"], ["lacks the column(s) 'sepal_length'", "that the model was trained on"]),
        (["predict", "{model}", "{data}/iris.npy"], ["has 5 feature column(s) but the model takes 4", "--drop"]),
        (["predict", "{model}", "{data}/iris.csv", "--out", "{bad}/p.xlsx"], ["write predictions to a .csv or .json file"]),
        (["evaluate", "{model}", "{data}/iris.csv"], ["name the true values with --target"]),
        (["convert", "{model}", "--out", "{bad}/m.bin"], ["cannot tell the format from the suffix; add --to native|flucoma|onnx"]),
        (["convert", "{model}", "--to", "pmml", "--out", "{bad}/m.pmml"], ["argument --to: invalid choice: 'pmml'"]),
        (["lr-find", "{data}/iris.csv", "--target", "species", "--steps", "1"], ["lr-find:"]),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(mlpkit_cli, data_dir, bad_files, iris_model, argv, fragments):
    places = {"data": data_dir, "bad": bad_files, "model": iris_model}
    argv = [a.format(**places) for a in argv]
    if argv and argv[0] == "fit" and "--out" not in argv:
        argv += ["--out", str(bad_files / "never.npz")]
    result = mlpkit_cli(*argv, *(QUICK if argv and argv[0] == "fit" and "--hidden" not in argv else []))
    assert_one_line_error(result, *(f.format(**places) for f in fragments))
    assert not (bad_files / "never.npz").exists()


def test_mlpkit_debug_shows_the_traceback_instead(mlpkit_cli, data_dir, monkeypatch):
    from mlpkit.data_files import DataFileError

    monkeypatch.setenv("MLPKIT_DEBUG", "1")
    with pytest.raises(DataFileError, match="nowhere.csv does not exist"):
        mlpkit_cli("fit", data_dir / "nowhere.csv", "--target", "y", "--out", "x.npz")


def test_help_and_version_exit_0(mlpkit_cli, capsys):
    for argv in (["--help"], ["fit", "--help"], ["--version"]):
        with pytest.raises(SystemExit) as exit_info:
            mlpkit_cli(*argv)
        assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "lr-find" in out and "--test-size" in out and "mlpkit 0." in out
