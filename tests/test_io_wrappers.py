"""mlpkit.save / load of a network with its scalers: a Pipeline of scikit-learn scalers before it, and a
TransformedTargetRegressor that standardises a regressor's targets (what advise and ``mlpkit fit`` build)."""

import json
import zipfile

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_wine
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer, RobustScaler, StandardScaler

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor
from mlpkit.io import ModelFileError


@pytest.fixture(scope="module")
def wine():
    return load_wine(return_X_y=True)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(feature_range=(-1, 1)), RobustScaler()])
def test_a_pipeline_round_trips_with_its_scaler(wine, scaler, tmp_path):
    X, y = wine
    model = make_pipeline(scaler, MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)).fit(X, y)
    mlpkit.save(model, tmp_path / "m.npz")
    loaded = mlpkit.load(tmp_path / "m.npz")
    assert isinstance(loaded, Pipeline) and [name for name, _ in loaded.steps] == [name for name, _ in model.steps]
    assert loaded.steps[0][1].get_params() == scaler.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.steps[-1][1].set_params(warm_start=True, max_iter=2)  # the network trains on, through the pipeline
    loaded.fit(X, y)
    assert loaded.steps[-1][1].n_iter_ == 2


def test_a_target_regressor_round_trips_fitted_and_unfitted(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    inner = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0))
    model = TransformedTargetRegressor(regressor=inner, transformer=StandardScaler()).fit(X, y)
    mlpkit.save(model, tmp_path / "t.npz")
    loaded = mlpkit.load(tmp_path / "t.npz")
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-6)
    assert loaded.score(X, y) == pytest.approx(model.score(X, y), abs=1e-6)
    with zipfile.ZipFile(tmp_path / "t.npz") as archive:
        names = set(archive.namelist())
    assert {"target.mean_.npy", "regressor.steps.0.scale_.npy", "regressor.network.coefs.0.npy"} <= names

    unfitted = TransformedTargetRegressor(regressor=MLPRegressor(alpha=0.1), transformer=StandardScaler())
    mlpkit.save(unfitted, tmp_path / "u.npz")
    again = mlpkit.load(tmp_path / "u.npz")
    assert not hasattr(again, "regressor_") and again.regressor.alpha == 0.1


def test_what_the_format_cannot_hold_is_refused_and_the_old_file_kept(wine, tmp_path):
    X, y = wine
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    other = make_pipeline(Normalizer(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=2)).fit(X, y)
    with pytest.raises(ValueError, match="StandardScaler, MinMaxScaler, RobustScaler"):
        mlpkit.save(other, path)
    log = TransformedTargetRegressor(regressor=MLPRegressor(), func=np.log1p, inverse_func=np.expm1)
    with pytest.raises(ValueError, match="func / inverse_func"):
        mlpkit.save(log, path)
    assert path.read_bytes() == b"old"


def test_a_damaged_scaler_is_a_model_file_error(wine, tmp_path):
    X, y = wine
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)).fit(X, y)
    mlpkit.save(model, tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(np.load(tmp_path / "m.npz")["__header__"].tobytes())
    header["model"]["steps"][0][1]["fitted"]["n_features_in_"] = 12  # the arrays hold 13
    text = json.dumps(header).encode()
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(text, dtype=np.uint8))
    entries["__header__.npy"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="bad.npz: .*steps"):
        mlpkit.load(tmp_path / "bad.npz")


def test_onnx_folds_the_scalers_into_the_graph(wine):
    ort = pytest.importorskip("onnxruntime")
    X, y = wine
    model = make_pipeline(RobustScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)).fit(X, y)
    session = ort.InferenceSession(mlpkit.export_onnx(model).SerializeToString())
    labels, probabilities = session.run(None, {"X": X})  # the raw columns: the graph scales them
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(probabilities, model.predict_proba(X), atol=1e-12)
    Xd, yd = load_diabetes(return_X_y=True)
    regressor = TransformedTargetRegressor(
        make_pipeline(MinMaxScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0)),
        transformer=StandardScaler(),
    ).fit(Xd, yd)
    (out,) = ort.InferenceSession(mlpkit.export_onnx(regressor).SerializeToString()).run(None, {"X": Xd})
    np.testing.assert_allclose(out, regressor.predict(Xd), rtol=1e-10)  # in the targets' own units
    with pytest.raises(ValueError, match="not fitted"):
        mlpkit.export_onnx(make_pipeline(StandardScaler(), MLPRegressor()))
