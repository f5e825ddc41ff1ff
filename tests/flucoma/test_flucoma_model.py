"""FluCoMa MLP model files: real models predict what FluCoMa predicts; tiny models by hand; errors."""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlpkit.flucoma import (
    ACTIVATION_CODES,
    FLUCOMA_ACTIVATIONS,
    DataSet,
    FluCoMaFormatError,
    Layer,
    classifier_to_dict,
    pair_by_identifier,
    predict_layers,
    read_classifier,
    read_regressor,
    regressor_to_dict,
    write_classifier,
    write_regressor,
)
from mlpkit.flucoma.model import activation_code, activation_name, layer_sizes

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "flucoma"


def test_activation_codes_in_flucomas_enum_order():
    # flucoma-core NNFuncs.hpp: enum class Activation { kLinear, kSigmoid, kReLU, kTanh }
    assert FLUCOMA_ACTIVATIONS == {0: "identity", 1: "logistic", 2: "relu", 3: "tanh"}
    assert ACTIVATION_CODES == {"identity": 0, "logistic": 1, "sigmoid": 1, "relu": 2, "tanh": 3}
    assert activation_name(3) == "tanh" and activation_code("sigmoid") == 1
    with pytest.raises(
        ValueError, match="unknown FluCoMa activation code 4; the codes are 0 identity, 1 logistic"
    ):
        activation_name(4)
    with pytest.raises(ValueError, match="FluCoMa has no activation 'softmax'"):
        activation_code("softmax")


# -- the real models ------------------------------------------------------------------------------


def test_xys_to_chords_reproduces_the_chords():
    """The regressor was trained in FluCoMa to map each xy to its chord (same identifiers).

    Its largest error on the training rows is 0.00128 (example-4, first column): the residual
    of FluCoMa's training, not of this forward pass, which matches a plain numpy sigmoid
    network to 1e-15.
    """
    layers = read_regressor(EXAMPLES / "xys-to-chords-regressor.json")
    assert layer_sizes(layers) == [2, 8, 10] and [l.activation for l in layers] == ["logistic", "logistic"]
    xys = DataSet.read(EXAMPLES / "xys-dataset.json")
    chords = DataSet.read(EXAMPLES / "chords-dataset.json")
    _, X, Y = pair_by_identifier(xys, chords)
    predicted = predict_layers(layers, X)
    np.testing.assert_allclose(predicted, Y, atol=0.0015)
    assert np.abs(predicted - Y).mean() < 2e-4

    h = X
    for W, b, _ in layers:
        h = 1.0 / (1.0 + np.exp(-(h @ W + b)))  # FluCoMa's sigmoid, written as FluCoMa writes it
    np.testing.assert_allclose(predicted, h, rtol=0, atol=1e-15)


@pytest.fixture(scope="module")
def trombone():
    return read_regressor(EXAMPLES / "trombone-autoencoder-regressor.json")


def test_trombone_autoencoder_taps(trombone):
    assert layer_sizes(trombone) == [130, 80, 40, 2, 40, 80, 130]
    assert [l.activation for l in trombone] == ["relu"] * 5 + ["identity"]
    X = np.random.default_rng(0).uniform(0, 1, size=(5, 130))
    latent = predict_layers(trombone, X, tap_out=3)
    assert latent.shape == (5, 2)
    decoded = predict_layers(trombone, latent, tap_in=3)
    assert decoded.shape == (5, 130)
    np.testing.assert_allclose(decoded, predict_layers(trombone, X), rtol=1e-12, atol=1e-12)
    # one point in, one point out
    assert predict_layers(trombone, X[0], tap_out=3).shape == (2,)
    assert predict_layers(trombone, latent[0], tap_in=3).shape == (130,)
    np.testing.assert_allclose(predict_layers(trombone, latent[0], tap_in=3), decoded[0])
    # any inner slice composes the same way
    np.testing.assert_allclose(
        predict_layers(trombone, predict_layers(trombone, X, tap_out=1), tap_in=1, tap_out=-1),
        predict_layers(trombone, X),
    )


def test_tap_errors_say_the_valid_range(trombone):
    X = np.zeros((1, 130))
    with pytest.raises(ValueError, match="tap_in must be a layer index 0..5 for this 6-layer model, got 6"):
        predict_layers(trombone, X, tap_in=6)
    with pytest.raises(ValueError, match="tap_in must be .* got -1"):
        predict_layers(trombone, X, tap_in=-1)
    with pytest.raises(ValueError, match="tap_out must be -1 .* or 3..6 .* got 2"):
        predict_layers(trombone, np.zeros((1, 2)), tap_in=2, tap_out=2)
    with pytest.raises(ValueError, match="got 7"):
        predict_layers(trombone, X, tap_out=7)
    with pytest.raises(ValueError, match="X has 130 columns but layer 3 \\(tap_in\\) takes 2 inputs"):
        predict_layers(trombone, X, tap_in=3)
    with pytest.raises(ValueError, match="X has 3 columns but layer 0 \\(tap_in\\) takes 130 inputs"):
        predict_layers(trombone, np.zeros(3))
    with pytest.raises(ValueError, match="one point \\(1-D\\) or a 2-D array"):
        predict_layers(trombone, np.zeros((1, 1, 130)))


# -- tiny models by hand --------------------------------------------------------------------------

# Layer 0: 1 input -> 2 units, W = [[1, -2]], b = [0.5, 0]: pre-activations for x = 1 are 1.5 and -2.
# Layer 1: 2 -> 1, W = [[1], [1]], b = [0.25]: y = f(f(1.5) + f(-2) + 0.25).
BY_HAND = {
    0: lambda z: z,
    1: lambda z: 1.0 / (1.0 + math.exp(-z)),
    2: lambda z: max(z, 0.0),
    3: math.tanh,
}


def tiny_model(code):
    return {
        "layers": [
            {"activation": code, "biases": [0.5, 0.0], "cols": 2, "rows": 1, "weights": [[1.0, -2.0]]},
            {"activation": code, "biases": [0.25], "cols": 1, "rows": 2, "weights": [[1.0], [1.0]]},
        ]
    }


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_tiny_model_by_hand(code):
    f = BY_HAND[code]
    expected = f(f(1.5) + f(-2.0) + 0.25)
    layers = read_regressor(tiny_model(code))
    assert predict_layers(layers, [[1.0]])[0, 0] == pytest.approx(expected, rel=1e-14, abs=1e-15)
    hidden = predict_layers(layers, [1.0], tap_out=1)
    assert hidden.tolist() == pytest.approx([f(1.5), f(-2.0)], rel=1e-14)
    assert predict_layers(layers, hidden, tap_in=1)[0] == pytest.approx(expected, rel=1e-14, abs=1e-15)
    assert regressor_to_dict(layers) == tiny_model(code)


def test_hand_numbers_spelled_out():
    # identity: 1.5 - 2 + 0.25 = -0.25; relu: relu(1.5 + 0 + 0.25) = 1.75
    assert predict_layers(read_regressor(tiny_model(0)), [1.0]).tolist() == [-0.25]
    assert predict_layers(read_regressor(tiny_model(2)), [1.0]).tolist() == [1.75]


def test_layers_from_python_and_sigmoid_alias(tmp_path):
    layers = [
        Layer(np.array([[1.0, -2.0]]), np.array([0.5, 0.0]), "sigmoid"),
        ([[1.0], [1.0]], [0.25], "logistic"),
    ]
    assert regressor_to_dict(layers) == tiny_model(1)
    write_regressor(tmp_path / "m.json", layers)
    assert read_regressor(tmp_path / "m.json")[0].activation == "logistic"
    assert predict_layers(layers, [1.0]) == pytest.approx(
        predict_layers(read_regressor(tiny_model(1)), [1.0])
    )


@pytest.mark.parametrize("name", ["xys-to-chords-regressor.json", "trombone-autoencoder-regressor.json"])
def test_real_model_dicts_round_trip(name):
    d = json.loads((EXAMPLES / name).read_text())
    assert regressor_to_dict(read_regressor(d)) == d


# -- classifier -----------------------------------------------------------------------------------


def tiny_classifier():
    mlp = tiny_model(1)
    mlp["layers"][1] = {
        "activation": 1,
        "biases": [0.0, 0.0, 0.0],
        "cols": 3,
        "rows": 2,
        "weights": [[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]],
    }
    return {"labels": {"labels": ["kick", "snare", "hat"], "rows": 3}, "mlp": mlp}


def test_classifier_round_trip(tmp_path):
    layers, labels = read_classifier(tiny_classifier())
    assert labels == ["kick", "snare", "hat"] and layer_sizes(layers) == [1, 2, 3]
    assert classifier_to_dict(layers, labels) == tiny_classifier()
    write_classifier(tmp_path / "c.json", layers, labels)
    again_layers, again_labels = read_classifier(tmp_path / "c.json")
    assert again_labels == labels
    s = 1.0 / (1.0 + math.exp(-1.5))  # hidden unit 0; unit 1 is sigmoid(-2); outputs sigmoid of sums
    h1 = 1.0 / (1.0 + math.exp(2.0))
    out = predict_layers(again_layers, [1.0])
    assert out.tolist() == pytest.approx(
        [1 / (1 + math.exp(-s)), 1 / (1 + math.exp(-h1)), 1 / (1 + math.exp(-(h1 - s)))]
    )


def test_classifier_errors():
    d = tiny_classifier()
    d["labels"]["rows"] = 2
    with pytest.raises(FluCoMaFormatError, match='labels\\["rows"\\] is 2 but there are 3 labels'):
        read_classifier(d)
    d = tiny_classifier()
    d["labels"] = {"labels": ["a", "b"], "rows": 2}
    with pytest.raises(FluCoMaFormatError, match="the network has 3 outputs but there are 2 labels"):
        read_classifier(d)
    d["labels"] = {"labels": ["a", "a", "b"], "rows": 3}
    with pytest.raises(FluCoMaFormatError, match="the labels repeat"):
        read_classifier(d)
    d["labels"] = {"labels": ["a", 2, "b"], "rows": 3}
    with pytest.raises(FluCoMaFormatError, match='labels\\["labels"\\]\\[1\\] is a number'):
        read_classifier(d)
    with pytest.raises(
        FluCoMaFormatError, match="missing key\\(s\\) 'labels', 'mlp'.*unexpected key\\(s\\) 'layers'"
    ):
        read_classifier(tiny_model(1))
    layers, _ = read_classifier(tiny_classifier())
    with pytest.raises(ValueError, match="3 outputs but 2 labels"):
        classifier_to_dict(layers, ["a", "b"])
    with pytest.raises(TypeError, match="labels must be strings"):
        classifier_to_dict(layers, ["a", "b", 3])
    with pytest.raises(ValueError, match="labels must be distinct"):
        classifier_to_dict(layers, ["a", "b", "a"])


# -- bad model files ------------------------------------------------------------------------------


def broken(change):
    d = copy.deepcopy(tiny_model(2))
    change(d)
    return d


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["layers"][1].update(rows=3),
            'layers\\[1\\]\\["weights"\\] \\(rows=3, cols=1\\) has 2 rows, expected 3',
        ),
        (
            lambda d: d["layers"][0].update(cols=3),
            'layers\\[0\\]\\["weights"\\] \\(rows=1, cols=3\\)\\[0\\] has 2 numbers, expected 3',
        ),
        (
            lambda d: d["layers"][0].update(biases=[0.5]),
            'layers\\[0\\]\\["biases"\\] \\(cols=2\\) has 1 numbers, expected 2',
        ),
        (
            lambda d: d["layers"][0].update(activation=7),
            'layers\\[0\\]\\["activation"\\] is 7, an unknown code',
        ),
        (
            lambda d: d["layers"][0].update(activation="relu"),
            "layers\\[0\\]\\[\"activation\"\\] is 'relu', expected a whole number",
        ),
        (lambda d: d["layers"][1]["weights"][1].__setitem__(0, float("inf")), "non-standard number Infinity"),
        (
            lambda d: d["layers"][1]["weights"][0].__setitem__(0, "1.0"),
            'layers\\[1\\]\\["weights"\\].*\\[0\\]\\[0\\] is a string',
        ),
        (lambda d: d["layers"][1].pop("biases"), "layers\\[1\\] has missing key\\(s\\) 'biases'"),
        (lambda d: d["layers"][1].update(dropout=0.5), "layers\\[1\\] has unexpected key\\(s\\) 'dropout'"),
        (lambda d: d.update(layers=[]), "the model has no layers"),
        (lambda d: d.update(layers={}), 'the top level\\["layers"\\] is a object, expected an array'),
        (
            lambda d: d["layers"].insert(1, d["layers"][1]),
            "layers\\[1\\] has 1 outputs \\(cols\\) but layers\\[2\\] takes 2 inputs",
        ),
    ],
)
def test_bad_models_name_the_layer(change, message, tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(broken(change)))
    with pytest.raises(FluCoMaFormatError, match=message) as err:
        read_regressor(path)
    assert str(err.value).startswith(f"{path}: ")


def test_non_finite_number_in_a_dict():
    d = broken(lambda d: d["layers"][0]["biases"].__setitem__(1, float("nan")))
    with pytest.raises(
        FluCoMaFormatError,
        match='<dict>: layers\\[0\\]\\["biases"\\] \\(cols=2\\)\\[1\\] is nan, expected a finite',
    ):
        read_regressor(d)


def test_truncated_model_file(tmp_path):
    path = tmp_path / "model.json"
    path.write_text((EXAMPLES / "xys-to-chords-regressor.json").read_text()[:1000])
    with pytest.raises(FluCoMaFormatError, match="model.json: not valid JSON"):
        read_regressor(path)


def test_a_dataset_is_not_a_model():
    with pytest.raises(
        FluCoMaFormatError, match="xys-dataset.json: the top level has missing key\\(s\\) 'layers'"
    ):
        read_regressor(EXAMPLES / "xys-dataset.json")
    with pytest.raises(TypeError, match="expected a file path or a dict"):
        read_regressor(42)


def test_bad_python_layers():
    with pytest.raises(ValueError, match="layer 0: biases have shape \\(3,\\), expected \\(2,\\)"):
        regressor_to_dict([(np.zeros((1, 2)), np.zeros(3), "relu")])
    with pytest.raises(ValueError, match="layer 1: FluCoMa has no activation 'gelu'"):
        regressor_to_dict([(np.zeros((1, 2)), np.zeros(2), "relu"), (np.zeros((2, 1)), np.zeros(1), "gelu")])
    with pytest.raises(
        ValueError, match="layers\\[0\\] has 2 outputs \\(cols\\) but layers\\[1\\] takes 3 inputs"
    ):
        predict_layers(
            [(np.zeros((1, 2)), np.zeros(2), "relu"), (np.zeros((3, 1)), np.zeros(1), "relu")], [1.0]
        )
    with pytest.raises(ValueError, match="layer 0: weights and biases must be finite"):
        regressor_to_dict([(np.full((1, 1), np.nan), np.zeros(1), "relu")])
    with pytest.raises(TypeError, match="layer 0: expected \\(weights, biases, activation\\)"):
        regressor_to_dict([np.zeros((1, 1))])
    with pytest.raises(ValueError, match="no layers"):
        predict_layers([], [1.0])
