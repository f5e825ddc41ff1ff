"""FluCoMa MLP model files <-> a plain list of layers, and the forward pass between two taps.

A FluCoMa MLPRegressor writes (flucoma-core ``FluidJSON.hpp``, ``to_json(MLP)``)::

    {"layers": [{"activation": 2, "biases": [b_0 .. b_cols-1], "cols": 8, "rows": 13,
                 "weights": [[w_00 .. w_0,cols-1], ... rows rows]}, ...]}

input side first, ``rows`` = fan-in and ``cols`` = fan-out. An MLPClassifier writes the same
network under ``"mlp"`` beside its labels (one output unit per label, in this order)::

    {"labels": {"labels": ["kick", "snare"], "rows": 2}, "mlp": {"layers": [...]}}

Each layer computes ``y = act(x @ W + b)`` with ``W`` of shape (rows, cols). The activation is a
code in FluCoMa's enum order (``NNFuncs.hpp``: kLinear, kSigmoid, kReLU, kTanh); here it is the
name of the same function in :data:`mlpkit.activations.ACTIVATIONS` (FluCoMa's sigmoid is
mlpkit's ``logistic``).
"""

from __future__ import annotations

from itertools import pairwise
from numbers import Integral
from typing import NamedTuple

import numpy as np

from ..activations import ACTIVATIONS
from . import jsonio
from .jsonio import FluCoMaFormatError

#: FluCoMa activation code -> mlpkit activation name, in FluCoMa's enum order.
FLUCOMA_ACTIVATIONS = {0: "identity", 1: "logistic", 2: "relu", 3: "tanh"}

#: Activation name -> FluCoMa code; "sigmoid" is FluCoMa's name for logistic.
ACTIVATION_CODES = {name: code for code, name in FLUCOMA_ACTIVATIONS.items()} | {"sigmoid": 1}

_LAYER_KEYS = {"activation", "biases", "cols", "rows", "weights"}
_CODES_TEXT = ", ".join(f"{code} {name}" for code, name in FLUCOMA_ACTIVATIONS.items())


class Layer(NamedTuple):
    """One dense layer: ``y = activation(x @ weights + biases)``.

    weights: (rows, cols) float64 array, rows = inputs (fan-in), cols = outputs (fan-out).
    biases: (cols,) float64 array.
    activation: "identity", "logistic" (FluCoMa's sigmoid), "relu" or "tanh".
    """

    weights: np.ndarray
    biases: np.ndarray
    activation: str


def activation_name(code) -> str:
    """mlpkit's name for a FluCoMa activation code: ``activation_name(1) == "logistic"``."""
    if isinstance(code, bool) or not isinstance(code, Integral) or int(code) not in FLUCOMA_ACTIVATIONS:
        raise ValueError(f"unknown FluCoMa activation code {code!r}; the codes are {_CODES_TEXT}")
    return FLUCOMA_ACTIVATIONS[int(code)]


def activation_code(name: str) -> int:
    """FluCoMa's code for an activation name: ``activation_code("sigmoid") == 1``."""
    if name not in ACTIVATION_CODES:
        raise ValueError(f"FluCoMa has no activation {name!r}; choose one of {sorted(ACTIVATION_CODES)}")
    return ACTIVATION_CODES[name]


def layer_sizes(layers) -> list[int]:
    """Units per layer, input first: ``[rows of layer 0, cols of layer 0, cols of layer 1, ...]``."""
    return [layers[0].weights.shape[0]] + [layer.weights.shape[1] for layer in layers]


# --------------------------------------------------------------------------- checks


def _check_layer(layer, index: int) -> Layer:
    """A user's layer as a :class:`Layer` of float64 arrays with a canonical activation name."""
    try:
        weights, biases, activation = layer
    except (TypeError, ValueError):
        raise TypeError(
            f"layer {index}: expected (weights, biases, activation), got {type(layer).__name__}"
        ) from None
    W = np.asarray(weights, dtype=np.float64)
    b = np.asarray(biases, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 1 or W.shape[1] < 1:
        raise ValueError(
            f"layer {index}: weights must be a 2-D (inputs x outputs) array, got shape {W.shape}"
        )
    if b.shape != (W.shape[1],):
        raise ValueError(
            f"layer {index}: biases have shape {b.shape}, expected ({W.shape[1]},) to match the weights"
        )
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        raise ValueError(f"layer {index}: weights and biases must be finite (found NaN or infinity)")
    try:
        name = FLUCOMA_ACTIVATIONS[activation_code(activation)]
    except ValueError as err:
        raise ValueError(f"layer {index}: {err}") from None
    return Layer(W, b, name)


def _chain_problem(layers) -> str | None:
    """What is wrong with how the layers connect (each one's outputs = the next one's inputs), or None."""
    if not layers:
        return "the model has no layers"
    for i, (a, b) in enumerate(pairwise(layers)):
        if a.weights.shape[1] != b.weights.shape[0]:
            return (
                f"layers[{i}] has {a.weights.shape[1]} outputs (cols) but layers[{i + 1}] takes "
                f"{b.weights.shape[0]} inputs (rows); consecutive layers must chain"
            )
    return None


def check_layers(layers) -> list[Layer]:
    """Layers given as ``(weights, biases, activation)`` triples, checked and as :class:`Layer`."""
    checked = [_check_layer(layer, i) for i, layer in enumerate(layers)]
    problem = _chain_problem(checked)
    if problem:
        raise ValueError(problem)
    return checked


# --------------------------------------------------------------------------- reading


def _parse_layers(mlp, source: str, where: str) -> list[Layer]:
    """Layers from ``{"layers": [...]}``, every key, shape and number checked."""
    jsonio.require_object(mlp, source, where)
    jsonio.require_keys(mlp, {"layers"}, source, where)
    entries = jsonio.require_array(mlp["layers"], source, f'{where}["layers"]')
    layers = []
    for i, entry in enumerate(entries):
        at = f"layers[{i}]"
        jsonio.require_object(entry, source, at)
        jsonio.require_keys(entry, _LAYER_KEYS, source, at)
        rows = jsonio.require_count(entry["rows"], source, f'{at}["rows"]', minimum=1)
        cols = jsonio.require_count(entry["cols"], source, f'{at}["cols"]', minimum=1)
        code = jsonio.require_count(entry["activation"], source, f'{at}["activation"]')
        if code not in FLUCOMA_ACTIVATIONS:
            raise FluCoMaFormatError(
                f'{source}: {at}["activation"] is {code}, an unknown code; FluCoMa\'s codes are {_CODES_TEXT}'
            )
        W = jsonio.require_matrix(
            entry["weights"], source, f'{at}["weights"] (rows={rows}, cols={cols})', rows, cols
        )
        b = jsonio.require_numbers(entry["biases"], source, f'{at}["biases"] (cols={cols})', length=cols)
        layers.append(Layer(W, b, FLUCOMA_ACTIVATIONS[code]))
    problem = _chain_problem(layers)
    if problem:
        raise FluCoMaFormatError(f"{source}: {problem}")
    return layers


def read_regressor(path_or_dict) -> list[Layer]:
    """The layers of a FluCoMa MLPRegressor model (a JSON file path or its parsed dict)."""
    d, source = jsonio.source_of(path_or_dict)
    return _parse_layers(d, source, "the top level")


def read_classifier(path_or_dict) -> tuple[list[Layer], list[str]]:
    """``(layers, labels)`` of a FluCoMa MLPClassifier model; output unit k is ``labels[k]``."""
    d, source = jsonio.source_of(path_or_dict)
    jsonio.require_keys(d, {"labels", "mlp"}, source)
    layers = _parse_layers(d["mlp"], source, 'key "mlp"')
    encoder = jsonio.require_object(d["labels"], source, 'key "labels"')
    jsonio.require_keys(encoder, {"labels", "rows"}, source, 'key "labels"')
    rows = jsonio.require_count(encoder["rows"], source, 'labels["rows"]')
    names = jsonio.require_array(encoder["labels"], source, 'labels["labels"]')
    labels = [jsonio.require_string(x, source, f'labels["labels"][{i}]') for i, x in enumerate(names)]
    if rows != len(labels):
        raise FluCoMaFormatError(f'{source}: labels["rows"] is {rows} but there are {len(labels)} labels')
    if len(set(labels)) != len(labels):
        raise FluCoMaFormatError(f"{source}: the labels repeat: {labels}; each label names one output")
    outputs = layers[-1].weights.shape[1]
    if outputs != len(labels):
        raise FluCoMaFormatError(
            f"{source}: the network has {outputs} outputs but there are {len(labels)} labels; "
            "a classifier has one output per label"
        )
    return layers, labels


# --------------------------------------------------------------------------- writing


def _layers_to_json(layers) -> dict:
    return {
        "layers": [
            {
                "activation": activation_code(layer.activation),
                "biases": layer.biases.tolist(),
                "cols": int(layer.weights.shape[1]),
                "rows": int(layer.weights.shape[0]),
                "weights": layer.weights.tolist(),
            }
            for layer in check_layers(layers)
        ]
    }


def regressor_to_dict(layers) -> dict:
    """FluCoMa's MLPRegressor JSON object for ``layers`` (each ``(weights, biases, activation)``)."""
    return _layers_to_json(layers)


def classifier_to_dict(layers, labels) -> dict:
    """FluCoMa's MLPClassifier JSON object: the network plus one label per output unit."""
    mlp = _layers_to_json(layers)
    labels = list(labels)
    if not all(isinstance(x, str) for x in labels):
        raise TypeError(f"labels must be strings, got {labels!r}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels!r}")
    outputs = len(mlp["layers"][-1]["biases"])
    if outputs != len(labels):
        raise ValueError(
            f"the network has {outputs} outputs but {len(labels)} labels were given; give one per output"
        )
    return {"labels": {"labels": labels, "rows": len(labels)}, "mlp": mlp}


def write_regressor(path, layers) -> None:
    """Write an MLPRegressor model file that FluCoMa's ``read`` loads (atomically)."""
    jsonio.write_json(path, regressor_to_dict(layers))


def write_classifier(path, layers, labels) -> None:
    """Write an MLPClassifier model file that FluCoMa's ``read`` loads (atomically)."""
    jsonio.write_json(path, classifier_to_dict(layers, labels))


# --------------------------------------------------------------------------- predicting


def predict_layers(layers, X, tap_in: int = 0, tap_out: int = -1) -> np.ndarray:
    """Run ``X`` through ``layers[tap_in:tap_out]``: ``h <- act(h @ W + b)`` for each layer.

    As FluCoMa's ``tapIn`` / ``tapOut``: ``tap_out=-1`` runs through the last layer, a
    ``tap_out`` inside the network reads a hidden layer (an embedding) and a ``tap_in`` > 0
    feeds a hidden layer (a decoder). ``X`` is (n, inputs of layers[tap_in]) or one point
    (1-D, gives a 1-D result). Computed in float64 numpy.
    """
    layers = check_layers(layers)
    n = len(layers)
    if isinstance(tap_in, bool) or not isinstance(tap_in, Integral) or not 0 <= tap_in < n:
        raise ValueError(f"tap_in must be a layer index 0..{n - 1} for this {n}-layer model, got {tap_in!r}")
    if tap_out == -1:
        tap_out = n
    if isinstance(tap_out, bool) or not isinstance(tap_out, Integral) or not tap_in < tap_out <= n:
        raise ValueError(
            f"tap_out must be -1 (after the last layer) or {tap_in + 1}..{n} (after that many layers; "
            f"more than tap_in={tap_in}) for this {n}-layer model, got {tap_out!r}"
        )
    h = np.asarray(X, dtype=np.float64)
    one_point = h.ndim == 1
    if one_point:
        h = h[None, :]
    if h.ndim != 2:
        raise ValueError(f"X must be one point (1-D) or a 2-D array (points x inputs), got shape {h.shape}")
    inputs = layers[tap_in].weights.shape[0]
    if h.shape[1] != inputs:
        raise ValueError(f"X has {h.shape[1]} columns but layer {tap_in} (tap_in) takes {inputs} inputs")
    for W, b, activation in layers[tap_in:tap_out]:
        h = ACTIVATIONS[activation](h @ W + b, np)
    return h[0] if one_point else h
