"""mlpkit's estimators as scikit-learn's drop-ins (issue 18): the input's precision, scikit-learn's warnings
and messages, what a diverged fit records, settings L-BFGS cannot apply, and an import that leaves JAX alone.

Where scikit-learn has a behaviour, the test computes it with scikit-learn's own MLP and compares.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import sklearn.neural_network as sknn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning

from mlpkit import MLPClassifier, MLPRegressor

RNG = np.random.RandomState(0)
X = RNG.randn(40, 4)
Y_REG = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * RNG.randn(40)
Y_CLASS = np.array(["bird", "cat", "dog"])[RNG.randint(0, 3, 40)]
SMALL = {"hidden_layer_sizes": (5,), "max_iter": 5, "random_state": 0}


def quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def message_of(call):
    """The exception ``call()`` raises (it must raise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except Exception as error:  # noqa: BLE001 - the point is to look at it
            return error
    raise AssertionError(f"{call} did not raise")


# ------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_the_default_trains_and_predicts_in_the_inputs_precision_as_sklearn(kind, dtype):
    ours, theirs, y = (MLPClassifier, sknn.MLPClassifier, Y_CLASS) if kind == "classifier" else (MLPRegressor, sknn.MLPRegressor, Y_REG)
    data = X.astype(dtype)
    model, reference = quiet_fit(ours(**SMALL), data, y), quiet_fit(theirs(**SMALL), data, y)
    assert {a.dtype for a in (*model.coefs_, *model.intercepts_)} == {reference.coefs_[0].dtype} == {np.dtype(dtype)}
    if kind == "classifier":
        assert model.predict_proba(data).dtype == reference.predict_proba(data).dtype == dtype
    else:
        assert model.predict(data).dtype == reference.predict(data).dtype == dtype


def test_the_default_float64_fit_is_sklearns_to_1e6():
    """As the README says of float64: the same weights as scikit-learn's, now without asking for them."""
    model = quiet_fit(MLPRegressor(**SMALL), X, Y_REG)
    reference = quiet_fit(sknn.MLPRegressor(**SMALL), X, Y_REG)
    for ours, theirs in zip(model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)  # (float32 agrees to ~1e-7)


def test_an_explicit_dtype_wins_over_the_input():
    assert quiet_fit(MLPRegressor(**SMALL, dtype="float32"), X, Y_REG).coefs_[0].dtype == np.float32
    model = quiet_fit(MLPClassifier(**SMALL, dtype="float64"), X.astype(np.float32), Y_CLASS)
    assert model.coefs_[0].dtype == np.float64 and model.predict_proba(X.astype(np.float32)).dtype == np.float64


def test_warm_start_and_partial_fit_go_on_in_the_networks_precision():
    model = quiet_fit(MLPRegressor(**SMALL), X, Y_REG)
    weights = model.coefs_[0].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "structure changed": the same network trains on
        model.partial_fit(X.astype(np.float32), Y_REG)
    assert model.coefs_[0].dtype == np.float64 and not np.array_equal(model.coefs_[0], weights)
    model.set_params(warm_start=True)
    quiet_fit(model, X.astype(np.float32), Y_REG)
    assert model.coefs_[0].dtype == np.float64 and model.n_iter_ == SMALL["max_iter"]


def test_float64_data_beyond_float32s_range_trains_as_in_sklearn():
    """No float32-range error for float64 data (the old default's message); scikit-learn fits it too."""
    huge = X * 1e39
    quiet_fit(sknn.MLPRegressor(**SMALL), huge, Y_REG)
    model = quiet_fit(MLPRegressor(**SMALL), huge, Y_REG)
    assert model.coefs_[0].dtype == np.float64
    with pytest.raises(ValueError, match="beyond the range of float32"):  # asked for float32: said so
        MLPRegressor(**SMALL, dtype="float32").fit(huge, Y_REG)


# ---------------------------------------------------------------------------- warnings
@pytest.mark.parametrize(
    "load, Est",
    [(load_digits, MLPClassifier), (load_iris, MLPClassifier), (load_breast_cancer, MLPClassifier),
     (load_diabetes, MLPRegressor)],
    ids=["digits", "iris", "breast_cancer", "diabetes"],
)
def test_a_default_fit_warns_nothing_but_what_sklearn_warns(load, Est):
    """Warnings as errors (ConvergenceWarning aside, scikit-learn's own at 200 epochs): a default fit,
    predict and score raise nothing; the rows-per-parameter advice stays in mlpkit.guide and the CLI."""
    data, target = load(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Est(random_state=0).fit(data, target)
        model.predict(data)
        model.score(data, target)
        if hasattr(model, "predict_proba"):
            model.predict_proba(data)


# ---------------------------------------------------------------------------- messages
def test_too_few_members_of_a_class_for_early_stoppings_split_gives_sklearns_error():
    y = np.array([0] * 39 + [1])
    theirs = message_of(lambda: sknn.MLPClassifier(early_stopping=True, max_iter=3).fit(X, y))
    ours = message_of(lambda: MLPClassifier(early_stopping=True, max_iter=3).fit(X, y))
    assert type(ours) is type(theirs) is ValueError
    assert str(ours).startswith(str(theirs)), (str(ours), str(theirs))
    assert "[1]" in str(ours)[len(str(theirs)):]  # and names the class as given


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_sample_weights_give_sklearns_error(bad):
    weight = np.ones(len(X))
    weight[3] = bad
    theirs = message_of(lambda: sknn.MLPRegressor(max_iter=3).fit(X, Y_REG, sample_weight=weight))
    ours = message_of(lambda: MLPRegressor(max_iter=3).fit(X, Y_REG, sample_weight=weight))
    assert type(ours) is type(theirs) and str(ours).startswith(str(theirs)), (str(ours), str(theirs))


@pytest.mark.parametrize("fitted", [False, True], ids=["new", "fitted"])
def test_a_mini_batch_of_zero_weights_gives_sklearns_error_and_leaves_the_model_alone(fitted):
    weight = np.ones(len(X))
    weight[:10] = 0  # the first batch of 10, in order
    params = {"batch_size": 10, "shuffle": False, "max_iter": 3, "random_state": 0}
    theirs = message_of(lambda: sknn.MLPRegressor(**params).fit(X, Y_REG, sample_weight=weight))
    model = MLPRegressor(**params)
    before = None
    if fitted:
        before = [w.copy() for w in quiet_fit(model, X, Y_REG).coefs_]
    ours = message_of(lambda: model.fit(X, Y_REG, sample_weight=weight))
    assert isinstance(ours, ZeroDivisionError) and isinstance(theirs, ZeroDivisionError)
    assert isinstance(ours, ValueError)  # mlpkit's other errors of the data are ValueErrors
    assert str(ours).startswith(str(theirs)) and "batch_size=10" in str(ours)
    assert "large values" not in str(ours)
    if fitted:
        assert all(np.array_equal(a, b) for a, b in zip(model.coefs_, before))
    else:
        assert not hasattr(model, "coefs_")
    weight[0] = 1.0  # one weighted row in the batch: it trains
    assert np.isfinite(quiet_fit(MLPRegressor(**params), X, Y_REG, sample_weight=weight).loss_)


# ------------------------------------------------------------------------------ records
def test_divergence_with_early_stopping_ends_validation_scores_with_nan_as_sklearn():
    params = {"solver": "sgd", "learning_rate_init": 10.0, "early_stopping": True, "max_iter": 30, "random_state": 0}
    data = np.random.RandomState(0).randn(200, 3) * 100
    target = data @ np.array([1.0, 2.0, 3.0])
    reference = quiet_fit(sknn.MLPRegressor(**params), data, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlpkit's DivergenceWarning
        model = MLPRegressor(**params, dtype="float64").fit(data, target)  # (its blown-up scores are finite)
    assert np.isnan(reference.validation_scores_[-1]) and np.isnan(model.validation_scores_[-1])
    assert np.isfinite(model.validation_scores_[:-1]).all() and np.isfinite(model.best_validation_score_)
    assert all(np.isfinite(w).all() for w in model.coefs_)  # the best epoch's weights, as scikit-learn's


@pytest.mark.parametrize("setting", [{"weight_decay": 10.0}, {"clip_norm": 1.0}, {"clip_value": 0.5}],
                         ids=["weight_decay", "clip_norm", "clip_value"])
def test_lbfgs_refuses_what_it_cannot_apply_and_leaves_the_model_alone(setting):
    model = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    quiet_fit(model, X, Y_REG)
    before = [w.copy() for w in model.coefs_]
    name = next(iter(setting))
    model.set_params(**setting)
    with pytest.raises(ValueError, match=rf"solver='lbfgs' cannot apply {name}="):
        model.fit(X, Y_REG)
    assert all(np.array_equal(a, b) for a, b in zip(model.coefs_, before))
    model.set_params(**{name: 0.0 if name == "weight_decay" else None})
    quiet_fit(model, X, Y_REG)  # the defaults train again


# ------------------------------------------------------------------------------ import
def _run(code: str, **env) -> dict:
    """Run ``code`` in a fresh interpreter with this checkout's mlpkit; its last stdout line as JSON."""
    environment = {**os.environ, **env}
    environment.pop("JAX_COMPILATION_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


IMPORT_ONLY = """
    import json
    import jax
    from jax._src import xla_bridge

    before = dict(jax.config.values)
    import mlpkit, mlpkit.estimators, mlpkit.guide, mlpkit.io, mlpkit.flucoma
    changed = sorted(k for k, v in jax.config.values.items() if before.get(k, object()) != v and v == v)
    print(json.dumps({"changed": changed, "backends": xla_bridge.backends_are_initialized()}))
"""


def test_import_mlpkit_starts_no_jax_backend_and_changes_no_jax_setting():
    assert _run(IMPORT_ONLY) == {"changed": [], "backends": False}


FIT_THEN_LOOK = """
    import json, warnings
    import jax
    import numpy as np
    {setup}
    import mlpkit

    warnings.simplefilter("ignore")
    mlpkit.numpy_loop.MAX_WORK = 0  # (every fit compiles: the numpy loop's fits need no cache)
    jax.jit(lambda x: x + 1)(1.0)  # the user's own JAX work, before mlpkit's first fit
    rng = np.random.RandomState(0)
    mlpkit.MLPRegressor(hidden_layer_sizes=(3,), max_iter=2).fit(rng.randn(20, 2), rng.randn(20))
    print(json.dumps({{name: jax.config.values[name] for name in (
        "jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")}}))
"""


def test_the_compilation_cache_is_set_up_at_the_first_fit_and_a_users_own_wins(tmp_path):
    ours = tmp_path / "mlpkit-cache"
    seen = _run(FIT_THEN_LOOK.format(setup=""), MLPKIT_COMPILATION_CACHE=str(ours))
    assert seen == {"jax_compilation_cache_dir": str(ours), "jax_persistent_cache_min_compile_time_secs": 0.0}
    assert any(p.name.startswith("jit_run_epochs_compiled") for p in ours.iterdir())  # used though JAX ran first
    theirs = tmp_path / "users-cache"
    shutil.copytree(ours, theirs)  # (the same programs: read from theirs, not compiled again; ~3 s)
    setup = f"jax.config.update('jax_compilation_cache_dir', {str(theirs)!r})"
    seen = _run(FIT_THEN_LOOK.format(setup=setup), MLPKIT_COMPILATION_CACHE=str(ours))
    assert seen == {"jax_compilation_cache_dir": str(theirs), "jax_persistent_cache_min_compile_time_secs": 1.0}


FIT_AND_PRINT_WEIGHTS = """
    import hashlib, json, warnings
    import numpy as np
    import mlpkit

    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    X, y = rng.randn(300, 5), rng.randn(300)
    digests = {}
    for name, params in {"numpy loop": {}, "compiled": {"activation": "elu"}, "lbfgs": {"solver": "lbfgs"}}.items():
        model = mlpkit.MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0, **params).fit(X, y)
        weights = np.concatenate([a.ravel() for a in model.coefs_ + model.intercepts_])
        digests[name] = hashlib.sha256(weights.tobytes()).hexdigest()
    print(json.dumps(digests))
"""


def test_a_fit_gives_the_same_weights_with_an_empty_cache_and_a_warm_one(tmp_path):
    """Which loop trains a fit depends on its settings and data only: the second process, which finds
    every program in the cache, trains bit for bit as the first, which compiled them."""
    cache = tmp_path / "cache"
    cold = _run(FIT_AND_PRINT_WEIGHTS, MLPKIT_COMPILATION_CACHE=str(cache), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    assert any(cache.iterdir())  # (the compiled fit filled it)
    warm = _run(FIT_AND_PRINT_WEIGHTS, MLPKIT_COMPILATION_CACHE=str(cache), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    assert cold == warm


@pytest.mark.parametrize("spelling", ["0", "off", "false", "no", " OFF "])
def test_the_compilation_cache_can_be_turned_off(monkeypatch, spelling):
    # (in process: enable() sets nothing up where cache_directory() is None; the runs above check a real first fit)
    from mlpkit import _compilation_cache

    monkeypatch.setenv("MLPKIT_COMPILATION_CACHE", spelling)
    assert _compilation_cache.cache_directory() is None
    monkeypatch.setenv("MLPKIT_COMPILATION_CACHE", "~/elsewhere")
    assert str(_compilation_cache.cache_directory()).endswith("elsewhere")
