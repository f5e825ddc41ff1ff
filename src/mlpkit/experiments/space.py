"""Search spaces for ``mlpkit.sweep``: which values each estimator parameter may take.

In Python, a dict from parameter name to one of::

    ["relu", "tanh"]                          choices (any values: tuples, None, numbers, text)
    {"low": 1e-4, "high": 0.1, "log": True}   a range; whole-number ends make an integer range

a dict of lists is also a scikit-learn parameter grid (each parameter an
independent choice), and a *list* of such dicts is a grid with several parts
(``ParameterGrid``): one categorical over all its points. On the command line,
``NAME=SPEC`` strings::

    learning_rate_init=log:1e-4:1e-1          a log range
    alpha=1e-5:1e-2                           a range (16:256 is an integer range)
    hidden_layer_sizes=choice:64/128/64,64    choices; 64,64 is the tuple (64, 64)
    activation=choice:relu/tanh               choices as text; numbers, True, None as Python reads them

Why ``/`` between choices: no common shell (bash, zsh, fish, PowerShell, cmd)
gives it a meaning, so the entry needs no quotes. ``|`` (a pipe) would cut the
command line short: the old form ``choice:A|B`` is refused saying so, and so is
a ``choice:`` of a single value, which is what an unquoted ``|`` leaves
(``choice:A``), so a shell's cut never runs as a smaller sweep.

Anything else raises ``ValueError`` naming the entry and listing these forms;
``SearchSpace.check(estimator)`` names a parameter the estimator does not have,
with the ones it has.

Why categorical labels: Optuna stores choices as JSON primitives, so a tuple
such as ``(64, 32)`` is suggested by its label ``"(64, 32)"`` and mapped back
(``SearchSpace.decode``).
"""

from __future__ import annotations

import ast
import difflib
import json
import math
from dataclasses import dataclass
from numbers import Integral, Real

__all__ = ["FORMS", "Choice", "GridPoints", "Range", "SearchSpace", "combine", "parse_space"]

FORMS = (
    "accepted forms: NAME=choice:A/B/C (choices; 64,32 is a tuple), NAME=LOW:HIGH (a range; whole-number ends"
    " make an integer range), NAME=log:LOW:HIGH (a log range, LOW > 0); in Python {NAME: [A, B, C]},"
    " {NAME: {'low': LOW, 'high': HIGH, 'log': True}}, or a list of dicts of lists (a scikit-learn parameter grid)"
)

#: Optuna's name of the parameter that picks a point of a multi-part grid.
GRID_PARAMETER = "grid point"

#: What separates the choices of ``NAME=choice:A/B/C``.
CHOICE_SEPARATOR = "/"

#: Separators of choices that shells interpret: refused, saying why.
SHELL_SEPARATORS = {"|": "a pipe", ";": "the end of a command", "&": "a background job"}

#: The keys of a range given as a dict.
RANGE_KEYS = {"low", "high", "log"}


def _label(value) -> str:
    """The text Optuna stores for a choice: text as itself, anything else as Python writes it."""
    return value if isinstance(value, str) else repr(value)


def _labels(values, entry: str) -> list[str]:
    labels = [_label(v) for v in values]
    if len(set(labels)) != len(labels):
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        raise ValueError(f"search space entry {entry}: the choices {repeated} are given twice (or read alike); give each once")
    return labels


@dataclass(frozen=True)
class Choice:
    """One of ``values``."""

    name: str
    values: tuple

    def suggest(self, trial) -> dict:
        return self.decode({self.name: trial.suggest_categorical(self.name, _labels(self.values, self.name))})

    def decode(self, suggested: dict) -> dict:
        return {self.name: self.values[_labels(self.values, self.name).index(suggested[self.name])]}

    def describe(self):
        return {"name": self.name, "choices": _labels(self.values, self.name)}


@dataclass(frozen=True)
class Range:
    """A number from ``low`` to ``high`` (both included), on a log scale if ``log``; whole numbers when both
    ends are whole numbers."""

    name: str
    low: float
    high: float
    log: bool = False

    @property
    def integer(self) -> bool:
        return isinstance(self.low, Integral) and isinstance(self.high, Integral)

    def suggest(self, trial) -> dict:
        suggest = trial.suggest_int if self.integer else trial.suggest_float
        return {self.name: suggest(self.name, self.low, self.high, log=self.log)}

    def decode(self, suggested: dict) -> dict:
        value = suggested[self.name]
        return {self.name: int(value) if self.integer else float(value)}

    def describe(self):
        return {"name": self.name, "low": self.low, "high": self.high, "log": self.log, "integer": self.integer}


@dataclass(frozen=True)
class GridPoints:
    """One point of a scikit-learn parameter grid with several parts: each point a dict of parameters."""

    points: tuple

    @property
    def labels(self) -> list[str]:
        return [json.dumps({k: _label(v) for k, v in point.items()}, sort_keys=True) for point in self.points]

    def suggest(self, trial) -> dict:
        return self.decode({GRID_PARAMETER: trial.suggest_categorical(GRID_PARAMETER, self.labels)})

    def decode(self, suggested: dict) -> dict:
        return dict(self.points[self.labels.index(suggested[GRID_PARAMETER])])

    def describe(self):
        return {"name": GRID_PARAMETER, "points": self.labels}


@dataclass(frozen=True)
class SearchSpace:
    """The dimensions of a sweep; ``suggest(trial)`` gives one trial's estimator parameters."""

    dimensions: tuple

    @property
    def names(self) -> list[str]:
        """The estimator parameters the space sets."""
        names = []
        for dimension in self.dimensions:
            keys = [k for point in dimension.points for k in point] if isinstance(dimension, GridPoints) else [dimension.name]
            names += [k for k in keys if k not in names]
        return names

    def suggest(self, trial) -> dict:
        return {name: value for dimension in self.dimensions for name, value in dimension.suggest(trial).items()}

    def decode(self, suggested: dict) -> dict:
        """Estimator parameters from Optuna's record of a trial (``trial.params``)."""
        return {name: value for dimension in self.dimensions for name, value in dimension.decode(suggested).items()}

    def describe(self) -> str:
        """The space as JSON text: equal texts, equal spaces (a resumed sweep must search the same one)."""
        return json.dumps([dimension.describe() for dimension in self.dimensions], sort_keys=True)

    def check(self, estimator) -> None:
        """A ValueError naming any parameter ``estimator`` does not have, with those it has."""
        from .recorder import estimator_name

        valid = sorted(estimator.get_params(deep=True))
        for name in self.names:
            if name not in valid:
                close = difflib.get_close_matches(name, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"search space: {estimator_name(estimator)} has no parameter {name!r}{hint}; its parameters:"
                    f" {', '.join(valid)}"
                )


# ------------------------------------------------------------------------------------ parsing
def parse_space(spec) -> SearchSpace:
    """A ``SearchSpace`` from a dict, ``NAME=SPEC`` strings, or a list of dicts (a parameter grid)."""
    if isinstance(spec, SearchSpace):
        return spec
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, dict):
        if not spec:
            raise ValueError(f"the search space is empty: give at least one parameter; {FORMS}")
        return SearchSpace(tuple(_dimension(name, value, repr(name)) for name, value in spec.items()))
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(item, str) for item in spec):
        return combine([SearchSpace((_parse_entry(item),)) for item in spec])
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(item, dict) for item in spec):
        return SearchSpace((_grid_points(spec),))
    raise ValueError(f"the search space is {spec!r}; {FORMS}")


def combine(spaces) -> SearchSpace:
    """One space with the dimensions of all ``spaces`` (each parsed by ``parse_space``); a parameter set by
    two of them is an error, since it would be searched twice."""
    dimensions = tuple(dimension for space in spaces for dimension in parse_space(space).dimensions)
    names = [name for dimension in dimensions for name in SearchSpace((dimension,)).names]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"search space: {name!r} is given {names.count(name)} times; give each parameter once")
    return SearchSpace(dimensions)


def _parse_entry(text: str):
    """One ``NAME=SPEC`` string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ValueError(f"search space entry {text!r} is not NAME=SPEC; {FORMS}")
    return _dimension(name.strip(), value.strip(), repr(text))


def _dimension(name, value, entry: str):
    if not isinstance(name, str) or not name:
        raise ValueError(f"search space entry {entry}: a parameter name must be text; {FORMS}")
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"search space entry {entry}: no choices given; {FORMS}")
        _labels(value, entry)
        return Choice(name, tuple(value))
    if isinstance(value, dict):
        if not {"low", "high"} <= set(value) <= RANGE_KEYS:
            raise ValueError(f"search space entry {entry}: a range has the keys 'low', 'high' and optionally 'log';"
                             f" got {sorted(value)}; {FORMS}")
        return _range(name, value["low"], value["high"], value.get("log", False), entry)
    if isinstance(value, str):
        return _parse_value(name, value, entry)
    raise ValueError(f"search space entry {entry}: {value!r} is not a list of choices or a range; {FORMS}")


def _parse_value(name: str, text: str, entry: str):
    """The SPEC of ``NAME=SPEC``."""
    kind, sep, rest = text.partition(":")
    if sep and kind.strip() == "choice":
        for separator, meaning in SHELL_SEPARATORS.items():
            if separator in rest:
                raise ValueError(
                    f"search space entry {entry}: separate choices with '{CHOICE_SEPARATOR}', not '{separator}' (in a"
                    f" shell '{separator}' is {meaning}), e.g. {name}=choice:{rest.replace(separator, CHOICE_SEPARATOR)}"
                )
        options = [part.strip() for part in rest.split(CHOICE_SEPARATOR)]
        if not all(options):
            raise ValueError(f"search space entry {entry}: an empty choice; separate choices with"
                             f" '{CHOICE_SEPARATOR}'; {FORMS}")
        if len(options) == 1:
            raise ValueError(
                f"search space entry {entry}: a single choice searches nothing; give two or more separated by"
                f" '{CHOICE_SEPARATOR}' (a shell cuts an unquoted '|' and runs what is left: write"
                f" {name}=choice:A{CHOICE_SEPARATOR}B), or set a fixed value with --set {name}=..."
            )
        values = tuple(_literal(option) for option in options)
        _labels(values, entry)
        return Choice(name, values)
    log = sep and kind.strip() == "log"
    ends = (rest if log else text).split(":")
    if len(ends) != 2:
        raise ValueError(f"search space entry {entry} is not a form mlpkit knows; {FORMS}")
    return _range(name, _number(ends[0], entry), _number(ends[1], entry), bool(log), entry)


def _literal(text: str):
    """A choice as Python reads it (``64,32`` -> ``(64, 32)``, ``None``, ``0.5``); other text as itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _number(text: str, entry: str):
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            continue
    raise ValueError(f"search space entry {entry}: {text.strip()!r} is not a number; {FORMS}")


def _range(name, low, high, log, entry: str) -> Range:
    for end in (low, high):
        if isinstance(end, bool) or not isinstance(end, Real) or not math.isfinite(end):
            raise ValueError(f"search space entry {entry}: the ends of a range are finite numbers, got {end!r}; {FORMS}")
    if log not in (True, False):
        raise ValueError(f"search space entry {entry}: 'log' is True or False, got {log!r}")
    if not low < high:
        raise ValueError(f"search space entry {entry}: the range {low}..{high} is empty; give LOW < HIGH")
    if log and low <= 0:
        raise ValueError(f"search space entry {entry}: a log range needs LOW > 0, got {low}; {FORMS}")
    both_whole = isinstance(low, Integral) and isinstance(high, Integral)
    return Range(name, int(low) if both_whole else float(low), int(high) if both_whole else float(high), bool(log))


def _grid_points(grid) -> GridPoints:
    """Every point of a scikit-learn parameter grid (a list of dicts of lists)."""
    from sklearn.model_selection import ParameterGrid

    for index, part in enumerate(grid):
        for name, values in part.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(
                    f"search space entry {name!r} in part {index} of the parameter grid: {values!r} is not a"
                    f" non-empty list of values; {FORMS}"
                )
    points = tuple(ParameterGrid(list(grid)))
    labels = GridPoints(points).labels
    if len(set(labels)) != len(labels):
        raise ValueError("the parameter grid holds the same point twice; give each point once")
    return GridPoints(points)
