"""mlpkit.export_onnx: the exported graph, run by onnxruntime, gives predict and predict_proba.

Most models here hold random weights adopted without training (``by_hand``), so
every activation and dtype is checked without compiling a training program; a
few are trained for real.
"""

import json
import os
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import LabelBinarizer

import mlpkit
from mlpkit import flucoma
from mlpkit.activations import HIDDEN_ACTIVATION_NAMES, canonical_name

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RNG = np.random.RandomState(0)
X = RNG.uniform(-3, 3, (40, 4))
HIDDEN_ACTIVATIONS = sorted({canonical_name(a) for a in HIDDEN_ACTIVATION_NAMES})
TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def by_hand(cls, units, dtype="float32", classes=None, seed=0, **params):
    """A fitted-looking estimator with random weights (and random prelu slopes and batch-norm statistics)."""
    rng = np.random.RandomState(seed)
    model = cls(hidden_layer_sizes=tuple(units[1:-1]), dtype=dtype, **params)
    if classes is not None:  # what fit learns from the targets before the network
        binarizer = LabelBinarizer().fit(classes)
        model._label_binarizer, model.classes_ = binarizer, binarizer.classes_
    coefs = [rng.normal(0, 1 / np.sqrt(a), (a, b)) for a, b in zip(units[:-1], units[1:])]
    model._adopt_network(coefs, [rng.normal(0, 0.5, b) for b in units[1:]])
    hidden = units[1:-1]
    parts = (
        {
            "slopes": tuple(rng.uniform(0, 0.5, n).astype(dtype) for n in hidden)
            if hasattr(model, "prelu_slopes_")
            else (),
            "bn_scale": tuple(rng.uniform(0.5, 2, n).astype(dtype) for n in hidden)
            if params.get("batch_norm")
            else (),
            "bn_shift": tuple(rng.normal(0, 1, n).astype(dtype) for n in hidden)
            if params.get("batch_norm")
            else (),
        },
        {
            "mean": tuple(rng.normal(0, 1, n).astype(dtype) for n in hidden)
            if params.get("batch_norm")
            else (),
            "var": tuple(rng.uniform(0.2, 3, n).astype(dtype) for n in hidden)
            if params.get("batch_norm")
            else (),
        },
    )
    state = model._state  # the prelu slopes and batch norm beside the weights, in the training state
    model._state = state._replace(params={**state.params, **parts[0]}, stats=parts[1])
    return model


def run(model, X=X):
    """Export ``model`` to bytes and run it in onnxruntime on ``X`` (in the model's dtype)."""
    proto = mlpkit.export_onnx(model)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X.astype(model.coefs_[0].dtype)})))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_every_hidden_activation(activation, dtype):
    model = by_hand(mlpkit.MLPRegressor, [4, 6, 5, 2], dtype, activation=activation)
    outputs = run(model)
    assert outputs["variable"].dtype == np.dtype(dtype)
    np.testing.assert_allclose(outputs["variable"], model.predict(X), **TOLERANCE)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["relu", "prelu", "selu"])
def test_batch_norm(activation, dtype):
    model = by_hand(mlpkit.MLPRegressor, [4, 6, 5, 3], dtype, activation=activation, batch_norm=True)
    np.testing.assert_allclose(run(model)["variable"], model.predict(X), **TOLERANCE)


@pytest.mark.parametrize("out_activation", ["identity", "logistic", "tanh", "exp", "softplus", "softmax"])
def test_output_activations_of_regressors(out_activation):
    model = by_hand(mlpkit.MLPRegressor, [4, 5, 3], "float64", out_activation=out_activation)
    np.testing.assert_allclose(run(model)["variable"], model.predict(X), **TOLERANCE)


def test_one_output_gives_the_shape_of_predict():
    model = by_hand(mlpkit.MLPRegressor, [4, 5, 1], loss="poisson")
    outputs = run(model)
    assert outputs["variable"].shape == (len(X),)
    np.testing.assert_allclose(outputs["variable"], model.predict(X), **TOLERANCE)


def test_large_inputs_stay_finite():
    """softplus, elu, selu and gelu are written so that they neither overflow nor give NaN."""
    wide = np.concatenate([X * 100, -X * 100])
    for activation in ("softplus", "elu", "selu", "gelu", "silu"):
        model = by_hand(mlpkit.MLPRegressor, [4, 6, 2], activation=activation)
        out = run(model, wide)["variable"]
        assert np.isfinite(out).all()
        np.testing.assert_allclose(out, model.predict(wide), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "classes, loss",
    [
        (np.array([3, 7]), "log_loss"),  # binary, int labels
        (np.array([False, True]), "log_loss"),  # binary, bool labels
        (np.array(["cat", "dog", "emu"]), "log_loss"),  # multiclass softmax, string labels
        (np.array([1.0, 2.0, 3.0, 4.0]), "log_loss"),  # float labels
        (np.array(["a", "b", "c"]), "squared_error"),  # one sigmoid per class (FluCoMa's kind)
    ],
)
def test_classifiers(classes, loss, dtype):
    model = by_hand(
        mlpkit.MLPClassifier, [4, 6, 1 if len(classes) == 2 else len(classes)], dtype, classes, loss=loss
    )
    outputs = run(model)
    assert outputs["label"].shape == (len(X),) and outputs["probabilities"].shape == (len(X), len(classes))
    np.testing.assert_array_equal(outputs["label"], model.predict(X))
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(X), **TOLERANCE)


def test_one_sigmoid_per_class_gives_rows_summing_to_one_and_predicts_the_largest():
    """Squared error's sigmoids become probabilities (each row over its sum), and predict is their argmax,
    in the exported graph as in mlpkit, including rows with no output above 0.5."""
    model = by_hand(mlpkit.MLPClassifier, [4, 6, 3], "float64", np.array([10, 20, 30]), loss="squared_error")
    model.intercepts_[-1][:] = -4.0  # most rows: no output above 0.5
    assert (model._forward_pass_fast(X) < 0.5).all(axis=1).any()
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    outputs = run(model)
    np.testing.assert_array_equal(outputs["label"], model.predict(X))
    np.testing.assert_allclose(outputs["probabilities"], proba, **TOLERANCE)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multilabel_classifier(dtype):
    indicator = np.array([[0, 1, 1], [1, 0, 1]])
    model = by_hand(mlpkit.MLPClassifier, [4, 6, 3], dtype, indicator)
    outputs = run(model)
    assert outputs["label"].dtype == np.int64 and outputs["label"].shape == (len(X), 3)
    np.testing.assert_array_equal(outputs["label"], model.predict(X))
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(X), **TOLERANCE)


def test_trained_models_and_a_dynamic_batch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.array(["cat", "dog", "emu"])[RNG.randint(0, 3, len(X))]
        small = dict(hidden_layer_sizes=(5,), max_iter=5, batch_size=16, random_state=0)
        classifier = mlpkit.MLPClassifier(**small).fit(X, y)
        regressor = mlpkit.MLPRegressor(**small, activation="prelu", batch_norm=True, dtype="float64").fit(
            X, np.column_stack([X[:, 0], X[:, 1] * X[:, 2]])
        )
    for rows in (X[:1], X):
        outputs = run(classifier, rows)
        np.testing.assert_array_equal(outputs["label"], classifier.predict(rows))
        np.testing.assert_allclose(outputs["probabilities"], classifier.predict_proba(rows), **TOLERANCE)
        np.testing.assert_allclose(run(regressor, rows)["variable"], regressor.predict(rows), **TOLERANCE)


def test_flucoma_regressor_exports_its_network():
    model = flucoma.MLPRegressor().read(_flucoma_layers())
    np.testing.assert_allclose(run(model.network_)["variable"], model.predict(X), **TOLERANCE)
    proto = mlpkit.export_onnx(model)
    assert proto.graph.output[0].name == "variable"
    model.tap_out = 1
    with pytest.raises(ValueError, match="tap_out=1"):
        mlpkit.export_onnx(model)


def _flucoma_layers():
    rng = np.random.RandomState(1)
    return {
        "layers": [
            {
                "activation": 3,
                "biases": rng.randn(5).tolist(),
                "cols": 5,
                "rows": 4,
                "weights": rng.randn(4, 5).tolist(),
            },
            {
                "activation": 0,
                "biases": rng.randn(2).tolist(),
                "cols": 2,
                "rows": 5,
                "weights": rng.randn(5, 2).tolist(),
            },
        ]
    }


def test_file_is_written_atomically_with_metadata(tmp_path):
    model = by_hand(mlpkit.MLPClassifier, [4, 6, 3], "float32", np.array(["cat", "dog", "emu"]))
    path = tmp_path / "model.onnx"
    mlpkit.export_onnx(model, path)
    assert os.listdir(tmp_path) == ["model.onnx"]
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(metadata["classes"]) == ["cat", "dog", "emu"]
    assert [i.name for i in proto.graph.input] == ["X"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    assert proto.opset_import[0].version == mlpkit.onnx_export.OPSET


def test_what_cannot_be_exported():
    with pytest.raises(ValueError, match="not fitted"):
        mlpkit.export_onnx(mlpkit.MLPRegressor())
    with pytest.raises(ValueError, match="FluCoMa-style classifiers"):
        mlpkit.export_onnx(flucoma.MLPClassifier())
    with pytest.raises(ValueError, match="MLPClassifier and MLPRegressor"):
        mlpkit.export_onnx(LabelBinarizer())
    with pytest.raises(ValueError, match="single class"):
        mlpkit.export_onnx(by_hand(mlpkit.MLPClassifier, [4, 3, 1], "float32", np.array(["only"])))
