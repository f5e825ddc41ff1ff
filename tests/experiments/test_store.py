"""The run store: its API, NULL for NaN, one transaction per write, crashed runs marked failed."""

import math
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from mlpkit.experiments import RunStore
from mlpkit.experiments.store import CURVE_COLUMNS


def test_a_run_goes_from_running_to_finished_with_its_curves_and_scores(tmp_path):
    store = RunStore(tmp_path / "runs")  # created
    assert store.path == tmp_path / "runs" / "runs.sqlite" and store.models.is_dir()
    run_id = store.start_run("MLPClassifier", {"hidden_layer_sizes": (8, 4), "n_iter_no_change": math.inf},
                             name="small", sweep="s1", trial=3, data_fingerprint="abc")
    assert store.run(run_id).status == "running"
    store.log_epochs(run_id, [(1, 0.9, math.nan, math.nan, 0.01), (2, 0.7, 0.8, 0.5, 0.01)])
    (store.models / "m.mlpkit").write_bytes(b"model")
    store.finish_run(run_id, {"score": 0.75, "epochs": 2}, model_path=store.models / "m.mlpkit")

    run = store.run(run_id)
    assert (run.name, run.sweep, run.trial, run.status, run.estimator) == ("small", "s1", 3, "finished", "MLPClassifier")
    assert run.params == {"hidden_layer_sizes": [8, 4], "n_iter_no_change": "inf"}  # JSON-safe
    assert run.scores == {"score": 0.75, "epochs": 2} and run.data_fingerprint == "abc"
    assert run.model_path == "models/m.mlpkit" and store.model_file(run).read_bytes() == b"model"
    assert run.finished >= run.started and run.wall_time >= 0 and run.error is None
    curves = store.curves([run_id])[run_id]
    assert curves["epoch"] == [1, 2] and curves["loss"] == [0.9, 0.7]
    assert math.isnan(curves["validation_loss"][0]) and curves["validation_score"][1] == 0.5
    with sqlite3.connect(store.path) as db:  # NaN is stored as NULL
        assert db.execute("SELECT validation_loss FROM epochs WHERE epoch = 1").fetchone() == (None,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.sweeps() == ["s1"] and [r.id for r in store.runs(sweep="s1")] == [run_id]
    assert store.runs(sweep="other") == []


def test_failed_and_pruned_runs_keep_their_reason_and_cannot_change_afterwards(tmp_path):
    store = RunStore(tmp_path)
    failed, pruned = store.start_run("MLPRegressor", {}), store.start_run("MLPRegressor", {})
    store.fail_run(failed, ValueError("diverged"))
    store.fail_run(pruned, "pruned at epoch 5", status="pruned")
    assert (store.run(failed).status, store.run(failed).error) == ("failed", "ValueError: diverged")
    assert (store.run(pruned).status, store.run(pruned).error) == ("pruned", "pruned at epoch 5")
    with pytest.raises(ValueError, match="run 1 is already failed; only a running run can change"):
        store.finish_run(failed, {})
    with pytest.raises(ValueError, match="no run 99"):
        store.log_epochs(99, [(1, 0.1, 0.1, 0.1, 0.1)])
    with pytest.raises(ValueError, match="status must be one of"):
        store.fail_run(store.start_run("X", {}), "why", status="finished")
    with pytest.raises(KeyError, match="no run 42"):
        store.run(42)


def test_a_write_that_fails_halfway_leaves_nothing_of_it(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.start_run("MLPClassifier", {})
    store.log_epochs(run_id, [(1, 1.0, 1.0, 0.1, 0.01)])
    rows = [(2, 0.9, 0.9, 0.2, 0.01), (3, 0.8, 0.8, 0.3, 0.01), (4, "not a number", 0.7, 0.4, 0.01)]
    with pytest.raises(ValueError, match=r"row 2, loss must be a number"):
        store.log_epochs(run_id, rows)  # rows 2 and 3 were inserted before row 4 failed: rolled back
    assert store.curves([run_id])[run_id]["epoch"] == [1]
    with pytest.raises(ValueError, match="score 'bad' must be a number"):
        store.finish_run(run_id, {"good": 1.0, "bad": object()})
    assert store.run(run_id).status == "running" and store.run(run_id).scores is None
    with pytest.raises(ValueError, match="outside the runs directory"):
        store.finish_run(run_id, {}, model_path=tmp_path.parent / "elsewhere.mlpkit")
    assert store.run(run_id).status == "running"


def test_a_run_whose_process_died_is_seen_as_failed(tmp_path):
    crash = textwrap.dedent(f"""
        import os
        from mlpkit.experiments.store import RunStore
        store = RunStore({str(tmp_path)!r})
        run_id = store.start_run("MLPClassifier", {{}})
        store.log_epochs(run_id, [(1, 0.5, 0.5, 0.5, 0.001)])
        os._exit(9)  # no Python cleanup: as if killed
    """)
    assert subprocess.run([sys.executable, "-c", crash], check=False).returncode == 9
    alive = RunStore(tmp_path).start_run("MLPClassifier", {})  # this process: still running
    runs = {run.id: run for run in RunStore(tmp_path).runs()}
    crashed = [run for run in runs.values() if run.id != alive]
    assert len(crashed) == 1 and crashed[0].status == "failed"
    assert "ended without finishing it: it crashed or was killed" in crashed[0].error
    assert runs[alive].status == "running"


def test_curves_of_several_runs_and_of_none(tmp_path):
    store = RunStore(tmp_path)
    a, b = store.start_run("A", {}), store.start_run("B", {})
    store.log_epochs(b, [(1, 2.0, None, None, 0.1)])
    curves = store.curves([a, b])
    assert set(curves) == {a, b} and curves[a] == {name: [] for name in ("epoch", *CURVE_COLUMNS)}
    assert curves[b]["loss"] == [2.0] and store.curves([]) == {}


def test_a_file_is_not_a_runs_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file; give a directory"):
        RunStore(tmp_path / "file")


def test_equal_settings_are_stored_in_one_form(tmp_path):
    store = RunStore(tmp_path)
    shorthand = store.start_run("MLPRegressor", {"hidden_layer_sizes": 32, "activation": "sigmoid", "alpha": 1.0,
                                                 "reg__loss": "mse", "init": "xavier_uniform", "dropout": [0.5, 0.0]})
    spelled_out = store.start_run("MLPRegressor", {"hidden_layer_sizes": (32,), "activation": "logistic", "alpha": 1,
                                                   "reg__loss": "squared_error", "init": "glorot_uniform",
                                                   "dropout": (0.5, 0)})
    assert store.run(shorthand).params == store.run(spelled_out).params == {
        "hidden_layer_sizes": [32], "activation": "logistic", "alpha": 1, "reg__loss": "squared_error",
        "init": "glorot_uniform", "dropout": [0.5, 0]}
    assert store.run(shorthand).params["dropout"][0] == 0.5  # fractions stay as they are


def _old_store(directory):
    """A runs.sqlite as mlpkit wrote it before store versions: a sweep's ``32`` beside fit's ``[32]``."""
    from mlpkit.experiments.store import SCHEMA

    directory.mkdir()
    with sqlite3.connect(directory / "runs.sqlite") as db:
        db.executescript(SCHEMA)
        for params in ('{"hidden_layer_sizes": 32, "alpha": 0.001}', '{"alpha": 0.001, "hidden_layer_sizes": [32]}',
                       '{"hidden_layer_sizes": [64, 32], "alpha": 1.0}'):
            db.execute("INSERT INTO runs(status, estimator, params, started) VALUES ('finished', 'MLPClassifier', ?, 0)",
                       (params,))
        assert db.execute("PRAGMA user_version").fetchone() == (0,)


def test_an_older_store_is_migrated_to_the_canonical_form_once(tmp_path):
    from mlpkit.experiments.store import VERSION

    _old_store(tmp_path / "runs")
    store = RunStore(tmp_path / "runs")
    assert [run.params for run in store.runs()] == [
        {"alpha": 0.001, "hidden_layer_sizes": [32]}, {"alpha": 0.001, "hidden_layer_sizes": [32]},
        {"alpha": 1, "hidden_layer_sizes": [64, 32]}]
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (VERSION,)
        stored = db.execute("SELECT params FROM runs WHERE id = 1").fetchone()[0]
    assert stored == '{"alpha": 0.001, "hidden_layer_sizes": [32]}'  # rewritten in the file, keys sorted
    RunStore(tmp_path / "runs")  # opening it again changes nothing
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT params FROM runs WHERE id = 1").fetchone()[0] == stored


def test_a_store_from_a_newer_mlpkit_is_refused_untouched(tmp_path):
    from mlpkit.experiments.store import VERSION

    _old_store(tmp_path / "runs")
    with sqlite3.connect(tmp_path / "runs" / "runs.sqlite") as db:
        db.execute(f"PRAGMA user_version = {VERSION + 1}")
    with pytest.raises(ValueError, match=f"newer mlpkit \\(store version {VERSION + 1}.*upgrade mlpkit"):
        RunStore(tmp_path / "runs")
    with sqlite3.connect(tmp_path / "runs" / "runs.sqlite") as db:
        assert db.execute("SELECT params FROM runs WHERE id = 1").fetchone()[0] == '{"hidden_layer_sizes": 32, "alpha": 0.001}'
