"""mlpkit against scikit-learn, side by side in one process.

Workloads (select with ``--only``):

- ``tiny``:    1000 x 13, hidden (8,), 3 classes, SGD, batch 10, 100 epochs:
               microseconds per optimisation step (dispatch-bound training) in the compiled loop
               (``training_loop='compiled'``); ``tiny_auto``: the same with the default
               ``training_loop='auto'``, which trains this work in numpy.
- ``flucomacore``: mlpkit.flucoma against a numba replica of flucoma-core's SGD loop
               (``flucoma_replica.py``): FluCoMa's loop of 10-epoch fits, a long fit, a larger
               network, one point's prediction; several rows.
- ``mnist``:   60000 x 784 float32, hidden (100,), 10 classes, Adam, batch 200,
               5 epochs: seconds per epoch (compute-bound training).
- ``predict``: median time of ``predict`` on one row of the tiny network.
- ``startup``: import + first fit of the tiny workload in a fresh Python process,
               with a cold and then a warm compilation cache.

Usage::

    python bench/compare.py                       # everything (a few minutes on 2 cores)
    python bench/compare.py --quick               # smoke run with small sizes
    python bench/compare.py --only tiny,predict --out results.md

Both libraries get the same data, the same ``random_state`` and the same
precision: both train in their input's (float32 inputs, and float64 ones in the
``tiny_f64`` and ``mnist_f64`` rows). ``tol=0``
and ``n_iter_no_change > max_iter`` make every requested epoch run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from functools import partial

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

try:  # the PyTorch peer is optional: pip install .[bench]
    import torch_peer
except ImportError:  # pragma: no cover - reported in the table's notes
    torch_peer = None

WORKLOADS = ("tiny", "tiny_auto", "tiny_f64", "flucoma", "flucomacore", "mnist", "mnist_f64", "widedeep", "predict", "batchpredict",
             "startup", "memory", "scaling")
RANDOM_STATE = 0

# Full sizes and --quick sizes of each workload.
SIZES = {
    False: dict(tiny_epochs=100, mnist_rows=60_000, mnist_epochs=5, predict_calls=2000, wide_rows=20_000,
                wide_epochs=2, flucoma_calls=100, predict_rows=100_000, scale=1),
    True: dict(tiny_epochs=10, mnist_rows=6_000, mnist_epochs=2, predict_calls=200, wide_rows=2_000,
               wide_epochs=1, flucoma_calls=10, predict_rows=10_000, scale=4),
}

TINY = dict(n_samples=1000, n_features=13, n_informative=8, n_classes=3, random_state=RANDOM_STATE)
TINY_BATCH = 10


# ---------------------------------------------------------------------------- helpers
def tiny_data(dtype=np.float32):
    X, y = make_classification(**TINY)
    return X.astype(dtype), y


def mnist_like_data(n_rows, dtype=np.float32):
    """MNIST-shaped stand-in: n_rows x 784 float32, 10 classes, a learnable rule."""
    X, y = make_classification(
        n_samples=n_rows,
        n_features=784,
        n_informative=64,
        n_redundant=0,
        n_classes=10,
        n_clusters_per_class=1,
        random_state=RANDOM_STATE,
    )
    return X.astype(dtype), y


def tiny_params(epochs):
    return dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        batch_size=TINY_BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=RANDOM_STATE,
    )


def mnist_params(epochs):
    return dict(
        hidden_layer_sizes=(100,),
        solver="adam",
        batch_size=200,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=RANDOM_STATE,
    )


def timed_fit(model, X, y):
    """Seconds taken by ``model.fit(X, y)``."""
    started = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - started


def best_fit_time(make_model, X, y, repeats):
    """Fastest of ``repeats`` fits of fresh models, and the last fitted model."""
    times = []
    for _ in range(repeats):
        model = make_model()
        times.append(timed_fit(model, X, y))
    return min(times), model


# --------------------------------------------------------------------------- workloads
def bench_tiny(mlpkit, sizes, repeats, dtype=np.float32, loop="compiled"):
    """Microseconds per SGD step on the tiny network (mlpkit warmed up first), both libraries in ``dtype``
    (the input's, as both follow it). ``loop``: mlpkit's ``training_loop``; by default the compiled loop,
    whose per-step speed the target is about (``training_loop='auto'`` trains this work in numpy)."""
    X, y = tiny_data(dtype)
    epochs = sizes["tiny_epochs"]
    params = tiny_params(epochs)
    compile_s = timed_fit(mlpkit.MLPClassifier(**params, training_loop=loop), X, y)  # first fit compiles
    sk_s, sk = best_fit_time(lambda: SkMLPClassifier(**params), X, y, repeats)
    mk_s, mk = best_fit_time(lambda: mlpkit.MLPClassifier(**params, training_loop=loop), X, y, repeats)
    steps_per_epoch = math.ceil(X.shape[0] / TINY_BATCH)
    sk_us = sk_s / (sk.n_iter_ * steps_per_epoch) * 1e6
    mk_us = mk_s / (mk.n_iter_ * steps_per_epoch) * 1e6
    peer = torch_row(X, y, (8,), "sgd", 0.001, TINY_BATCH, epochs, per=epochs * steps_per_epoch / 1e6, mk=mk_us,
                     target=8) if dtype == np.float32 else {}  # (the torch peer trains in float32)
    first = "compiles" if loop == "compiled" else "in numpy"
    notes = f"epochs run {sk.n_iter_}/{mk.n_iter_}; best of {repeats}; mlpkit first fit {compile_s:.2f} s ({first})"
    workload = (f"tiny: {X.shape[0]}x{X.shape[1]} {np.dtype(dtype).name}, (8,), SGD, batch {TINY_BATCH}, {epochs} epochs,"
                f" training_loop={loop!r}")  # fmt: skip
    target = 10 if loop == "compiled" else 1  # (numpy's steps: at least scikit-learn's speed)
    return {**peer, **speed_row(workload, "µs per step", sk_us, mk_us, target, sk, mk, X, y, notes)}


def bench_mnist(mlpkit, sizes, repeats, dtype=np.float32):
    """Seconds per Adam epoch on an MNIST-sized problem (mlpkit compiled first, max_iter=1), both in ``dtype``."""
    X, y = mnist_like_data(sizes["mnist_rows"], dtype)
    epochs = sizes["mnist_epochs"]
    compile_s = timed_fit(mlpkit.MLPClassifier(**mnist_params(1)), X, y)  # same program as max_iter=epochs
    sk_s, sk = best_fit_time(lambda: SkMLPClassifier(**mnist_params(epochs)), X, y, repeats)
    mk_s, mk = best_fit_time(lambda: mlpkit.MLPClassifier(**mnist_params(epochs)), X, y, repeats)
    sk_epoch, mk_epoch = sk_s / sk.n_iter_, mk_s / mk.n_iter_
    peer = torch_row(X, y, (100,), "adam", 0.001, 200, epochs, per=epochs, mk=mk_epoch,
                     target=1.5) if dtype == np.float32 else {}
    notes = (
        f"epochs run {sk.n_iter_}/{mk.n_iter_}; best of {repeats}; "
        f"mlpkit warm-up fit (max_iter=1, compiles) {compile_s:.2f} s"
    )
    workload = f"mnist-like: {X.shape[0]}x{X.shape[1]} {np.dtype(dtype).name}, (100,), Adam, batch 200, {epochs} epochs"
    return {**peer, **speed_row(workload, "s per epoch", sk_epoch, mk_epoch, 2, sk, mk, X, y, notes)}

def speed_row(workload, measure, sk_value, mk_value, target_ratio, sk, mk, X, y, notes):
    """A row comparing scikit-learn's and mlpkit's time (lower is better) and training accuracy."""
    return dict(
        workload=workload,
        measure=measure,
        sklearn=sk_value,
        mlpkit=mk_value,
        ratio=sk_value / mk_value,
        target=f"ratio ≥ {target_ratio:g}",
        met=sk_value / mk_value >= target_ratio,
        acc_sklearn=sk.score(X, y),
        acc_mlpkit=mk.score(X, y),
        notes=notes,
    )


def torch_row(X, y, hidden, solver, lr, batch_size, epochs, *, per, mk, target):
    """The PyTorch columns of a row: its time per unit (seconds / ``per``), ratio to mlpkit, accuracy."""
    if torch_peer is None:
        return dict(torch=None, torch_ratio=None, acc_torch=None, torch_target=f"≥ {target}x (torch not installed)")
    torch_peer.fit(X[:200], y[:200], hidden, solver=solver, lr=lr, batch_size=batch_size, epochs=1)  # warm up
    model, seconds = torch_peer.fit(X, y, hidden, solver=solver, lr=lr, batch_size=batch_size, epochs=epochs)
    value = seconds / per
    return dict(torch=value, torch_ratio=value / mk, acc_torch=torch_peer.accuracy(model, X, y),
                torch_target=f"≥ {target}x", torch_met=value / mk >= target)


def bench_flucoma(mlpkit, sizes, repeats):
    """FluCoMa's loop: 100 fits of 10 epochs on 200x2 -> 8 -> 3, against scikit-learn's partial_fit loop."""
    from mlpkit import flucoma

    rng = np.random.RandomState(RANDOM_STATE)
    X = rng.rand(200, 2)
    Y = np.c_[X.sum(1), X[:, 0] * X[:, 1], np.sin(3 * X[:, 0])]
    calls = sizes["flucoma_calls"]
    model = flucoma.MLPRegressor(hidden_layers=[8], max_iter=10, validation=0, random_state=RANDOM_STATE)
    model.fit(X, Y)  # compiles
    started = time.perf_counter()
    for _ in range(calls):
        mk_error = model.fit(X, Y)
    mk_s = time.perf_counter() - started
    # Issue 10 asks a loop of short fits to be as fast per epoch as one long fit: time one too, and a loop
    # of 100-epoch fits (the per-fit cost spread over more epochs).
    long_epochs = calls * 10
    long = flucoma.MLPRegressor(hidden_layers=[8], max_iter=long_epochs, validation=0, random_state=RANDOM_STATE)
    long.fit(X, Y)  # compiles this curve length
    started = time.perf_counter()
    long.fit(X, Y)
    long_epoch_us = (time.perf_counter() - started) / long_epochs * 1e6
    longer = flucoma.MLPRegressor(hidden_layers=[8], max_iter=100, validation=0, random_state=RANDOM_STATE)
    longer.fit(X, Y)
    started = time.perf_counter()
    for _ in range(calls // 10):
        longer.fit(X, Y)
    loop100_epoch_us = (time.perf_counter() - started) / long_epochs * 1e6
    sk = SkMLPRegressor(hidden_layer_sizes=(8,), solver="sgd", batch_size=50, learning_rate_init=0.01,
                        momentum=0.9, random_state=RANDOM_STATE)  # fmt: skip
    started = time.perf_counter()
    for _ in range(calls * 10):
        sk.partial_fit(X, Y)
    sk_s = time.perf_counter() - started
    sk_error = float(((sk.predict(X) - Y) ** 2).sum() / len(X))
    return dict(
        workload=f"flucoma loop: 200x2, (8,), 3 outputs, {calls} fits of 10 epochs, batch 50",
        measure="ms per 10-epoch fit",
        sklearn=sk_s / calls * 1e3,
        mlpkit=mk_s / calls * 1e3,
        ratio=sk_s / mk_s,
        target="ratio ≥ 10",
        met=sk_s / mk_s >= 10,
        notes=f"training error (FluCoMa's): sklearn {sk_error:.4f}, mlpkit {mk_error:.4f}; sklearn = 10 partial_fit per fit;"
        f" mlpkit per epoch: {mk_s / long_epochs * 1e6:.0f} us in the loop of 10-epoch fits, {loop100_epoch_us:.0f} us in a"
        f" loop of 100-epoch fits, {long_epoch_us:.0f} us in one {long_epochs}-epoch fit",
    )


FLUCOMA_FIRST_FIT = """
import time, warnings
import numpy as np
from mlpkit import flucoma
warnings.simplefilter("ignore")
X = np.random.RandomState(0).rand(200, 2)
started = time.perf_counter()
flucoma.MLPRegressor(hidden_layers=[8], max_iter=10, validation=0, random_state=0).fit(X, X[:, :1] + X[:, 1:])
print(time.perf_counter() - started)
"""


def flucoma_first_fit():
    """Seconds of the first FluCoMa fit in a fresh process with numba's cache empty, then warm."""
    cache = tempfile.mkdtemp(prefix="mlpkit-bench-numba-")
    try:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = lambda: float(subprocess.run([sys.executable, "-c", FLUCOMA_FIRST_FIT], env=env, check=True,  # noqa: E731
                                           capture_output=True, text=True).stdout.split()[-1])  # fmt: skip
        return run(), run()
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def bench_flucoma_core(mlpkit, sizes, repeats):
    """mlpkit.flucoma.MLPRegressor against the replica of flucoma-core's loop, on FluCoMa's workloads."""
    from flucoma_replica import Replica

    from mlpkit import flucoma

    rng = np.random.RandomState(RANDOM_STATE)
    X = rng.rand(200, 2)
    Y = np.c_[X.sum(1), X[:, 0] * X[:, 1], np.sin(3 * X[:, 0])]
    X_big = rng.rand(2000, 13)
    Y_big = np.c_[X_big[:, :4].sum(1), X_big[:, 4] * X_big[:, 5], np.sin(3 * X_big[:, 6])]
    calls = sizes["flucoma_calls"]
    defaults = dict(learn_rate=0.01, momentum=0.9, batch_size=50)

    def timed(fits, n_calls, rounds=max(repeats, 5)):
        """Seconds per call of each of ``fits`` (the best of ``rounds`` rounds of ``n_calls`` calls, the fits
        taking turns, so that a busy spell of the machine weighs on both), with each one's last value."""
        values = [fit() for fit in fits]  # compiles (or loads numba's cache)
        best = [np.inf] * len(fits)
        for _ in range(rounds):
            for index, fit in enumerate(fits):
                started = time.perf_counter()
                for _ in range(n_calls):
                    values[index] = fit()
                best[index] = min(best[index], (time.perf_counter() - started) / n_calls)
        return list(zip(best, values))

    def pair(hidden, X, Y, epochs, validation, n_calls):
        replica = Replica([X.shape[1], *hidden, Y.shape[1]], hidden=2, output=0, seed=RANDOM_STATE)
        model = flucoma.MLPRegressor(max_iter=epochs, validation=validation, random_state=RANDOM_STATE, **defaults)
        model.read(replica.as_flucoma_json())  # both start from the same weights; the shuffles differ
        mk, core = timed([lambda: model.fit(X, Y), lambda: replica.fit(X, Y, epochs, defaults["batch_size"],
                          defaults["learn_rate"], defaults["momentum"], validation)], n_calls)  # fmt: skip
        return mk, core, model

    def row(workload, measure, scale, mk, core, target_ratio=1.0):
        (mk_s, mk_error), (core_s, core_error) = mk, core
        return dict(workload=workload, measure=measure, mlpkit=mk_s * scale, replica=core_s * scale,
                    replica_ratio=core_s / mk_s, target=f"replica / mlpkit ≥ {target_ratio}", met=core_s / mk_s >= target_ratio,
                    notes=f"training error (FluCoMa's, over the training rows): replica {core_error:.4f}, mlpkit {mk_error:.4f}")  # fmt: skip

    rows = []
    for validation in (0.0, 0.2):
        mk, core, _ = pair([8], X, Y, 10, validation, calls)
        rows.append(row(f"FluCoMa loop: 200x2 -> [8] -> 3, {calls} fits of 10 epochs, batch 50, validation {validation}",
                        "ms per 10-epoch fit", 1e3, mk, core))  # fmt: skip
    long_epochs = calls * 10
    mk, core, model = pair([8], X, Y, long_epochs, 0.0, 1)
    rows.append(row(f"one {long_epochs}-epoch fit, 200x2 -> [8] -> 3", "µs per epoch", 1e6 / long_epochs, mk, core))
    mk, core, _ = pair([16, 8], X_big, Y_big, 100, 0.0, 1)
    rows.append(row("2000x13 -> [16, 8] -> 3, 100 epochs, batch 50", "ms per fit", 1e3, mk, core))
    cold, warm = flucoma_first_fit()
    rows.append(dict(workload="first FluCoMa fit in a fresh process (200x2 -> [8] -> 3, 10 epochs)", measure="s",
                     mlpkit=f"cold {cold:.2f} / warm {warm:.2f}", target="—", met=None,
                     notes="cold: an empty numba cache (NUMBA_CACHE_DIR), which compiles the kernels; warm: the cache"
                     " they wrote; import excluded"))  # fmt: skip
    point = X[0]
    [(per_point, _)] = timed([lambda: model.predict_point(point)], 2000, rounds=30)
    rows.append(dict(workload="predict_point, 2 -> [8] -> 3", measure="µs per point", mlpkit=per_point * 1e6,
                     target="≤ 2 µs", met=per_point <= 2e-6,
                     notes="flucoma-core: 0.18 µs (processFrame), 0.72 µs (predictPoint with buffers), measured by issue 19"))  # fmt: skip
    return rows


def bench_widedeep(mlpkit, sizes, repeats):
    """Seconds per Adam epoch on 20000x256 -> 512 -> 512 -> 512 -> 10, batch 256."""
    X, y = make_classification(n_samples=sizes["wide_rows"], n_features=256, n_informative=32, n_classes=10,
                               n_clusters_per_class=1, random_state=RANDOM_STATE)  # fmt: skip
    X = X.astype(np.float32)
    epochs = sizes["wide_epochs"]
    params = dict(hidden_layer_sizes=(512, 512, 512), solver="adam", batch_size=256, tol=0.0,
                  n_iter_no_change=epochs + 1, random_state=RANDOM_STATE)  # fmt: skip
    compile_s = timed_fit(mlpkit.MLPClassifier(max_iter=1, **params), X, y)
    mk_s, mk = best_fit_time(lambda: mlpkit.MLPClassifier(max_iter=epochs, **params), X, y, 1)
    sk_s, sk = best_fit_time(lambda: SkMLPClassifier(max_iter=epochs, **params), X, y, 1)
    mk_epoch, sk_epoch = mk_s / epochs, sk_s / epochs
    peer = torch_row(X, y, (512, 512, 512), "adam", 0.001, 256, epochs, per=epochs, mk=mk_epoch, target=1.2)
    workload = f"wide/deep: {X.shape[0]}x256, (512, 512, 512), 10 classes, Adam, batch 256, {epochs} epochs"
    notes = f"mlpkit warm-up fit (max_iter=1, compiles) {compile_s:.2f} s"
    return {**peer, **speed_row(workload, "s per epoch", sk_epoch, mk_epoch, 2, sk, mk, X, y, notes)}


def bench_batchpredict(mlpkit, sizes, repeats):
    """predict_proba on 100k rows with an MNIST-sized network (784 -> 100 -> 10)."""
    X, y = mnist_like_data(6000)
    rows = np.random.RandomState(1).rand(sizes["predict_rows"], 784).astype(np.float32)
    mk = mlpkit.MLPClassifier(**mnist_params(1)).fit(X, y)
    sk = SkMLPClassifier(**mnist_params(1)).fit(X, y)
    for model in (mk, sk):
        model.predict_proba(rows[:1000])  # warm up (mlpkit compiles this bucket's program here)
    timings = {}
    for name, model in (("mlpkit", mk), ("sklearn", sk)):
        best = math.inf
        for _ in range(repeats):
            started = time.perf_counter()
            model.predict_proba(rows)
            best = min(best, time.perf_counter() - started)
        timings[name] = best
    return dict(
        workload=f"batch predict_proba: {len(rows)} rows, 784 -> 100 -> 10",
        measure="ms per call",
        sklearn=timings["sklearn"] * 1e3,
        mlpkit=timings["mlpkit"] * 1e3,
        ratio=timings["sklearn"] / timings["mlpkit"],
        target="ratio ≥ 2",
        met=timings["sklearn"] / timings["mlpkit"] >= 2,
        notes=f"best of {repeats}; max |difference| {np.abs(mk.predict_proba(rows[:100]) - sk.predict_proba(rows[:100])).max():.2g} (different training)",
    )


_MEMORY_SCRIPT = """
import resource, json, numpy as np, warnings
warnings.simplefilter("ignore")
import mlpkit
rng = np.random.default_rng(0)  # float32 from the start: no float64 copy to raise the baseline peak
X = rng.standard_normal(({rows}, 784), dtype=np.float32)
y = (X[:, :10].argmax(1) + (X[:, 10] > 1)) % 10
mlpkit.MLPClassifier(hidden_layer_sizes=(100,), max_iter=1).fit(X[:500], y[:500])  # compile small first
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = mlpkit.MLPClassifier(hidden_layer_sizes=(100,), max_iter=2, batch_size=200).fit(X, y)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model_bytes = sum(a.nbytes for a in model.coefs_ + model.intercepts_)
print(json.dumps(dict(increase=(after - before) * 1024, x_bytes=X.nbytes, model_bytes=model_bytes)))
"""


def bench_memory(mlpkit, sizes, repeats):
    """Peak memory a MNIST-size fit adds (RSS high-water mark), against the size of X plus the model."""
    rows = sizes["mnist_rows"]
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT.format(rows=rows)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    m = json.loads(out.strip().splitlines()[-1])
    budget = m["x_bytes"] + m["model_bytes"]
    return dict(
        workload=f"peak memory: fit on {rows}x784 f32, (100,)",
        measure="MB added by fit",
        mlpkit=m["increase"] / 2**20,
        target="≤ 1.5 x (X + model)",
        met=m["increase"] <= 1.5 * budget,
        notes=f"X + model = {budget / 2**20:.0f} MB; ratio {m['increase'] / budget:.2f}; fresh process, RSS high-water mark",
    )


def bench_scaling(mlpkit, sizes, repeats):
    """How an Adam epoch's time grows with rows and with width, mlpkit against scikit-learn."""
    cells = []
    for rows, width in [(2000, 64), (8000, 64), (32000, 64), (8000, 16), (8000, 256), (8000, 1024)]:
        rows //= sizes["scale"]
        X, y = make_classification(n_samples=rows, n_features=50, n_informative=20, n_classes=5,
                                   random_state=RANDOM_STATE)  # fmt: skip
        X = X.astype(np.float32)
        params = dict(hidden_layer_sizes=(width,), max_iter=2, tol=0.0, n_iter_no_change=10, random_state=0)
        timed_fit(mlpkit.MLPClassifier(**params), X, y)  # compile
        mk_s, _ = best_fit_time(lambda: mlpkit.MLPClassifier(**params), X, y, 1)
        sk_s, _ = best_fit_time(lambda: SkMLPClassifier(**params), X, y, 1)
        cells.append(f"{rows}x50 h{width}: {mk_s / 2 * 1e3:.1f} ms vs {sk_s / 2 * 1e3:.1f} ms ({sk_s / mk_s:.1f}x)")
    return dict(workload="scaling: Adam epoch, 50 features, 5 classes", measure="ms per epoch (mlpkit vs sklearn)",
                notes="; ".join(cells))  # fmt: skip


def median_call_us(fn, arg, calls):
    """Median microseconds of ``fn(arg)`` over ``calls`` calls, after a short warm-up."""
    for _ in range(min(50, calls)):
        fn(arg)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def bench_predict(mlpkit, sizes, repeats):
    """Median microseconds of ``predict`` on a (1, 13) row of the fitted tiny network."""
    X, y = tiny_data()
    params = tiny_params(sizes["tiny_epochs"])
    sk = SkMLPClassifier(**params).fit(X, y)
    mk = mlpkit.MLPClassifier(**params).fit(X, y)
    row = X[:1].copy()
    calls = sizes["predict_calls"]
    sk_us = median_call_us(sk.predict, row, calls)
    mk_us = median_call_us(mk.predict, row, calls)
    return dict(
        workload="predict: 1 row x 13 on the tiny net",
        measure="µs per call (median)",
        sklearn=sk_us,
        mlpkit=mk_us,
        ratio=sk_us / mk_us,
        target="mlpkit ≤ 10 µs",
        met=mk_us <= 10,
        acc_sklearn=None,
        acc_mlpkit=None,
        notes=f"median of {calls} calls; same label both: {bool(sk.predict(row)[0] == mk.predict(row)[0])}",
    )


# Run in a fresh interpreter: import, then the first fit of the tiny workload.
_FRESH_PROCESS = """
import time
started = time.perf_counter()
import {module}
imported = time.perf_counter()
import json, warnings
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
warnings.simplefilter("ignore", ConvergenceWarning)
X, y = make_classification(**{data!r})
X = X.astype("float32")
model = {estimator}(**{params!r})
fit_started = time.perf_counter()
model.fit(X, y)
done = time.perf_counter()
print(json.dumps(dict(import_s=imported - started, fit_s=done - fit_started)))
"""


def fresh_process_fit(module, estimator, epochs, env):
    """(import seconds, first-fit seconds) measured inside a new Python process."""
    code = _FRESH_PROCESS.format(module=module, estimator=estimator, data=TINY, params=tiny_params(epochs))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["import_s"], result["fit_s"]


def bench_startup(mlpkit, sizes, repeats):
    """Import + first fit of the tiny workload in a fresh process: cold and warm compilation cache."""
    epochs = sizes["tiny_epochs"]
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # else mlpkit would leave JAX's own setting alone
    cache = tempfile.mkdtemp(prefix="mlpkit-bench-cache-")
    try:
        env["MLPKIT_COMPILATION_CACHE"] = cache
        cold_import, cold_fit = fresh_process_fit("mlpkit", "mlpkit.MLPClassifier", epochs, env)
        entries = sum(len(files) for _, _, files in os.walk(cache))  # JAX's entries and mlpkit's executables
        warm_import, warm_fit = fresh_process_fit("mlpkit", "mlpkit.MLPClassifier", epochs, env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    sk_import, sk_fit = fresh_process_fit(
        "sklearn.neural_network", "sklearn.neural_network.MLPClassifier", epochs, env
    )
    cold, warm, sk_total = cold_import + cold_fit, warm_import + warm_fit, sk_import + sk_fit
    return dict(
        workload=f"startup: fresh process, import + first tiny fit ({epochs} epochs)",
        measure="s (import + fit)",
        sklearn=sk_total,
        mlpkit=f"cold {cold:.2f} / warm {warm:.2f}",
        ratio=sk_total / warm,
        target="—",
        met=None,
        acc_sklearn=None,
        acc_mlpkit=None,
        notes=(
            f"import alone: mlpkit {warm_import:.2f} s (cold run {cold_import:.2f} s), "
            f"sklearn.neural_network {sk_import:.2f} s; fit alone: mlpkit cold {cold_fit:.2f} s, "
            f"warm {warm_fit:.2f} s, sklearn {sk_fit:.2f} s; {entries} cache files written; "
            "ratio uses the warm cache"
        ),
    )


BENCHMARKS = {
    "tiny": bench_tiny,
    "tiny_auto": partial(bench_tiny, loop="auto"),
    "tiny_f64": partial(bench_tiny, dtype=np.float64),
    "flucoma": bench_flucoma,
    "flucomacore": bench_flucoma_core,
    "mnist": bench_mnist,
    "mnist_f64": partial(bench_mnist, dtype=np.float64),
    "widedeep": bench_widedeep,
    "predict": bench_predict,
    "batchpredict": bench_batchpredict,
    "startup": bench_startup,
    "memory": bench_memory,
    "scaling": bench_scaling,
}


# ------------------------------------------------------------------------------ output
def fmt(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if value < 1 else f"{value:.2f}"
    return str(value)


def format_cell(key, value):
    if value is None:
        return ""
    if key in ("ratio", "torch_ratio", "replica_ratio"):
        return f"{value:.1f}x"
    if key.startswith("acc_"):
        return f"{value:.3f}"
    return fmt(value)


COLUMNS = [
    ("workload", "Workload"),
    ("measure", "Measure"),
    ("sklearn", "scikit-learn"),
    ("mlpkit", "mlpkit"),
    ("ratio", "sklearn / mlpkit"),
    ("target", "Target"),
    ("met", "Met"),
    ("replica", "flucoma-core replica"),
    ("replica_ratio", "replica / mlpkit"),
    ("torch", "torch"),
    ("torch_ratio", "torch / mlpkit"),
    ("torch_target", "Target (torch)"),
    ("torch_met", "Met (torch)"),
    ("acc_sklearn", "Train acc. sklearn"),
    ("acc_mlpkit", "Train acc. mlpkit"),
    ("acc_torch", "Train acc. torch"),
    ("notes", "Notes"),
]


def environment_line(mlpkit):
    import jax
    import sklearn

    return (
        f"{date.today().isoformat()}; {platform.platform()}; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; mlpkit {mlpkit.__version__}; "
        f"scikit-learn {sklearn.__version__}; jax {jax.__version__} ({jax.default_backend()}); "
        f"numpy {np.__version__}"
    )


def format_table(rows, command, environment):
    lines = [f"Command: `{command}`", "", environment, ""]
    lines.append("| " + " | ".join(title for _, title in COLUMNS) + " |")
    lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for row in rows:
        cells = [format_cell(key, row.get(key)) for key, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default=",".join(WORKLOADS), help="comma-separated workloads: " + ",".join(WORKLOADS)
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="timed fits per library (default 3, 1 for mnist)")
    parser.add_argument("--out", help="also write the markdown table to this file")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}; choose from {','.join(WORKLOADS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    command = "python " + shlex.join(sys.argv if argv is None else ["bench/compare.py", *argv])
    warnings.simplefilter("ignore", ConvergenceWarning)

    # The in-process warm-up fits should compile, not read the user's persistent cache,
    # and the benchmark should not write there: a private cache, removed at the end.
    private_cache = None
    if "MLPKIT_COMPILATION_CACHE" not in os.environ:
        private_cache = tempfile.mkdtemp(prefix="mlpkit-bench-cache-")
        os.environ["MLPKIT_COMPILATION_CACHE"] = private_cache
    import mlpkit  # after the cache directory is chosen

    try:
        sizes = SIZES[args.quick]
        rows = []
        for name in WORKLOADS:
            if name not in args.only:
                continue
            repeats = args.repeats or (1 if name.startswith("mnist") else 3)
            print(f"running {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            result = BENCHMARKS[name](mlpkit, sizes, repeats)
            rows.extend(result if isinstance(result, list) else [result])
            print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    finally:
        if private_cache:
            del os.environ["MLPKIT_COMPILATION_CACHE"]
            shutil.rmtree(private_cache, ignore_errors=True)

    table = format_table(rows, command, environment_line(mlpkit))
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
