"""Every fit continues exactly: the training state (``state.TrainState``) carries everything over.

k warm fits of n epochs, or k·n ``partial_fit`` calls on the same rows, train as one fit of k·n
epochs: the same weights, learning-rate curve and loss curve, in float64 with shuffling on, for every
schedule without a horizon and several solvers. A rate changed between fits and a rate changed by a
callback during a fit are the same change.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import optax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_regression

import mlpkit
from mlpkit import engine, trainer

#: Each test runs with every fit in the numpy loop, then in the compiled loop: the same rules in both.
pytestmark = pytest.mark.usefixtures("either_loop")

X, Y = make_regression(n_samples=90, n_features=4, noise=5.0, random_state=0)
Y = Y / Y.std()

COMMON = dict(hidden_layer_sizes=(6,), batch_size=32, shuffle=True, random_state=1, dtype="float64",
              learning_rate_init=0.01)  # fmt: skip

#: schedule -> parameters that make it act within a few epochs. tol=0 and an unreachable
#: n_iter_no_change keep the stopping rule out of the way, except where the schedule is driven by it
#: (adaptive divides the rate where the rule fires; a huge tol makes it fire every 3 epochs).
SCHEDULES = {
    "constant": dict(tol=0.0, n_iter_no_change=10**6),
    "invscaling": dict(tol=0.0, n_iter_no_change=10**6, power_t=0.3),
    "adaptive": dict(tol=1e9, n_iter_no_change=2),
    "exponential": dict(tol=0.0, n_iter_no_change=10**6, lr_decay=0.5, lr_decay_epochs=3),
    "step": dict(tol=0.0, n_iter_no_change=10**6, lr_decay=0.5, lr_decay_epochs=5),
    "reduce_on_plateau": dict(tol=1e9, n_iter_no_change=10**6, lr_patience=2, lr_decay=0.5),
    "callable": dict(tol=0.0, n_iter_no_change=10**6),
}
SOLVERS = {
    "adam": dict(solver="adam"),
    "sgd_nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "rmsprop": dict(solver="rmsprop"),
}


def make(schedule, solver, **params):
    schedule_params = dict(SCHEDULES[schedule])
    if schedule == "adaptive" and solver != "sgd_nesterov":  # constant there (as scikit-learn): the rule would stop
        schedule_params = dict(SCHEDULES["constant"])
    rate = optax.exponential_decay(0.01, transition_steps=4, decay_rate=0.7) if schedule == "callable" else schedule
    return mlpkit.MLPRegressor(learning_rate=rate, **COMMON, **SOLVERS[solver], **schedule_params, **params)


def assert_same_training(model, reference):
    np.testing.assert_allclose(model.learning_rate_curve_, reference.learning_rate_curve_, rtol=1e-9, atol=0)
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-9, atol=0)
    for W, W_ref in zip(model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_):
        np.testing.assert_allclose(W, W_ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_warm_fits_and_partial_fits_train_as_one_fit(schedule, solver):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        long = make(schedule, solver, max_iter=12).fit(X, Y)
        warm = make(schedule, solver, max_iter=4, warm_start=True)
        for _ in range(3):
            warm.fit(X, Y)
        partial = make(schedule, solver)
        for _ in range(12):
            partial.partial_fit(X, Y)
    assert len(long.loss_curve_) == 12
    sgd_only = schedule in ("invscaling", "adaptive")  # scikit-learn's: only its sgd follows them
    if schedule != "constant" and (solver == "sgd_nesterov" or not sgd_only):
        assert len(set(np.round(long.learning_rate_curve_, 12))) > 1  # the schedule did move
    assert_same_training(warm, long)
    assert_same_training(partial, long)


def test_the_issues_exponential_example():
    """SGD, learning_rate_init=0.01, exponential: 3 warm fits of 2 epochs give one 6-epoch fit's rates."""
    params = dict(solver="sgd", learning_rate="exponential", learning_rate_init=0.01, lr_decay=0.1, lr_decay_epochs=30,
                  max_iter=2, warm_start=True)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), random_state=0, **params)
        for _ in range(3):
            model.fit(X, Y)
    np.testing.assert_allclose(model.learning_rate_curve_, [0.01 * 0.1 ** (e / 30) for e in range(6)], rtol=1e-6)


def test_max_iter_changes_do_not_recompile_across_buckets():
    """The history of a compiled call has a fixed length: ``max_iter`` is a traced value like any other."""
    small, large = (X[:40], Y[:40]), (X, Y)  # two row buckets: a program each
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0, warm_start=True, tol=0.0,
                                n_iter_no_change=10**6)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in (small, large):
            model.fit(*rows)
        compiled = engine.compiled_programs()
        for max_iter in (1, 7, 40, 300, 1500):  # 1500 > one call's history: two calls
            for rows in (small, large):
                before = len(model.loss_curve_)
                model.set_params(max_iter=max_iter).fit(*rows)
                assert model.n_iter_ == max_iter == len(model.loss_curve_) - before
    assert engine.compiled_programs() == compiled


@pytest.mark.parametrize("schedule", ["invscaling", "cosine", "exponential", "constant"])
def test_a_rate_changed_during_a_fit_stays_changed(schedule, monkeypatch):
    """A callback's new rate becomes the base from the next epoch on, under every schedule; the rest of
    the fit is what a warm fit with that rate would do."""
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: the change comes at once
    params = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate=schedule, max_iter=5, tol=0.0,
                  n_iter_no_change=10**6, random_state=0, dtype="float64", lr_min=1e-4)  # fmt: skip

    def change_after_epoch_2(model, info):
        return {"learning_rate_init": 0.05} if info.epoch == 2 else None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        changed = mlpkit.MLPRegressor(callbacks=[change_after_epoch_2], **params).fit(X, Y)
        assert changed.get_params()["learning_rate_init"] == 0.05
        # the same as two epochs at 0.001, then three at 0.05 (partial_fit calls, whose epochs are the
        # fit's: the same cosine cycle of max_iter epochs)
        split = mlpkit.MLPRegressor(**params)
        for epoch in range(5):
            if epoch == 2:
                split.set_params(learning_rate_init=0.05)
            split.partial_fit(X, Y)
    np.testing.assert_allclose(changed.learning_rate_curve_, split.learning_rate_curve_, rtol=1e-9)
    assert changed.learning_rate_curve_[2] > 10 * changed.learning_rate_curve_[1]  # it did change
    assert_same_training(changed, split)


def test_horizon_schedules_restart_at_each_warm_fit_and_continue_over_partial_fits():
    params = dict(hidden_layer_sizes=(4,), learning_rate="cosine", learning_rate_init=0.01, lr_min=0.001,
                  max_iter=4, tol=0.0, n_iter_no_change=10**6, random_state=0)  # fmt: skip
    cycle = [0.001 + 0.009 * 0.5 * (1 + np.cos(np.pi * e / 4)) for e in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = mlpkit.MLPRegressor(warm_start=True, **params)
        for _ in range(2):
            warm.fit(X, Y)
        partial = mlpkit.MLPRegressor(**params)
        for _ in range(6):
            partial.partial_fit(X, Y)
    np.testing.assert_allclose(warm.learning_rate_curve_, cycle + cycle, rtol=1e-5)  # SGDR's warm restart
    np.testing.assert_allclose(partial.learning_rate_curve_, cycle + [0.001, 0.001], rtol=1e-5)  # the floor


SEGMENT = st.tuples(
    st.integers(1, 3),  # epochs
    st.sampled_from(["fit", "partial_fit"]),
    st.sampled_from([None, 0.5, 2.0]),  # learning-rate factor set before the segment
    st.booleans(),  # pickle the model before the segment
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(SEGMENT, min_size=1, max_size=4))
def test_any_mix_of_fits_partial_fits_rate_changes_and_pickles_trains_as_one_fit(segments, monkeypatch):
    """The reference is one fit whose callback makes each rate change at the same epoch."""
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="exponential", lr_decay=0.5,
                  lr_decay_epochs=2, learning_rate_init=0.01, batch_size=32, tol=0.0, n_iter_no_change=10**6,
                  random_state=3, dtype="float64", warm_start=True)  # fmt: skip
    rates, epoch, rate = {}, 0, params["learning_rate_init"]
    for epochs, _, factor, _ in segments:
        if factor is not None:
            rate *= factor
            rates[epoch] = rate
        epoch += epochs

    def change(model, info):
        return {"learning_rate_init": rates[info.epoch]} if info.epoch in rates else None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = mlpkit.MLPRegressor(**params)
        for epochs, kind, factor, pickled in segments:
            if pickled and hasattr(model, "coefs_"):
                model = pickle.loads(pickle.dumps(model))
            if factor is not None:
                model.set_params(learning_rate_init=model.learning_rate_init * factor)
            if kind == "fit":
                model.set_params(max_iter=epochs).fit(X, Y)
            else:
                for _ in range(epochs):
                    model.partial_fit(X, Y)
        if 0 in rates:  # a change before the first epoch is the reference's starting rate
            params["learning_rate_init"] = rates.pop(0)
        reference = mlpkit.MLPRegressor(**{**params, "max_iter": epoch, "warm_start": False}, callbacks=[change])
        reference.fit(X, Y)
    assert_same_training(model, reference)


def test_the_flucoma_fit_loop_continues_exactly():
    """Ten FluCoMa fits of 6 epochs train as one of 60 (the live loop of a patch)."""
    from mlpkit import flucoma as fl

    ids = [f"p{i}" for i in range(len(X))]
    source, target = fl.DataSet.from_numpy(ids, X[:, :2]), fl.DataSet.from_numpy(ids, np.c_[Y, -Y])
    params = dict(hidden_layers=[6], validation=0, random_state=0, learn_rate=0.05, batch_size=16)
    long = fl.MLPRegressor(max_iter=60, **params)
    long_error = long.fit(source, target)
    loop = fl.MLPRegressor(max_iter=6, **params)
    errors = [loop.fit(source, target) for _ in range(10)]
    assert errors[-1] == pytest.approx(long_error, rel=1e-6) and errors[0] > errors[-1]
    for layer, layer_long in zip(loop.layers, long.layers):
        np.testing.assert_allclose(layer.weights, layer_long.weights, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(layer.biases, layer_long.biases, rtol=1e-6, atol=1e-7)


def _flucoma_sets():
    from mlpkit import flucoma as fl

    ids = [f"p{i}" for i in range(len(X))]
    return fl.DataSet.from_numpy(ids, X[:, :2]), fl.DataSet.from_numpy(ids, np.c_[Y, -Y])


def _mlpkit_round_trip(model, tmp_path):
    path = tmp_path / "model.mlpkit"
    mlpkit.save(model, path)
    return mlpkit.load(path)


@pytest.mark.parametrize(
    "reload",
    [lambda model, _: pickle.loads(pickle.dumps(model)), _mlpkit_round_trip],
    ids=["pickle", "mlpkit.save-load"],
)
@pytest.mark.parametrize("hidden, backend", [([6], "numba"), ([30, 30], "blas"), ([30, 30], "trainer")],
                         ids=["numba", "blas", "trainer"])  # fmt: skip
def test_a_flucoma_loop_saved_and_loaded_midway_continues_exactly(reload, hidden, backend, tmp_path, monkeypatch):
    """Velocities, the random key and the epoch count travel with the model: five fits, a reload, five more
    train as one fit of all the epochs, on every backend (the trainer's forced: backend_for never picks it)."""
    from mlpkit import flucoma as fl
    from mlpkit.flucoma import training

    layout = training.Layout.of([2, *hidden, 4], [2] * len(hidden) + [0])
    if backend == "trainer":
        monkeypatch.setattr(training, "backend_for", lambda layout: "trainer")
    assert training.backend_for(layout) == backend

    source, target = _flucoma_sets()
    params = dict(hidden_layers=hidden, validation=0, random_state=0, learn_rate=0.05, batch_size=16, momentum=0.9)
    long = fl.MLPRegressor(max_iter=60, **params)
    long_error = long.fit(source, target)
    loop = fl.MLPRegressor(max_iter=6, **params)
    for _ in range(5):
        loop.fit(source, target)
    velocity = np.array(loop.network_._state.opt_state.inner_state.velocity["coefs"][0])
    loop = reload(loop, tmp_path)
    assert int(loop.network_._state.epoch) == 30 and np.abs(velocity).max() > 0
    np.testing.assert_array_equal(loop.network_._state.opt_state.inner_state.velocity["coefs"][0], velocity)
    errors = [loop.fit(source, target) for _ in range(5)]
    assert errors[-1] == pytest.approx(long_error, rel=1e-9)
    assert int(loop.network_._state.epoch) == 60 == int(long.network_._state.epoch)
    assert int(loop.network_._state.step) == 60 * (len(X) // 16) == int(long.network_._state.step)
    for layer, layer_long in zip(loop.layers, long.layers):
        np.testing.assert_allclose(layer.weights, layer_long.weights, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.biases, layer_long.biases, rtol=1e-9, atol=1e-12)


def test_flucoma_weights_assigned_by_hand_restart_the_velocities_and_keep_the_stream():
    """``network_.coefs_ = ...`` replaces the weights: the old velocities no longer belong to them (as for any
    mlpkit model), while the random stream carries on from the epoch reached."""
    from mlpkit import flucoma as fl

    source, target = _flucoma_sets()
    model = fl.MLPRegressor(hidden_layers=[6], validation=0, random_state=0, max_iter=5, batch_size=16)
    model.fit(source, target)
    key = np.array(model.network_._state.key)
    model.network_.coefs_ = [np.array(W) for W in model.network_.coefs_]
    assert model.network_._state.opt_state is None
    model.predict_point(X[0, :2])  # (binds the buffers again)
    assert not np.any(model.network_._state.opt_state.inner_state.velocity["coefs"][0])
    np.testing.assert_array_equal(model.network_._state.key, key)
    assert int(model.network_._state.epoch) == 5


def test_a_changed_flucoma_random_state_draws_a_new_stream():
    from mlpkit import flucoma as fl

    source, target = _flucoma_sets()
    model = fl.MLPRegressor(hidden_layers=[6], validation=0, random_state=0, max_iter=5, batch_size=16)
    model.fit(source, target)
    key = np.array(model.network_._state.key)
    model.random_state = 1
    model.fit(source, target)
    assert not np.array_equal(model.network_._state.key, key) and model.network_._origin.random_state == 1
