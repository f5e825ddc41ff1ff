"""mlpkit.sweep: finds better settings than the defaults, stores every trial, resumes, reuses compiled programs."""

import importlib

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, engine, flucoma
from mlpkit.experiments import RunStore

sweep_module = importlib.import_module("mlpkit.experiments.sweep")  # the package's `sweep` is the function

optuna = pytest.importorskip("optuna", reason='sweeps need Optuna: pip install "mlpkit[sweep]"')

#: Short fits: the tests check the search, not the learning.
DIGITS_MODEL = MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0)
DIGITS_SPACE = {"learning_rate_init": {"low": 1e-4, "high": 0.1, "log": True},
                "alpha": {"low": 1e-6, "high": 1e-2, "log": True}}

#: One structure and one data size for the iris tests, so that they compile their programs once.
IRIS_MODEL = MLPClassifier(hidden_layer_sizes=(4,), max_iter=8, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.fixture(scope="module")
def digits_sweep(digits, tmp_path_factory):
    X, y = digits
    runs = tmp_path_factory.mktemp("runs")
    return mlpkit.sweep(DIGITS_MODEL, X, y, DIGITS_SPACE, n_trials=10, cv=3, runs=runs, random_state=0)


def test_ten_trials_on_digits_find_settings_at_least_as_good_as_the_defaults(digits, digits_sweep):
    X, y = digits
    result = digits_sweep
    # the defaults, evaluated as the sweep evaluates a trial: the same folds, early stopping on for pruning
    defaults = cross_val_score(clone(DIGITS_MODEL).set_params(early_stopping=True), X, y, cv=3).mean()
    assert result.best_score_ >= defaults
    assert set(result.best_params_) == {"learning_rate_init", "alpha"}
    assert result.best_estimator_.get_params()["learning_rate_init"] == result.best_params_["learning_rate_init"]
    assert result.best_estimator_.score(X, y) > 0.9  # refitted on all the data
    assert mlpkit.load(result.model_path).score(X, y) == result.best_estimator_.score(X, y)
    assert result.flucoma_path is None and not any("FluCoMa" in note for note in result.notes)  # not asked for
    [note] = result.notes  # early stopping turned on for pruning, in Python's words and in the command line's
    assert "prune=False keeps the estimator as it was" in note
    assert "--no-prune keeps" in note.in_words({"no_prune": "--no-prune"})
    ranked = [t for t in result.trials_ if t["status"] == "finished"]
    assert ranked[0]["score"] == result.best_score_ and [t["rank"] for t in result.trials_] == list(range(1, 11))
    assert [t["score"] for t in ranked] == sorted((t["score"] for t in ranked), reverse=True)
    assert result.study.best_value == result.best_score_


def test_the_store_holds_every_trial_with_its_curves(digits_sweep):
    store, name = digits_sweep.store, digits_sweep.name
    runs = store.runs(sweep=name)
    assert sorted(run.trial for run in runs) == list(range(10))
    assert {run.status for run in runs} <= {"finished", "pruned"} and "finished" in {run.status for run in runs}
    curves = store.curves([run.id for run in runs])
    for run in runs:
        assert curves[run.id]["epoch"][:2] == [1, 2] and len(curves[run.id]["validation_loss"]) >= 5
        if run.status == "finished":
            assert set(run.scores) == {"score", "score_std", "fold_0", "fold_1", "fold_2"}
            assert run.scores["score"] == pytest.approx(np.mean([run.scores[f"fold_{k}"] for k in range(3)]))
        else:
            assert run.error.startswith("pruned at epoch")
    by_trial = {t["trial"]: t for t in digits_sweep.trials_}
    assert all(by_trial[run.trial]["run_id"] == run.id for run in runs)
    [best_run] = [run for run in store.runs() if run.sweep is None]  # the refit, outside the sweep
    assert best_run.name == f"{name}: best" and best_run.model_path is not None


def test_an_interrupted_sweep_resumes_without_repeating_finished_trials(tmp_path, monkeypatch):
    X, y = load_iris(return_X_y=True)
    model = IRIS_MODEL
    space = ["learning_rate_init=log:1e-3:1e-1"]
    fit_fold, calls = sweep_module._fit_fold, []

    def interrupt_the_third_trial(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as Ctrl-C during the fit
        return fit_fold(*args)

    monkeypatch.setattr(sweep_module, "_fit_fold", interrupt_the_third_trial)
    with pytest.raises(KeyboardInterrupt):
        mlpkit.sweep(model, X, y, space, n_trials=4, runs=tmp_path, name="iris", prune=False)
    store = RunStore(tmp_path)
    before = {run.trial: run for run in store.runs(sweep="iris")}
    assert [before[t].status for t in (0, 1, 2)] == ["finished", "finished", "failed"]
    assert "interrupted" in before[2].error

    monkeypatch.setattr(sweep_module, "_fit_fold", fit_fold)
    result = mlpkit.sweep(model, X, y, space, n_trials=4, runs=tmp_path, name="iris", prune=False)
    after = {run.trial: run for run in store.runs(sweep="iris")}
    assert result.n_trials_run == 2 and sorted(after) == [0, 1, 2, 3, 4]  # trial 2 ran again as trial 4
    assert all(after[t] == before[t] for t in (0, 1))  # finished trials untouched
    assert len(result.study.trials) == 5 and [t["status"] for t in result.trials_].count("finished") == 4

    again = mlpkit.sweep(model, X, y, space, n_trials=6, runs=tmp_path, name="iris", prune=False)
    assert again.n_trials_run == 2 and len(store.runs(sweep="iris")) == 7
    with pytest.raises(ValueError, match="was run with another search space"):
        mlpkit.sweep(model, X, y, ["alpha=1e-5:1e-2"], n_trials=6, runs=tmp_path, name="iris")


def test_without_a_name_repeating_the_call_resumes_the_same_sweep(tmp_path):
    X, y = load_iris(return_X_y=True)
    space = ["alpha=1e-5:1e-2"]
    first = mlpkit.sweep(IRIS_MODEL, X, y, space, n_trials=2, runs=tmp_path, prune=False)
    second = mlpkit.sweep(IRIS_MODEL, X, y, space, n_trials=2, runs=tmp_path, prune=False)
    assert second.name == first.name and second.n_trials_run == 0
    other = mlpkit.sweep(IRIS_MODEL, X + 1, y, space, n_trials=1, runs=tmp_path, prune=False)  # other data
    assert other.name != first.name and RunStore(tmp_path).sweeps() == [first.name, other.name]


def test_trials_differing_in_traced_parameters_reuse_the_compiled_program(tmp_path):
    X, y = load_iris(return_X_y=True)
    space = {"learning_rate_init": {"low": 1e-3, "high": 0.1, "log": True}, "alpha": {"low": 1e-6, "high": 1e-2}}
    mlpkit.sweep(IRIS_MODEL, X, y, space, n_trials=1, runs=tmp_path, name="warm")  # compiles its programs once
    compiled = engine.compiled_programs()
    result = mlpkit.sweep(IRIS_MODEL, X, y, space, n_trials=5, runs=tmp_path, name="warm")
    assert result.n_trials_run == 4 and engine.compiled_programs() == compiled
    values = {(t["params"]["learning_rate_init"], t["params"]["alpha"]) for t in result.trials_}
    assert len(values) == 5  # every trial tried other values


def test_the_best_pipeline_is_saved_as_flucoma_json_with_its_scaler(tmp_path):
    X, _ = load_iris(return_X_y=True)
    X, y = X[:, :3], X[:, 3]  # petal width from the other measurements
    pipeline = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,), activation="tanh", max_iter=8,
                                                            random_state=0))
    result = mlpkit.sweep(pipeline, X, y, ["mlpregressor__learning_rate_init=log:1e-3:1e-1"], n_trials=2,
                          runs=tmp_path, flucoma=True)
    assert result.flucoma_path.name.endswith(".flucoma.json") and result.scaler_path.name.endswith(".scaler.json")
    scaler = flucoma.Standardize.read(result.scaler_path)
    network = mlpkit.load(result.flucoma_path)  # FluCoMa's MLP file, read back
    np.testing.assert_allclose(network.predict(scaler.transform(X)).ravel(), result.best_estimator_.predict(X),
                               rtol=1e-4, atol=1e-5)
    kept = mlpkit.load(result.model_path)  # the whole pipeline, its scaler too
    np.testing.assert_allclose(kept.predict(X), result.best_estimator_.predict(X), rtol=0, atol=1e-12)


def test_a_sweep_where_no_trial_finishes_says_why(tmp_path):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"no trial of the sweep 'bad' finished .* first errors: ValueError: X has"
                                         r" values beyond the range of float32"):
        # (float32 chosen: the input's float64 holds these values, float32 refuses them in every trial)
        mlpkit.sweep(clone(IRIS_MODEL).set_params(dtype="float32"), X * 1e39, y, {"alpha": [0.1, 0.2]}, n_trials=2,
                     runs=tmp_path, name="bad", prune=False)  # fmt: skip
    assert {run.status for run in RunStore(tmp_path).runs(sweep="bad")} == {"failed"}


def test_bad_arguments_are_named(tmp_path):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="n_trials must be a whole number >= 1, got 0"):
        mlpkit.sweep(MLPClassifier(), X, y, {"alpha": [0.1]}, n_trials=0, runs=tmp_path)
    with pytest.raises(ValueError, match="MLPClassifier has no parameter 'alpah'"):
        mlpkit.sweep(MLPClassifier(), X, y, {"alpah": [0.1]}, runs=tmp_path)


def test_parallel_workers_share_the_study(tmp_path):  # two spawned processes: ~6 s
    X, y = load_iris(return_X_y=True)
    result = mlpkit.sweep(IRIS_MODEL, X, y, ["alpha=1e-5:1e-2"], n_trials=4, runs=tmp_path, n_jobs=2, prune=False)
    runs = RunStore(tmp_path).runs(sweep=result.name)
    assert len(runs) >= 4 and len({run.trial for run in runs}) == len(runs)  # one run per trial, no repeats
    assert {run.status for run in runs} == {"finished"}


#: Epoch-1 calls of ``count_fits``: one per fit it heard of (a module-level list: clone copies the estimator's
#: callbacks, but a function is copied as itself).
FITS_HEARD = []


def count_fits(model, info):
    if info.epoch == 1:
        FITS_HEARD.append(1)


def test_the_estimators_own_callbacks_run_in_every_fold(tmp_path):
    X, y = load_iris(return_X_y=True)
    FITS_HEARD.clear()
    model = clone(IRIS_MODEL).set_params(callbacks=[count_fits])
    mlpkit.sweep(model, X, y, {"alpha": [0.1]}, n_trials=1, cv=2, runs=tmp_path, prune=False)
    assert len(FITS_HEARD) == 3  # both folds of the trial (the first also reports to the pruner), and the refit


def test_the_holdout_is_the_same_on_every_call_when_a_class_is_too_small_to_stratify():
    X, y = np.arange(60.0).reshape(30, 2), np.array([0] * 15 + [1] * 14 + [2])  # class 2: one row
    model = MLPClassifier()
    first, again = (sweep_module._splits(model, X, y, None, None) for _ in range(2))
    assert [test.tolist() for _, test in first] == [test.tolist() for _, test in again]  # a resumed sweep scores alike


def test_a_named_sweep_run_again_with_other_fixed_settings_is_refused(tmp_path):
    X, y = load_iris(return_X_y=True)
    space = {"alpha": [0.1, 0.2]}
    mlpkit.sweep(IRIS_MODEL, X, y, space, n_trials=1, runs=tmp_path, name="named", prune=False)
    for changed in ({"estimator": clone(IRIS_MODEL).set_params(max_iter=9)}, {"cv": 2}, {"prune": True}):
        arguments = {"estimator": IRIS_MODEL, "prune": False, **changed}
        with pytest.raises(ValueError, match="'named' .* was run with another setting .* Give this sweep another name"):
            mlpkit.sweep(arguments.pop("estimator"), X, y, space, n_trials=2, runs=tmp_path, name="named", **arguments)
    assert len(RunStore(tmp_path).runs(sweep="named")) == 1  # nothing mixed in
    again = mlpkit.sweep(clone(IRIS_MODEL), X, y, space, n_trials=2, runs=tmp_path, name="named", prune=False)
    assert again.n_trials_run == 1  # the same settings (a clone: equal, not the same object) continue it


def test_callbacks_do_not_keep_an_unnamed_sweep_from_resuming(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = clone(IRIS_MODEL).set_params(callbacks=[count_fits])
    first = sweep_module._default_name(model, sweep_module.parse_space({"alpha": [0.1]}), "data", None, None, True)
    assert "0x" not in sweep_module._setup(model, None, None, True)  # a function's address differs in each process
    assert first == sweep_module._default_name(clone(model), sweep_module.parse_space({"alpha": [0.1]}), "data",
                                               None, None, True)


def test_a_note_keeps_its_braces_and_pickles():
    import pickle

    from mlpkit.experiments.sweep import Note

    plain = Note.plain("layer 1 uses {softmax}")
    assert plain == "layer 1 uses {softmax}" == plain.in_words({"no_prune": "--no-prune"})
    note = pickle.loads(pickle.dumps(Note("turn it off with {no_prune}")))
    assert note == "turn it off with prune=False" and note.in_words({"no_prune": "--no-prune"}).endswith("--no-prune")


def test_a_population_sweep_scores_each_trial_as_its_own_fits_would(tmp_path):
    X, y = load_iris(return_X_y=True)
    space = {"learning_rate_init": {"low": 1e-3, "high": 0.1, "log": True},
             "hidden_layer_sizes": [(4,), (3,)]}  # two structures: two populations of a batch
    result = mlpkit.sweep(IRIS_MODEL, X, y, space, n_trials=4, cv=2, runs=tmp_path, name="pop", population=3,
                          prune=False)  # fmt: skip
    assert result.n_trials_run == 4 and len(result.study.trials) == 4  # a batch of 3, then one
    assert {t["status"] for t in result.trials_} == {"finished"}
    folds = sweep_module._splits(IRIS_MODEL, X, y, 2, None)
    for trial in result.trials_:
        model = clone(IRIS_MODEL).set_params(**trial["params"])
        alone = [clone(model).fit(X[train], y[train]).score(X[test], y[test]) for train, test in folds]
        assert trial["score"] == pytest.approx(np.mean(alone), abs=1e-12)
    runs = RunStore(tmp_path).runs(sweep="pop")
    assert sorted(run.trial for run in runs) == list(range(4)) and {run.status for run in runs} == {"finished"}


def test_a_pruned_member_of_a_population_is_frozen_while_the_others_train(tmp_path, monkeypatch):
    monkeypatch.setattr(mlpkit.trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: pruned where it is told
    asked = []
    monkeypatch.setattr(optuna.trial.Trial, "should_prune", lambda trial: asked.append(trial.number) or trial.number == 4)
    X, y = load_iris(return_X_y=True)
    model = clone(IRIS_MODEL).set_params(max_iter=12)
    mlpkit.sweep(model, X, y, ["alpha=1e-5:1e-2"], n_trials=3, runs=tmp_path, name="p", population=3)
    assert asked == []  # no trial had finished: the pruner would prune none, and is not asked
    result = mlpkit.sweep(model, X, y, ["alpha=1e-5:1e-2"], n_trials=6, runs=tmp_path, name="p", population=3)
    status = {t["trial"]: t["status"] for t in result.trials_}
    assert status == {0: "finished", 1: "finished", 2: "finished", 3: "finished", 4: "pruned", 5: "finished"}
    assert [t.state.name for t in result.study.trials][3:] == ["COMPLETE", "PRUNED", "COMPLETE"]
    epochs = {t["trial"]: t["epochs"] for t in result.trials_}
    assert epochs[4] == sweep_module.REPORT_EVERY and epochs[3] == epochs[5] == 12  # (early stopping's patience: 10)


def test_population_must_be_a_whole_number(tmp_path):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="population must be a whole number of trials trained at once >= 1"):
        mlpkit.sweep(IRIS_MODEL, X, y, {"alpha": [0.1]}, runs=tmp_path, population=0)
