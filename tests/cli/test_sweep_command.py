"""``mlpkit sweep`` end to end, and ``mlpkit fit --track``."""

import json
from pathlib import Path

import pytest
import numpy as np
from cli_helpers import QUICK, network, write_csv

import mlpkit
from mlpkit.experiments import RunStore

pytest.importorskip("optuna", reason='sweeps need Optuna: pip install "mlpkit[sweep]"')

#: A short sweep: the tests check the command, not the search.
SWEEP = ["--hidden", "6", "--set", "max_iter=10", "--seed", "0", "--trials", "3"]


def test_sweep_ranks_the_trials_records_them_and_saves_the_best(mlpkit_cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # an 80-column terminal; captured output is not one: as in a pipe
    runs, out = tmp_path / "runs", tmp_path / "best.npz"
    result = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", runs,
                        "--name", "iris", "--space", "learning_rate_init=log:1e-3:1e-1",
                        "--space", "activation=choice:relu/tanh", "--out", out, "--cv", "2")
    assert result.code == 0, result.err
    assert "searching learning_rate_init, activation in 3 trials" in result.err
    assert "Sweep iris: 3 trials, best first" in result.out
    for column in ("rank", "status", "score", "epochs", "learning_rate_init", "activation"):
        assert column in result.out
    assert "mlpkit runs" in result.err and "--sweep iris" in result.err
    assert "\u2026" not in result.out and max(map(len, result.out.splitlines())) <= 80  # nothing cut, nothing wider
    assert "--no-prune keeps the estimator as it was" in result.err and "prune=False" not in result.err
    assert "FluCoMa" not in result.out + result.err  # not asked for
    store = RunStore(runs)
    trials = store.runs(sweep="iris")
    assert sorted(run.trial for run in trials) == [0, 1, 2]
    assert all(store.curves([run.id])[run.id]["epoch"] for run in trials)
    model = mlpkit.load(out)  # the whole best model: since issue 28 the sweep scales inside every fold, as fit does
    network = model.steps[-1][1]
    assert isinstance(network, mlpkit.MLPClassifier) and network.hidden_layer_sizes == (6,)
    assert network.batch_size == 8  # fit's rule on a fold's training part (75 rows, 67 trained on): its least, 8
    assert list(model.feature_names_in_) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    best = max((run for run in trials if run.status == "finished"), key=lambda run: run.scores["score"])
    assert network.learning_rate_init == best.params["mlp__learning_rate_init"]

    again = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", runs,
                       "--name", "iris", "--space", "learning_rate_init=log:1e-3:1e-1",
                       "--space", "activation=choice:relu/tanh", "--cv", "2")
    assert again.code == 0, again.err
    assert len(store.runs(sweep="iris")) == 3  # nothing left to do: the sweep was complete


def test_a_space_file_and_a_regressor_with_flucoma_copies(mlpkit_cli, data_dir, tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"alpha": {"low": 1e-5, "high": 1e-2, "log": True}, "activation": ["tanh"]}))
    out = tmp_path / "model.npz"
    result = mlpkit_cli("sweep", data_dir / "diabetes.csv", "--target", "progression", *SWEEP, "--runs",
                        tmp_path / "runs", "--space", space, "--out", out, "--set", "learning_rate_init=0.05", "--flucoma")
    assert result.code == 0, result.err
    assert (tmp_path / "model.flucoma.json").is_file()  # tanh and identity: FluCoMa has both
    assert isinstance(mlpkit.load(tmp_path / "model.flucoma.json"), mlpkit.flucoma.MLPRegressor)
    assert mlpkit._wrappers.network_of(mlpkit.load(out)).activation == "tanh"


@pytest.mark.parametrize(
    "space, message",
    [
        ("alpha=lots", "--space alpha=lots: search space entry 'alpha=lots' is not a form mlpkit knows; accepted forms:"
                       " NAME=choice:A/B/C"),
        ("alpah=1e-5:1e-2", "--space: search space: MLPClassifier has no parameter 'alpah' (did you mean 'alpha'?)"),
        ("activation=choice:relu|tanh", "--space activation=choice:relu|tanh: separate choices with '/', not '|'"
                                        " (in a shell '|' is a pipe), e.g. activation=choice:relu/tanh"),
        # what bash passes on of an unquoted --space hidden_layer_sizes=choice:64|128 (the rest went to a pipe)
        ("hidden_layer_sizes=choice:64", "--space hidden_layer_sizes=choice:64: a single choice searches nothing"),
        ("missing.json", "--space missing.json: cannot read the space file"),
    ],
)
def test_a_bad_space_is_one_line_naming_it(mlpkit_cli, data_dir, tmp_path, space, message):
    result = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", tmp_path,
                        "--space", space)
    assert result.code == 2 and len(result.error_lines) == 1, result.err
    assert message in result.error_lines[0]


def test_fit_track_records_the_run_and_says_which_and_how_to_look(mlpkit_cli, data_dir, tmp_path):
    runs = tmp_path / "runs"
    result = mlpkit_cli("fit", data_dir / "iris.csv", "--target", "species", "--out", tmp_path / "m.npz", *QUICK,
                        "--track", runs)
    assert result.code == 0, result.err
    [run] = RunStore(runs).runs()
    assert f"mlpkit: note: recorded as run {run.id} in {runs}; compare it with the other runs there: mlpkit runs {runs}" \
        in result.err
    assert run.status == "finished" and run.params["hidden_layer_sizes"] == [8]
    assert len(RunStore(runs).curves([run.id])[run.id]["epoch"]) == 20
    kept = mlpkit.load(RunStore(runs).model_file(run))  # the whole model: the scaler and the network
    assert network(kept).n_iter_ == 20 and [type(step).__name__ for _, step in kept.steps] == ["StandardScaler", "MLPClassifier"]


def mixed_csv(path):
    """A CSV as the world makes it: a text category, a column with gaps, a yes/no target and a numeric one."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for i in range(48):
        size, colour = rng.normal(10, 3), ["red", "green", "blue"][i % 3]
        weight = "" if i % 7 == 0 else f"{rng.normal(50, 10):.3f}"
        rows.append([f"{size:.3f}", colour, weight, "yes" if (size > 10) ^ (colour == "red") else "no", f"{2 * size:.2f}"])
    return write_csv(path, ["size", "colour", "weight", "label", "length"], rows)


def predictions(model, table):
    return model.predict_proba(table) if hasattr(model, "predict_proba") else model.predict(table)


@pytest.mark.parametrize("target", ["label", "length"])  # a Pipeline; a TransformedTargetRegressor around one
def test_fit_track_on_a_raw_table_keeps_the_whole_model_which_predicts_it(mlpkit_cli, tmp_path, target):
    import pandas as pd

    data, runs, out = mixed_csv(tmp_path / "mixed.csv"), tmp_path / "runs", tmp_path / "m.mlpkit"
    result = mlpkit_cli("fit", data, "--target", target, "--out", out, *QUICK, "--set", "max_iter=4", "--track", runs)
    assert result.code == 0, result.err
    [run] = RunStore(runs).runs()
    assert run.status == "finished"
    kept, fitted = mlpkit.load(RunStore(runs).model_file(run)), mlpkit.load(out)
    table = pd.read_csv(data)  # the raw table: text, gaps, the targets among the columns
    np.testing.assert_allclose(predictions(kept, table), predictions(fitted, table), rtol=0, atol=1e-12)


def test_a_sweep_on_a_raw_table_keeps_its_best_whole_and_refuses_flucoma_saying_why(mlpkit_cli, tmp_path):
    import pandas as pd

    data, runs, out = mixed_csv(tmp_path / "mixed.csv"), tmp_path / "runs", tmp_path / "best.mlpkit"
    result = mlpkit_cli("sweep", data, "--target", "label", "--hidden", "4", "--set", "max_iter=4", "--seed", "0",
                        "--trials", "2", "--runs", runs, "--name", "mixed", "--space", "alpha=1e-5:1e-2",
                        "--out", out, "--flucoma")
    assert result.code == 0, result.err
    store = RunStore(runs)
    [best] = [run for run in store.runs() if run.name == "mixed: best"]
    kept = mlpkit.load(store.model_file(best))
    table = pd.read_csv(data)
    np.testing.assert_allclose(kept.predict_proba(table), mlpkit.load(out).predict_proba(table), rtol=0, atol=1e-12)
    assert "holds the pipeline's network only" not in result.err
    assert "not saved as FluCoMa JSON: the model's first step, the data preparation (mlpkit.Preparation), encodes" \
           " the categories of 'colour'" in " ".join(result.err.split())
    assert not list(tmp_path.rglob("*.flucoma.json")) and not list(tmp_path.rglob("*.scaler.json"))


def _trials(names):
    """A sweep's result as the trials table reads it: four trials searching ``names``."""
    from types import SimpleNamespace

    trials = [{"rank": rank, "trial": rank - 1, "status": status, "score": score, "score_std": 0.01234567,
               "epochs": 150, "seconds": 12.3456, "params": {name: value for name, value in zip(names, values)}}
              for rank, (status, score, values) in enumerate([
                  ("finished", 0.923456789, (0.000123456, (128, 64, 32), "relu", 0.5)),
                  ("finished", 0.91, (0.0234, (64,), "tanh", 0.25)),
                  ("pruned", None, (0.3, (32, 32), "logistic", 0.125)),
                  ("failed", None, (1.0, (8,), "identity", 0.0))], 1)]
    return SimpleNamespace(name="a-rather-long-sweep-name", trials_=trials)


NAMES = ["learning_rate_init", "hidden_layer_sizes", "activation", "validation_fraction"]


@pytest.mark.parametrize("width", [80, 60])
def test_the_trials_table_fits_the_width_dropping_columns_never_cutting_numbers(width):
    from rich.console import Console

    from mlpkit.cli.sweep import trials_table

    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115 - closed with console
    console.print(trials_table(_trials(NAMES), NAMES, console))
    text = console.export_text()
    console.file.close()
    assert "\u2026" not in text and max(map(len, text.splitlines())) <= width
    for number in ("0.9235", "0.91", "0.000123", "128,64,32"):  # whole, on one line
        assert number in text, (number, text)
    assert "learning_rate_init" in text and "rank" in text  # the searched values go last
    assert "left out to fit" in text  # the caption names what is not shown


def test_in_a_pipe_the_trials_table_is_80_columns_of_whole_numbers():
    import os
    import subprocess
    import sys

    script = (f"from mlpkit.cli.sweep import trials_table; from mlpkit.cli import report; import sys;"
              f" sys.path.insert(0, {str(Path(__file__).parent)!r}); from test_sweep_command import _trials, NAMES;"
              f" report.console().print(trials_table(_trials(NAMES), NAMES))")
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=True)
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and "\u2026" not in done.stdout and "\x1b[" not in done.stdout  # no colour codes
    assert "0.9235" in done.stdout and "128,64,32" in done.stdout and "0.000123" in done.stdout


def test_population_trains_the_trials_together(mlpkit_cli, data_dir, tmp_path):
    runs = tmp_path / "runs"
    result = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", runs, "--name", "pop",
                        "--space", "learning_rate_init=log:1e-3:1e-1", "--population", "3")
    assert result.code == 0, result.err
    assert "Sweep pop: 3 trials, best first" in result.out
    assert {run.status for run in RunStore(runs).runs(sweep="pop")} == {"finished"}
    bad = mlpkit_cli("sweep", data_dir / "iris.csv", "--target", "species", *SWEEP, "--runs", runs,
                     "--space", "learning_rate_init=log:1e-3:1e-1", "--population", "0")
    assert bad.code != 0 and "--population 0" in bad.err and "whole number from 1" in bad.err
