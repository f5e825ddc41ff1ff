"""FluCoMa's training rules (flucoma-core's SGD.hpp, MLP.hpp, NNLayer.hpp, DataSampler.hpp), checked against
a small numpy implementation of them written here, and the numba kernels (hand loops, ``"numba"``; BLAS
products, ``"blas"``) against mlpkit's main training loop (``trainer.run`` under ``engine.RULES["flucoma"]``)."""

import numpy as np
import pytest

from mlpkit import flucoma as fl
from mlpkit.flucoma import _small, training

ACT = {0: lambda z: z, 1: lambda z: 1 / (1 + np.exp(-z)), 2: lambda z: np.maximum(z, 0), 3: np.tanh}
SLOPE = {0: np.ones_like, 1: lambda h: h * (1 - h), 2: lambda h: (h > 0) * 1.0, 3: lambda h: 1 - h * h}


def reference_fit(Ws, bs, codes, X, Y, X_val, Y_val, orders, batch_size, lr, m, patience=10):
    """flucoma-core's SGD::train as numpy: (weights, biases, epochs run, validation losses). Velocities start
    at zero."""
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    uW, ub = [np.zeros_like(W) for W in Ws], [np.zeros_like(b) for b in bs]
    n = len(X)
    batch = min(batch_size, n)
    starts = [0, *range(batch + n % batch, n, batch)]  # DataSampler: the remainder joins the first batch
    previous, waiting, val_losses = np.finfo(float).max, patience, []
    for epoch, order in enumerate(orders):
        for start, stop in zip(starts, [*starts[1:], n]):
            rows = order[start:stop]
            hs = [X[rows]]
            for W, b, code in zip(Ws, bs, codes):
                hs.append(ACT[code](hs[-1] @ W + b))
            chain = 2.0 * (hs[-1] - Y[rows])  # MLP::backward: out *= 2
            grads = []
            for layer in range(len(Ws) - 1, -1, -1):  # NNLayer::backward
                act_grad = SLOPE[codes[layer]](hs[layer + 1]) * chain
                grads.append(((hs[layer].T @ act_grad) / len(rows), act_grad.mean(axis=0)))
                chain = act_grad @ Ws[layer].T
            for layer, (gW, gb) in enumerate(reversed(grads)):  # NNLayer::update
                uW[layer] = m * uW[layer] + (1 - m) * lr * gW
                ub[layer] = m * ub[layer] + (1 - m) * lr * gb
                Ws[layer], bs[layer] = Ws[layer] - uW[layer], bs[layer] - ub[layer]
        if len(X_val):  # SGD::train's stopping rule
            h = X_val
            for W, b, code in zip(Ws, bs, codes):
                h = ACT[code](h @ W + b)
            val_loss = ((h - Y_val) ** 2).sum() / len(X_val)
            val_losses.append(val_loss)
            waiting = patience if val_loss < previous else waiting - 1
            if waiting <= 0:
                return Ws, bs, epoch + 1, val_losses
            previous = val_loss
    return Ws, bs, len(orders), val_losses


def flucoma_loss(Ws, bs, codes, X, Y):
    h = X
    for W, b, code in zip(Ws, bs, codes):
        h = ACT[code](h @ W + b)
    return ((h - Y) ** 2).sum() / len(X)


RNG = np.random.RandomState(0)
X = RNG.rand(37, 3)
Y = np.c_[np.sin(3 * X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]]
LAYOUTS = {  # sizes, codes (hidden ones, then the output)
    "relu->identity": ([3, 6, 2], [2, 0]),
    "tanh,tanh->sigmoid": ([3, 5, 4, 2], [3, 3, 1]),
    "sigmoid->tanh": ([3, 4, 2], [1, 3]),
    "identity x3->relu": ([3, 5, 4, 3, 2], [0, 0, 0, 2]),  # (FluCoMa: one activation for every hidden layer)
}
KERNELS = ("numba", "blas")  # the numba backends: one epoch loop, each batch in hand loops or BLAS products


def on_backend(monkeypatch, backend):
    """Make ``training.backend_for`` pick ``backend`` for every network (the estimators' fits included)."""
    monkeypatch.setattr(training, "backend_for", lambda layout: backend)


def start(name, seed=0):
    sizes, codes = LAYOUTS[name]
    layout = training.Layout.of(sizes, codes)
    return layout, training.glorot_uniform(layout, np.random.RandomState(seed))


def orders_of(seed, epochs, n, split_first=False):
    """The orders training.fit takes from ``RandomStream(seed, 0)``, and the split's permutation, if any."""
    stream = training.RandomStream(seed, 0)
    permutation = stream.permutation(len(X)) if split_first else None
    return permutation, stream.orders(0, epochs, n)


@pytest.mark.parametrize("backend", list(training.BACKENDS))
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_full_batch_updates_are_flucoma_cores_to_1e_12(name, backend):
    layout, params = start(name)
    Ws, bs = (list(map(np.copy, part)) for part in layout.views(params))
    velocity = np.zeros_like(params)
    settings = training.Settings(max_iter=40, batch_size=len(X), learn_rate=0.05, momentum=0.9, validation=0.0)
    result = training.fit(params, velocity, layout, X, Y, settings, training.RandomStream(1, 0), backend)
    _, orders = orders_of(1, 40, len(X))
    ref_W, ref_b, epochs, _ = reference_fit(Ws, bs, LAYOUTS[name][1], X, Y, X[:0], Y[:0], orders, len(X), 0.05, 0.9)
    coefs, intercepts = layout.views(params)
    assert result.epochs == epochs == 40
    for got, want in zip([*coefs, *intercepts], [*ref_W, *ref_b]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.abs(params - layout.flatten(Ws, bs)).max() > 1e-2  # (it did train)
    assert result.error == pytest.approx(flucoma_loss(ref_W, ref_b, LAYOUTS[name][1], X, Y), rel=1e-12, abs=0)


@pytest.mark.parametrize("backend", list(training.BACKENDS))
def test_mini_batches_shuffles_and_early_stopping_are_flucoma_cores(backend):
    """Batches of 8 (the first 14) from 30 training rows (+ 7 held out: lrint(0.8 * 37) = 30), shuffled every epoch, the
    validation rule of SGD.hpp; the same as the numpy reference given the same orders."""
    name = "tanh,tanh->sigmoid"
    layout, params = start(name, seed=3)
    Ws, bs = (list(map(np.copy, part)) for part in layout.views(params))
    noisy = Y + 0.3 * np.random.RandomState(1).randn(*Y.shape)  # (so that it overfits, and stops)
    settings = training.Settings(max_iter=400, batch_size=8, learn_rate=0.2, momentum=0.9, validation=0.2)
    result = training.fit(params, np.zeros_like(params), layout, X, noisy, settings, training.RandomStream(7, 0), backend)
    permutation, orders = orders_of(7, 400, 30, split_first=True)
    train, val = permutation[:30], permutation[30:]
    ref_W, ref_b, epochs, val_losses = reference_fit(
        Ws, bs, LAYOUTS[name][1], X[train], noisy[train], X[val], noisy[val], orders, 8, 0.2, 0.9
    )
    assert result.rows == 30 and result.epochs == epochs < 400  # it stopped early, at the same epoch
    np.testing.assert_allclose(result.val_curve, val_losses, rtol=1e-10)
    np.testing.assert_allclose(params, layout.flatten(ref_W, ref_b), rtol=0, atol=1e-10)
    # the last weights are kept and the error is over the training rows only
    assert result.error == pytest.approx(flucoma_loss(ref_W, ref_b, LAYOUTS[name][1], X[train], noisy[train]), rel=1e-10)
    curve = result.val_curve
    rising = curve[1:] >= curve[:-1]
    assert rising[-10:].all() and not any(rising[i : i + 10].all() for i in range(len(rising) - 10))


def test_the_rules_as_numbers():
    assert training.training_rows(37, 0.2) == 30  # lrint(29.6)
    assert training.training_rows(5, 0.5) == 2  # lrint(2.5): half to even
    assert training.training_rows(2, 0.2) == 2  # nothing left to validate on: no validation
    assert training.batch_bounds(160, 50) == [(0, 60), (60, 110), (110, 160)]
    assert training.batch_bounds(30, 50) == [(0, 30)]
    assert training.FLUCOMA_PATIENCE == 10


def test_validation_rows_are_never_trained_on():
    """FluCoMa's documentation holds them back (flucoma-core's code trains on them in later epochs): whatever
    their targets, the training is the same."""
    layout, start_params = start("relu->identity")
    settings = training.Settings(max_iter=30, batch_size=4, learn_rate=0.1, momentum=0.9, validation=0.3)
    held_out = training.RandomStream(5, 0).permutation(len(X))[training.training_rows(len(X), 0.3) :]
    wild = Y.copy()
    wild[held_out] = 1e3
    runs = []
    for targets in (Y, wild):
        params = start_params.copy()
        runs.append((training.fit(params, np.zeros_like(params), layout, X, targets, settings, training.RandomStream(5, 0)), params))
    (same, params_same), (other, params_other) = runs
    np.testing.assert_array_equal(params_same, params_other)
    np.testing.assert_array_equal(same.loss_curve, other.loss_curve)
    assert same.error == other.error
    assert (other.val_curve > 1e5).all() and (same.val_curve < 10).all()


def test_glorot_uniform_bounds_and_zero_biases():
    layout = training.Layout.of([300, 200, 3], [2, 0])
    coefs, intercepts = layout.views(training.glorot_uniform(layout, np.random.RandomState(0)))
    for W, b in zip(coefs, intercepts):
        bound = np.sqrt(6 / sum(W.shape))
        assert np.abs(W).max() <= bound and np.abs(W).max() > 0.97 * bound
        assert np.var(W) == pytest.approx(bound**2 / 3, rel=0.1)  # uniform's variance
        assert not b.any()
    model = fl.MLPRegressor(hidden_layers=[40], max_iter=1, learn_rate=1e-300, validation=0, random_state=0)
    model.fit(X, Y)  # the estimator starts from such weights
    W = model.network_.coefs_[0]
    assert np.abs(W).max() <= np.sqrt(6 / 43) and np.abs(model.network_.intercepts_[0]).max() < 1e-290  # (1e-300 steps)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("validation", [0.0, 0.25])
def test_the_numba_kernels_train_as_the_main_loop(validation, kernel):
    layout, params = start("tanh,tanh->sigmoid", seed=2)
    settings = training.Settings(max_iter=60, batch_size=7, learn_rate=0.3, momentum=0.9, validation=validation)
    results = {}
    for backend in (kernel, "trainer"):
        p, v = params.copy(), np.zeros_like(params)
        results[backend] = training.fit(p, v, layout, X, Y, settings, training.RandomStream(11, 0), backend), p, v
    (small, p_small, v_small), (large, p_large, v_large) = results[kernel], results["trainer"]
    assert small.epochs == large.epochs
    np.testing.assert_allclose(p_small, p_large, rtol=0, atol=1e-11)
    np.testing.assert_allclose(v_small, v_large, rtol=0, atol=1e-11)
    np.testing.assert_allclose(small.loss_curve, large.loss_curve, rtol=1e-11)
    assert small.error == pytest.approx(large.error, rel=1e-11)
    if validation:
        np.testing.assert_allclose(small.val_curve, large.val_curve, rtol=1e-11)


@pytest.mark.parametrize("kernel", KERNELS)
def test_estimators_fit_alike_on_either_backend(monkeypatch, kernel):
    """The estimator's fits (weights, momentum and random stream carried on) on a numba kernel and in the main
    training loop."""
    runs = []
    for backend in (kernel, "trainer"):
        on_backend(monkeypatch, backend)
        model = fl.MLPRegressor(hidden_layers=[5, 4], activation=3, max_iter=15, batch_size=6, random_state=4)
        errors = [model.fit(X, Y) for _ in range(3)]
        runs.append((errors, [W.copy() for W in model.network_.coefs_], model.network_.loss_curve_))
    (errors_small, W_small, curve_small), (errors_large, W_large, curve_large) = runs
    np.testing.assert_allclose(errors_small, errors_large, rtol=1e-10)
    np.testing.assert_allclose(curve_small, curve_large, rtol=1e-10)
    for a, b in zip(W_small, W_large):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kernel", KERNELS)
def test_chunks_of_epochs_carry_the_stopping_rule(monkeypatch, kernel):
    """With callbacks a numba fit runs in chunks of epochs: the stopping rule's state carries from chunk to chunk,
    so the fit stops where one chunk would, with the same weights and curves, whether the stop falls inside a
    chunk or on its last epoch."""
    layout, start_params = start("tanh,tanh->sigmoid", seed=3)
    noisy = Y + 0.3 * np.random.RandomState(1).randn(*Y.shape)
    settings = training.Settings(max_iter=300, batch_size=8, learn_rate=0.2, momentum=0.9, validation=0.2, patience=3)

    def run(callbacks=()):
        params = start_params.copy()
        result = training.fit(params, np.zeros_like(params), layout, X, noisy, settings, training.RandomStream(7, 0),
                              kernel, callbacks=callbacks)  # fmt: skip
        return result, params

    whole, p_whole = run()
    assert 8 < whole.epochs < 300  # (it stopped early, after several chunks of 4 or 5)
    for chunk in (4, 5, whole.epochs):
        monkeypatch.setattr(training, "LISTENED_CHUNK_EPOCHS", chunk)
        heard = []
        chunked, p_chunked = run([lambda model, info: heard.append(info.epoch)])
        assert chunked.epochs == whole.epochs and heard == list(range(1, whole.epochs + 1)), chunk
        np.testing.assert_array_equal(p_chunked, p_whole)
        np.testing.assert_array_equal(chunked.val_curve, whole.val_curve)


@pytest.mark.parametrize("backend", list(training.BACKENDS))
def test_a_non_finite_loss_ends_the_fit(backend):
    """An epoch whose loss overflows ends training there; its loss is the curve's last, the error not finite."""
    layout = training.Layout.of([3, 6, 6, 2], [0, 0, 0])
    params = training.glorot_uniform(layout, np.random.RandomState(0))
    settings = training.Settings(max_iter=200, batch_size=5, learn_rate=0.24, momentum=0.0, validation=0.0)
    with np.errstate(all="ignore"):  # (0.22 trains; 0.24's first epoch ends at a loss of ~1e25, its second at NaN)
        result = training.fit(params, np.zeros_like(params), layout, X, Y, settings, training.RandomStream(1, 0), backend)
    assert 1 < result.epochs < 200 and len(result.loss_curve) == result.epochs
    assert np.isfinite(result.loss_curve[:-1]).all() and not np.isfinite(result.loss_curve[-1])
    assert not np.isfinite(result.error)


def test_the_blas_kernel_runs_on_one_blas_thread():
    """As Eigen's products in flucoma-core (OpenBLAS's threads cost 5-10x on a batch's small products): every
    BLAS library on one thread while the fit runs (a callback looks), as they were after it."""
    from threadpoolctl import threadpool_info, threadpool_limits

    layout, params = start("relu->identity")
    settings = training.Settings(max_iter=2, batch_size=8, learn_rate=0.1, momentum=0.9, validation=0.0)
    with threadpool_limits(limits=2, user_api="blas"):  # two threads before the fit, whatever the test run set
        before, during = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"], []
        training.fit(params, np.zeros_like(params), layout, X, Y, settings, training.RandomStream(0, 0), "blas",
                     callbacks=[lambda model, info: during.append(
                         [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"])])  # fmt: skip
        assert before and all(threads == 2 for threads in before)
        assert during and all(threads == [1] * len(before) for threads in during)
        assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == before


def test_the_switch_takes_the_loops_up_to_the_threshold_and_products_above():
    """``backend_for`` at the boundary: ``SMALL_NETWORK_MAX_WEIGHTS`` weights train in the hand loops, one more
    in BLAS products, and so do the largest networks (the main loop is never picked)."""
    limit = training.SMALL_NETWORK_MAX_WEIGHTS
    assert limit == 256
    at, above = training.Layout.of([limit, 1], [0]), training.Layout.of([limit + 1, 1], [0])
    assert (at.n_weights, above.n_weights) == (limit, limit + 1)
    assert training.backend_for(at) == "numba" and training.backend_for(above) == "blas"
    assert training.backend_for(training.Layout.of([13, 16, 8, 3], [2, 2, 0])) == "blas"  # 360 weights
    assert training.backend_for(training.Layout.of([2, 8, 3], [2, 0])) == "numba"  # FluCoMa's everyday network
    assert training.backend_for(training.Layout.of([512, 1024, 512, 16], [2, 2, 0])) == "blas"


def test_no_rows_to_train_on_is_an_error():
    with pytest.raises(ValueError, match="no point to train on"):
        fl.MLPRegressor(validation=0.9).fit(X[:1], Y[:1])


def test_predict_point_is_the_network_and_checks_its_point():
    model = fl.MLPRegressor(hidden_layers=[4], max_iter=5, random_state=0)
    model.fit(X, Y)
    np.testing.assert_allclose(model.predict_point(X[3]), model.predict(X[3:4])[0], rtol=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        model.predict_point([np.nan, 0.0, 0.0])
    with pytest.raises(ValueError):
        model.predict_point([0.0, 0.0])


def test_classifier_predict_point_is_its_predict():
    labels = np.array(["a", "b", "c"])[(X[:, 0] * 3).astype(int)]
    model = fl.MLPClassifier(hidden_layers=[4], max_iter=30, learn_rate=0.2, random_state=0)
    model.fit(X, labels)
    assert [model.predict_point(x) for x in X] == list(model.predict(X))
    with pytest.raises(ValueError, match="NaN"):
        model.predict_point([np.nan, 0.0, 0.0])


def test_the_random_stream_is_splitmix64_by_global_epoch():
    """Row i of epoch e draws splitmix64's output number (e << 32 | i) + 1 of the key (Steele et al.'s reference
    values for seed 0: 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4); the epoch's order sorts the rows by those
    numbers' high halves, so any fit starting at epoch e draws alike."""
    uniforms = np.empty(2)
    _small.counter_uniforms(np.uint64(0), np.arange(2, dtype=np.uint64), uniforms)
    np.testing.assert_array_equal(uniforms, [(0xE220A8397B1DCDAF >> 11) * 2.0**-53, (0x6E789E6AA1B965F4 >> 11) * 2.0**-53])
    np.testing.assert_array_equal(training.RandomStream(0, 0).orders(0, 1, 2), [[1, 0]])  # 0x6E78.. < 0xE220..
    key = 0xFEDCBA9876543210
    whole = training.RandomStream(key, 0).orders(0, 12, 37)
    np.testing.assert_array_equal(training.RandomStream(key, 5).orders(2, 5, 37), whole[7:12])
    assert not np.array_equal(training.RandomStream(key + 1, 0).orders(0, 12, 37), whole)
    assert all(sorted(order) == list(range(37)) for order in whole) and len({tuple(o) for o in whole}) == 12
    split = training.RandomStream(key, 5).permutation(37)
    assert sorted(split) == list(range(37)) and not np.array_equal(split, training.RandomStream(key, 6).permutation(37))


@pytest.mark.parametrize("n_rows, n_pad", [(2, 16), (37, 40), (200, 224)])
def test_the_main_loops_flucoma_order_is_the_numba_kernels(n_rows, n_pad):
    """``engine.counter_order`` (JAX, padded rows last) sorts the keys ``_small.epoch_order`` sorts."""
    import jax

    from mlpkit import engine
    from mlpkit.state import new_state

    stream = training.RandomStream(0xFEDCBA9876543210, 41)
    program = engine.Program(*[None] * 5, shuffle=True, early_stopping=False, monitor="loss", score="r2", rules="flucoma")
    with jax.enable_x64(True):
        state = new_state({}, {}, np.float64)._replace(key=stream.words)
        for epoch in (41, 42, 2**20):
            _, order, _ = engine.counter_order(program, state._replace(epoch=np.int32(epoch)), np.int32(n_rows), n_pad)
            want = training.RandomStream(stream.key, epoch).orders(0, 1, n_rows)[0]
            np.testing.assert_array_equal(np.asarray(order), [*want, *range(n_rows, n_pad)])


@pytest.mark.parametrize("backend", list(training.BACKENDS))
def test_three_fits_of_7_epochs_are_one_of_21_with_shuffled_mini_batches(monkeypatch, backend):
    """Weights, momentum, key and global epoch carry on: batches of 6 (the first 7) from 37 shuffled rows."""
    on_backend(monkeypatch, backend)
    params = dict(hidden_layers=[5, 4], activation=3, batch_size=6, learn_rate=0.2, validation=0, random_state=3)
    long = fl.MLPRegressor(max_iter=21, **params)
    error = long.fit(X, Y)
    short = fl.MLPRegressor(max_iter=7, **params)
    errors = [short.fit(X, Y) for _ in range(3)]
    assert errors[-1] == pytest.approx(error, rel=1e-9) and errors[0] > errors[-1] * 1.01  # (it trained on)
    np.testing.assert_allclose(short.network_.loss_curve_, long.network_.loss_curve_, rtol=1e-9)
    for a, b in zip([*short.network_.coefs_, *short.network_.intercepts_], [*long.network_.coefs_, *long.network_.intercepts_]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_the_main_loop_compiles_once_for_a_loop_of_fits(monkeypatch):
    """FluCoMa's live loop on the trainer: new learning rates, epochs and momentum are traced values."""
    from mlpkit import engine

    on_backend(monkeypatch, "trainer")
    model = fl.MLPRegressor(hidden_layers=[5], max_iter=10, validation=0.2, random_state=0)
    model.fit(X, Y)
    compiled = engine.compiled_programs()
    for learn_rate, max_iter, momentum in ((0.02, 12, 0.9), (0.005, 30, 0.5)):
        model.set_params(learn_rate=learn_rate, max_iter=max_iter, momentum=momentum)
        model.fit(X, Y)
    assert engine.compiled_programs() == compiled
