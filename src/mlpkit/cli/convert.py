"""``mlpkit convert MODEL --to flucoma|onnx|native --out FILE``: write a saved model in another format.

- ``native``: mlpkit's own ``.npz`` (``mlpkit.save``): reads FluCoMa MLP files into it;
- ``flucoma``: FluCoMa's MLP JSON (``mlpkit.save(..., format="flucoma")``), for
  networks FluCoMa can express (identity, sigmoid, relu, tanh); a model's input scaler
  (what ``mlpkit fit`` adds) goes beside it as FluCoMa scaler JSON, ``<stem>.scaler.json``, and a
  target scaler is folded into the output layer;
- ``onnx``: ONNX (``mlpkit.export_onnx``; needs ``pip install onnx``); a model's data preparation goes into the
  graph, one input per column (dates are refused, naming the column).

Without ``--to`` the format follows the suffix of ``--out`` (``SUFFIXES``).
"""

from __future__ import annotations

from pathlib import Path

from . import options, report
from .errors import CLIError

HELP = "write a saved model as FluCoMa JSON, ONNX or mlpkit's native format"


def _native(model, path):
    from ..io import save

    save(model, path)


def _flucoma(model, path):
    """FluCoMa's MLP JSON at ``path``; a pipeline's scaler beside it as FluCoMa scaler JSON
    (``<stem>.scaler.json``), since FluCoMa's MLP file holds the network only. A target scaler is folded
    into the output layer (``_with_targets_unscaled``), so the file predicts in the targets' units."""
    from .. import _wrappers

    scalers = _wrappers.scalers_of(model)
    if len(scalers) > 1:
        raise ValueError(f"the model has {len(scalers)} scalers before its network; FluCoMa's files hold one")
    scaler = None
    if scalers:
        from ..experiments.export import flucoma_scaler

        if type(scalers[0]).__name__ == "RobustScaler":  # (FluCoMa's keeps the percentiles, scikit-learn's not)
            raise ValueError(
                "FluCoMa's RobustScale stores the training data's percentiles, which a RobustScaler does not keep;"
                " train with --scale standard or --scale minmax to convert the model with its scaler"
            )
        scaler = flucoma_scaler(scalers[0], None)
    from ..flucoma import regressor_to_dict, to_flucoma_dict, write_json

    network = _wrappers.network_of(model)
    target = _wrappers.target_scaler_of(model)
    document = to_flucoma_dict(network) if target is None else regressor_to_dict(_with_targets_unscaled(network, target))
    write_json(path, document)
    if scaler is not None:
        scaler_path = Path(path).with_suffix(".scaler.json")
        scaler.write(scaler_path)
        report.note(f"the inputs' scaler is in {scaler_path} (FluCoMa's {type(scaler).__name__}): apply it before the network")


def _with_targets_unscaled(network, target):
    """The network's FluCoMa layers with the target scaler's inverse, y = (y' - b) / a, in its last layer
    (exact for a linear output: the regressor's identity)."""
    from .. import _wrappers
    from ..flucoma.mlp import core_layers

    layers = core_layers(network)
    last = layers[-1]
    if last.activation != "identity":
        raise ValueError(
            f"the model scales its targets and its output activation is {last.activation}, so the scaling cannot go"
            " into FluCoMa's output layer; train it with --scale-target none to convert it"
        )
    a, b = _wrappers.affine(target)
    return [*layers[:-1], last._replace(weights=last.weights / a, biases=(last.biases - b) / a)]


#: ONNX element type (TensorProto.FLOAT, DOUBLE, STRING; numbers, as onnx is imported only to export) -> what a
#: user gives for an input of it.
ONNX_INPUT_KINDS = {1: "float32", 11: "float64, NaN for gaps", 8: "text, '' for gaps"}


def _onnx(model, path):
    """The ONNX file; for a prepared model, a note naming its inputs (one per column), which are not the usual X."""
    from ..onnx_export import export_onnx

    proto = export_onnx(model, path)
    inputs = [(i.name, i.type.tensor_type.elem_type) for i in proto.graph.input]
    if [name for name, _ in inputs] != ["X"]:
        described = ", ".join(f"{name} ({ONNX_INPUT_KINDS.get(kind, kind)})" for name, kind in inputs)
        report.note(f"the ONNX graph takes the table's columns, one input each (N,): {described}")


#: Format name -> writer(model, path).
CONVERTERS = {"native": _native, "flucoma": _flucoma, "onnx": _onnx}

def _softmax_classifier(model) -> bool:
    return options.is_classifier(model) and getattr(options.network(model), "out_activation_", None) == "softmax"



#: Format -> (test of the model, what to do) for models a converter refuses: the next step, in the CLI's words.
HINTS = {
    "flucoma": [(_softmax_classifier,
                 "; FluCoMa's MLPClassifier has sigmoid outputs: train the classifier with --set loss=squared_error"
                 " (mlpkit fit DATA --target COL --set loss=squared_error --out MODEL), then convert that model")],
}

#: Format -> why it cannot hold an mlpkit.Preparation (the native format holds it; ONNX holds all but dates,
#: and export_onnx says which column it cannot hold and why).
CANNOT_PREPARE = {
    "flucoma": "FluCoMa's MLP and scaler files take numbers only, so they cannot hold it",
}


def _refuse_preparation(model, target: str, path: str) -> None:
    """A clear error for a model whose first step is a Preparation, where the format cannot hold it."""
    from .. import _wrappers
    from .preparing import has_preparation, what_it_does

    if target not in CANNOT_PREPARE or not has_preparation(model):
        return
    preparation = _wrappers.scalers_of(model)[0]
    raise CLIError(
        f"cannot convert {path} to {target}: its first step, the data preparation (mlpkit.Preparation),"
        f" {'; '.join(what_it_does(preparation)) or 'prepares the columns'}, and {CANNOT_PREPARE[target]}."
        " Train on a table of numbers without gaps for a model of scaler and network only, or keep the native file"
    )


#: --out suffix -> format, when --to is not given.
SUFFIXES = {".npz": "native", ".json": "flucoma", ".onnx": "onnx"}


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file (mlpkit fit --out, or a FluCoMa MLP JSON)")
    parser.add_argument("--to", choices=list(CONVERTERS), help="the format (default: from the suffix of --out)")
    parser.add_argument("--out", metavar="FILE", required=True, help="where to write the converted model")


def run(args) -> int:
    target = args.to or SUFFIXES.get(Path(args.out).suffix.lower())
    if target is None:
        raise CLIError(f"--out {args.out}: cannot tell the format from the suffix; add --to {'|'.join(CONVERTERS)}")
    model = options.load_model(args.model)
    _refuse_preparation(model, target, args.model)
    try:
        CONVERTERS[target](model, args.out)
    except ImportError as error:
        raise CLIError(f"--to {target}: {error}") from None
    except ValueError as error:
        hint = next((advice for applies, advice in HINTS.get(target, ()) if applies(model)), "")
        raise CLIError(f"cannot convert {args.model} to {target}: {error}{hint}") from None
    except OSError as error:
        raise CLIError(f"--out {args.out}: cannot write: {error.strerror or error}") from None
    report.note(f"{args.model} written as {target} to {args.out}")
    return 0
