"""The address space: one function per OSC address, and ``ADDRESSES``, the table from addresses to them.

Each function is called as ``function(server, client, name, args)`` with the
message's first argument (the model's name) and the rest, and returns the reply
``(address, [arguments])`` (or None when the reply comes later, as a fit's does).
A problem raises an exception whose message becomes ``/mlp/error NAME MESSAGE``.
``USAGE`` (the same table's second column) is what an error about the arguments
quotes.
"""

from __future__ import annotations

from numbers import Real

from .. import flucoma, io
from . import params as osc_params
from .served import BUSY, KINDS, QUEUED, ModelError

#: Longest model name; names are also file names in the autosave directory.
MAX_NAME = 64

#: Characters a model name may hold (it names files): letters, digits, and these.
NAME_PUNCTUATION = "-_."


class BadMessage(ValueError):
    """Arguments that do not fit the address; the message quotes its usage."""


def text(value) -> str:
    """An identifier or label as text: Pure Data sends numbers as floats, so ``3.0`` is ``"3"``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadMessage(f"expected a symbol or a number, got {value!r}")


def numbers(values, what: str) -> list[float]:
    """Finite numbers, or a BadMessage naming the first that is not."""
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, Real) or v != v or v in (float("inf"), float("-inf")):
            raise BadMessage(f"{what} must be finite numbers; value {i + 1} is {v!r}")
    return [float(v) for v in values]


def check_name(name) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or name[0] == "." or not all(
        c.isascii() and (c.isalnum() or c in NAME_PUNCTUATION) for c in name
    ):
        raise BadMessage(
            f"{name!r} cannot name a model: use 1 to {MAX_NAME} letters, digits, '-', '_' or '.' (not first)"
        )
    return name


def _path(args, what: str) -> str:
    if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
        raise BadMessage(f"expected one file path (a symbol) for {what}, got {len(args)} value(s)")
    return args[0]


# ---------------------------------------------------------------------------- models
def create(server, client, name, args):
    """``/mlp/create NAME regressor|classifier [hidden units ...]`` -> ``/mlp/created NAME``."""
    if not args or args[0] not in KINDS:
        raise BadMessage("the kind is regressor or classifier")
    hidden = osc_params.PARSERS["hidden_layers"](args[1:], "hidden units") if len(args) > 1 else None
    server.create_model(check_name(name), args[0], hidden)
    return "/mlp/created", [name]


def delete(server, client, name, args):
    """``/mlp/delete NAME`` -> ``/mlp/deleted NAME`` (its autosaved files go too)."""
    server.delete_model(name)
    return "/mlp/deleted", [name]


def models(server, client, name, args):
    """``/mlp/models`` -> ``/mlp/models NAME ...`` (the NAME argument is not needed)."""
    return "/mlp/models", sorted(server.models)


def set_params(server, client, name, args):
    """``/mlp/set NAME PARAM VALUE ...`` -> ``/mlp/set NAME PARAM VALUE ...`` (as applied)."""
    model = server.model(name)
    if not args or not isinstance(args[0], str):
        raise BadMessage("expected a parameter name, then its value(s)")
    param, values = args[0], list(args[1:])
    python, value = osc_params.parse(param, values, model.params())
    model.set_param(python, value)
    shown = value if isinstance(value, list) else [value]
    return "/mlp/set", [name, param, *("none" if v is None else v for v in shown)]


def get_param(server, client, name, args):
    """``/mlp/get NAME PARAM`` -> ``/mlp/get NAME PARAM VALUE ...`` (the value the next fit uses)."""
    model = server.model(name)
    if len(args) != 1 or not isinstance(args[0], str):
        raise BadMessage("expected one parameter name")
    param = args[0]
    knobs = {"progress": model.progress_every, "inputs": model.n_inputs}
    if param in knobs:
        value = knobs[param]
    else:
        current = model.params()
        value = current[osc_params.python_name(param, current)]
    shown = list(value) if isinstance(value, (list, tuple)) else [value]
    return "/mlp/get", [name, param, *("none" if v is None else v for v in shown)]


# ---------------------------------------------------------------------------- points
def point(server, client, name, args):
    """``/mlp/point NAME ID x1 ... xn y1 ... ym`` (regressor) or ``... x1 ... xn LABEL`` -> ``/mlp/points NAME COUNT``."""
    model = server.model(name)
    if len(args) < 3:
        raise BadMessage("expected an identifier, the input values and the target(s)")
    identifier, values = text(args[0]), args[1:]
    if model.kind == "classifier":
        inputs, target = numbers(values[:-1], "the inputs"), text(values[-1])
    else:
        n = model.n_inputs
        if n is None:
            raise ModelError(
                f"{name} does not know how many of the values are inputs yet: send /mlp/set {name} inputs N first"
            )
        if len(values) <= n:
            raise BadMessage(f"{name} takes {n} input value(s) and at least one target; got {len(values)} value(s)")
        inputs, target = numbers(values[:n], "the inputs"), numbers(values[n:], "the targets")
    return "/mlp/points", [name, model.add_point(identifier, inputs, target)]


def clear(server, client, name, args):
    """``/mlp/clear NAME`` -> ``/mlp/points NAME 0`` (the points go; the network stays)."""
    server.model(name).clear_points()
    return "/mlp/points", [name, 0]


def dataset(server, client, name, args):
    """``/mlp/dataset NAME PATH`` (a FluCoMa DataSet file: the inputs) -> ``/mlp/points NAME COUNT``."""
    model = server.model(name)
    return "/mlp/points", [name, model.load_points(inputs=flucoma.DataSet.read(_path(args, "the DataSet")))]


def targets(kind):
    """``/mlp/targets NAME PATH`` (regressor: a DataSet) or ``/mlp/labelset NAME PATH`` (classifier: a LabelSet)."""

    def load(server, client, name, args):
        model = server.model(name)
        if model.kind != kind:
            other = "/mlp/labelset" if model.kind == "classifier" else "/mlp/targets"
            raise ModelError(f"{name} is a {model.kind}: its targets come with {other}")
        read = KINDS[kind][1].read(_path(args, "the targets"))
        return "/mlp/points", [name, model.load_points(targets=read)]

    return load


# ---------------------------------------------------------------------------- training and use
def fit(server, client, name, args):
    """``/mlp/fit NAME`` -> ``/mlp/fit NAME ERROR`` when it ends; ``/mlp/queued NAME`` or ``/mlp/busy NAME`` now if one runs."""
    answer = server.model(name).fit(client)
    return {QUEUED: ("/mlp/queued", [name]), BUSY: ("/mlp/busy", [name])}.get(answer)


def stop(server, client, name, args):
    """``/mlp/stop NAME`` -> ``/mlp/stopping NAME`` now, then the fit's ``/mlp/fit NAME ERROR`` after its current chunk."""
    if not server.model(name).stop_fit():
        raise ModelError(f"{name} is not fitting; there is nothing to stop")
    return "/mlp/stopping", [name]


def reset(server, client, name, args):
    """``/mlp/reset NAME`` -> ``/mlp/reset NAME``: forget the network; the next fit starts from new weights."""
    server.model(name).change(lambda estimator: estimator.clear())
    return "/mlp/reset", [name]


def predict(server, client, name, args):
    """``/mlp/predict NAME x1 ... xn`` -> ``/mlp/predict NAME y1 ... ym`` or ``/mlp/predict NAME LABEL``."""
    result = server.model(name).predict(numbers(args, "the inputs"))
    return "/mlp/predict", [name, result] if isinstance(result, str) else [name, *result]


def write(server, client, name, args):
    """``/mlp/write NAME PATH`` (FluCoMa's model JSON, for FluCoMa's ``read``) -> ``/mlp/written NAME PATH``."""
    model, path = server.model(name), _path(args, "the model file")
    if not path.endswith(".json"):
        raise BadMessage(f"{path}: FluCoMa model files end in .json")
    predictor = model.predictor  # the last finished fit's weights, also while one runs
    if predictor is None:
        raise ModelError(f"{name} has no trained network to write yet: /mlp/fit {name} first")
    predictor.write(path)
    return "/mlp/written", [name, path]


def read(server, client, name, args):
    """``/mlp/read NAME PATH`` (FluCoMa's model JSON or an mlpkit model file) -> ``/mlp/read NAME PATH``."""
    model, path = server.model(name), _path(args, "the model file")
    current = model.params()
    if path.endswith(".json"):
        estimator = type(model.estimator)(**current).read(path)
    else:
        estimator = io.load(path)
    model.replace_estimator(estimator)
    return "/mlp/read", [name, path]


#: Address -> (function, usage).
ADDRESSES = {
    "/mlp/create": (create, "/mlp/create NAME regressor|classifier [hidden units ...]"),
    "/mlp/delete": (delete, "/mlp/delete NAME"),
    "/mlp/models": (models, "/mlp/models"),
    "/mlp/set": (set_params, "/mlp/set NAME PARAM VALUE ..."),
    "/mlp/get": (get_param, "/mlp/get NAME PARAM"),
    "/mlp/point": (point, "/mlp/point NAME ID x1 ... xn y1 ... ym (classifier: ... x1 ... xn LABEL)"),
    "/mlp/clear": (clear, "/mlp/clear NAME"),
    "/mlp/dataset": (dataset, "/mlp/dataset NAME PATH"),
    "/mlp/targets": (targets("regressor"), "/mlp/targets NAME PATH"),
    "/mlp/labelset": (targets("classifier"), "/mlp/labelset NAME PATH"),
    "/mlp/fit": (fit, "/mlp/fit NAME"),
    "/mlp/stop": (stop, "/mlp/stop NAME"),
    "/mlp/reset": (reset, "/mlp/reset NAME"),
    "/mlp/predict": (predict, "/mlp/predict NAME x1 ... xn"),
    "/mlp/write": (write, "/mlp/write NAME PATH.json"),
    "/mlp/read": (read, "/mlp/read NAME PATH"),
}

#: Addresses that need no model name.
WITHOUT_NAME = {"/mlp/models"}
