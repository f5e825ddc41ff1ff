"""Options that several subcommands share, and turning them into data, a task and an estimator.

- data: ``DATA``, ``--target``, ``--drop`` -> :func:`read_training_data` (``mlpkit.data_files``);
- model: ``--task``, ``--hidden``, ``--set KEY=VALUE``, ``--seed`` -> :func:`build_estimator`;
- a saved model: :func:`load_model` (``mlpkit.load``), with one-line errors.
"""

from __future__ import annotations

import ast
import difflib
import math
import warnings
from contextlib import contextmanager

from .errors import CLIError

#: --task value -> the estimator class of mlpkit.estimators it builds (by name: JAX is imported when one is built).
ESTIMATORS = {"classify": "MLPClassifier", "regress": "MLPRegressor"}

#: The data files DATA may be (mlpkit.data_files.READERS reads them; named here without importing numpy).
DATA_HELP = "data file: CSV or TSV with a header row, Parquet, .npy, .npz, or a FluCoMa DataSet JSON"

#: Text of --set values that literal_eval does not read but that parameters take.
SPECIAL_VALUES = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}

#: What --target means for each format (for error messages and --help).
TARGET_HELP = (
    "the target: a column name (CSV, TSV, Parquet; 'a,b' for several), a column index for .npy"
    " (-1: the last), an array name for .npz (default: y), or a FluCoMa DataSet/LabelSet JSON file"
    " paired by identifier with a FluCoMa DataSet"
)


# ------------------------------------------------------------------------ arguments
def add_data_arguments(parser, *, target: str = "required") -> None:
    """``DATA``, ``--target`` (``required``, ``optional`` or ``none``) and ``--drop``."""
    parser.add_argument("data", metavar="DATA", help=DATA_HELP)
    if target != "none":
        parser.add_argument("--target", metavar="COL", help=TARGET_HELP + ("" if target == "required" else " (optional)"))
    parser.add_argument(
        "--drop", metavar="COL", action="append", default=[],
        help="a column that is neither feature nor target, such as an identifier (repeat, or 'a,b')",
    )


def add_model_arguments(parser) -> None:
    """``--task``, ``--hidden``, ``--set`` and ``--seed``."""
    parser.add_argument(
        "--task", choices=sorted(ESTIMATORS),
        help="classify or regress; default: classify when the target is text or a few whole numbers",
    )
    parser.add_argument("--hidden", metavar="SIZES", type=parse_hidden, help="hidden layer sizes, e.g. 64,32 (default 100)")
    parser.add_argument(
        "--set", metavar="KEY=VALUE", dest="settings", action="append", default=[], type=parse_setting,
        help="any estimator parameter, e.g. --set max_iter=500 --set early_stopping=True --set activation=tanh"
        " (values read as Python literals; text as itself)",
    )
    parser.add_argument("--seed", metavar="N", type=int, help="random seed: weights, shuffling, splits (random_state)")


def parse_hidden(text: str) -> tuple:
    """``"64,32"`` -> ``(64, 32)``."""
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise CLIError(f"--hidden {text!r}: give the hidden layer sizes as whole numbers separated by commas, e.g. 64,32") from None
    if any(size < 1 for size in sizes):
        raise CLIError(f"--hidden {text!r}: every layer needs at least 1 unit")
    return sizes


def parse_setting(text: str) -> tuple:
    """``"alpha=0.01"`` -> ``("alpha", 0.01)``; the value as a Python literal, else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise CLIError(f"--set {text!r}: write it as KEY=VALUE, e.g. --set learning_rate_init=0.01")
    value = value.strip()
    if value.lower() in SPECIAL_VALUES:
        return key.strip(), SPECIAL_VALUES[value.lower()]
    try:
        return key.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key.strip(), value  # text, such as activation=tanh


def column_names(values) -> list[str]:
    """The columns a repeatable ``--flag COL`` names: each value one name or ``'a,b'``; ``''`` alone is the
    unnamed column (R's row names), which only it can name."""
    names = []
    for item in values or ():
        if item.strip():
            names += [name.strip() for name in item.split(",") if name.strip()]
        else:
            names.append("")
    return names


def drop_list(args) -> list[str]:
    return column_names(args.drop)


# ------------------------------------------------------------------------ data
def read_training_data(args):
    """Features and target from ``args.data`` and ``args.target`` (``.npz``: ``y`` unless named)."""
    target = args.target
    if target is None:
        if args.data.lower().endswith(".npz"):
            target = "y"
        else:
            raise CLIError(f"{args.data}: name the target with --target ({TARGET_HELP})")
    from ..data_files import read_data

    return read_data(args.data, target, drop=drop_list(args))


def detect_task(y) -> tuple[str, str]:
    """(task, why) by the one rule of ``mlpkit.prep.target`` (Python's ``advise`` uses it too)."""
    from ..prep.target import detect_task as rule

    return rule(y)


def check_task(task: str, y, target: str) -> None:
    """A clear error when ``--task`` cannot work with this target (``mlpkit.prep.target.check_task``)."""
    from ..prep.target import check_task as check

    try:
        check(task, y, target)
    except ValueError as error:
        other = "regress" if task == "classify" else "classify"
        raise CLIError(f"--task {error}".replace(f"; {other} instead", f"; use --task {other}")
                       .replace(f": {other} instead", f": use --task {other}")) from None  # fmt: skip


def task_of(args, data) -> tuple[str, str]:
    """(task, why) from ``--task`` or the target, checked against the target."""
    task, why = (args.task, "as asked") if args.task else detect_task(data.y)
    check_task(task, data.y, ", ".join(data.target_names) or "the target")
    return task, why


# ------------------------------------------------------------------------ estimators
def build_estimator(task: str, args, **overrides):
    """An ``MLPClassifier`` or ``MLPRegressor`` from ``--hidden``, ``--seed`` and ``--set``, checked.

    Parameters are validated now, with the estimator's own messages, before any
    data is fitted; an unknown parameter name gets a suggestion.
    """
    from .. import estimators

    cls = getattr(estimators, ESTIMATORS[task])
    model = cls()
    known = model.get_params(deep=False)
    params = dict(overrides)
    if args.hidden is not None:
        params["hidden_layer_sizes"] = args.hidden
    if args.seed is not None:
        params["random_state"] = args.seed
    for key, value in args.settings:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise CLIError(f"--set {key}=...: {cls.__name__} has no parameter {key!r}; {hint}see help(mlpkit.{cls.__name__})")
        params[key] = value
    model.set_params(**params)
    try:
        model._validate_params()  # scikit-learn's check, with its messages
    except ValueError as error:
        raise CLIError(f"--set: {error}") from None
    return model


# ------------------------------------------------------------------------ saved models
def load_model(path: str):
    """``mlpkit.load(path)`` with errors that say what to do."""
    from ..io import load

    try:
        return load(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such model file; save one with mlpkit fit ... --out {path}") from None
    except IsADirectoryError:
        raise CLIError(f"{path} is a directory; give the model file that mlpkit fit --out wrote") from None
    except OSError as error:
        raise CLIError(f"{path}: cannot read the model file: {error.strerror or error}") from None


def is_classifier(model) -> bool:
    """mlpkit's and the FluCoMa-style classifiers."""
    from sklearn.base import is_classifier as sklearn_is_classifier

    return sklearn_is_classifier(model) or hasattr(model, "labels_")


def network(model):
    """The core estimator that holds the weights: a FluCoMa-style model's ``network_``, a Pipeline's or
    TransformedTargetRegressor's network."""
    from .._wrappers import network_of

    model = network_of(model)
    return getattr(model, "network_", None) or model


@contextmanager
def columns_checked_by_name():
    """Quiet scikit-learn's warning for arrays without names: the columns were picked by name already."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


def features_for(model, data):
    """``data.X`` checked against the number of features the model takes."""
    expected = getattr(network(model), "n_features_in_", None)
    if expected is not None and data.X.shape[1] != expected:
        raise CLIError(
            f"{data.source} has {data.X.shape[1]} feature column(s) but the model takes {expected};"
            " leave out extra columns with --drop COL (a target column, an identifier)"
        )
    return data.X


def read_for_model(model, path, target=None, drop=()):
    """Data for a fitted model: the columns it was trained on, by name where it knows them (a model that
    starts with a preparation gets them as a table and encodes them itself)."""
    from ..data_files import read_data

    names = input_names(model)
    data = read_data(path, target, drop=drop, features=None if names is None else list(names))
    if has_preparation(model):
        data.X = as_table(data.X, data.feature_names)
    else:
        features_for(model, data)
    return data


# ------------------------------------------------------------------------ prepared models
def as_table(X, feature_names):
    """``X`` as a DataFrame with the file's column names (a numeric array gets them), so that the preparation
    knows the columns by name; as it is where the file has no names."""
    if hasattr(X, "columns") or not feature_names:
        return X
    import numpy as np
    import pandas as pd

    return pd.DataFrame(np.asarray(X), columns=list(feature_names))


def has_preparation(model) -> bool:
    """Whether ``model`` starts with an ``mlpkit.Preparation`` (then it picks its columns by name itself)."""
    from .._wrappers import scalers_of

    steps = scalers_of(model, fitted=False)
    return bool(steps) and type(steps[0]).__name__ == "Preparation"


def input_names(model):
    """The columns a fitted model reads, by name, or None: the preparation's, else the network's."""
    from .._wrappers import network_of, scalers_of

    steps = scalers_of(model)
    first = steps[0] if steps else network_of(model)
    first = getattr(first, "network_", None) or first
    return getattr(first, "feature_names_in_", None)
