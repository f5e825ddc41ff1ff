"""The compiled engine: one program per structure and data bucket, two predict paths that agree."""

import warnings

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression

import mlpkit
from mlpkit import _base, engine, fitted, trainer, training_data

#: Each test runs with every fit in the numpy loop, then in the compiled loop: the same rules in both.
pytestmark = pytest.mark.usefixtures("either_loop")


def programs_compiled():
    return engine.compiled_programs()


@given(st.integers(1, 10**7))
def test_row_buckets_cover_n_with_at_most_a_quarter_of_padding(n):
    size = engine.padded_rows(n)
    assert size >= n
    assert size <= max(16, 1.25 * n)
    assert engine.padded_rows(size) == size  # a bucket is its own bucket


def test_refit_on_similar_data_and_new_hyperparameters_does_not_recompile():
    X, y = make_classification(n_samples=1000, n_features=9, n_informative=5, n_classes=3, random_state=0)
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(11,), max_iter=3, random_state=0)
    model.fit(X, y)
    compiled = programs_compiled()
    # Fewer rows in the same bucket, then new values of every traced hyper-parameter.
    model.fit(X[:990], y[:990])
    model.set_params(learning_rate_init=0.01, alpha=0.1, tol=1e-3, max_iter=7, n_iter_no_change=4, beta_1=0.8)
    model.fit(X, y)
    model.set_params(warm_start=True).fit(X[:995], y[:995])
    model.partial_fit(X, y)
    assert programs_compiled() == compiled


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_short_refits_train_exactly_as_one_long_fit(solver):
    """Refits carry the optimiser's moments and the random stream on: ten warm fits of 3 epochs, or 30
    calls of partial_fit, are the same training as one fit of 30 epochs (same shuffles, same steps)."""
    X, y = make_regression(n_samples=150, n_features=4, random_state=0)
    y = y / y.std()
    settings = dict(hidden_layer_sizes=(7,), solver=solver, batch_size=32, tol=0.0, n_iter_no_change=np.inf,
                    random_state=3)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        long = mlpkit.MLPRegressor(max_iter=30, **settings).fit(X, y)
        warm = mlpkit.MLPRegressor(max_iter=3, warm_start=True, **settings)
        for _ in range(10):
            warm.fit(X, y)
        partial = mlpkit.MLPRegressor(**settings)
        for _ in range(30):
            partial.partial_fit(X, y)
    for model in (warm, partial):
        np.testing.assert_allclose(model.loss_curve_, long.loss_curve_, rtol=1e-6)
        for W, W_long in zip(model.coefs_, long.coefs_):
            np.testing.assert_allclose(W, W_long, rtol=1e-5, atol=1e-7)


def test_a_new_random_state_between_warm_fits_draws_new_batches():
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)

    def two_fits(second_seed):
        model = mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=4, batch_size=10, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
            return model.set_params(random_state=second_seed).fit(X, y).coefs_[0]

    np.testing.assert_array_equal(two_fits(1), two_fits(1))  # reproducible
    assert not np.allclose(two_fits(1), two_fits(0))  # but not the stream that random_state=0 carries on


def test_a_fit_failing_after_training_leaves_the_history_as_it_was(monkeypatch):
    """Fits extend the curves in place; a fit that fails while storing its results cuts them back."""
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, warm_start=True, early_stopping=True,
                                random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        curves = {name: list(getattr(model, name)) for name in ("loss_curve_", "learning_rate_curve_",
                                                                "validation_scores_", "validation_loss_curve_")}  # fmt: skip

        def fail(*args):
            raise RuntimeError("storing failed")

        monkeypatch.setattr(_base, "copied", fail)  # (called once the curves have grown)
        with pytest.raises(RuntimeError, match="storing failed"):
            model.fit(X, y)
    assert {name: getattr(model, name) for name in curves} == curves


def test_new_structure_compiles_a_new_program(compiled_loop):
    jax.clear_caches()  # (this test runs once per loop of either_loop: both compile)
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=2).fit(X, y)
    compiled = programs_compiled()
    mlpkit.MLPRegressor(hidden_layer_sizes=(5, 3), max_iter=2).fit(X, y)
    assert programs_compiled() == compiled + 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_and_compiled_predictions_agree(dtype, monkeypatch):
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=3, random_state=1)
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(16, 8), activation="tanh", max_iter=5, random_state=0, dtype=dtype)
    model.fit(X, y)
    monkeypatch.setattr(fitted, "NUMPY_PREDICT_MAX_ROWS", 256)  # as on an accelerator
    compiled = model.predict_proba(X)
    monkeypatch.setattr(fitted, "NUMPY_PREDICT_MAX_ROWS", 10**9)
    with_numpy = model.predict_proba(X)
    assert compiled.dtype == with_numpy.dtype == np.dtype(dtype)
    np.testing.assert_allclose(compiled, with_numpy, rtol=0, atol=1e-6)


def test_float64_and_float32_training_agree_closely():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    params = dict(hidden_layer_sizes=(10,), solver="sgd", max_iter=20, random_state=0, shuffle=False)
    p32 = mlpkit.MLPRegressor(**params).fit(X, y).predict(X)
    p64 = mlpkit.MLPRegressor(dtype="float64", **params).fit(X, y).predict(X)
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-3)


def test_same_seed_gives_identical_weights():
    X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    a = mlpkit.MLPClassifier(hidden_layer_sizes=(7,), max_iter=10, random_state=5).fit(X, y)
    b = mlpkit.MLPClassifier(hidden_layer_sizes=(7,), max_iter=10, random_state=5).fit(X, y)
    c = mlpkit.MLPClassifier(hidden_layer_sizes=(7,), max_iter=10, random_state=6).fit(X, y)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(Wa, Wb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_verbose_prints_each_epoch(capsys):
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=4, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"Iteration {i}" for i in range(1, 5)]


def test_training_continues_across_chunks(monkeypatch):
    """Chunked running (for Ctrl-C and progress) gives the same result as one long run."""
    X, y = make_regression(n_samples=64, n_features=3, random_state=0)
    params = dict(hidden_layer_sizes=(4,), max_iter=12, random_state=0, tol=0)
    whole = mlpkit.MLPRegressor(**params).fit(X, y)
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk
    chunked = mlpkit.MLPRegressor(**params).fit(X, y)
    assert chunked.n_iter_ == whole.n_iter_ == 12
    np.testing.assert_array_equal(chunked.coefs_[0], whole.coefs_[0])
    np.testing.assert_array_equal(chunked.loss_curve_, whole.loss_curve_)


def test_keyboard_interrupt_keeps_the_last_finished_epochs(monkeypatch, compiled_loop):
    X, y = make_regression(n_samples=64, n_features=3, random_state=0)
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)
    original = engine.run_epochs_compiled
    calls = []

    def interrupt_on_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "run_epochs_compiled", interrupt_on_third_chunk)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, tol=0, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    assert "Training interrupted by user." in [str(w.message) for w in caught]
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2
    assert np.isfinite(model.predict(X)).all()


# ------------------------------------------------------------ reusing a fit's preparation
def refit_sequence(model, X, y):
    """Warm refits with the changes a live session makes between them; the coefficients after each."""
    hidden = [6]
    model.set_params(hidden_layer_sizes=hidden)
    after = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(9):
            if step == 3:
                X[0, 0] += 1.0  # the user's array changed in place
            if step == 4:
                model.set_params(learning_rate_init=0.003)
            if step == 6:
                hidden.append(3)  # the user's list changed in place: a new structure
            if step == 7:
                y = y.astype(np.float32)  # equal values, another dtype
            model.fit(X, y)
            after.append([W.copy() for W in model.coefs_])
    return after


@pytest.mark.parametrize(
    ("early_stopping", "seed"), [(False, "int"), (True, "int"), (True, "RandomState")], ids=["no_es", "es_int", "es_rs"]
)
def test_reusing_a_preparation_trains_as_preparing_again(early_stopping, seed, monkeypatch):
    """With early stopping, a RandomState draws another split every fit; an int draws the same one."""
    X, y = make_regression(n_samples=80, n_features=3, random_state=0)
    y = y / y.std()

    def settings():
        random_state = 0 if seed == "int" else np.random.RandomState(0)
        return dict(max_iter=3, batch_size=16, warm_start=True, early_stopping=early_stopping, random_state=random_state)

    reused = refit_sequence(mlpkit.MLPRegressor(**settings()), X.copy(), y.copy())
    monkeypatch.setattr(_base, "reusable_preparation", lambda *args: None)
    prepared_again = refit_sequence(mlpkit.MLPRegressor(**settings()), X.copy(), y.copy())
    for mine, theirs in zip(reused, prepared_again):
        assert [W.shape for W in mine] == [W.shape for W in theirs]
        for W, W_again in zip(mine, theirs):
            np.testing.assert_array_equal(W, W_again)


def test_refits_on_the_same_arrays_prepare_once(monkeypatch):
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    prepared = []
    original = _base.BaseMultilayerPerceptron._prepare_stochastic
    monkeypatch.setattr(_base.BaseMultilayerPerceptron, "_prepare_stochastic",
                        lambda self, *args: prepared.append(1) or original(self, *args))  # fmt: skip
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):
            model.fit(X, y)
        assert len(prepared) == 1
        model.partial_fit(X, y)  # one epoch a call: another program
        model.partial_fit(X, y)
        assert len(prepared) == 2
        model.set_params(alpha=0.01).fit(X, y)
        assert len(prepared) == 3


def test_pickles_leave_the_preparation_out():
    import pickle

    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y).fit(X, y)
        assert "_prepared" in vars(model)
        copy = pickle.loads(pickle.dumps(model))
        assert "_prepared" not in vars(copy)
        np.testing.assert_array_equal(copy.fit(X, y).coefs_[0], model.fit(X, y).coefs_[0])


def test_best_validation_score_is_the_best_of_all_warm_fits():
    """With early stopping on the validation loss, best_validation_score_ is the best score of every epoch
    so far (carried from fit to fit, not taken again over the whole history)."""
    X, y = make_regression(n_samples=80, n_features=3, random_state=0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=4, warm_start=True, early_stopping=True,
                                early_stopping_monitor="loss", random_state=0, on_divergence="warn")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for learning_rate in (0.05, 0.05, 5.0, 5.0):  # the last fit's scores are all below an earlier one's
            model.set_params(learning_rate_init=learning_rate).fit(X, y)
            assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_validation_score_ > max(model.validation_scores_[-model.n_iter_ :])


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_the_validation_split_is_train_test_splits(kind):
    """The held-out rows are those scikit-learn's train_test_split picks (stratified for a classifier),
    from the same random state."""
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=103, n_features=5, n_classes=3, n_informative=3, random_state=0)
    w = np.random.RandomState(1).rand(len(X))
    y_used = y if kind == "classifier" else y.astype(float)
    classes = np.unique(y) if kind == "classifier" else None
    mine = training_data.split_validation(X, y_used, w, 0.2, np.random.RandomState(7), stratified_classes=classes)
    theirs = train_test_split(X, y_used, w, random_state=np.random.RandomState(7), test_size=0.2,
                              stratify=y_used if kind == "classifier" else None)  # fmt: skip
    X_train, X_val, y_train, y_val, w_train, w_val = theirs
    for a, b in zip(mine, (X_train, y_train, w_train, X_val, y_val, w_val)):
        np.testing.assert_array_equal(a, b)


STEPS = st.sampled_from(["fit", "partial_fit", "same", "lr", "alpha", "X in place", "y in place", "hidden in place",
                         "weights", "warm off", "warm on", "early stopping"])  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(st.lists(STEPS, min_size=3, max_size=7))
def test_any_sequence_of_refits_trains_as_preparing_every_time(steps):
    """Whatever changes between fits (parameters, the arrays in place, the weights, early stopping and
    its split), a model that reuses its preparation ends with the same weights as one that prepares
    every fit."""
    X0, y0 = make_regression(n_samples=40, n_features=3, random_state=0)

    def run(reuse):
        X, y, hidden = X0.copy(), y0 / y0.std(), [4]
        model = mlpkit.MLPRegressor(hidden_layer_sizes=hidden, max_iter=2, batch_size=8, warm_start=True,
                                    random_state=0)  # fmt: skip
        if not reuse:
            model._reusable_preparation = lambda *args: None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
            for step in steps:
                if step == "partial_fit":
                    if not model.early_stopping:  # (which partial_fit refuses)
                        model.partial_fit(X, y)
                    continue
                if step == "lr":
                    model.learning_rate_init *= 0.5
                elif step == "alpha":
                    model.alpha += 0.01
                elif step == "X in place":
                    X[1, 1] += 0.5
                elif step == "y in place":
                    y[2] -= 0.5
                elif step == "hidden in place":
                    hidden[0] = 5 if hidden[0] == 4 else 4
                elif step == "weights":
                    model.coefs_[0][0, 0] += 0.1
                elif step in ("warm off", "warm on"):
                    model.warm_start = step == "warm on"
                elif step == "early stopping":
                    model.early_stopping = not model.early_stopping
                model.fit(X, y)
        return model.coefs_

    for W, W_again in zip(run(reuse=True), run(reuse=False)):
        np.testing.assert_array_equal(W, W_again)


def test_a_diverging_refit_that_raises_keeps_no_preparation():
    """on_divergence='raise' raises after the roll-back, outside the fit's restore-on-error: the model
    is as it was, with no new attribute such as a kept preparation."""
    X, y = make_regression(n_samples=50, n_features=4, random_state=0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    model.__dict__.pop("_prepared", None)  # as a copied or unpickled model has none
    before = set(vars(model))
    model.set_params(weight_decay=np.inf)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        model.partial_fit(X, y)
    assert set(vars(model)) == before
