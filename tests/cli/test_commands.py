"""``mlpkit predict``, ``evaluate``, ``inspect``, ``convert``, ``lr-find`` and ``advise`` on saved models and small files."""

import csv
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import QUICK, assert_png, network, write_csv

import mlpkit
from mlpkit import flucoma

FLUCOMA_DATA = Path(__file__).parents[1] / "data" / "flucoma"  # files written by FluCoMa itself


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------------------------------ predict
def test_predict_writes_one_csv_row_per_input_row_to_stdout(mlpkit_cli, data_dir, iris_model):
    result = mlpkit_cli("predict", iris_model, data_dir / "iris.csv")
    assert result.code == 0, result.err
    table = rows(result.out)
    assert len(table) == 150 and list(table[0]) == ["prediction"]
    assert {r["prediction"] for r in table} <= {"setosa", "versicolor", "virginica"}


def test_predict_with_probabilities_to_a_file(mlpkit_cli, data_dir, iris_model, tmp_path):
    out = tmp_path / "p.csv"
    result = mlpkit_cli("predict", iris_model, data_dir / "iris.csv", "--proba", "--out", out)
    assert result.code == 0 and result.out == "" and "150 predictions written to" in result.err
    table = rows(out.read_text())
    assert list(table[0]) == ["prediction", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert sum(float(table[0][k]) for k in list(table[0])[1:]) == pytest.approx(1, abs=1e-5)


def test_predict_picks_the_models_columns_by_name(mlpkit_cli, data_dir, iris_model, tmp_path):
    """Columns in another order, plus an identifier column: the model takes its own four, by name."""
    original = rows((data_dir / "iris.csv").read_text())
    order = ["species", "petal_width", "id", "sepal_length", "petal_length", "sepal_width"]
    shuffled = write_csv(tmp_path / "shuffled.csv", order, [[r.get(k, f"row{i}") for k in order] for i, r in enumerate(original)])
    expected = mlpkit_cli("predict", iris_model, data_dir / "iris.csv").out
    assert mlpkit_cli("predict", iris_model, shuffled).out == expected


def test_predict_flucoma_in_gives_flucoma_out(mlpkit_cli, tmp_path):
    model = f"{FLUCOMA_DATA}/xys-to-chords-regressor.json"
    result = mlpkit_cli("predict", model, f"{FLUCOMA_DATA}/xys-dataset.json", "--out", tmp_path / "chords.json")
    assert result.code == 0, result.err
    predicted = flucoma.DataSet.read(tmp_path / "chords.json")
    expected = flucoma.DataSet.read(f"{FLUCOMA_DATA}/chords-dataset.json")
    assert predicted.ids == expected.ids
    direct = flucoma.MLPRegressor().read(model).predict(flucoma.DataSet.read(f"{FLUCOMA_DATA}/xys-dataset.json"))
    np.testing.assert_array_equal(predicted.to_numpy()[1], direct.to_numpy()[1])  # exactly what the library predicts
    np.testing.assert_allclose(predicted.to_numpy()[1], expected.to_numpy()[1], atol=2e-3)  # FluCoMa's targets


def test_predict_labels_of_a_flucoma_dataset_as_a_labelset(mlpkit_cli, data_dir, tmp_path):
    model = tmp_path / "m.npz"
    assert mlpkit_cli("fit", data_dir / "iris-dataset.json", "--target", data_dir / "iris-labelset.json", "--out", model, *QUICK).code == 0
    result = mlpkit_cli("predict", model, data_dir / "iris-dataset.json")  # stdout: FluCoMa JSON too
    labels = flucoma.LabelSet.from_dict(json.loads(result.out))
    assert labels.ids[:2] == ["flower-0", "flower-1"] and labels.size == 150
    assert set(labels.unique_labels()) <= {"setosa", "versicolor", "virginica"}


# ------------------------------------------------------------------------------------ evaluate
def test_evaluate_a_classifier_shows_accuracy_f1_and_the_confusion_matrix(mlpkit_cli, data_dir, iris_model, tmp_path):
    result = mlpkit_cli("evaluate", iris_model, data_dir / "iris.csv", "--target", "species", "--plot", tmp_path)
    assert result.code == 0, result.err
    for text in ("accuracy", "F1 (macro)", "Confusion matrix", "setosa", "virginica", "150"):
        assert text in result.out
    assert_png(tmp_path / "evaluate_confusion_matrix.png")


def test_evaluate_a_regressor_shows_r2_mae_rmse(mlpkit_cli, data_dir, diabetes_model):
    result = mlpkit_cli("evaluate", diabetes_model, data_dir / "diabetes.csv", "--target", "progression")
    assert result.code == 0, result.err
    assert "R2" in result.out and "MAE" in result.out and "RMSE" in result.out and "Confusion" not in result.out


def test_evaluate_a_flucoma_model_on_flucoma_files(mlpkit_cli):
    result = mlpkit_cli("evaluate", f"{FLUCOMA_DATA}/xys-to-chords-regressor.json", f"{FLUCOMA_DATA}/xys-dataset.json",
                        "--target", f"{FLUCOMA_DATA}/chords-dataset.json")
    assert result.code == 0, result.err
    assert "R2" in result.out and "0.0001" in result.out  # FluCoMa's own weights fit these targets closely


# ------------------------------------------------------------------------------------ inspect
def test_inspect_shows_layers_parameters_and_history(mlpkit_cli, iris_model):
    result = mlpkit_cli("inspect", iris_model)
    assert result.code == 0, result.err
    model = network(mlpkit.load(iris_model))
    for text in ("sklearn.pipeline.Pipeline", "input scaler 1", "StandardScaler", "MLPClassifier", "hidden 1", "relu",
                 "softmax", f"{model.n_parameters_} trained parameters",
                 "hidden_layer_sizes", "(8,)", "petal_width", "setosa", "training loss", "learning rate", "20"):
        assert text in result.out, text


def test_inspect_a_flucoma_model_file(mlpkit_cli):
    result = mlpkit_cli("inspect", f"{FLUCOMA_DATA}/trombone-autoencoder-regressor.json")
    assert result.code == 0, result.err
    assert "mlpkit.flucoma.MLPRegressor" in result.out and "hidden 5" in result.out and "no training recorded" in result.out


# ------------------------------------------------------------------------------------ convert
def test_convert_to_onnx_flucoma_and_back_to_native(mlpkit_cli, data_dir, tmp_path):
    pytest.importorskip("onnx")
    model = tmp_path / "reg.npz"
    assert mlpkit_cli("fit", data_dir / "diabetes.csv", "--target", "progression", "--out", model, *QUICK).code == 0
    assert mlpkit_cli("convert", model, "--to", "onnx", "--out", tmp_path / "reg.onnx").code == 0
    assert (tmp_path / "reg.onnx").stat().st_size > 100
    assert mlpkit_cli("convert", model, "--out", tmp_path / "reg.json").code == 0  # the suffix says flucoma
    assert mlpkit_cli("convert", tmp_path / "reg.json", "--to", "native", "--out", tmp_path / "again.npz").code == 0
    original, again = mlpkit.load(model), mlpkit.load(tmp_path / "again.npz")
    X = np.random.default_rng(0).normal(size=(3, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the original knows its column names; FluCoMa's format does not
        np.testing.assert_allclose(again.predict(X).ravel(), original.predict(X), rtol=1e-5)


def test_convert_explains_what_flucoma_cannot_hold(mlpkit_cli, iris_model, tmp_path):
    result = mlpkit_cli("convert", iris_model, "--to", "flucoma", "--out", tmp_path / "x.json")
    assert result.code == 2 and len(result.error_lines) == 1
    assert "cannot convert" in result.err and "softmax" in result.err
    assert "train the classifier with --set loss=squared_error" in result.error_lines[0]  # what to do next


def test_the_convert_hint_works(mlpkit_cli, data_dir, tmp_path):
    model = tmp_path / "sigmoid.npz"
    assert mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", model, *QUICK,
                      "--set", "loss=squared_error").code == 0
    result = mlpkit_cli("convert", model, "--to", "flucoma", "--out", tmp_path / "iris.json")
    assert result.code == 0, result.err
    assert isinstance(mlpkit.load(tmp_path / "iris.json"), mlpkit.flucoma.MLPRegressor | mlpkit.flucoma.MLPClassifier)


# ------------------------------------------------------------------------------------ guide
def test_lr_find_suggests_a_rate_and_plots_the_sweep(mlpkit_cli, data_dir, tmp_path):
    result = mlpkit_cli("lr-find", data_dir / "iris.csv", "--target", "species", "--hidden", "8", "--steps", "30",
                        "--plot", tmp_path / "lr.png")
    assert result.code == 0, result.err
    assert "suggested learning_rate_init=" in result.out and "try: --set learning_rate_init=" in result.out
    assert_png(tmp_path / "lr.png")


def test_advise_reports_on_the_data(mlpkit_cli, data_dir):
    result = mlpkit_cli("advise", data_dir / "iris.csv", "--target", "species", "--no-trials")
    assert result.code == 0, result.err
    assert "classification" in result.out and "150 rows" in result.out and "scaling" in result.out
    assert "chosen by rule" in result.out



def test_advise_names_csv_columns_by_their_header(mlpkit_cli, tmp_path):
    rng = np.random.default_rng(0)
    rows = [[float(age), float(rng.normal()), int(age > 50)] for age in rng.uniform(20, 80, size=200)]
    data = write_csv(tmp_path / "people.csv", ["age", "score", "older"], rows)
    result = mlpkit_cli("advise", data, "--target", "older", "--no-trials")
    assert result.code == 0, result.err
    assert "column 'age' has values of typical size" in result.out and "column 0" not in result.out


def test_a_bare_mlpkit_prints_the_help_and_exits_0(mlpkit_cli):
    result = mlpkit_cli()
    assert result.code == 0 and result.err == ""
    assert result.out.startswith("usage: mlpkit") and "sweep" in result.out and "mlpkit demo" in result.out
