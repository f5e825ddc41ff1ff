"""fit(..., track=...): each fit a run with its parameters, curves, scores, data fingerprint and model."""

import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor
from mlpkit.experiments import RunRecorder, RunStore, data_fingerprint


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def test_track_records_params_curves_scores_fingerprint_and_a_model_that_loads(iris, tmp_path):
    X, y = iris
    model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=15, early_stopping=True, n_iter_no_change=100,
                          random_state=0, learning_rate_init=0.01)
    model.fit(X, y, track=tmp_path)
    [run] = RunStore(tmp_path).runs()
    assert run.status == "finished" and run.estimator == "MLPClassifier" and run.sweep is None
    assert run.params["hidden_layer_sizes"] == [6] and run.params["learning_rate_init"] == 0.01
    assert run.data_fingerprint == data_fingerprint(X, y)
    assert run.scores["train_score"] == pytest.approx(model.score(X, y))
    assert run.scores["best_validation_score"] == pytest.approx(model.best_validation_score_)
    assert run.scores["epochs"] == model.n_iter_ == 15 and run.wall_time > 0
    curves = RunStore(tmp_path).curves([run.id])[run.id]
    assert curves["epoch"] == list(range(1, 16))
    np.testing.assert_allclose(curves["loss"], model.loss_curve_)
    np.testing.assert_allclose(curves["validation_loss"], model.validation_loss_curve_)
    np.testing.assert_allclose(curves["validation_score"], model.validation_scores_)
    loaded = mlpkit.load(RunStore(tmp_path).model_file(run))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_lbfgs_fits_take_their_curve_from_the_model(iris, tmp_path):
    X, y = iris
    model = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=7, random_state=0)
    model.fit(X, y.astype(float), track=RunRecorder(tmp_path, name="lbfgs", save_model=False))
    [run] = RunStore(tmp_path).runs()
    assert run.name == "lbfgs" and run.model_path is None and run.scores["loss"] == pytest.approx(model.loss_)
    curves = RunStore(tmp_path).curves([run.id])[run.id]
    assert curves["epoch"] == [model.n_iter_] and curves["loss"] == [pytest.approx(model.loss_)]


def test_a_fit_that_raises_is_recorded_as_failed_with_its_epochs(iris, tmp_path):
    X, y = iris

    def explode(model, info):
        if info.epoch == 3:
            raise RuntimeError("callback exploded")

    with pytest.raises(RuntimeError, match="callback exploded"):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, callbacks=[explode]).fit(X, y, track=tmp_path)
    [run] = RunStore(tmp_path).runs()
    assert run.status == "failed" and run.error == "RuntimeError: callback exploded" and run.scores is None
    assert RunStore(tmp_path).curves([run.id])[run.id]["epoch"] == [1, 2]  # epoch 3 raised before the recorder heard of it


def test_one_recorder_records_each_fit_as_its_own_run(iris, tmp_path):
    X, y = iris
    recorder = RunRecorder(tmp_path, name="again")
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5)
    model.fit(X, y, track=recorder)
    first = recorder.run_id
    model.fit(X[:100], y[:100], track=recorder)
    runs = RunStore(tmp_path).runs()
    assert [r.id for r in runs] == [first, recorder.run_id] and {r.status for r in runs} == {"finished"}
    assert runs[0].data_fingerprint != runs[1].data_fingerprint


def test_as_a_plain_callback_it_ends_the_run_with_the_epochs_it_heard_of(iris, tmp_path):
    X, y = iris
    recorder = RunRecorder(tmp_path)
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=6, callbacks=[recorder]).fit(X, y)
    run = recorder.store.run(recorder.run_id)
    assert run.status == "finished" and run.scores["epochs"] == 6 and run.model_path is None


def test_the_data_fingerprint_changes_with_any_value_shape_dtype_or_weight(iris):
    X, y = iris
    base = data_fingerprint(X, y)
    assert data_fingerprint(X.copy(), y.copy()) == base
    changed = X.copy()
    changed[5, 2] += 1e-9
    others = [data_fingerprint(changed, y), data_fingerprint(X.astype(np.float32), y),
              data_fingerprint(X.reshape(-1, 2), y), data_fingerprint(X, y, np.ones(len(y))),
              data_fingerprint(X, y.astype(str)), data_fingerprint(X, np.array(y, dtype=object))]
    assert len({base, *others}) == 1 + len(others)


def test_track_takes_true_a_directory_or_a_recorder_and_names_what_else_it_takes(iris, tmp_path, monkeypatch):
    X, y = iris
    monkeypatch.chdir(tmp_path)
    MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y, track=True)
    assert len(RunStore(tmp_path / "mlpkit-runs").runs()) == 1
    with pytest.raises(TypeError, match="track=3: give True"):
        MLPClassifier(max_iter=2).fit(X, y, track=3)
    assert not math.isnan(RunStore(tmp_path / "mlpkit-runs").runs()[0].wall_time)


def test_a_diverged_fit_kept_with_a_warning_is_recorded_with_its_finite_weights(iris, tmp_path):
    X, y = iris
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, learning_rate_init=1e6, on_divergence="warn",
                         random_state=0)
    with pytest.warns(UserWarning, match="non-finite"):
        model.fit(X * 1e30, y.astype(float), track=tmp_path)
    [run] = RunStore(tmp_path).runs()
    assert run.status == "finished"
    np.testing.assert_array_equal(mlpkit.load(RunStore(tmp_path).model_file(run)).coefs_[0], model.coefs_[0])


# ------------------------------------------------------------------------------ the whole model (issue 28)
def raw_table(n=40):
    """A table as the world makes it: a text category and a numeric column with gaps."""
    import pandas as pd

    rng = np.random.default_rng(0)
    size = rng.normal(10, 3, n)
    weight = np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(50, 10, n))
    colour = np.array(["red", "green", "blue"])[np.arange(n) % 3]
    return pd.DataFrame({"size": size, "colour": colour, "weight": weight}), (size > 10) ^ (colour == "red")


def test_a_recorder_told_the_model_follows_keeps_the_whole_pipeline_it_is_handed(tmp_path):
    from sklearn.pipeline import Pipeline

    X, y = raw_table()
    model = Pipeline([("prepare", mlpkit.Preparation()),
                      ("mlp", MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0))])
    recorder = RunRecorder(tmp_path, model_follows=True)
    model.fit(X, y, mlp__track=recorder)
    store = RunStore(tmp_path)
    assert recorder.waiting_for_model and store.run(recorder.run_id).status == "running"  # not without its model
    recorder.finish(model)
    run = store.run(recorder.run_id)
    assert run.status == "finished" and run.scores["epochs"] == 5 and not recorder.waiting_for_model
    kept = mlpkit.load(store.model_file(run))
    assert [name for name, _ in kept.steps] == ["prepare", "mlp"]
    np.testing.assert_allclose(kept.predict_proba(X), model.predict_proba(X), rtol=0, atol=1e-12)  # the raw table
    with pytest.raises(ValueError, match=r"finish\(model\): no fit watched by this recorder is waiting"):
        recorder.finish(model)  # once only


def test_a_run_whose_model_never_came_is_failed_when_the_recorder_watches_the_next_fit(iris, tmp_path):
    X, y = iris
    recorder = RunRecorder(tmp_path, model_follows=True)
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    model.fit(X, y, track=recorder)
    first = recorder.run_id
    model.fit(X, y, track=recorder)
    recorder.finish(model)
    store = RunStore(tmp_path)
    assert store.run(first).status == "failed" and "never handed to its recorder" in store.run(first).error
    assert store.run(recorder.run_id).status == "finished" and store.model_file(recorder.run_id).is_file()
