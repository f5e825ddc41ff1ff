"""The numpy loop trains as the compiled loop does: the same random orders, steps, rules and results.

Each fit here is run twice, once in each loop (``numpy_loop.MAX_WORK`` set so that every fit, or none,
takes the numpy loop), and the two estimators must agree to 1e-6 in float64: weights, curves, counters,
early stopping's record, and the state a later fit goes on from (warm fits and ``partial_fit`` that
switch loops midway included).
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

import mlpkit
from mlpkit import config, engine, numpy_loop, threefry

LOOPS = {"numpy": np.inf, "compiled": 0}


@pytest.mark.parametrize("key", [(0, 0), (0, 42), (123456789, 987654321), (2**32 - 1, 7)])
@pytest.mark.parametrize("n", [1, 3, 16, 160, 1000])
def test_threefry_keys_and_bits_are_jax_randoms_own(key, n):
    key = np.array(key, np.uint32)
    np.testing.assert_array_equal(threefry.split(key, n), np.asarray(jax.random.split(key, n)))
    np.testing.assert_array_equal(threefry.bits32(key, n), np.asarray(jax.random.bits(key, (n,), jnp.uint32)))


@pytest.mark.parametrize("n_rows, n_pad", [(1, 16), (10, 16), (16, 16), (150, 160), (1000, 1024), (1797, 2048)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_epoch_orders_are_the_compiled_loops(n_rows, n_pad, shuffle):
    for seed in range(3):
        key = engine.seed_key(seed)
        ours = numpy_loop.epoch_order(key, n_rows, n_pad, shuffle)
        theirs = np.asarray(engine.epoch_order(key, np.int32(n_rows), n_pad, shuffle))
        np.testing.assert_array_equal(ours, theirs)
        assert sorted(ours[:n_rows]) == list(range(n_rows))


def fit_in(loop, monkeypatch, make, fits):
    """``make()`` fitted by ``fits`` (a list of (method name, X, y, extra arguments)) with every fit in
    ``loop``; a fit's loop may also be given per fit as a fifth item."""
    model, calls = make(), []
    run_epochs = numpy_loop.run_epochs

    def counted(*args):
        calls.append(1)
        return run_epochs(*args)

    with warnings.catch_warnings(), monkeypatch.context() as patched:
        warnings.simplefilter("ignore")
        patched.setattr(numpy_loop, "run_epochs", counted)
        for method, X, y, kwargs, *which in fits:
            loop_of_fit = which[0] if which else loop
            patched.setattr(numpy_loop, "MAX_WORK", LOOPS[loop_of_fit])
            before = len(calls)
            getattr(model, method)(X, y, **kwargs)
            lbfgs = model.solver == "lbfgs"
            assert (len(calls) > before) == (loop_of_fit == "numpy" and not lbfgs), "the fit took the other loop"
    return model


FITTED = ("loss_curve_", "learning_rate_curve_", "validation_scores_", "validation_loss_curve_", "best_loss_",
          "best_validation_score_", "n_iter_", "t_", "loss_")  # fmt: skip


def assert_same(a, b, rtol=1e-6):
    for ours, theirs in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-9)
    for name in FITTED:
        ours, theirs = getattr(a, name, None), getattr(b, name, None)
        if ours is None or theirs is None:
            assert ours is None and theirs is None, name
        else:
            np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=rtol, atol=1e-9,
                                       err_msg=name)  # fmt: skip
    sa, sb = a._state, b._state
    for name in ("epoch", "step", "no_improvement", "optimizer_start", "cycle_start"):
        assert int(getattr(sa, name)) == int(getattr(sb, name)), name
    np.testing.assert_array_equal(sa.key, sb.key)
    for ours, theirs in zip(jax.tree.leaves(sa.opt_state), jax.tree.leaves(sb.opt_state)):
        np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=rtol, atol=1e-9)
    assert jax.tree.structure(sa.opt_state) == jax.tree.structure(sb.opt_state)


XC, yC = make_classification(n_samples=230, n_features=6, n_informative=4, n_classes=3, random_state=0)
XB, yB = make_classification(n_samples=97, n_features=5, random_state=1)
XR, yR = make_regression(n_samples=150, n_features=5, n_targets=2, noise=5.0, random_state=0)
yR = yR / yR.std()
YM = np.stack([yB, 1 - yB, XB[:, 0] > 0], axis=1).astype(int)  # multi-label

CASES = {
    "adam": dict(),
    "adam, tanh, two layers": dict(activation="tanh", hidden_layer_sizes=(7, 5)),
    "sgd nesterov, invscaling": dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.05),
    "sgd, momentum, adaptive, logistic": dict(solver="sgd", learning_rate="adaptive", nesterovs_momentum=False,
                                              activation="logistic", learning_rate_init=0.2, n_iter_no_change=2),
    "early stopping on the score": dict(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3),
    "early stopping on the loss, sgd": dict(solver="sgd", early_stopping=True, early_stopping_monitor="loss"),
    "identity, no shuffle, alpha": dict(activation="identity", shuffle=False, alpha=0.3),
    "l1, weight decay, clipping": dict(l1=1e-3, weight_decay=1e-2, clip_norm=0.5, clip_value=0.05),
    "cosine schedule": dict(learning_rate="cosine", lr_min=1e-4),
    "reduce on plateau": dict(solver="sgd", learning_rate="reduce_on_plateau", lr_patience=2, tol=1e-2),
    "one cycle, step": dict(learning_rate="one_cycle"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel", "regression"])
def test_a_fit_trains_alike_in_both_loops(case, task, monkeypatch):
    Estimator = mlpkit.MLPRegressor if task == "regression" else mlpkit.MLPClassifier
    X, y = {"multiclass": (XC, yC), "binary": (XB, yB), "multilabel": (XB, YM), "regression": (XR, yR)}[task]
    params = {"hidden_layer_sizes": (9,), "batch_size": 32, "max_iter": 25, "random_state": 3, **CASES[case]}

    def make():
        return Estimator(**params)

    fits = [("fit", X, y, {})]
    numpy, compiled = (fit_in(loop, monkeypatch, make, fits) for loop in LOOPS)
    assert numpy.n_iter_ > 1
    assert_same(numpy, compiled)


def test_sample_weights_and_partial_batches_train_alike(monkeypatch):
    weight = np.random.RandomState(0).uniform(0.1, 3.0, XC.shape[0])
    weight[:7] = 0.0

    def make():
        return mlpkit.MLPClassifier(hidden_layer_sizes=(6,), batch_size=29, max_iter=15, random_state=0,
                                    early_stopping=True, n_iter_no_change=100)  # fmt: skip

    fits = [("fit", XC, yC, {"sample_weight": weight})]
    assert_same(*(fit_in(loop, monkeypatch, make, fits) for loop in LOOPS))


def test_warm_fits_and_partial_fit_go_on_alike_whichever_loop_trained_before(monkeypatch):
    """A warm fit or partial_fit goes on from the state the other loop left: moments, key, counters."""

    def make():
        return mlpkit.MLPRegressor(hidden_layer_sizes=(8,), solver="adam", max_iter=6, warm_start=True,
                                   random_state=1, learning_rate="cosine")  # fmt: skip

    fits = [("fit", XR, yR, {}, "numpy"), ("fit", XR, yR, {}, "compiled"), ("partial_fit", XR, yR, {}, "numpy"),
            ("partial_fit", XR, yR, {}, "compiled"), ("fit", XR, yR, {}, "numpy")]  # fmt: skip
    mixed = fit_in(None, monkeypatch, make, fits)
    for loop in LOOPS:
        assert_same(mixed, fit_in(loop, monkeypatch, make, [f[:4] for f in fits]))


def test_a_diverging_fit_is_rolled_back_alike(monkeypatch):
    def make():
        return mlpkit.MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=1e3, max_iter=15,
                                   batch_size=20, random_state=0, on_divergence="warn")  # fmt: skip

    numpy, compiled = (fit_in(loop, monkeypatch, make, [("fit", XR, yR[:, 0], {})]) for loop in LOOPS)
    assert numpy.n_iter_ == compiled.n_iter_ < 15
    for ours, theirs in zip(numpy.coefs_ + numpy.intercepts_, compiled.coefs_ + compiled.intercepts_):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    # (the diverged epoch's loss is not finite in both; inf in one and nan in the other is possible)
    assert not np.isfinite(numpy.loss_curve_[-1]) and not np.isfinite(compiled.loss_curve_[-1])


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_lbfgs_takes_the_same_steps_with_either_loss_and_gradient(task, monkeypatch):
    """The loss and gradient agree to rounding (1e-15); L-BFGS's line search amplifies rounding about tenfold
    every five iterations (on this regression: 2e-14 after 10, 5e-12 after 30, 1e-6 after 60), as it does
    between scikit-learn's runs on two BLAS builds, so 30 iterations are held to 1e-9."""
    Estimator, X, y = (mlpkit.MLPClassifier, XC, yC) if task == "multiclass" else (mlpkit.MLPRegressor, XR, yR)

    def make():
        return Estimator(hidden_layer_sizes=(6, 4), solver="lbfgs", max_iter=30, alpha=1e-3, random_state=0)

    numpy, compiled = (fit_in(loop, monkeypatch, make, [("fit", X, y, {})]) for loop in LOOPS)
    assert numpy.n_iter_ == compiled.n_iter_ == 30
    for ours, theirs in zip(numpy.coefs_ + numpy.intercepts_, compiled.coefs_ + compiled.intercepts_):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(numpy.loss_, compiled.loss_, rtol=1e-9)


def test_float32_fits_stay_float32_and_close(monkeypatch):
    def make():
        return mlpkit.MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0, dtype="float32")

    numpy, compiled = (fit_in(loop, monkeypatch, make, [("fit", XC, yC, {})]) for loop in LOOPS)
    assert all(w.dtype == np.float32 for w in numpy.coefs_ + numpy.intercepts_)
    assert np.asarray(numpy._state.best_loss).dtype == np.float32
    for ours, theirs in zip(numpy.coefs_, compiled.coefs_):
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


def test_the_numpy_loop_takes_small_work_it_has_rules_for_and_nothing_else():
    X, y = XC, yC
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(9,))
    program = config.program(model, config.architecture(model, 3, 1, "softmax"), 200, score="accuracy")
    small = engine.Data(*(np.zeros((256, 1)),) * 3, np.int32(200), *(np.zeros((16, 1)),) * 3)
    params = {"coefs": (np.zeros((6, 9)), np.zeros((9, 3)))}
    assert numpy_loop.trains(program, small, 200, params)
    assert not numpy_loop.trains(program, small, int(numpy_loop.MAX_WORK), params)  # too much work
    assert not numpy_loop.trains(program, small, 1, {"coefs": (np.zeros((6, 10**6)),)})  # partial_fit counts more
    for change in (dict(activation="elu"), dict(dropout=0.1), dict(batch_norm=True), dict(solver="nadam"),
                   dict(learning_rate=lambda step: 0.01)):  # fmt: skip
        other = mlpkit.MLPClassifier(hidden_layer_sizes=(9,), **change)
        arch = config.architecture(other, 3, 1, "softmax")
        assert not numpy_loop.supports(config.program(other, arch, 200, score="accuracy")), change
    del X, y


def test_ctrl_c_in_the_numpy_loop_keeps_the_last_finished_chunks(monkeypatch):
    monkeypatch.setattr(numpy_loop, "MAX_WORK", np.inf)
    monkeypatch.setattr(mlpkit.trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch a chunk
    original, calls = numpy_loop.run_epochs, []

    def interrupt_on_third_chunk(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(numpy_loop, "run_epochs", interrupt_on_third_chunk)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, tol=0, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        model.fit(XR, yR)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2


@pytest.mark.parametrize("activation", ["relu", "tanh", "identity"])
@pytest.mark.parametrize("out_activation", ["identity", "softmax", "exp"])
@pytest.mark.parametrize("scale", [1.0, 1e3, 1e60, 1e154])
def test_outputs_are_called_surely_finite_only_when_they_are(activation, out_activation, scale):
    """The divergence guard skips computing the outputs only where a bound proves them finite; it never
    calls finite what overflows (and the guard then computes them, as the compiled loop always does)."""
    from mlpkit.activations import ACTIVATIONS
    from mlpkit.network import Architecture, forward_logits

    rng = np.random.RandomState(0)
    params = {"coefs": (rng.randn(5, 7) * scale, rng.randn(7, 3) * scale), "intercepts": (rng.randn(7), rng.randn(3))}
    architecture = Architecture(activation, out_activation)
    X = rng.randn(40, 5) * 10
    with np.errstate(all="ignore"):
        outputs = ACTIVATIONS[out_activation](forward_logits(params, {}, X, architecture, np), np)
    sure = numpy_loop.outputs_surely_finite(params, architecture, np.abs(X).max())
    if sure:
        assert np.isfinite(outputs).all()
    if scale == 1.0 and out_activation != "exp":  # (small weights: the bound proves it, no outputs computed)
        assert sure
    if scale == 1e154 and activation != "tanh":  # (products near the largest float: the bound cannot prove it)
        assert not sure


def test_training_loop_chooses_the_loop_and_numpy_refuses_what_only_the_compiled_loop_has(monkeypatch):
    calls = []
    run_epochs = numpy_loop.run_epochs
    monkeypatch.setattr(numpy_loop, "run_epochs", lambda *args: calls.append(1) or run_epochs(*args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, training_loop="compiled")
        compiled.fit(XR, yR)
        assert not calls
        monkeypatch.setattr(numpy_loop, "MAX_WORK", 0)  # (work 'auto' would compile)
        numpy = mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, training_loop="numpy")
        numpy.fit(XR, yR)
        assert calls
    for ours, theirs in zip(numpy.coefs_, compiled.coefs_):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    refused = mlpkit.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, dropout=0.2, activation="elu",
                                  training_loop="numpy")  # fmt: skip
    with pytest.raises(ValueError, match=r"training_loop='numpy' cannot train activation='elu' .* and dropout: only"):
        refused.fit(XR, yR)
    assert not hasattr(refused, "coefs_")  # (a refused fit leaves the estimator as it was)
    with pytest.raises(ValueError, match="training_loop"):
        mlpkit.MLPRegressor(training_loop="jit").fit(XR, yR)
    lbfgs = mlpkit.MLPRegressor(solver="lbfgs", activation="elu", training_loop="numpy")
    with pytest.raises(ValueError, match="cannot train activation='elu'"):
        lbfgs.fit(XR, yR)
