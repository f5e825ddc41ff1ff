"""``--scale`` and ``--scale-target`` of ``mlpkit fit``: inputs (and a regressor's targets) on the scale a
network learns from, the scalers stored with the model so ``predict`` and ``evaluate`` apply them.

(Not to be confused with ``scale.py``: data larger than memory and several processes.)

- ``--scale auto`` (the default) takes the scaler ``mlpkit.Preparation`` picks from what the columns look
  like (``prep.scaling.scaling_advice``: StandardScaler, MinMaxScaler for bounded columns,
  RobustScaler for heavy outliers), or none when the columns are already of moderate size
  around 0; ``standard``, ``minmax``, ``robust`` and ``none`` say which.
- ``--scale-target auto`` (the default; regression only) standardises the targets when they
  are large or off-centre (``guide.data.target_scaling_note``): large targets give large
  gradients, and the stopping rule's ``tol`` is absolute; ``standard`` and ``none`` say which.

The model is then saved as a scikit-learn ``Pipeline`` (the scaler, then the network), in a
``TransformedTargetRegressor`` when the targets are scaled; ``mlpkit.load`` returns it as such. Tables with
more than plain numbers get ``mlpkit.Preparation`` instead of the scaler (``preparing.py``), which scales its
numeric columns by the same rules.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import CLIError

#: --scale choices besides auto (mlpkit.Preparation's ``scale=``: prep.preparation.SCALERS names their scalers;
#: spelled here too so that --help imports neither scikit-learn nor numpy).
SCALE_CHOICES = ("standard", "minmax", "robust", "none")
#: --scale-target choice -> scaler of the targets.
TARGET_SCALERS = {"standard": "StandardScaler", "none": None}
AUTO = "auto"


class Scaling(NamedTuple):
    """What scales the inputs and the targets (None: nothing), and why, for the summary."""

    inputs: str | None
    inputs_why: str
    targets: str | None = None
    targets_why: str = ""

    def lines(self) -> dict:
        rows = {"input scaling": f"{self.inputs or 'none'} ({self.inputs_why})"}
        if self.targets_why:
            rows["target scaling"] = f"{self.targets or 'none'} ({self.targets_why})"
        return rows


def add_arguments(parser, targets: bool = True) -> None:
    """``--scale``, and ``--scale-target`` unless ``targets`` is False."""
    parser.add_argument(
        "--scale", choices=[AUTO, *SCALE_CHOICES], default=AUTO,
        help="scale the input columns: auto (default) picks the scaler from what the columns look like, or none"
        " when they need none; the scaler is saved with the model and applied by predict and evaluate",
    )  # fmt: skip
    if not targets:
        return
    parser.add_argument(
        "--scale-target", choices=[AUTO, *TARGET_SCALERS], default=AUTO,
        help="regression: standardise the targets; auto (default) does when they are large or off-centre",
    )  # fmt: skip


def chosen_by(preparation, args, y, task: str) -> Scaling:
    """The inputs' scaler a fitted ``mlpkit.Preparation`` chose for ``--scale`` (its rule, not a second one),
    in the command line's words, and the targets' for ``--scale-target``."""
    scaling = preparation.scaling_
    why = (f"{scaling.why}; --scale standard|minmax|robust|none to choose" if args.scale == AUTO
           else "as asked with --scale")
    return Scaling(scaling.scaler, why, *choose_targets(args, y, task))


def choose_targets(args, y, task: str) -> tuple[str | None, str]:
    """(the targets' scaler or None, why; '' for a classifier) for ``--scale-target``."""
    if task != "regress":
        if args.scale_target not in (AUTO, "none"):
            raise CLIError(f"--scale-target {args.scale_target}: targets are scaled for regression only; this fit classifies")
        return None, ""
    if args.scale_target != AUTO:
        return TARGET_SCALERS[args.scale_target], "as asked with --scale-target"
    from ..prep.scaling import target_scaling_note

    note = target_scaling_note(y)
    why = ("chosen from the data: the targets are large or off-centre" if note
           else "chosen from the data: the targets are of moderate size around 0") + "; --scale-target standard|none to choose"  # fmt: skip
    return ("StandardScaler" if note else None), why


def wrap(network, scaling: Scaling):
    """``network`` after the input scaler in a Pipeline, in a TransformedTargetRegressor with the targets'
    scaler: the model ``mlpkit fit`` trains and saves (the network itself when nothing is scaled)."""
    from sklearn import preprocessing
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    model = network
    if scaling.inputs is not None:
        model = Pipeline([("scale", getattr(preprocessing, scaling.inputs)()), ("mlp", network)])
    if scaling.targets is not None:
        model = TransformedTargetRegressor(regressor=model, transformer=getattr(preprocessing, scaling.targets)())
    return model


class _Placeholder:
    """Stands where the network goes while ``preparing.prepared`` runs the steps before it (nothing is trained)."""

    def get_params(self, deep=True):
        return {}


def check_streamable(args) -> None:
    """--stream reads a chunk at a time, so no scaler can be fitted on the whole file: only none (or auto,
    which then means none) goes with it."""
    for flag, value in (("--scale", args.scale), ("--scale-target", args.scale_target)):
        if value not in (AUTO, "none"):
            raise CLIError(
                f"{flag} {value} and --stream do not go together: a scaler needs the whole file; scale the file"
                f" beforehand (mlpkit.flucoma or scikit-learn scalers), or drop {flag}"
            )
