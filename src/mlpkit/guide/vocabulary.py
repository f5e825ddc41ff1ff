"""How guidance names a change in the interface in use: Python, the command line, or FluCoMa.

The guide's advice is written once, as changes to mlpkit's parameters
(``Change("learning_rate_init", 0.01)``), and said in the words of whoever asked:

- ``python``: ``learning_rate_init=0.01``, ``hidden_layer_sizes=(64,)``, a scaler in a ``Pipeline``;
- ``cli``: ``--set learning_rate_init=0.01``, ``--hidden 64``, ``--scale standard``, ``--validation 0.1``;
- ``flucoma``: the FluCoMa-style estimators' names (``learn_rate=0.01``, ``hidden_layers=[64]``,
  ``validation=0.2``), and FluCoMa's scaler objects. ``held_out`` is the way to score held-out rows there. Parameters FluCoMa has no equivalent of (``alpha``,
  ``dropout``, ``init``, ...) are left out of the advice (``Vocabulary.says`` is None for them).

``VOCABULARIES`` maps each interface's name to its ``Vocabulary``; ``for_model`` picks one from a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


class Change(NamedTuple):
    """One suggested change: an mlpkit parameter and its new value (``value`` may be text: "larger")."""

    parameter: str
    value: Any


def python_value(parameter: str, value) -> str:
    if parameter == "hidden_layer_sizes":
        return repr(tuple(value))
    return repr(value) if isinstance(value, str) else _plain(value)


def _plain(value) -> str:
    return f"{value:.2g}" if isinstance(value, float) else (value if isinstance(value, str) else repr(value))


def _python(change: Change) -> str:
    if change.parameter == "held_out":
        return "early_stopping=True, or a held-out split (sklearn.model_selection.train_test_split)"
    if change.parameter == "scaler":
        return f"a sklearn.preprocessing.{change.value} in a Pipeline before the network"
    return f"{change.parameter}={python_value(*change)}"


def _cli(change: Change) -> str:
    parameter, value = change
    special = {
        "hidden_layer_sizes": lambda: f"--hidden {','.join(str(n) for n in value)}",
        "scaler": lambda: f"--scale {CLI_SCALERS.get(value, value)}",
        "early_stopping": lambda: "--validation 0.1" if value else "--validation 0",
        "validation_fraction": lambda: f"--validation {_plain(value)}",
        "held_out": lambda: "--test-size 0.2 scores held-out rows",
    }
    return special[parameter]() if parameter in special else f"--set {parameter}={_plain(value)}"


#: scikit-learn scaler -> the command line's ``--scale`` choice.
CLI_SCALERS = {"StandardScaler": "standard", "MinMaxScaler": "minmax", "RobustScaler": "robust"}

#: mlpkit parameter -> the FluCoMa-style estimators' parameter (None: FluCoMa has none).
FLUCOMA_NAMES = {
    "learning_rate_init": "learn_rate",
    "hidden_layer_sizes": "hidden_layers",
    "max_iter": "max_iter",
    "batch_size": "batch_size",
    "momentum": "momentum",
    "activation": "activation",
    "early_stopping": "validation",
    "validation_fraction": "validation",
    "scaler": "scaler",
    "held_out": "validation",
}
#: scikit-learn scaler -> FluCoMa's (mlpkit.flucoma and fluid.* objects).
FLUCOMA_SCALERS = {"StandardScaler": "Standardize", "MinMaxScaler": "Normalize", "RobustScaler": "RobustScale"}
#: mlpkit activation -> FluCoMa's name for it.
FLUCOMA_ACTIVATIONS = {"logistic": "sigmoid", "identity": "identity", "relu": "relu", "tanh": "tanh"}


def _flucoma(change: Change) -> str | None:
    parameter, value = change
    name = FLUCOMA_NAMES.get(parameter)
    if name is None:
        return None
    if parameter == "scaler":
        return f"a {FLUCOMA_SCALERS.get(value, value)} scaler (mlpkit.flucoma.{FLUCOMA_SCALERS.get(value, value)}) on the inputs"
    if parameter == "hidden_layer_sizes":
        return f"hidden_layers={list(value)}"
    if parameter in ("early_stopping", "held_out"):
        return "validation=0.2" if value else "validation=0"
    if parameter == "activation":
        if value not in FLUCOMA_ACTIVATIONS:
            return None
        return f"activation='{FLUCOMA_ACTIVATIONS[value]}'"
    return f"{name}={_plain(value)}"


@dataclass(frozen=True)
class Vocabulary:
    """How one interface writes a ``Change``: ``says(change)`` is the text, or None where it has no such setting."""

    name: str
    says: Callable[[Change], str | None]
    lr_find: str  # how to run the learning-rate range test there
    advise: str  # how to ask for advice there

    def join(self, *changes: Change, sep: str = ", ") -> str:
        """The changes this interface can make, in its words (those it cannot are left out)."""
        return sep.join(text for change in changes if (text := self.says(change)) is not None)


#: Interface name -> its vocabulary.
VOCABULARIES = {
    "python": Vocabulary("python", _python, "mlpkit.guide.lr_find(model, X, y)", "mlpkit.guide.advise(X, y)"),
    "cli": Vocabulary("cli", _cli, "mlpkit lr-find DATA --target COL", "mlpkit advise DATA --target COL"),
    "flucoma": Vocabulary(
        "flucoma",
        _flucoma,
        "mlpkit.guide.lr_find(model.network_, X, Y)",
        "mlpkit.guide.advise(X, Y)",
    ),
}


def vocabulary(name: str) -> Vocabulary:
    """The vocabulary called ``name`` ('python', 'cli' or 'flucoma'), with an error listing them."""
    try:
        return VOCABULARIES[name]
    except KeyError:
        raise ValueError(f"interface must be one of {sorted(VOCABULARIES)}; got {name!r}") from None


def for_model(model) -> Vocabulary:
    """FluCoMa's words for the FluCoMa-style estimators (they hold their network in ``network_``), else Python's."""
    return VOCABULARIES["flucoma" if "network_" in vars(model) or type(model).__module__.startswith("mlpkit.flucoma") else "python"]
