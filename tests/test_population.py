"""``mlpkit.fit_many``: every member equals its separate fit, ``clone(estimator).set_params(**c).fit(X, y)``.

The reference is mlpkit's own ``fit``; in float64 the population's numbers agree with it to 1e-9 (the
batched matrix products of a vmapped loop may round differently in the last bits). The candidates mix
seeds, rates, penalties, early stopping with its split per seed, and program switches (dropout, l1,
clipping) that a population widens; a member that diverges, one that fails and one a callback stops
leave the others as they would be alone.
"""

from __future__ import annotations

import threading
import time
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import ParameterGrid

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, engine, numpy_loop, population, trainer
from mlpkit._base import DivergenceWarning

X, y = make_classification(n_samples=120, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0)
XR, yR = make_regression(n_samples=90, n_features=4, noise=1.0, random_state=0)
yR = yR / yR.std()
TOL = 1e-9
#: The numpy loop's limit as mlpkit sets it: the module's other tests put every fit in the compiled loop.
DEFAULT_MAX_WORK = numpy_loop.MAX_WORK
pytestmark = pytest.mark.usefixtures("compiled_loop")  # (populations are what these tests are about)
#: The regressor of most tests, in populations of three: one program, compiled once for the module.
REGRESSOR = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", max_iter=15, batch_size=20, tol=0)

CLASSIFIER = MLPClassifier(hidden_layer_sizes=(6,), max_iter=25, early_stopping=True, n_iter_no_change=4,
                           validation_fraction=0.2, batch_size=32)  # fmt: skip
#: seeds and rates; dropout, l1 and clip_norm switched on for some members only (one widened program);
#: another layer size (a second population); L-BFGS (fits on its own)
CANDIDATES = [
    *ParameterGrid({"random_state": [0, 1], "learning_rate_init": [0.003, 0.03], "alpha": [1e-4, 1e-2]}),
    {"random_state": 2, "dropout": 0.2},
    {"random_state": 3, "l1": 1e-3, "clip_norm": 1.0},
    {"random_state": 4, "hidden_layer_sizes": (4,)},
    {"random_state": 5, "hidden_layer_sizes": (4,), "learning_rate_init": 0.01},
    {"random_state": 6, "solver": "lbfgs", "max_iter": 15},
]


def separate(estimator, candidates, X, y, **fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [clone(estimator).set_params(**c).fit(X, y, **fit) for c in candidates]


def together(estimator, candidates, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mlpkit.fit_many(estimator, X, y, candidates, **kwargs)


def assert_same_fit(member, reference):
    """The fitted attributes a separate fit leaves, equal to 1e-9 (counts and flags exactly)."""
    assert type(member) is type(reference) and member.get_params() == reference.get_params()
    for mine, theirs in zip(member.coefs_ + member.intercepts_, reference.coefs_ + reference.intercepts_):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOL)
    assert (member.n_iter_, member.t_) == (reference.n_iter_, reference.t_)
    for name in ("loss_curve_", "validation_scores_", "validation_loss_curve_", "learning_rate_curve_"):
        mine, theirs = getattr(member, name, None), getattr(reference, name, None)
        assert (mine is None) == (theirs is None), name
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOL, err_msg=name)
    for name in ("best_loss_", "best_validation_score_", "loss_"):
        mine, theirs = getattr(member, name, None), getattr(reference, name, None)
        assert (mine is None) == (theirs is None), name
        if mine is not None:  # (inf and NaN equal themselves here)
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOL, err_msg=name)
    np.testing.assert_allclose(member.predict_proba(X) if hasattr(member, "predict_proba") else member.predict(XR),
                               reference.predict_proba(X) if hasattr(reference, "predict_proba") else reference.predict(XR),
                               rtol=0, atol=TOL)  # fmt: skip


@pytest.fixture
def population_sizes(monkeypatch):
    """The number of members of each population trained (``trainer.run_population`` calls), in order."""
    sizes = []
    original = trainer.run_population
    monkeypatch.setattr(trainer, "run_population",
                        lambda program, members, *lanes: sizes.append(len(members)) or original(program, members, *lanes))
    return sizes


@pytest.fixture(scope="module")
def classifiers():
    return together(CLASSIFIER, CANDIDATES, X, y), separate(CLASSIFIER, CANDIDATES, X, y)


def test_each_member_is_its_separate_fit(classifiers):
    members, references = classifiers
    assert len(members) == len(CANDIDATES)
    for member, reference in zip(members, references):
        assert_same_fit(member, reference)
    # early stopping stopped members at different epochs: each kept its own best weights
    assert len({m.n_iter_ for m in members[:8]}) > 1


def test_members_of_one_structure_train_as_one_population(population_sizes):
    sizes = population_sizes
    together(CLASSIFIER, CANDIDATES, X, y)
    # the ten (6,) members (dropout, l1 and clipping widened in), split for the lanes as the machine's cores
    # say; the two (4,) members; L-BFGS alone
    per_part, size = population.split(10)
    assert sorted(sizes) == sorted([2] + [size] * -(-10 // per_part))


def test_members_too_small_to_repay_a_compile_train_one_by_one_in_numpy(population_sizes, monkeypatch):
    """Members whose plain fits take the numpy loop train so, one after another (no population compiled):
    each is exactly its separate fit."""
    monkeypatch.setattr(numpy_loop, "MAX_WORK", DEFAULT_MAX_WORK)
    calls = []
    run_epochs = numpy_loop.run_epochs
    monkeypatch.setattr(numpy_loop, "run_epochs", lambda *args: calls.append(1) or run_epochs(*args))
    candidates = [{"random_state": s, "alpha": a} for s, a in ((0, 1e-4), (1, 1e-2), (2, 1.0))]
    members = together(REGRESSOR, candidates, XR, yR)
    assert population_sizes == [] and calls
    for member, reference in zip(members, separate(REGRESSOR, candidates, XR, yR)):
        for ours, theirs in zip(member.coefs_ + member.intercepts_, reference.coefs_ + reference.intercepts_):
            np.testing.assert_array_equal(ours, theirs)


def test_sgd_regressors_with_momentum_and_sample_weights():
    estimator = REGRESSOR
    candidates = [{"momentum": 0.0, "random_state": 0}, {"momentum": 0.9, "random_state": 0}, {"momentum": 0.5, "random_state": 1}]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, XR.shape[0])
    members = together(estimator, candidates, XR, yR, sample_weight=weights)
    for member, reference in zip(members, separate(estimator, candidates, XR, yR, sample_weight=weights)):
        assert_same_fit(member, reference)


def test_a_diverging_member_is_reported_and_the_others_go_on():
    # (its separate fits train in the compiled loop, as the population does: a diverged epoch's non-finite
    # loss may read inf in one loop and nan in the other, as BLAS and XLA sum overflowing products in another order)
    estimator = REGRESSOR
    candidates = [{"random_state": 0}, {"random_state": 0, "learning_rate_init": 1e3}, {"random_state": 1}]
    with pytest.raises(mlpkit.FitManyError, match=r"1 of 3 candidates.*candidates\[1\].*non-finite") as raised:
        mlpkit.fit_many(estimator, XR, yR, candidates)
    members, errors = raised.value.estimators, raised.value.errors
    assert [e is None for e in errors] == [True, False, True]
    references = separate(estimator, [candidates[0], candidates[2]], XR, yR)
    assert_same_fit(members[0], references[0])
    assert_same_fit(members[2], references[1])
    # with on_divergence='warn' it is kept, stopped at its last finite weights, as a separate fit keeps it
    candidates[1]["on_divergence"] = "warn"
    with pytest.warns(DivergenceWarning):
        members = mlpkit.fit_many(estimator, XR, yR, candidates)
    with pytest.warns(DivergenceWarning):
        reference = clone(estimator).set_params(**candidates[1]).fit(XR, yR)
    assert members[1].n_iter_ == reference.n_iter_ < 15
    assert_same_fit(members[1], reference)


def test_a_member_a_callback_stops_is_frozen_and_one_it_steers_changes_alone(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk, in both: the same epochs

    def stop_at_3(model, info):
        return info.epoch >= 3

    def faster_at_4(model, info):
        return {"learning_rate_init": 0.05} if info.epoch == 4 else None

    estimator = clone(REGRESSOR).set_params(max_iter=12)
    candidates = [{"random_state": 0, "callbacks": [stop_at_3]}, {"random_state": 1, "callbacks": [faster_at_4]},
                  {"random_state": 2}]  # fmt: skip
    members = together(estimator, candidates, XR, yR)
    assert [m.n_iter_ for m in members] == [3, 12, 12]
    assert members[1].learning_rate_init == 0.05 and members[2].learning_rate_init == 0.001
    for member, reference in zip(members, separate(estimator, candidates, XR, yR)):
        assert_same_fit(member, reference)


def test_ctrl_c_ends_every_member_with_its_epochs_so_far(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk
    run, calls = engine.run_population_compiled, []

    def ctrl_c_in_the_fourth_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return run(*args, **kwargs)

    monkeypatch.setattr(engine, "run_population_compiled", ctrl_c_in_the_fourth_chunk)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        members = mlpkit.fit_many(REGRESSOR, XR, yR, [{"random_state": s} for s in range(3)])
    assert [m.n_iter_ for m in members] == [3, 3, 3]
    for member, reference in zip(members, separate(clone(REGRESSOR).set_params(max_iter=3), [{"random_state": s} for s in range(3)], XR, yR)):
        np.testing.assert_allclose(member.coefs_[0], reference.coefs_[0], rtol=0, atol=TOL)


def test_shared_callbacks_see_every_member_and_progress_is_one_bar():
    seen = {}

    def record(model, info):
        seen.setdefault(id(model), []).append(info.epoch)

    estimator = clone(REGRESSOR).set_params(max_iter=6, progress=True)
    members = together(estimator, [{"random_state": s} for s in range(3)], XR, yR, callbacks=[record])
    assert set(seen) == {id(m) for m in members}
    assert all(epochs == [1, 2, 3, 4, 5, 6] for epochs in seen.values())


def test_on_the_cpu_large_steps_train_one_after_another_unless_asked(monkeypatch, population_sizes):
    sizes = population_sizes
    monkeypatch.setattr(population, "CPU_STEP_FLOPS", 0.0)  # every step "large"
    candidates = [{"random_state": s} for s in range(3)]
    alone = together(REGRESSOR, candidates, XR, yR)
    assert sizes == [] or mlpkit.population.jax.default_backend() != "cpu"
    forced = together(REGRESSOR, candidates, XR, yR, population=True)
    assert sizes[-1:] == [3]
    for member, reference in zip(forced, alone):
        assert_same_fit(member, reference)
    with pytest.raises(ValueError, match="population must be 'auto', True or False"):
        mlpkit.fit_many(REGRESSOR, XR, yR, candidates, population="always")


def test_a_memory_budget_splits_the_population(population_sizes):
    sizes = population_sizes
    estimator = clone(REGRESSOR).set_params(max_iter=5)
    candidates = [{"random_state": s} for s in range(4)]
    one = together(estimator, candidates[:1], XR, yR)[0]
    budget = 2.5 * population.member_bytes(_job_of(estimator, XR, yR))
    members = together(estimator, candidates, XR, yR, memory_budget=budget)
    assert sizes == [3]  # three members fit the budget (the third crosses it); the fourth trains on its own
    assert_same_fit(members[0], one)


def _job_of(estimator, X, y):
    model = clone(estimator)
    return model._start_fit_in_population(X, y, None)


def test_members_share_one_copy_of_equal_rows():
    jobs = []
    with mlpkit.training_data.shared_rows():
        for seed in (0, 1):
            jobs.append(_job_of(MLPRegressor(hidden_layer_sizes=(3,), random_state=seed), XR, yR))
            jobs.append(_job_of(MLPRegressor(hidden_layer_sizes=(3,), random_state=seed, early_stopping=True), XR, yR))
    assert jobs[0].prepared.data is jobs[2].prepared.data  # the same rows: one copy
    assert jobs[1].prepared.data is not jobs[3].prepared.data  # early stopping's split differs by seed


def test_other_estimators_are_fitted_one_by_one():
    models = mlpkit.fit_many(Ridge(), XR, yR, [{"alpha": 0.1}, {"alpha": 10.0}])
    for model, alpha in zip(models, (0.1, 10.0)):
        np.testing.assert_array_equal(model.coef_, Ridge(alpha=alpha).fit(XR, yR).coef_)


def test_failures_are_reported_per_candidate():
    estimator = clone(REGRESSOR).set_params(max_iter=3)
    candidates = [{"random_state": 0}, {"alpha": -1.0}, {"random_state": 1}, {"random_state": 2}]
    with pytest.raises(mlpkit.FitManyError, match=r"candidates\[1\]: InvalidParameterError.*'alpha'") as raised:
        together(estimator, candidates, XR, yR)
    assert not hasattr(raised.value.estimators[1], "coefs_") and hasattr(raised.value.estimators[0], "coefs_")
    with pytest.warns(FitFailedWarning, match=r"candidates\[1\]"):
        models = mlpkit.fit_many(estimator, XR, yR, candidates, errors="warn")
    assert not hasattr(models[1], "coefs_")
    with pytest.raises(ValueError, match="Input X contains NaN"):  # all fail alike: that error itself
        mlpkit.fit_many(estimator, np.full_like(XR, np.nan), yR, candidates[:1] * 3)


@pytest.mark.parametrize("candidates, message", [
    ({"alpha": 1.0}, "got one dict"),
    ([{"alpha": 1.0}, 3], r"candidates\[1\] is 3"),
    ([{"no_such_parameter": 1}], r"candidates\[0\].*no_such_parameter"),
])  # fmt: skip
def test_bad_candidates_are_refused_with_what_to_do(candidates, message):
    with pytest.raises(ValueError, match=message):
        mlpkit.fit_many(MLPRegressor(), XR, yR, candidates)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="errors must be one of"):
        mlpkit.fit_many(MLPRegressor(), XR, yR, [{}], errors="ignore")
    with pytest.raises(ValueError, match="memory_budget must be a number of bytes"):
        mlpkit.fit_many(MLPRegressor(), XR, yR, [{}], memory_budget=-1)
    with pytest.raises(ValueError, match="callbacks must be a list of callables"):
        mlpkit.fit_many(MLPRegressor(), XR, yR, [{}], callbacks=print)


def test_population_sizes_are_buckets():
    assert [population.population_size(n) for n in (1, 2, 3, 4, 5, 9, 17, 33)] == [1, 2, 3, 4, 5, 10, 20, 40]


# ---------------------------------------------------------------------------------------- lanes
#: seeds and rates, early stopping (its split per seed) and shuffling on, float64
LANE_CANDIDATES = [{"random_state": s, "learning_rate_init": rate} for s in range(4) for rate in (0.003, 0.03)]


def assert_identical(members, references):
    """Bit for bit, in order: weights, curves, epochs."""
    assert [m.get_params() for m in members] == [r.get_params() for r in references]
    for member, reference in zip(members, references):
        assert all(np.array_equal(a, b) for a, b in zip(member.coefs_ + member.intercepts_,
                                                        reference.coefs_ + reference.intercepts_))  # fmt: skip
        assert member.n_iter_ == reference.n_iter_
        for name in ("loss_curve_", "validation_scores_"):
            assert np.array_equal(getattr(member, name), getattr(reference, name)), name


@pytest.fixture
def two_cores(monkeypatch):
    """Vmapped groups split as on a machine of two cores, whatever this one has."""
    monkeypatch.setattr(population, "cores_to_split_for", lambda: 2)


@pytest.mark.parametrize("vmapped", [True, False])
def test_lanes_change_no_number_and_keep_the_order(monkeypatch, two_cores, population_sizes, vmapped):
    estimator = clone(CLASSIFIER).set_params(max_iter=12, dtype="float64")
    threads = set()
    record = [lambda model, info: threads.add(threading.current_thread().name)]
    serial = together(estimator, LANE_CANDIDATES, X, y, population=vmapped, n_jobs=1)
    # Each task of the lanes starts only once another lane has one too: on a loaded machine the first lane
    # could otherwise finish its task and take the next before the second lane's thread ran, and the check
    # below would fail though nothing is wrong; a pool that ran the tasks one by one times out here instead.
    together_now, train_task = threading.Barrier(2, timeout=120), population._train_task

    def in_step(task, lanes):
        together_now.wait()
        return train_task(task, lanes)

    monkeypatch.setattr(population, "_train_task", in_step)
    lanes = together(estimator, LANE_CANDIDATES, X, y, population=vmapped, n_jobs=2, callbacks=record)
    assert_identical(lanes, serial)
    assert len({m.n_iter_ for m in lanes}) > 1  # (early stopping stopped them at different epochs)
    assert len(threads) == 2  # the lanes did train at once, in two threads
    assert population_sizes == ([4, 4, 4, 4] if vmapped else [])  # two sub-populations each time


def test_callbacks_never_run_two_at_once(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: many calls
    inside, overlaps, threads = [], [], set()

    class Slow:
        def __call__(self, model, info):
            self.enter_and_leave()

        def on_fit_start(self, model, max_iter):
            self.enter_and_leave()

        def on_fit_end(self, model):
            self.enter_and_leave()

        def enter_and_leave(self):
            inside.append(1)  # (list appends and pops are atomic: no lock of the test's own)
            if len(inside) > 1:
                overlaps.append(threading.current_thread().name)
            threads.add(threading.current_thread().name)
            time.sleep(0.002)
            inside.pop()

    estimator = clone(REGRESSOR).set_params(max_iter=6)
    together(estimator, [{"random_state": s} for s in range(4)], XR, yR, population=False, n_jobs=2, callbacks=[Slow()])
    assert len(threads) == 2 and overlaps == []


def test_a_failure_in_one_lane_leaves_the_others_fitted():
    def fails(model, info):
        raise RuntimeError("a callback failed")

    estimator = clone(REGRESSOR).set_params(max_iter=4)
    candidates = [{"random_state": 0}, {"random_state": 1, "callbacks": [fails]}, {"random_state": 2}, {"random_state": 3}]
    with pytest.warns(FitFailedWarning, match=r"candidates\[1\].*a callback failed"):
        models = mlpkit.fit_many(estimator, XR, yR, candidates, population=False, n_jobs=2, errors="warn")
    assert not hasattr(models[1], "coefs_")
    for model, reference in zip(models[::2] + models[3:], separate(estimator, candidates[::2] + candidates[3:], XR, yR)):
        assert_same_fit(model, reference)


@pytest.mark.parametrize("n_jobs", [0, "x", 1.5, True])
def test_bad_n_jobs_is_refused(n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be a whole number other than 0"):
        mlpkit.fit_many(REGRESSOR, XR, yR, [{}], n_jobs=n_jobs)


def test_inside_a_joblib_worker_a_share_of_the_cores_is_one_lane():
    """GridSearchCV(n_jobs=2)'s workers hold the cores already: -1 there is one lane (a number, kept)."""
    from mlpkit.population import n_lanes

    outside = n_lanes(-1)
    inside = joblib.Parallel(n_jobs=2, backend="threading")(joblib.delayed(n_lanes)(n) for n in (-1, None, 2))
    assert outside == joblib.cpu_count() and inside == [1, 1, 2]


def assert_kept_epochs_so_far(members, estimator, max_iter):
    """Every member stopped before the end, with the epochs it had done as a fit of that many epochs."""
    assert all(m.n_iter_ < max_iter for m in members)
    for member in members:
        assert len(member.loss_curve_) == member.n_iter_
        if member.n_iter_:
            reference = separate(clone(estimator).set_params(max_iter=member.n_iter_), [{"random_state": member.random_state}], XR, yR)[0]
            assert np.array_equal(member.coefs_[0], reference.coefs_[0])


def test_ctrl_c_in_one_lane_stops_every_lane(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: stops come quickly

    def ctrl_c_at_3(model, info):
        if info.epoch == 3:
            raise KeyboardInterrupt

    estimator = clone(REGRESSOR).set_params(max_iter=400)
    candidates = [{"random_state": 0, "callbacks": [ctrl_c_at_3]}] + [{"random_state": s} for s in range(1, 4)]
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        members = mlpkit.fit_many(estimator, XR, yR, candidates, population=False, n_jobs=2)
    assert members[0].n_iter_ == 3
    assert_kept_epochs_so_far(members, estimator, 400)


def test_ctrl_c_while_the_lanes_train_stops_them_all(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)
    real_wait, calls = population.wait, []

    def ctrl_c_after_a_while(futures):
        calls.append(1)
        if len(calls) == 1:
            real_wait(futures, timeout=0.3)
            raise KeyboardInterrupt  # as Ctrl-C reaches the main thread, waiting for the lanes
        return real_wait(futures)

    monkeypatch.setattr(population, "wait", ctrl_c_after_a_while)
    estimator = clone(REGRESSOR).set_params(max_iter=2000)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        members = mlpkit.fit_many(estimator, XR, yR, [{"random_state": s} for s in range(4)], population=False, n_jobs=2)
    assert_kept_epochs_so_far(members, estimator, 2000)
