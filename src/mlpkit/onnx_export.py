"""Export a fitted mlpkit model to ONNX, built with the ``onnx`` package's helpers.

>>> mlpkit.export_onnx(model, "model.onnx")
>>> session = onnxruntime.InferenceSession("model.onnx")
>>> label, probabilities = session.run(None, {"X": X.astype(np.float32)})

The graph (opset :data:`OPSET`, the lowest IR version that carries it):

- input ``X``: (N, n_features) in the model's dtype (float32, or float64 with
  ``dtype="float64"``); N is dynamic.
- a regressor's output ``variable``: what ``predict`` returns, (N, n_outputs), or (N,)
  for a single output.
- a classifier's outputs ``label``, what ``predict`` returns: the class labels
  themselves (int64 for integer classes, bool, float or string as ``classes_``), or for
  multi-label targets the (N, n_labels) int64 indicator matrix; and ``probabilities``,
  what ``predict_proba`` returns: (N, n_classes), columns in the order of ``classes_``
  (also stored as JSON in the model's metadata ``classes``).

Each hidden layer is ``MatMul`` and ``Add``, then with ``batch_norm`` an inference-mode
``BatchNormalization`` (the running statistics; not folded into the weights, so the
numbers stay those of mlpkit's forward pass), then the activation: ``Sigmoid``,
``Tanh``, ``Relu``, ``LeakyRelu`` (``negative_slope``; rrelu with its mean slope
(1/8 + 1/3) / 2, as mlpkit predicts; in float64 models ``PRelu`` with that slope as a
float64 constant), ``PRelu`` (the learned slopes), ``Softmax``,
``Exp``; elu, selu, softplus, gelu (tanh form) and silu are written with elementary
operators (``Where``, ``Exp``, ``Log``, ``Tanh``, ``Mul``...), as mlpkit computes them,
because onnxruntime has no float64 kernels for ``Elu``, ``Selu`` and ``Softplus``.
ONNX stores float attributes in float32; the only one left in a float64 graph is the
batch-norm epsilon (1e-5), whose rounding changes results by about 1e-9 relative.

A model whose Pipeline starts with a data preparation (``mlpkit.Preparation``, what ``mlpkit fit`` adds
for a table of text, gaps or identifiers) takes the raw table instead of ``X``: one input per column the
preparation uses, named as the column and 1-D (N,), since a mixed table cannot be one tensor. Numeric
columns and category columns of numbers (codes) are float64 with NaN for a gap; text categories
(also yes/no and booleans, as ``str`` writes them) are strings, where '', 'NA', 'nan', 'None', 'n/a',
... are gaps, as in ``transform``. Columns the preparation leaves out (identifiers) have no input, and
onnxruntime refuses names it does not know, so feed the inputs the session lists:

>>> def column(values, text):  # text: gaps (None, NaN, pd.NA) as '', the rest as str writes it
...     return values.astype(object).fillna("").astype(str).to_numpy(object) if text else \
...         values.to_numpy("float64", na_value=np.nan)
>>> feed = {i.name: column(frame[i.name], i.type == "tensor(string)") for i in session.get_inputs()}
>>> label, probabilities = session.run(None, feed)

The graph fills gaps, adds the missing-value indicators, one-hot encodes categories (rare and unseen
levels in ``other``) and scales as ``transform`` does (``onnx_preparation``; text categories use
``RegexFullMatch``, so such graphs are opset 20, onnxruntime >= 1.17); unlike ``transform``, it cannot
warn about a level unseen in training. Date columns are refused: ONNX cannot read dates.

``onnx`` is needed only here: ``pip install onnx`` (``onnxruntime`` to run the file).
"""

from __future__ import annotations

import json
import math

import numpy as np

from . import _wrappers
from .activations import SELU_ALPHA, SELU_SCALE
from .network import BN_EPSILON, RRELU_LOWER, RRELU_UPPER

__all__ = ["OPSET", "export_onnx"]

#: The ONNX operator set the graph uses (opset 17: onnx >= 1.12, onnxruntime >= 1.12).
OPSET = 17


def export_onnx(model, path=None):
    """Write ``model`` as an ONNX file at ``path`` (atomically), and return the ``onnx.ModelProto``.

    Parameters
    ----------
    model : fitted mlpkit.MLPClassifier or MLPRegressor, a fitted mlpkit.EnsembleClassifier or
        EnsembleRegressor (every member's forward pass in the graph, their outputs averaged), or a
        fitted mlpkit.flucoma.MLPRegressor predicting through all its layers (tap_in=0, tap_out=-1);
        or a fitted Pipeline of StandardScaler / MinMaxScaler / RobustScaler steps before a core
        network, in a TransformedTargetRegressor with such a scaler or not: each scaler is one
        ``Mul`` and ``Add`` per column (``_wrappers.affine``) before the network, the target's
        inverted after it, so the graph takes the raw columns and gives the raw targets. Such a Pipeline
        may start with an mlpkit.Preparation instead: the graph then takes one input per column (see the
        module's docstring), float64 for numbers and strings for text categories.
    path : str, os.PathLike or None
        Where to write the file; None only returns the model.

    Raises
    ------
    ValueError
        The model is not fitted, or has something ONNX cannot express here (the
        message says what: a date column of a Preparation, for one).
    ImportError
        The ``onnx`` package is not installed.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("export_onnx needs the onnx package: pip install onnx") from None
    members = _members(model)
    inputs, opset = None, OPSET  # None: the one input X
    if members is None:
        preparation, steps, target = _preparation_of(model), *_scalings(model)
        if preparation is not None:
            from . import onnx_preparation

            onnx_preparation.check_exportable(preparation)  # (before anything else is looked at)
        model = _core_model(_wrappers.network_of(model))
        graph = _Graph(model.coefs_[0].dtype)
        h = "X"
        if preparation is not None:
            inputs, h = onnx_preparation.prepared_inputs(graph, preparation)
            opset = max(opset, onnx_preparation.min_opset(preparation))
        h = _scaled_inputs(graph, steps, h)
        outputs = _outputs(graph, model, _forward(graph, model, h), target)
    else:
        graph = _Graph(members[0].coefs_[0].dtype)
        outputs = _ensemble_outputs(graph, model, members)
    proto = _make_model(onnx, graph, model, outputs, inputs, opset)
    if path is not None:
        from .io import write_atomically

        write_atomically(path, proto.SerializeToString())
    return proto


def _preparation_of(model):
    """The pipeline's first step if it is an mlpkit.Preparation (exported by ``onnx_preparation``), else None."""
    steps = _wrappers.scalers_of(model)
    return steps[0] if steps and type(steps[0]).__name__ == "Preparation" else None


def _scalings(model):
    """The affine maps of the scalers before the network (after a first-step Preparation), and the inverse of
    the target's (or None)."""
    try:
        steps = _wrappers.scalers_of(model)[1 if _preparation_of(model) is not None else 0:]
        steps = [_wrappers.affine(step) for step in steps]
        target = _wrappers.target_scaler_of(model)
        if _wrappers.is_target_regressor(model) and target is None:
            raise ValueError("This TransformedTargetRegressor is not fitted: fit it before exporting it to ONNX.")
        target = None if target is None else _wrappers.affine(target)
    except AttributeError:
        raise ValueError("This pipeline is not fitted: fit it before exporting it to ONNX.") from None
    return steps, target


def _scaled_inputs(g, steps, h="X") -> str:
    for i, (a, b) in enumerate(steps):
        h = g.op("Add", [g.op("Mul", [h, g.const(a, f"scale_{i}")], f"scaled_{i}"), g.const(b, f"shift_{i}")], f"input_{i}")
    return h


def _core_model(model):
    """The fitted core estimator whose forward pass is exported; a clear error for anything else."""
    from . import flucoma
    from .estimators import MLPClassifier, MLPRegressor

    if isinstance(model, flucoma.MLPRegressor):
        if (model.tap_in, model.tap_out) != (0, -1):
            raise ValueError(
                f"export_onnx exports the whole network; this FluCoMa MLPRegressor predicts through layers"
                f" tap_in={model.tap_in} to tap_out={model.tap_out}. Set tap_in=0, tap_out=-1 first."
            )
        model._check_trained()
        return model.network_
    if isinstance(model, flucoma.MLPClassifier):
        raise ValueError(
            "export_onnx does not export FluCoMa-style classifiers (their probabilities are normalised sigmoid"
            " outputs); export model.network_, an mlpkit.MLPRegressor giving those outputs, instead."
        )
    if not isinstance(model, (MLPClassifier, MLPRegressor)):
        raise ValueError(
            f"export_onnx exports mlpkit's MLPClassifier and MLPRegressor; got {type(model).__name__}"
        )
    if "_state" not in vars(model):
        raise ValueError(f"This {type(model).__name__} is not fitted: fit it before exporting it to ONNX.")
    if isinstance(model, MLPClassifier) and len(model.classes_) < 2:
        raise ValueError("This classifier was trained on a single class; there is nothing to export.")
    return model


class _Graph:
    """Nodes and constant tensors of a graph under construction, each given a fresh name."""

    def __init__(self, dtype):
        from onnx import helper

        self.helper = helper
        self.dtype = np.dtype(dtype)
        self.nodes = []
        self.initializers = []
        self._used = {"X", "variable", "label", "probabilities"}  # the graph's inputs and outputs
        self._small_constants = {}  # (dtype, shape, bytes) -> name: one tensor per repeated scalar

    def name(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._used:
            i += 1
            name = f"{hint}_{i}"
        self._used.add(name)
        return name

    def const(self, value, hint: str, dtype=None) -> str:
        """A constant tensor (in the model's dtype unless ``dtype`` is given); returns its name."""
        from onnx import numpy_helper

        value = np.asarray(value, dtype=dtype or self.dtype)
        key = (
            (value.dtype.str, value.shape, value.tobytes())
            if value.size <= 1 and value.dtype != object
            else None
        )
        if key in self._small_constants:
            return self._small_constants[key]
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        if key is not None:
            self._small_constants[key] = name
        return name

    def op(self, op_type: str, inputs, hint: str, output: str | None = None, **attributes) -> str:
        """Add one node; returns the name of its output."""
        output = output or self.name(hint)
        self.nodes.append(
            self.helper.make_node(
                op_type, list(inputs), [output], name=self.name(f"{hint}_node"), **attributes
            )
        )
        return output


# ------------------------------------------------------------------------- activations
# Each takes the graph, the input name and what the layer needs; returns the output name.


def _where_positive(g, x, negative, hint):
    """x where x > 0, else ``negative`` (a tensor name)."""
    return g.op("Where", [g.op("Greater", [x, g.const(0, "zero")], f"{hint}_positive"), x, negative], hint)


def _expm1_of_negative_part(g, x, hint):
    """exp(min(x, 0)) - 1: elu's negative branch, never overflowing."""
    e = g.op("Exp", [g.op("Min", [x, g.const(0, "zero")], f"{hint}_min")], f"{hint}_exp")
    return g.op("Sub", [e, g.const(1, "one")], f"{hint}_expm1")


def _elu(g, x, hint):
    return _where_positive(g, x, _expm1_of_negative_part(g, x, hint), hint)


def _selu(g, x, hint):
    negative = g.op(
        "Mul", [g.const(SELU_ALPHA, "selu_alpha"), _expm1_of_negative_part(g, x, hint)], f"{hint}_neg"
    )
    return g.op(
        "Mul", [g.const(SELU_SCALE, "selu_scale"), _where_positive(g, x, negative, f"{hint}_elu")], hint
    )


def _softplus(g, x, hint):
    """log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), as numpy's logaddexp(x, 0)."""
    tail = g.op("Exp", [g.op("Neg", [g.op("Abs", [x], f"{hint}_abs")], f"{hint}_neg")], f"{hint}_exp")
    log = g.op("Log", [g.op("Add", [g.const(1, "one"), tail], f"{hint}_1p")], f"{hint}_log")
    return g.op("Add", [g.op("Relu", [x], f"{hint}_relu"), log], hint)


def _gelu(g, x, hint):
    """x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh form mlpkit uses."""
    cube = g.op("Mul", [g.op("Mul", [x, x], f"{hint}_sq"), x], f"{hint}_cube")
    inner = g.op("Add", [x, g.op("Mul", [g.const(0.044715, "gelu_c"), cube], f"{hint}_c3")], f"{hint}_inner")
    t = g.op(
        "Tanh", [g.op("Mul", [g.const(math.sqrt(2 / math.pi), "gelu_k"), inner], f"{hint}_k")], f"{hint}_tanh"
    )
    half_x = g.op("Mul", [g.const(0.5, "half"), x], f"{hint}_half")
    return g.op("Mul", [half_x, g.op("Add", [g.const(1, "one"), t], f"{hint}_1t")], hint)


def _leaky(g, x, hint, slope):
    """x for x >= 0, slope * x below: LeakyRelu, or in float64 PRelu with a float64 slope
    (LeakyRelu's slope is a float32 attribute, which would round it)."""
    if g.dtype == np.float32:
        return g.op("LeakyRelu", [x], hint, alpha=float(slope))
    return g.op("PRelu", [x, g.const(slope, "negative_slope")], hint)


def _silu(g, x, hint):
    return g.op("Mul", [x, g.op("Sigmoid", [x], f"{hint}_sigmoid")], hint)


#: activation name -> builder(graph, x, hint, model, layer index)
_ACTIVATIONS = {
    "identity": lambda g, x, hint, m, i: x,
    "logistic": lambda g, x, hint, m, i: g.op("Sigmoid", [x], hint),
    "tanh": lambda g, x, hint, m, i: g.op("Tanh", [x], hint),
    "relu": lambda g, x, hint, m, i: g.op("Relu", [x], hint),
    "leaky_relu": lambda g, x, hint, m, i: _leaky(g, x, hint, m._structure[1].negative_slope),
    "rrelu": lambda g, x, hint, m, i: _leaky(g, x, hint, (RRELU_LOWER + RRELU_UPPER) / 2),
    "prelu": lambda g, x, hint, m, i: g.op(
        "PRelu", [x, g.const(m.prelu_slopes_[i], f"prelu_slopes_{i}")], hint
    ),
    "elu": lambda g, x, hint, m, i: _elu(g, x, hint),
    "selu": lambda g, x, hint, m, i: _selu(g, x, hint),
    "softplus": lambda g, x, hint, m, i: _softplus(g, x, hint),
    "gelu": lambda g, x, hint, m, i: _gelu(g, x, hint),
    "silu": lambda g, x, hint, m, i: _silu(g, x, hint),
    "softmax": lambda g, x, hint, m, i: g.op("Softmax", [x], hint, axis=-1),
    "exp": lambda g, x, hint, m, i: g.op("Exp", [x], hint),
}


def _activate(g, name, x, hint, model, layer):
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"export_onnx cannot express the activation {name!r}; it exports {sorted(_ACTIVATIONS)}"
        )
    return _ACTIVATIONS[name](g, x, hint, model, layer)


# ------------------------------------------------------------------------- the network


def _forward(g, model, h="X") -> tuple[str, str]:
    """The hidden layers and the output layer from input ``h``: names of the output logits and the activated outputs."""
    architecture = model._structure[1]
    n_hidden = len(model.coefs_) - 1
    for i in range(n_hidden):
        z = _affine(g, h, model, i)
        if architecture.batch_norm:
            bn = model.batch_norm_
            inputs = [z] + [g.const(bn[key][i], f"bn_{key}_{i}") for key in ("scale", "shift", "mean", "var")]
            z = g.op("BatchNormalization", inputs, f"batch_norm_{i}", epsilon=BN_EPSILON)
        h = _activate(g, architecture.activation, z, f"hidden_{i}", model, i)
    logits = _affine(g, h, model, n_hidden)
    return logits, _activate(g, model.out_activation_, logits, "output", model, n_hidden)


def _affine(g, h, model, i):
    product = g.op("MatMul", [h, g.const(model.coefs_[i], f"coefs_{i}")], f"matmul_{i}")
    return g.op("Add", [product, g.const(model.intercepts_[i], f"intercepts_{i}")], f"affine_{i}")


def _outputs(g, model, forward, target=None) -> list:
    """Output nodes and their value infos: (name, element type, shape); a regressor's outputs mapped back
    through the inverse of the target scaler's ``target`` = (a, b): y = (y' - b) / a."""
    from onnx import TensorProto, helper

    from .estimators import MLPClassifier

    logits, out = forward
    if target is not None:
        a, b = target
        out = g.op("Div", [g.op("Sub", [out, g.const(b, "target_shift")], "unshifted"), g.const(a, "target_scale")], "target")
    n_outputs = model.n_outputs_
    float_type = helper.np_dtype_to_tensor_dtype(g.dtype)
    if not isinstance(model, MLPClassifier):
        return _regressor_outputs(g, out, n_outputs, float_type)
    probabilities = _probabilities(g, model, out, output="probabilities")
    if n_outputs == 1:  # binary: the positive class when its probability is above 0.5
        positive = g.op(
            "Cast",
            [g.op("Greater", [out, g.const(0.5, "threshold")], "positive")],  # (clipping changes no answer)
            "positive_int",
            to=TensorProto.INT64,
        )
        index = g.op("Reshape", [positive, g.const([-1], "flat", np.int64)], "class_index")
    elif _is_multilabel(model):
        return _multilabel_outputs(g, out, model, float_type)
    elif model.out_activation_ == "softmax":  # predict: argmax of the logits
        index = g.op("ArgMax", [logits], "class_index", axis=1, keepdims=0)
    else:  # one score per class: predict their argmax
        index = g.op("ArgMax", [probabilities], "class_index", axis=1, keepdims=0)
    return _label_outputs(g, model, index, float_type)


def _regressor_outputs(g, out, n_outputs, float_type) -> list:
    """A regressor's output ``variable``: what ``predict`` returns, (N,) for a single output."""
    if n_outputs == 1:
        g.op("Reshape", [out, g.const([-1], "flat", np.int64)], "variable", output="variable")
        return [("variable", float_type, ["N"])]
    g.op("Identity", [out], "variable", output="variable")
    return [("variable", float_type, ["N", n_outputs])]


def _is_multilabel(model) -> bool:
    return model._label_binarizer.y_type_ == "multilabel-indicator"


def _probabilities(g, model, out, output=None) -> str:
    """``predict_proba`` of one fitted classifier, from its activated outputs ``out``; the tensor's name."""
    n_classes = len(model.classes_)
    if model.n_outputs_ == 1:  # binary: the positive class's probability, as predict_proba's second column
        p = g.op("Clip", [out, g.const(0, "zero"), g.const(1, "one")], "p")  # (a sigmoid's is inside already)
        return g.op("Concat", [g.op("Sub", [g.const(1, "one"), p], "negative"), p], "probabilities", output=output,
                    axis=1)  # fmt: skip
    if _is_multilabel(model):  # each label's own, in [0, 1]
        return g.op("Clip", [out, g.const(0, "zero"), g.const(1, "one")], "probabilities", output=output)
    if model.out_activation_ == "softmax":
        return g.op("Identity", [out], "probabilities", output=output)
    # one score per class (squared error's sigmoids): rows scaled to sum to 1
    scores = g.op("Relu", [out], "scores")
    total = g.op("ReduceSum", [scores, g.const([1], "axis", np.int64)], "total", keepdims=1)
    scaled = g.op("Div", [scores, total], "scaled")
    uniform = g.const(1 / n_classes, "uniform")
    positive_total = g.op("Greater", [total, g.const(0, "zero")], "positive_total")
    return g.op("Where", [positive_total, scaled, uniform], "probabilities", output=output)


def _multilabel_outputs(g, probabilities, model, float_type) -> list:
    """A multi-label classifier's outputs: ``label``, each label whose probability is above 0.5."""
    from onnx import TensorProto

    positive = g.op("Greater", [probabilities, g.const(0.5, "threshold")], "positive")
    g.op("Cast", [positive], "label", output="label", to=TensorProto.INT64)
    n_outputs = model.n_outputs_
    return [("label", TensorProto.INT64, ["N", n_outputs]), ("probabilities", float_type, ["N", len(model.classes_)])]


def _label_outputs(g, model, index, float_type) -> list:
    """A classifier's ``label`` (``classes_`` at ``index``), and the output list with its probabilities."""
    classes, label_type = _classes_tensor(model.classes_)
    g.op("Gather", [g.const(classes, "classes", classes.dtype), index], "label", output="label", axis=0)
    return [("label", label_type, ["N"]), ("probabilities", float_type, ["N", len(model.classes_)])]


# ------------------------------------------------------------------------- ensembles


def _members(model):
    """The fitted members of an mlpkit ensemble (one dtype), or None for another model."""
    from .ensemble import EnsembleClassifier, EnsembleRegressor

    if not isinstance(model, (EnsembleClassifier, EnsembleRegressor)):
        return None
    if "estimators_" not in vars(model):
        raise ValueError(f"This {type(model).__name__} is not fitted: fit it before exporting it to ONNX.")
    members = [_core_model(member) for member in model.estimators_]
    if len({member.coefs_[0].dtype for member in members}) > 1:
        raise ValueError("export_onnx writes one precision per graph; this ensemble's members differ in dtype")
    if isinstance(model, EnsembleClassifier) and len(model.classes_) < 2:
        raise ValueError("This classifier was trained on a single class; there is nothing to export.")
    return members


def _mean(g, names, hint, output=None) -> str:
    """The element-wise mean of the tensors ``names``: ``Sum``, then ``Div`` by their count (onnxruntime has
    no float64 kernel for ``Mean``)."""
    return g.op("Div", [g.op("Sum", names, f"{hint}_sum"), g.const(len(names), "count")], hint, output=output)


def _ensemble_outputs(g, model, members) -> list:
    """Every member's forward pass in the one graph, their outputs averaged as the ensemble's ``predict``
    and ``predict_proba`` average them."""
    from onnx import helper

    from .ensemble import EnsembleClassifier

    float_type = helper.np_dtype_to_tensor_dtype(g.dtype)
    forwards = [_forward(g, member) for member in members]
    if not isinstance(model, EnsembleClassifier):  # the members' predictions, averaged
        return _regressor_outputs(g, _mean(g, [out for _, out in forwards], "mean"), members[0].n_outputs_, float_type)
    each = [_probabilities(g, member, out) for member, (_, out) in zip(members, forwards)]
    probabilities = _mean(g, each, "probabilities", output="probabilities")
    if _is_multilabel(members[0]):
        return _multilabel_outputs(g, probabilities, members[0], float_type)
    index = g.op("ArgMax", [probabilities], "class_index", axis=1, keepdims=0)  # (ties: the first, as numpy)
    return _label_outputs(g, model, index, float_type)


def _classes_tensor(classes) -> tuple[np.ndarray, int]:
    """``classes_`` as a constant tensor for Gather, and its ONNX element type."""
    from onnx import TensorProto, helper

    kind = classes.dtype.kind
    if kind == "b":
        return classes.astype(bool), TensorProto.BOOL
    if kind in "iu":
        if kind == "u" and classes.max() > np.iinfo(np.int64).max:
            raise ValueError("class labels above 2**63 - 1 do not fit ONNX's int64 labels")
        return classes.astype(np.int64), TensorProto.INT64
    if kind == "f":
        return classes, helper.np_dtype_to_tensor_dtype(classes.dtype)
    if kind in "UO" and all(isinstance(c, str) for c in classes.tolist()):
        return np.array(classes.tolist(), dtype=object), TensorProto.STRING
    raise ValueError(
        f"export_onnx cannot write class labels of dtype {classes.dtype} (mixed or unusual labels)"
    )


def _make_model(onnx, g, model, outputs, inputs=None, opset=OPSET):
    """The checked ModelProto: graph, opset, IR version and metadata. ``inputs``: (name, element type,
    shape) of each, or None for the one input X."""
    from ._version import __version__

    helper = onnx.helper
    n_features = model.n_features_in_
    float_type = helper.np_dtype_to_tensor_dtype(g.dtype)
    if inputs is None:
        inputs = [("X", float_type, ["N", n_features])]
        described = f"input X (N, {n_features}) {g.dtype}"
    else:
        described = f"inputs: one per column, (N,): {', '.join(name for name, _, _ in inputs)}"
    graph = helper.make_graph(
        g.nodes,
        f"mlpkit_{type(model).__name__}",
        [helper.make_tensor_value_info(name, elem_type, shape) for name, elem_type, shape in inputs],
        [helper.make_tensor_value_info(name, elem_type, shape) for name, elem_type, shape in outputs],
        initializer=g.initializers,
    )
    opset = helper.make_opsetid("", opset)
    proto = helper.make_model(
        graph,
        opset_imports=[opset],
        ir_version=helper.find_min_ir_version_for([opset]),
        producer_name="mlpkit",
        producer_version=__version__,
        doc_string=f"mlpkit {type(model).__name__}: {described}",
    )
    metadata = {"estimator": f"mlpkit.{type(model).__name__}"}
    if hasattr(model, "classes_"):
        metadata["classes"] = json.dumps(model.classes_.tolist())
    if hasattr(model, "feature_names_in_"):
        metadata["feature_names"] = json.dumps(list(model.feature_names_in_))
    helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    return proto
