"""``mlpkit fit`` (and ``mlpkit demo``): every input format, options, plots, Ctrl-C, the dashboard flag."""

import warnings

import numpy as np
import pytest
from cli_helpers import QUICK, assert_png, network

import mlpkit
from mlpkit import trainer
from mlpkit.callbacks import ProgressBar


def test_fit_a_csv_classifier_holds_out_rows_saves_and_plots(mlpkit_cli, data_dir, tmp_path):
    out, plots = tmp_path / "iris.npz", tmp_path / "plots"
    result = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", out, "--test-size", "0.2",
                        "--plot", plots, *QUICK)
    assert result.code == 0, result.err
    assert "task classify for species: the target holds 3 distinct labels" in result.err
    assert "held out" in result.out and "accuracy" in result.out and "F1 (macro)" in result.out
    assert "fit time" in result.out and "20 of max_iter=20" in result.out
    model = mlpkit.load(out)
    net = network(model)
    assert isinstance(net, mlpkit.MLPClassifier) and net.hidden_layer_sizes == (8,)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(model.feature_names_in_) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert net.callbacks is None and net.progress is False  # nothing of the CLI's run is saved
    for name in ("loss", "confusion_matrix"):
        assert_png(plots / f"{name}.png")
    assert not (plots / "learning_rate.png").exists()  # a constant rate: one number, said in the parameters


def test_fit_detects_a_regression_target_and_plots_predicted_against_true(mlpkit_cli, data_dir, tmp_path):
    result = mlpkit_cli("fit", data_dir / "diabetes.csv", "--target", "progression", "--out", tmp_path / "m.npz",
                        "--plot", tmp_path, *QUICK)
    assert result.code == 0, result.err
    assert "task regress for progression" in result.err and "R2" in result.out and "RMSE" in result.out
    assert isinstance(network(mlpkit.load(tmp_path / "m.npz")), mlpkit.MLPRegressor)
    assert_png(tmp_path / "predicted_vs_true.png")
    assert not (tmp_path / "confusion_matrix.png").exists()


def test_set_passes_any_parameter_read_as_a_python_literal(mlpkit_cli, data_dir, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", out, *QUICK,
                        "--set", "activation=tanh", "--set", "alpha=1e-3", "--set", "early_stopping=True",
                        "--set", "n_iter_no_change=inf", "--set", "hidden_layer_sizes=(6, 5)", "--task", "classify")
    assert result.code == 0, result.err
    model = network(mlpkit.load(out))
    assert (model.activation, model.alpha, model.early_stopping) == ("tanh", 1e-3, True)
    assert model.n_iter_no_change == np.inf and model.hidden_layer_sizes == (6, 5)  # --set wins over --hidden
    assert len(model.validation_loss_curve_) == 20


@pytest.mark.parametrize(
    "name, target, named_columns",
    [
        ("iris.tsv", "species", True),
        ("iris.npy", "-1", False),  # a column index; whole numbers 0-2 are classes
        ("iris.npz", None, False),  # arrays X and y
        ("iris-dataset.json", "iris-labelset.json", False),  # FluCoMa, paired by identifier
    ],
)
def test_fit_reads_every_format(mlpkit_cli, data_dir, tmp_path, name, target, named_columns):
    argv = ["fit", data_dir / name, "--out", tmp_path / "m.npz", *QUICK]
    if target:
        argv += ["--target", data_dir / target if target.endswith(".json") else target]
    result = mlpkit_cli(*argv)
    assert result.code == 0, result.err
    model = mlpkit.load(tmp_path / "m.npz")
    assert isinstance(network(model), mlpkit.MLPClassifier) and model.n_features_in_ == 4 and len(model.classes_) == 3
    assert hasattr(network(model), "feature_names_in_") == named_columns


def test_fit_reads_parquet(mlpkit_cli, data_dir, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs pyarrow (pip install 'mlpkit[parquet]')")
    import pyarrow
    from sklearn.datasets import load_iris

    iris = load_iris()
    table = {f"f{k}": iris.data[:, k] for k in range(4)} | {"kind": iris.target_names[iris.target].tolist()}
    pq.write_table(pyarrow.table(table), tmp_path / "iris.parquet")
    result = mlpkit_cli("fit", tmp_path / "iris.parquet", "--target", "kind", "--out", tmp_path / "m.npz", *QUICK)
    assert result.code == 0, result.err
    assert list(mlpkit.load(tmp_path / "m.npz").feature_names_in_) == ["f0", "f1", "f2", "f3"]


def test_ctrl_c_stops_training_saves_the_model_and_exits_130(mlpkit_cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk
    shown = ProgressBar.__call__

    def press_ctrl_c_at_epoch_3(self, model, info):
        shown(self, model, info)
        if info.epoch == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBar, "__call__", press_ctrl_c_at_epoch_3)
    out = tmp_path / "m.npz"
    result = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", out, *QUICK, "--progress")
    assert result.code == 130
    assert "training was interrupted; the model so far is saved in" in result.err
    assert "interrupted (Ctrl-C)" in result.out and "Traceback" not in result.err
    model = mlpkit.load(out)
    assert network(model).n_iter_ == 3 and len(network(model).loss_curve_) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fitted with column names, asked with a bare array
        assert model.predict(np.zeros((1, 4))).shape == (1,)


def test_fit_with_the_dashboard_prints_its_address_and_closes_it(mlpkit_cli, data_dir, tmp_path):
    result = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", tmp_path / "m.npz", *QUICK, "--dashboard")
    assert result.code == 0, result.err
    assert "mlpkit dashboard: http://127.0.0.1:" in result.err
    assert network(mlpkit.load(tmp_path / "m.npz")).callbacks is None


def test_demo_trains_on_digits_and_writes_model_and_plots(mlpkit_cli, tmp_path):
    result = mlpkit_cli("demo", "--out", tmp_path / "demo", "--max-iter", "3", "--no-progress")
    assert result.code == 0, result.err
    assert "held out" in result.out and "1797 handwritten digits" in result.err
    assert mlpkit.load(tmp_path / "demo" / "digits.npz").n_features_in_ == 64
    for name in ("loss", "confusion_matrix"):
        assert_png(tmp_path / "demo" / f"{name}.png")


def test_fit_notes_when_the_data_is_small_for_the_network(mlpkit_cli, data_dir, tmp_path):
    """The command line gives the rows-per-parameter advice the scikit-learn replacements keep quiet."""
    small = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", tmp_path / "a.npz", *QUICK,
                       "--hidden", "64")
    assert small.code == 0, small.err
    assert "rows per parameter" in " ".join((small.out + small.err).split())
    enough = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", tmp_path / "b.npz", *QUICK,
                        "--hidden", "1")  # 11 parameters: 150 rows are enough
    assert enough.code == 0, enough.err
    assert "rows per parameter" not in " ".join((enough.out + enough.err).split())
