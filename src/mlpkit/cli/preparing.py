"""``--categorical``, ``--keep`` and ``--scale``: the data preparation in front of the network, for every command
that trains (``fit``, ``sweep``, ``lr-find``, ``advise``).

``choose`` fits ``mlpkit.Preparation`` on the training rows to see what the columns hold:

- when every column is numbers without gaps (and none is asked to be a category or looks like an
  identifier or a date), the preparation is its scaler alone, and the model is built as before: the
  scaler (``scaling.py``) then the network, which ONNX and FluCoMa export as they always have;
- otherwise the model is ``Pipeline([("prepare", Preparation(...)), ("mlp", network)])``: categories one-hot,
  gaps filled with indicators, identifiers left out, dates as numbers, the numbers scaled. ONNX export puts
  the preparation into the graph (one input per column; a date column is refused), FluCoMa's refuses it.

Either way the choices are printed once, each with why and the flag that changes it.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import NamedTuple

from . import scaling
from .errors import CLIError
from .options import as_table, column_names, has_preparation, input_names  # noqa: F401  (the model-reading side)


class Chosen(NamedTuple):
    """How the inputs (and a regressor's targets) are prepared; ``preparation`` None: by a scaler alone."""

    preparation: object  # an unfitted mlpkit.Preparation, or None
    scaling: scaling.Scaling
    lines: dict  # label -> line, printed once

    def summary(self) -> dict:
        """The lines for the training summary: how the inputs and targets were scaled."""
        return {k: v for k, v in self.lines.items() if k in ("input scaling", "target scaling")}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--categorical", metavar="COL", action="append", default=[],
        help="treat this column as categories (one 0/1 column per value), e.g. number codes 1, 2, 3; text and"
        " yes/no columns are categories anyway (repeat, or 'a,b')",
    )  # fmt: skip
    parser.add_argument(
        "--keep", metavar="COL", action="append", default=[],
        help="keep this column although it looks like an identifier (row names, a distinct text per row, a"
        " running index), which are left out otherwise (repeat, or 'a,b')",
    )  # fmt: skip


def choose(args, X, y, task: str, feature_names=None) -> Chosen:
    """The preparation for these (training) rows; a ``CLIError`` naming an unknown ``--categorical`` / ``--keep``."""
    from sklearn.base import clone

    from ..prep import Preparation
    from ..prep.report import choices

    categorical, keep = column_names(getattr(args, "categorical", ())), column_names(getattr(args, "keep", ()))
    preparation = Preparation(categorical=categorical or None, keep=keep or None, scale=args.scale)
    try:
        fitted = preparation.fit(as_table(X, feature_names))
    except ValueError as error:
        flag = "--categorical" if "categorical=" in str(error) else "--keep" if "keep=" in str(error) else "data"
        raise CLIError(f"{flag}: {error}") from None
    if fitted.only_scales() and not categorical and not keep:  # plain numbers: the scaler alone, as before
        by_scaler = scaling.chosen_by(fitted, args, y, task)
        return Chosen(None, by_scaler, by_scaler.lines())
    targets = scaling.choose_targets(args, y, task)
    inputs = scaling.Scaling(fitted.scaling_.scaler, fitted.scaling_.why, *targets)
    lines = dict(choices(fitted, "cli"))
    lines.update({k: v for k, v in inputs.lines().items() if k == "target scaling"})
    return Chosen(clone(fitted), inputs, lines)


def wrap(network, chosen: Chosen):
    """The model ``mlpkit fit`` trains and saves: the network after the preparation (or the scaler), in a
    TransformedTargetRegressor when the targets are scaled."""
    if chosen.preparation is None:
        return scaling.wrap(network, chosen.scaling)
    from sklearn import preprocessing
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    model = Pipeline([("prepare", chosen.preparation), ("mlp", network)])
    if chosen.scaling.targets is not None:
        model = TransformedTargetRegressor(regressor=model, transformer=getattr(preprocessing, chosen.scaling.targets)())
    return model


def training_rows(chosen: Chosen, X, feature_names):
    """The rows as the chosen model takes them: by name for a preparation."""
    return X if chosen.preparation is None or X is None else as_table(X, feature_names)


def prepared(chosen: Chosen, X, y, feature_names=None):
    """``X`` and ``y`` as the network sees them once ``wrap`` prepared them (fitted on these rows): ``lr-find``."""
    from .._wrappers import fit_steps

    seen = {}
    model = wrap(scaling._Placeholder(), chosen)
    fit_steps(model, training_rows(chosen, X, feature_names), y,
              lambda network, X_ready, y_ready: seen.update(X=X_ready, y=y_ready))  # fmt: skip
    return seen["X"], seen["y"]


@contextmanager
def notes():
    """Say each distinct ``UnseenCategoryWarning`` once, as a note (a level never seen in training, at predict
    time): it is encoded as its column's 'other' (or all zeros), not an error."""
    from ..prep import UnseenCategoryWarning
    from .report import note

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnseenCategoryWarning)
        try:
            yield
        finally:
            said = set()
            for warning in caught:
                if issubclass(warning.category, UnseenCategoryWarning) and str(warning.message) not in said:
                    said.add(str(warning.message))
                    note(str(warning.message))
                elif not issubclass(warning.category, UnseenCategoryWarning):
                    warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def what_it_does(preparation) -> list[str]:
    """What a fitted preparation does that a plain scaler cannot, in words ([] for a scaler's work alone)."""
    columns = preparation.columns_
    things = {
        "encodes categories": [c.name for c in columns if c.kind == "category"],
        "turns dates into numbers": [c.name for c in columns if c.kind == "date"],
        "fills gaps": [c.name for c in columns if c.indicator],
        "leaves columns out": [c.name for c in columns if c.kind == "left out"],
    }
    return [f"{what} ({', '.join(names[:4])}{' ...' if len(names) > 4 else ''})" for what, names in things.items() if names]


def note_left_out_targets(data) -> None:
    """Say how many rows were left out for a missing target (``read_data`` leaves them out)."""
    if data.target_rows_left_out:
        from .report import note

        note(f"{data.target_rows_left_out} row(s) of {data.source} have no target value and were left out")
