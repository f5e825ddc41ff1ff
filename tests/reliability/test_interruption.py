"""Interruption: Ctrl-C during a fit returns control at once and keeps a usable model.

The estimator runs the compiled loop in chunks and catches KeyboardInterrupt
between them (as scikit-learn catches it between epochs), warns
'Training interrupted by user.', and keeps the epochs finished so far: the
last weights, or early stopping's best. Simulated with a callback raising
KeyboardInterrupt at epoch k (one epoch per chunk), and for real with SIGINT
sent to a subprocess in the middle of a long fit. Saving is atomic: an
interrupted save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import TARGETS, X, all_finite, make, quiet, same_weights

import mlpkit
import mlpkit._base
import mlpkit.trainer
from mlpkit import engine, flucoma, numpy_loop

KINDS = ("classifier", "regressor")


class InterruptAt:
    """A callback that raises KeyboardInterrupt at the end of epoch ``k``, and notes when."""

    def __init__(self, k):
        self.k = k
        self.raised_at = None

    def __call__(self, model, info):
        if info.epoch == self.k:
            self.raised_at = time.perf_counter()
            raise KeyboardInterrupt


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), k=st.integers(1, 15), early_stopping=st.booleans())
def test_keyboard_interrupt_at_epoch_k_keeps_k_epochs_of_training(monkeypatch, kind, k, early_stopping):
    y = TARGETS[kind]
    params = {"max_iter": 16, "early_stopping": early_stopping, "validation_fraction": 0.25, "batch_size": 4}
    stop = InterruptAt(k)
    model = make(kind, callbacks=[stop], **params)
    monkeypatch.setattr(mlpkit.trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    returned = time.perf_counter()
    monkeypatch.setattr(mlpkit.trainer, "SECONDS_PER_CHUNK", 0.25)  # the reference runs in the usual chunks
    messages = [str(w.message) for w in caught]
    if stop.raised_at is None:  # early stopping ended the fit before epoch k
        assert early_stopping and model.n_iter_ < k
    else:
        assert "Training interrupted by user." in messages
        assert returned - stop.raised_at < 1.0, "fit did not return within a second of the interrupt"
    # the model is the one k epochs of training give: the same as an uninterrupted fit of k epochs
    with quiet():
        reference = make(kind, **{**params, "max_iter": k}).fit(X, y)
    assert model.n_iter_ == reference.n_iter_
    assert model.loss_curve_ == reference.loss_curve_
    assert same_weights(model, reference)  # the last epoch's, or early stopping's best
    if early_stopping:
        assert model.validation_scores_ == reference.validation_scores_
        assert model.best_validation_score_ == reference.best_validation_score_
    # usable: predicts, and training goes on from here
    assert all_finite(model.predict_proba(X) if kind == "classifier" else model.predict(X))
    done = model.n_iter_
    model.set_params(callbacks=None, warm_start=True, max_iter=3)
    with quiet():
        model.fit(X, y)
    assert len(model.loss_curve_) == done + model.n_iter_ and model.n_iter_ >= 1
    if not early_stopping:
        before = len(model.loss_curve_)
        with quiet():
            model.partial_fit(X, y)
        assert len(model.loss_curve_) == before + 1
    assert all_finite(*model.coefs_, *model.intercepts_)


#: loop -> (the numpy loop's most work: every fit, or none, trains in it; the module and name of its chunk).
LOOPS = {"numpy": (np.inf, numpy_loop, "run_epochs"), "compiled": (0, engine, "run_epochs_compiled")}


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("warm", [False, True], ids=["fresh", "warm_start"])
def test_keyboard_interrupt_before_the_first_epoch_ends(monkeypatch, kind, warm, loop):
    """Ctrl-C while the first chunk runs (or compiles): no epoch done, the weights it started from."""
    most_work, module, chunk = LOOPS[loop]
    monkeypatch.setattr(numpy_loop, "MAX_WORK", most_work)
    y = TARGETS[kind]
    model = make(kind, warm_start=warm)
    if warm:
        with quiet():
            model.fit(X, y)
    start_weights = None if not warm else [w.copy() for w in model.coefs_ + model.intercepts_]
    history = list(getattr(model, "loss_curve_", []))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(module, chunk, interrupted)
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            model.fit(X, y)
    assert model.loss_curve_ == history
    if warm:
        assert all(np.array_equal(a, b) for a, b in zip(model.coefs_ + model.intercepts_, start_weights))
    assert all_finite(model.predict_proba(X) if kind == "classifier" else model.predict(X))
    model.set_params(warm_start=True)
    with quiet():
        model.fit(X, y)
    assert len(model.loss_curve_) == len(history) + model.n_iter_


def test_keyboard_interrupt_in_lbfgs_propagates_as_in_sklearn_and_keeps_the_old_model(monkeypatch):
    """scikit-learn's L-BFGS does not catch KeyboardInterrupt; neither does mlpkit's, but a fitted
    model interrupted while refitting is left exactly as it was (fit rolls back on any exception)."""
    model = make("regressor", solver="lbfgs")
    with quiet():
        model.fit(X, TARGETS["regressor"])
    before = dict(vars(model))
    prediction = model.predict(X)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mlpkit._base, "fit_lbfgs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, TARGETS["regressor"])
    assert vars(model).keys() == before.keys() and all(vars(model)[k] is v for k, v in before.items())
    assert np.array_equal(model.predict(X), prediction)


# ------------------------------------------------------------------ a real SIGINT
LONG_FIT = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np
    import mlpkit

    rng = np.random.RandomState(0)
    X = rng.randn(2000, 3)
    y = X @ np.array([1.0, -2.0, 0.5])

    class Announce:
        said = False
        def __call__(self, model, info):
            if not self.said:
                self.said = True
                print("TRAINING", flush=True)

    model = mlpkit.MLPRegressor(hidden_layer_sizes=(3,), max_iter=1_000_000, tol=0.0, n_iter_no_change=np.inf,
                                random_state=0, callbacks=[Announce()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    print("RETURNED", flush=True)
    print(json.dumps({
        "n_iter": model.n_iter_,
        "curve": len(model.loss_curve_),
        "warnings": [str(w.message) for w in caught],
        "predictions": model.predict(X[:5]).tolist(),
    }), flush=True)
    model.set_params(callbacks=None, warm_start=True, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    print("CONTINUED", model.n_iter_, len(model.loss_curve_), flush=True)
""")


def _lines(stream):
    """A queue of the lines of ``stream``, read by a thread (so waiting for one can time out)."""
    lines = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _next(lines, process, timeout=60):
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no output for {timeout} s") from None
    assert line is not None, f"the script ended early: {process.stderr.read()[-2000:]}"
    return line


def test_sigint_during_a_long_fit_returns_within_a_second_and_the_script_goes_on():
    process = subprocess.Popen([sys.executable, "-c", LONG_FIT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = _lines(process.stdout)
    try:
        assert _next(lines, process, timeout=120) == "TRAINING"
        time.sleep(1.0)  # about a second of training
        assert process.poll() is None, "the fit ended on its own before the interrupt"
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        assert _next(lines, process, timeout=30) == "RETURNED"
        assert time.monotonic() - sent < 1.0, "fit did not return within a second of SIGINT"
        report = json.loads(_next(lines, process))
        continued = _next(lines, process).split()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Training interrupted by user." in report["warnings"]
    assert 1 <= report["n_iter"] < 1_000_000 and report["curve"] == report["n_iter"]
    assert len(report["predictions"]) == 5 and np.isfinite(report["predictions"]).all()
    assert continued[0] == "CONTINUED" and int(continued[1]) == 2
    assert int(continued[2]) == report["n_iter"] + 2


CLI_LBFGS_FIT = textwrap.dedent("""
    import sys
    import mlpkit.numpy_loop
    from mlpkit.cli import main

    loss_and_grad = mlpkit.numpy_loop.loss_and_grad
    mlpkit.numpy_loop.MAX_WORK = float("inf")  # (L-BFGS evaluates its loss in numpy, announcing it)

    def announcing(*args, **kwargs):  # says once that L-BFGS is evaluating the loss
        computed = loss_and_grad(*args, **kwargs)

        def evaluated(flat):
            if not getattr(announcing, "said", False):
                announcing.said = True
                print("TRAINING", flush=True)
            return computed(flat)

        return evaluated

    mlpkit.numpy_loop.loss_and_grad = announcing
    sys.exit(main(sys.argv[1:]))
""")


def test_sigint_during_an_lbfgs_fit_from_the_command_line_saves_the_model_and_exits_130(tmp_path):
    """The README's promise for Ctrl-C on the command line holds for L-BFGS too (which, in Python,
    propagates KeyboardInterrupt as scikit-learn's does)."""
    rng = np.random.RandomState(0)
    X = rng.randn(20000, 8)  # (enough rows that the fit runs for many seconds unless interrupted)
    y = np.sin(X @ rng.randn(8)) + 0.1 * rng.randn(20000)
    data, out = tmp_path / "data.csv", tmp_path / "model.npz"
    header = ",".join([f"x{i}" for i in range(8)] + ["y"])
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header=header, comments="")
    argv = ["fit", str(data), "--target", "y", "--task", "regress", "--hidden", "64", "--out", str(out),
            "--no-progress", "--set", "solver='lbfgs'", "--set", "max_iter=10000000", "--set", "max_fun=100000000",
            "--set", "tol=0.0"]
    process = subprocess.Popen([sys.executable, "-c", CLI_LBFGS_FIT, *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = _lines(process.stdout)
    try:
        assert _next(lines, process, timeout=120) == "TRAINING"
        time.sleep(1.0)  # about a second of L-BFGS iterations
        assert process.poll() is None, "the fit ended on its own before the interrupt"
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        errors = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 130, errors[-2000:]
    assert out.exists(), errors[-2000:]
    model = mlpkit.load(out)
    assert model.solver == "lbfgs" and 1 <= model.n_iter_ < 10_000_000
    assert np.isfinite(model.predict(X[:5])).all() and np.isfinite(model.loss_)
    assert "interrupted" in " ".join(errors.split())


# ------------------------------------------------------- interrupted saves and writes
def _only(directory):
    return sorted(p.name for p in directory.iterdir())


def test_an_interrupted_save_leaves_the_previous_model_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    with quiet():
        old = make("classifier").fit(X, TARGETS["classifier"])
        new = make("classifier", random_state=1).fit(X, TARGETS["classifier"])
    mlpkit.save(old, path)
    saved = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mlpkit.save(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == saved and _only(tmp_path) == ["model.npz"]  # no temporary file left
    assert np.array_equal(mlpkit.load(path).predict_proba(X), old.predict_proba(X))


@pytest.mark.parametrize("what", ["DataSet", "flucoma model", "mlpkit model as FluCoMa JSON"])
def test_an_interrupted_flucoma_write_leaves_the_previous_file_intact(tmp_path, monkeypatch, what):
    path = tmp_path / "thing.json"
    if what == "DataSet":
        old, new = flucoma.DataSet.from_numpy(["a", "b"], X[:2]), flucoma.DataSet.from_numpy(["c"], X[:1])
        write = lambda obj: obj.write(path)
    elif what == "flucoma model":
        old = flucoma.MLPRegressor().read(os.path.join(os.path.dirname(__file__), "..", "data", "flucoma",
                                                       "xys-to-chords-regressor.json"))
        new = flucoma.MLPRegressor().read({"layers": [{"activation": 0, "biases": [0.0], "cols": 1, "rows": 1,
                                                       "weights": [[1.0]]}]})
        write = lambda obj: obj.write(path)
    else:
        with quiet():
            old = make("regressor", activation="tanh").fit(X, TARGETS["regressor"])
            new = make("regressor", activation="tanh", random_state=1).fit(X, TARGETS["regressor"])
        write = lambda obj: mlpkit.save(obj, path, format="flucoma")
    write(old)
    saved = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write(new)
    monkeypatch.undo()
    assert path.read_bytes() == saved and _only(tmp_path) == ["thing.json"]
