"""``mlpkit sweep`` end to end, and ``mlpkit fit --track``."""

import json

import pytest
from cli_helpers import QUICK

import mlpkit
from mlpkit.experiments import RunStore

pytest.importorskip("optuna", reason='sweeps need Optuna: pip install "mlpkit[sweep]"')

#: A short sweep: the tests check the command, not the search.
SWEEP = ["--hidden", "6", "--set", "max_iter=10", "--seed", "0", "--trials", "3"]


def test_sweep_ranks_the_trials_records_them_and_saves_the_best(mlpkit_cli, data_dir, tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "best.npz"
    result = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", runs,
                        "--name", "iris", "--space", "learning_rate_init=log:1e-3:1e-1",
                        "--space", "activation=choice:relu|tanh", "--out", out, "--cv", "2")
    assert result.code == 0, result.err
    assert "searching learning_rate_init, activation in 3 trials" in result.err
    assert "Sweep iris: 3 trials, best first" in result.out
    for column in ("rank", "status", "score", "epochs", "learning_rate_init", "activation"):
        assert column in result.out
    assert "mlpkit runs" in result.err and "--sweep iris" in result.err
    store = RunStore(runs)
    trials = store.runs(sweep="iris")
    assert sorted(run.trial for run in trials) == [0, 1, 2]
    assert all(store.curves([run.id])[run.id]["epoch"] for run in trials)
    model = mlpkit.load(out)
    assert isinstance(model, mlpkit.MLPClassifier) and model.hidden_layer_sizes == (6,)
    assert list(model.feature_names_in_) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    best = max((run for run in trials if run.status == "finished"), key=lambda run: run.scores["score"])
    assert model.learning_rate_init == best.params["learning_rate_init"]

    again = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", runs,
                       "--name", "iris", "--space", "learning_rate_init=log:1e-3:1e-1",
                       "--space", "activation=choice:relu|tanh", "--cv", "2")
    assert again.code == 0, again.err
    assert len(store.runs(sweep="iris")) == 3  # nothing left to do: the sweep was complete


def test_a_space_file_and_a_regressor_with_flucoma_copies(mlpkit_cli, data_dir, tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"alpha": {"low": 1e-5, "high": 1e-2, "log": True}, "activation": ["tanh"]}))
    out = tmp_path / "model.npz"
    result = mlpkit_cli("sweep", data_dir / "diabetes.csv", "--target", "progression", *SWEEP, "--runs",
                        tmp_path / "runs", "--space", space, "--out", out, "--set", "learning_rate_init=0.05")
    assert result.code == 0, result.err
    assert (tmp_path / "model.flucoma.json").is_file()  # tanh and identity: FluCoMa has both
    assert isinstance(mlpkit.load(tmp_path / "model.flucoma.json"), mlpkit.flucoma.MLPRegressor)
    assert mlpkit.load(out).activation == "tanh"


@pytest.mark.parametrize(
    "space, message",
    [
        ("alpha=lots", "search space entry 'alpha=lots' is not a form mlpkit knows; accepted forms: NAME=choice:"),
        ("alpah=1e-5:1e-2", "MLPClassifier has no parameter 'alpah' (did you mean 'alpha'?)"),
        ("missing.json", "--space missing.json: cannot read the space file"),
    ],
)
def test_a_bad_space_is_one_line_naming_it(mlpkit_cli, data_dir, tmp_path, space, message):
    result = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", tmp_path,
                        "--space", space)
    assert result.code == 2 and len(result.error_lines) == 1, result.err
    assert message in result.error_lines[0]


def test_fit_track_records_the_run(mlpkit_cli, data_dir, tmp_path):
    runs = tmp_path / "runs"
    result = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", tmp_path / "m.npz", *QUICK,
                        "--track", runs)
    assert result.code == 0, result.err
    [run] = RunStore(runs).runs()
    assert run.status == "finished" and run.params["hidden_layer_sizes"] == [8]
    assert len(RunStore(runs).curves([run.id])[run.id]["epoch"]) == 20
    assert mlpkit.load(RunStore(runs).model_file(run)).n_iter_ == 20
