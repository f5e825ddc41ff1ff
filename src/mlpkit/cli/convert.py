"""``mlpkit convert MODEL --to flucoma|onnx|native --out FILE``: write a saved model in another format.

- ``native``: mlpkit's own ``.npz`` (``mlpkit.save``): reads FluCoMa MLP files into it;
- ``flucoma``: FluCoMa's MLP JSON (``mlpkit.save(..., format="flucoma")``), for
  networks FluCoMa can express (identity, sigmoid, relu, tanh);
- ``onnx``: ONNX (``mlpkit.export_onnx``; needs ``pip install onnx``).

Without ``--to`` the format follows the suffix of ``--out`` (``SUFFIXES``).
"""

from __future__ import annotations

from pathlib import Path

from ..io import save
from ..onnx_export import export_onnx
from . import options, report
from .errors import CLIError

HELP = "write a saved model as FluCoMa JSON, ONNX or mlpkit's native format"


def _native(model, path):
    save(model, path)


def _flucoma(model, path):
    save(model, path, format="flucoma")


def _onnx(model, path):
    export_onnx(model, path)


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
