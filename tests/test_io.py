"""mlpkit.save / mlpkit.load: round trips, continued training, atomic writes, damaged files, fuzzing.

Models are small and share few network shapes, so JAX compiles few programs;
each is fitted once per session (``fitted``) and copied where a test changes it.
"""

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile
from functools import cache

import jax
import joblib
import numpy as np
import optax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import LabelBinarizer

import mlpkit
from mlpkit import flucoma
from mlpkit.io import FORMAT_VERSION, HEADER_KEY, ModelFileError

RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, (64, 4))
Y_INT = RNG.randint(0, 3, 64)
Y_STR = np.array(["cat", "dog", "emu"])[Y_INT]
Y_BOOL = X[:, 0] + 0.3 * RNG.randn(64) > 0
Y_MULTILABEL = (X[:, :3] + 0.3 * RNG.randn(64, 3) > 0).astype(int)
Y_REG = np.column_stack([X @ [1.0, -2.0, 0.5, 0.0], np.sin(X[:, 1])])


@cache
def _fitted(name):
    """Fitted models, each trained once per test session (callers get a deep copy)."""
    small = dict(hidden_layer_sizes=(5,), max_iter=5, batch_size=16, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "classifier":  # string labels, adam
            return mlpkit.MLPClassifier(**small).fit(X, Y_STR)
        if name == "regressor":  # two outputs, prelu, batch norm, early stopping, float64
            return mlpkit.MLPRegressor(
                **small, activation="prelu", batch_norm=True, early_stopping=True, dtype="float64"
            ).fit(X, Y_REG)
        if name == "binary_sgd":  # bool labels, sgd without Nesterov, invscaling, a tuple-free parameter set
            return mlpkit.MLPClassifier(
                **{**small, "hidden_layer_sizes": [5]},
                activation="tanh",
                solver="sgd",
                learning_rate="invscaling",
                nesterovs_momentum=False,
                n_iter_no_change=np.inf,
                dropout=np.array([0.1]),
            ).fit(X, Y_BOOL)
        if name == "multilabel":
            return mlpkit.MLPClassifier(**small, activation="gelu").fit(X, Y_MULTILABEL)
        if name == "lbfgs":  # one output, no optimizer state, no loss curve
            return mlpkit.MLPRegressor(**small, solver="lbfgs").fit(X, Y_REG[:, 0])
        if name == "partial_fit":  # int labels, given by partial_fit's classes
            model = mlpkit.MLPClassifier(**small, activation="selu", solver="rmsprop")
            return model.partial_fit(X, Y_INT, classes=[0, 1, 2, 3])
        if name == "flucoma_regressor":
            model = flucoma.MLPRegressor(
                hidden_layers=[5], activation="tanh", max_iter=5, batch_size=16, random_state=0
            )
            model.fit(X, Y_REG)
            return model
        if name == "flucoma_classifier":
            model = flucoma.MLPClassifier(
                hidden_layers=[5], activation=1, max_iter=5, batch_size=16, random_state=0
            )
            model.fit(X, Y_STR)
            return model
    raise KeyError(name)


def fitted(name):
    return copy.deepcopy(_fitted(name))


CORE_MODELS = ["classifier", "regressor", "binary_sgd", "multilabel", "lbfgs", "partial_fit"]


def round_trip(model, tmp_path, **options):
    path = tmp_path / "model.npz"
    mlpkit.save(model, path, **options)
    return mlpkit.load(path)


# ------------------------------------------------------------------- comparing models


def assert_same_value(a, b, where):
    """Equal values, arrays with equal dtypes, recursively."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, (where, a.dtype, b.dtype)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            assert_same_value(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)) and not hasattr(a, "_fields"):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_value(x, y, f"{where}[{i}]")
    elif isinstance(a, LabelBinarizer):
        assert_same_value(vars(a), vars(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    elif (
        hasattr(a, "_fields")
        and not isinstance(a, mlpkit.network.Architecture)
        and not isinstance(a, mlpkit.optim.SolverSpec)
    ):  # an optax state
        assert jax.tree.structure(a) == jax.tree.structure(b), where
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
            assert_same_value(np.asarray(x), np.asarray(y), where)
    else:
        assert a == b and type(a) is type(b) or (a == b and isinstance(a, (int, float))), (where, a, b)


def assert_same_model(original, loaded):
    """Same class, parameters, fitted attributes and private state (the training state among them)."""
    assert type(loaded) is type(original)
    assert_same_value(original.get_params(), loaded.get_params(), "params")
    caches = set(type(original)._caches)  # what a process keeps to refit faster is not saved
    assert set(vars(original)) - caches == set(vars(loaded)) - caches
    for key, value in vars(original).items():
        if key in caches:
            continue
        if key == "network_":
            assert_same_model(value, loaded.network_)
        else:
            assert_same_value(value, vars(loaded)[key], key)


# ------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", CORE_MODELS)
def test_round_trip_keeps_everything(name, tmp_path):
    original = fitted(name)
    loaded = round_trip(original, tmp_path)
    assert_same_model(original, loaded)
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    if hasattr(original, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))


@pytest.mark.parametrize("name", ["flucoma_regressor", "flucoma_classifier"])
def test_flucoma_style_round_trip(name, tmp_path):
    original = fitted(name)
    loaded = round_trip(original, tmp_path)
    assert_same_model(original, loaded)
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    target = Y_REG if name == "flucoma_regressor" else Y_STR
    assert loaded.fit(X, target) == original.fit(X, target)  # continues identically
    assert_same_model(original, loaded)


def test_unfitted_models_round_trip(tmp_path):
    for model in (
        mlpkit.MLPRegressor(hidden_layer_sizes=(3, 2), alpha=0.5),
        flucoma.MLPClassifier(hidden_layers=[4]),
    ):
        loaded = round_trip(model, tmp_path)
        assert type(loaded) is type(model) and vars(loaded) == vars(model)


def test_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = mlpkit.MLPClassifier(
            hidden_layer_sizes=(5,), max_iter=5, batch_size=16, random_state=0
        ).fit(frame, Y_STR)
    loaded = round_trip(original, tmp_path)
    assert_same_model(original, loaded)
    np.testing.assert_array_equal(loaded.predict(frame), original.predict(frame))


def test_header_follows_the_documented_format(tmp_path):
    path = tmp_path / "model.npz"
    mlpkit.save(fitted("classifier"), path)
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz[HEADER_KEY].tobytes())
        names = set(npz.files)
    assert header["format"] == "mlpkit.model" and header["format_version"] == FORMAT_VERSION
    assert header["mlpkit_version"] == mlpkit.__version__ and header["estimator"] == "mlpkit.MLPClassifier"
    fitted_part = header["model"]["fitted"]
    assert fitted_part["layer_units"] == [4, 5, 3] and fitted_part["dtype"] == "float64"  # as the data
    assert fitted_part["attributes"]["classes_"] == {
        "ndarray": ["cat", "dog", "emu"],
        "dtype": "<U3",
        "shape": [3],
    }
    assert header["model"]["params"]["hidden_layer_sizes"] == {"tuple": [5]}
    assert {"coefs.0", "coefs.1", "intercepts.0", "intercepts.1", "optimizer.0"} <= names
    assert zipfile.ZipFile(path).testzip() is None


def test_load_in_a_fresh_process(tmp_path):
    model = fitted("classifier")
    mlpkit.save(model, tmp_path / "model.npz")
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        """
        import sys, numpy as np, mlpkit
        model = mlpkit.load(sys.argv[1] + "/model.npz")
        np.save(sys.argv[1] + "/proba.npy", model.predict_proba(np.load(sys.argv[1] + "/X.npy")))
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), model.predict_proba(X))


# -------------------------------------------------------------------- continued training


@pytest.mark.parametrize("name", ["classifier", "regressor", "binary_sgd", "partial_fit"])
def test_training_continues_as_the_original_would(name, tmp_path):
    original = fitted(name)
    loaded = round_trip(original, tmp_path)
    y = {"classifier": Y_STR, "regressor": Y_REG, "binary_sgd": Y_BOOL, "partial_fit": Y_INT}[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in (original, loaded):
            if name != "regressor":  # partial_fit does not take early stopping
                model.partial_fit(X, y)
            if name != "partial_fit":  # its classes (given to partial_fit) are more than y has
                model.set_params(warm_start=True, max_iter=3)
                model.fit(X, y)
    assert_same_model(original, loaded)


def test_without_optimizer_state_the_moments_start_afresh(tmp_path):
    original = fitted("classifier")
    loaded = round_trip(original, tmp_path, optimizer_state=False)
    assert loaded._state.opt_state is None
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    original.partial_fit(X, Y_STR)
    loaded.partial_fit(X, Y_STR)
    assert not np.array_equal(original.coefs_[0], loaded.coefs_[0])
    # and load can ignore a stored state
    path = tmp_path / "with_state.npz"
    mlpkit.save(fitted("classifier"), path)
    assert mlpkit.load(path, optimizer_state=False)._state.opt_state is None


def test_replaced_weights_are_saved_without_the_stale_optimizer_state(tmp_path):
    model = fitted("classifier")
    model.coefs_ = [W.copy() for W in model.coefs_]  # new arrays: the moments no longer belong to them
    assert round_trip(model, tmp_path)._state.opt_state is None


# --------------------------------------------------------------------------- pickle


@pytest.mark.parametrize("name", ["classifier", "regressor", "flucoma_regressor", "flucoma_classifier"])
def test_pickle_and_joblib_keep_working(name, tmp_path):
    original = fitted(name)
    for loaded in (pickle.loads(pickle.dumps(original)), _joblib_round_trip(original, tmp_path)):
        assert_same_model(original, loaded)
        np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    if name == "classifier":  # the optimizer state still belongs to the unpickled weights
        loaded = pickle.loads(pickle.dumps(original))
        original.partial_fit(X, Y_STR)
        loaded.partial_fit(X, Y_STR)
        assert_same_model(original, loaded)


def test_joblib_keeps_the_optimizer_moments(tmp_path):
    original = fitted("classifier")
    loaded = _joblib_round_trip(original, tmp_path)
    assert loaded._state.opt_state is not None
    assert_same_value(original._state.opt_state, loaded._state.opt_state, "opt_state")
    original.partial_fit(X, Y_STR)
    loaded.partial_fit(X, Y_STR)  # goes on from the same moments: the same step
    for W, W_loaded in zip(original.coefs_, loaded.coefs_):
        np.testing.assert_array_equal(W, W_loaded)


def _joblib_round_trip(model, tmp_path):
    joblib.dump(model, tmp_path / "model.joblib")
    return joblib.load(tmp_path / "model.joblib")


# --------------------------------------------------------------------------- FluCoMa JSON


def test_flucoma_format_writes_json_that_load_reads_back(tmp_path):
    for name in ("flucoma_regressor", "flucoma_classifier"):
        model = fitted(name)
        path = tmp_path / f"{name}.json"
        mlpkit.save(model, path, format="flucoma")
        loaded = mlpkit.load(path)
        assert type(loaded) is type(model)
        if name == "flucoma_classifier":
            np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        else:
            np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-12)


def test_flucoma_files_load_as_flucoma_models():
    data = os.path.join(os.path.dirname(__file__), "data", "flucoma")
    regressor = mlpkit.load(os.path.join(data, "xys-to-chords-regressor.json"))
    assert isinstance(regressor, flucoma.MLPRegressor) and regressor.network_.n_features_in_ > 0
    with pytest.raises(ModelFileError, match="not a FluCoMa MLP model"):
        mlpkit.load(os.path.join(data, "xys-dataset.json"))


def test_save_refuses_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="format must be"):
        mlpkit.save(fitted("classifier"), tmp_path / "m", format="pickle")


# --------------------------------------------------------------- what cannot be saved


@pytest.mark.parametrize(
    "parameter, value",
    [
        ("learning_rate", optax.constant_schedule(0.01)),
        ("solver", optax.sgd(0.01)),
        ("random_state", np.random.RandomState(0)),
        ("callbacks", [print]),
    ],
)
def test_parameters_that_are_not_plain_values_are_refused_by_name(parameter, value, tmp_path):
    model = mlpkit.MLPRegressor().set_params(**{parameter: value})
    with pytest.raises(ValueError, match=f"parameter '{parameter}' is not a plain value") as error:
        mlpkit.save(model, tmp_path / "model.npz")
    assert "pickle" in str(error.value)
    assert not os.listdir(tmp_path)


def test_structure_changed_after_fit_is_refused(tmp_path):
    model = fitted("classifier").set_params(activation="tanh")
    with pytest.raises(ValueError, match="activation: fitted 'relu', now 'tanh'"):
        mlpkit.save(model, tmp_path / "model.npz")


def test_non_finite_weights_are_refused(tmp_path):
    model = fitted("classifier")
    model.coefs_[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mlpkit.save(model, tmp_path / "model.npz")


def test_other_objects_are_refused(tmp_path):
    from sklearn.neural_network import MLPRegressor

    with pytest.raises(ValueError, match="pickle or joblib"):
        mlpkit.save(MLPRegressor(), tmp_path / "model.npz")


# -------------------------------------------------------------------------- atomicity


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(failing, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    mlpkit.save(fitted("lbfgs"), path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="disk full"):
        mlpkit.save(fitted("classifier"), path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]
    assert path.read_bytes() == before
    assert isinstance(mlpkit.load(path), mlpkit.MLPRegressor)


# ---------------------------------------------------------------------- damaged files


@pytest.fixture
def saved(tmp_path):
    """A saved classifier's path."""
    path = tmp_path / "model.npz"
    mlpkit.save(fitted("classifier"), path)
    return path


def read_parts(path):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop(HEADER_KEY).tobytes()), arrays


def write_parts(path, header, arrays, header_text=None):
    text = json.dumps(header) if header_text is None else header_text
    with open(path, "wb") as f:
        np.savez(f, **{HEADER_KEY: np.frombuffer(text.encode(), np.uint8)}, **arrays)


def assert_refused(path, *fragments):
    with pytest.raises(ModelFileError) as error:
        mlpkit.load(path)
    message = str(error.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_truncated_file(saved):
    data = saved.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        saved.write_bytes(data[:size])
        assert_refused(saved)


def test_flipped_bytes_in_the_arrays(saved):
    data = bytearray(saved.read_bytes())
    data[200] ^= 0xFF  # inside the first array's data
    saved.write_bytes(bytes(data))
    assert_refused(saved)


def test_not_a_model_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert_refused(path, "neither an .npz archive")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    assert_refused(tmp_path / "other.npz", "not an mlpkit model file")


def test_wrong_format_name(saved):
    header, arrays = read_parts(saved)
    write_parts(saved, {**header, "format": "someone.else"}, arrays)
    assert_refused(saved, "not an mlpkit model file")


def test_future_format_version(saved):
    header, arrays = read_parts(saved)
    write_parts(saved, {**header, "format_version": FORMAT_VERSION + 1, "new_key": 1}, arrays)
    assert_refused(
        saved,
        f"written by a newer mlpkit (format {FORMAT_VERSION + 1}); this one reads up to 1: upgrade mlpkit",
    )


def test_wrong_shapes(saved):
    header, arrays = read_parts(saved)
    write_parts(saved, header, {**arrays, "coefs.1": arrays["coefs.1"][:, :2]})
    assert_refused(saved, "'coefs.1'", "shape (5, 2)", "(5, 3)")
    header["model"]["fitted"]["layer_units"] = [4, 6, 3]
    write_parts(saved, header, arrays)
    assert_refused(saved, "'coefs.0'")


def test_wrong_dtype(saved):
    header, arrays = read_parts(saved)
    assert arrays["coefs.0"].dtype == np.float64  # the data's
    write_parts(saved, header, {**arrays, "coefs.0": arrays["coefs.0"].astype(np.float32)})
    assert_refused(saved, "'coefs.0'", "float32")


def test_nan_weights(saved):
    header, arrays = read_parts(saved)
    arrays["intercepts.0"][1] = np.nan
    write_parts(saved, header, arrays)
    assert_refused(saved, "'intercepts.0'", "NaN")


def test_missing_and_unknown_arrays(saved):
    header, arrays = read_parts(saved)
    write_parts(saved, header, {k: v for k, v in arrays.items() if k != "intercepts.1"})
    assert_refused(saved, "'intercepts.1'", "missing")
    write_parts(saved, header, {**arrays, "extra": np.zeros(2)})
    assert_refused(saved, "unknown array", "'extra'")


def test_header_not_json(saved):
    header, arrays = read_parts(saved)
    write_parts(saved, header, arrays, header_text='{"format": "mlpkit.model", ')
    assert_refused(saved, "not valid JSON")
    write_parts(saved, header, arrays, header_text=json.dumps(header).replace("0.001", "NaN", 1))
    assert_refused(saved, "NaN")


def test_missing_keys_and_wrong_types(saved):
    header, arrays = read_parts(saved)
    del header["model"]["fitted"]["loss"]
    write_parts(saved, header, arrays)
    assert_refused(saved, "'loss'")
    header["model"]["fitted"]["loss"] = "log_loss"
    header["model"]["fitted"]["attributes"]["t_"] = "many"
    write_parts(saved, header, arrays)
    assert_refused(saved, "'t_'", "whole number")


def test_optimizer_state_that_does_not_fit(saved):
    header, arrays = read_parts(saved)
    write_parts(saved, header, {k: v for k, v in arrays.items() if k != "optimizer.13"})
    assert_refused(saved, "optimizer_state=False")


def test_an_array_header_declaring_a_huge_shape_is_refused_before_numpy_allocates_it(saved):
    with zipfile.ZipFile(saved) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)})
    entries["coefs.1.npy"] = (
        header.getvalue() + np.zeros(15, np.float32).tobytes()
    )  # 8 TB declared, 60 bytes held
    with zipfile.ZipFile(saved, "w") as archive:  # with valid checksums
        for name, data in entries.items():
            archive.writestr(name, data)
    assert_refused(saved, "coefs.1", "declares shape (1000000000000,)")


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        mlpkit.load(tmp_path / "nothing.npz")


# ------------------------------------------------------------------------------ fuzzing
# Whatever is done to a file, load either raises ModelFileError naming the file (from an
# explicit check, not the safety net) or returns a complete, working model.

FUZZ = settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@cache
def _saved_file_parts(directory):
    """The header and the bytes of the saved classifier."""
    path = directory / "original.npz"
    mlpkit.save(_fitted("classifier"), path)
    return read_parts(path)[0], path.read_bytes()


@pytest.fixture(scope="module")
def saved_file_parts(tmp_path_factory):
    return _saved_file_parts(tmp_path_factory.mktemp("original"))


def _paths(obj, prefix=()):
    """Every (path of keys/indices) in a JSON object."""
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj[:4]):
            yield from _paths(value, (*prefix, i))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "tanh",
            "prelu",
            "float64",
            "log_loss",
            "stored",
            "sgd",
            "binary",
            "mlpkit.MLPRegressor",
            "mlpkit.flucoma.MLPClassifier",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)


def check_load(path):
    """load(path) raises ModelFileError from an explicit check, or returns a working model."""
    try:
        model = mlpkit.load(path)
    except ModelFileError as error:
        message = str(error)
        assert message.startswith(str(path)) and "unexpected error" not in message, message
        return None
    if "coefs_" in vars(model):
        assert len(model.predict(X)) == len(X)
    mlpkit.save(model, path)  # what loads can be saved and loaded again
    mlpkit.load(path)
    return model


@FUZZ
@given(data=st.data())
def test_fuzz_header(tmp_path, saved_file_parts, data):
    header, arrays = read_parts_from_bytes(saved_file_parts[1])
    paths = [p for p in _paths(header) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = header
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier edit removed or replaced this place
    file = tmp_path / "fuzz.npz"
    write_parts(file, header, arrays)
    check_load(file)


def read_parts_from_bytes(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop(HEADER_KEY).tobytes()), arrays


@FUZZ
@given(data=st.data())
def test_fuzz_bytes(tmp_path, saved_file_parts, data):
    damaged = bytearray(saved_file_parts[1])
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    file = tmp_path / "fuzz.npz"
    file.write_bytes(bytes(damaged))
    model = check_load(file)
    if model is not None:  # the damage missed everything that matters: checksums guard the rest
        np.testing.assert_array_equal(model.predict_proba(X), _fitted("classifier").predict_proba(X))


@pytest.mark.parametrize("solver", ["adam", "sgd", "nadam", "rmsprop", "adamw", "adagrad"])
def test_state_trees_flatten_as_jax_does_without_jax(solver):
    """Model files store state trees leaf by leaf in JAX's order; ``_tree`` reads and rebuilds them without
    importing JAX, in the same order, for every solver's state and the whole training state."""
    import jax

    from sklearn.datasets import load_iris

    from mlpkit import _tree

    X, y = load_iris(return_X_y=True)
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(5, 3), solver=solver, max_iter=3, early_stopping=True,
                                 random_state=0).fit(X, y)  # fmt: skip
    for tree in (model._state.opt_state, model._state, (model._state.best_params, model._state.best_stats)):
        ours, theirs = _tree.leaves(tree), jax.tree.leaves(tree)
        assert len(ours) == len(theirs) and all(a is b for a, b in zip(ours, theirs))
        rebuilt = _tree.unflatten(tree, [np.asarray(leaf) + 0 for leaf in ours])
        assert jax.tree.structure(rebuilt) == jax.tree.structure(tree)
        assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(rebuilt), theirs))
    with pytest.raises(ValueError, match="more leaves"):
        _tree.unflatten((1, 2), [1, 2, 3])
