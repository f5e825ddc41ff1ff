"""``mlpkit sweep DATA --target COL --space SPEC --trials N``: search hyper-parameters, rank the trials.

Each ``--space`` is one parameter's values (``NAME=SPEC``, see below) or a JSON
file holding a whole space (an object of name -> list of choices or
``{"low", "high", "log"}``, or a list of such objects of lists: a scikit-learn
parameter grid). Parameters not searched come from ``--hidden``, ``--set`` and
``--seed`` as for ``mlpkit fit``. Every trial is recorded as a run in the runs
directory (``--runs``), where Optuna keeps the sweep too: the same command run
again, after Ctrl-C or with more ``--trials``, continues it. The best settings
are refitted on all rows and saved (``--out``, and in the runs directory), with
``--flucoma`` also as FluCoMa JSON beside them where FluCoMa can express the
network. See ``mlpkit.experiments.sweep`` for how trials are scored and pruned.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .._files import strict_loads
from ..experiments.space import FORMS, combine, parse_space
from ..experiments.store import DEFAULT_RUNS
from . import options, preparing, report, scaling, validation
from .errors import CLIError
from .training import _save

HELP = "search hyper-parameters (Optuna, pruning, cross-validation), rank the trials, save the best model"

EPILOG = f"""space entries (--space, repeat it):
  learning_rate_init=log:1e-4:1e-1      a log range
  alpha=1e-5:1e-2                       a range (16:256 is a range of whole numbers)
  hidden_layer_sizes=choice:64/128/64,64   choices, separated by / (64,64 is two layers)
  activation=choice:relu/tanh
  space.json                            a JSON file: {{"alpha": [0.0001, 0.001], "batch_size": {{"low": 16, "high": 256}}}}

examples:
  mlpkit sweep digits.csv --target label --space learning_rate_init=log:1e-4:1e-1 --space alpha=log:1e-6:1e-2 \\
      --trials 20 --cv 3 --set max_iter=50 --out best.npz
  mlpkit sweep data.csv --target y --space space.json --trials 50 --jobs 4 --runs experiments/ --name wide
  mlpkit sweep digits.csv --target label --space learning_rate_init=log:1e-4:1e-1 --trials 32 --population 32
  mlpkit runs {DEFAULT_RUNS}/                  compare the trials in the browser

Ctrl-C stops the sweep (exit code 130); run the same command again to continue it."""

#: Significant digits of the numbers in the trials table.
DIGITS = 4

#: How the command line spells the settings the sweep's notes name (``mlpkit.experiments.sweep.Note``).
CLI_WORDS = {"no_prune": "--no-prune", "flucoma": "--flucoma"}


def add_arguments(parser) -> None:
    options.add_data_arguments(parser)
    options.add_model_arguments(parser)
    parser.add_argument("--space", metavar="SPEC", action="append", required=True,
                        help="a parameter's values (NAME=SPEC, see below) or a JSON file of the space; repeat it")
    parser.add_argument("--trials", metavar="N", type=int, default=20, help="trials to run in all (default 20)")
    parser.add_argument("--cv", metavar="K", type=int, help="score each trial by K-fold cross-validation"
                        " (default: one held-out fifth of the rows)")
    parser.add_argument("--scoring", metavar="NAME", help="a scikit-learn scoring name (default: accuracy or R2)")
    parser.add_argument("--jobs", metavar="J", type=int, default=1, help="worker processes running trials at once")
    parser.add_argument("--population", metavar="K", type=int, default=1,
                        help="trials asked for at once and trained together as one population per structure"
                        " (default 1: one trial at a time)")
    parser.add_argument("--runs", metavar="DIR", default=DEFAULT_RUNS, help=f"runs directory (default {DEFAULT_RUNS})")
    parser.add_argument("--name", help="the sweep's name in the runs directory (default: derived from what is searched)")
    parser.add_argument("--timeout", metavar="SECONDS", type=float, help="start no trial after this long")
    parser.add_argument("--prune", action=argparse.BooleanOptionalAction, default=True,
                        help="stop unpromising trials early from their validation loss (turns early_stopping on)")
    parser.add_argument("--out", metavar="MODEL", help="also save the best model here (.npz)")
    parser.add_argument("--flucoma", action="store_true",
                        help="also write the best model as FluCoMa JSON (with its scaler) beside each saved model")
    scaling.add_arguments(parser, targets=False)
    preparing.add_arguments(parser)


def read_space(entries: list[str]):
    """The search space of the ``--space`` values: ``NAME=SPEC`` strings and JSON files."""
    parts = []
    for entry in entries:
        if "=" in entry or Path(entry).suffix.lower() != ".json":
            try:
                parts.append(parse_space([entry]))
            except ValueError as error:  # "search space entry 'X': why" -> "--space X: why"
                raise CLIError(f"--space {entry}: {str(error).removeprefix(f'search space entry {entry!r}: ')}") from None
            continue
        try:
            text = Path(entry).read_text(encoding="utf-8")
        except OSError as error:
            raise CLIError(f"--space {entry}: cannot read the space file: {error.strerror or error}") from None
        try:
            parts.append(parse_space(strict_loads(text)))
        except ValueError as error:
            raise CLIError(f"--space {entry}: not a JSON search space ({error}); {FORMS}") from None
    try:
        return combine(parts)
    except ValueError as error:
        raise CLIError(f"--space: {error}") from None


def run(args) -> int:
    from .._wrappers import name_columns
    from ..experiments.export import write_flucoma_beside
    from ..experiments.sweep import sweep

    if args.trials < 1 or args.jobs < 1 or args.population < 1:
        raise CLIError(f"--trials {args.trials} --jobs {args.jobs} --population {args.population}: each is a whole"
                       " number from 1")
    space = read_space(args.space)
    data = options.read_training_data(args)
    task, why = options.task_of(args, data)
    args.scale_target = "none"  # (the sweep searches the network's parameters; targets stay as they are)
    chosen = preparing.choose(args, data.X, data.y, task, data.feature_names)
    # Pruning stops trials on held-out rows, so each trial trains as mlpkit fit's default does: watching the
    # validation loss with fit's patience and epochs (validation.py), not the stepwise accuracy that stops early.
    held_out = validation.overrides(None, args.settings) if args.prune else {}
    network = options.build_estimator(task, args, **held_out)
    if args.prune and not any(name.split("__")[-1] == "batch_size" for name in space.names):
        # fit's mini-batches too (validation.batch_size), counted on the training part of a fold
        from ..experiments.sweep import HOLDOUT

        trial_rows = len(data.y) - int(round(len(data.y) * (1 / args.cv if args.cv else HOLDOUT)))
        held_out.update(validation.batch_size(network, trial_rows, args.settings))
        network.set_params(**held_out)
    model = preparing.wrap(network, chosen)  # prepared inside every fold
    searched = space.names
    try:
        if not any("__" in name for name in searched):
            space.check(network)  # (the error names the parameter as the user wrote it)
        space = for_model(space, model)
        space.check(model)
    except ValueError as error:
        raise CLIError(f"--space: {error}") from None
    print(f"mlpkit: {data.n_samples} rows, {data.X.shape[1]} features from {data.source}; task {task}: {why};"
          f" searching {', '.join(searched)} in {args.trials} trials; runs in {args.runs}", file=sys.stderr)
    preparing.note_left_out_targets(data)
    for name, line in chosen.lines.items():
        report.note(f"{name}: {line} (fitted on the training part of every fold)")
    if held_out.get("early_stopping"):
        report.note(f"pruning watches each trial's held-out loss: a tenth of its training rows is held out, as mlpkit"
                    f" fit does ({', '.join(f'{k}={v}' for k, v in held_out.items())}); --no-prune keeps the"
                    " estimator as it was")  # fmt: skip
    X = preparing.training_rows(chosen, data.X, data.feature_names)
    try:
        result = sweep(model, X, data.y, space, n_trials=args.trials, cv=args.cv, scoring=args.scoring,
                       runs=args.runs, name=args.name, n_jobs=args.jobs, random_state=args.seed, population=args.population,
                       timeout=args.timeout, prune=args.prune, flucoma=args.flucoma)
    except KeyboardInterrupt:
        report.note(f"sweep interrupted; the trials that ended are kept in {args.runs}: run the same command"
                    " again to continue")
        raise
    console = report.console()
    console.print(trials_table(result, space.names, console))
    saved = {"sweep": result.name, "trials run now": result.n_trials_run, "best score": _number(result.best_score_),
             "best settings": ", ".join(f"{_shown(k)}={_value(v)}" for k, v in result.best_params_.items()),
             "model": result.model_path, "FluCoMa model": result.flucoma_path, "FluCoMa scaler": result.scaler_path}
    if args.out:
        best = result.best_estimator_  # the whole model: the preparation (or scaler) and the network
        if data.feature_names and not preparing.has_preparation(best):
            name_columns(best, data.feature_names)  # predict picks columns by name
        _save(best, args.out)
        saved["saved to"] = args.out
        if args.flucoma:  # (its notes would repeat the sweep's own)
            copies = write_flucoma_beside(result.best_estimator_, X, args.out)
            saved.update({"FluCoMa copy": copies.model, "FluCoMa scaler copy": copies.scaler})
    console.print(report.key_value_table("Best", {k: v for k, v in saved.items() if v is not None}))
    for note in result.notes:
        report.note(note.in_words(CLI_WORDS))
    report.note(f"compare the trials in the browser: mlpkit runs {args.runs} --sweep {result.name}")
    return 0


def for_model(space, model):
    """``space`` with each parameter named as ``model.set_params`` names it: a Pipeline's network's parameters
    as ``mlp__name`` (names already holding ``__``, such as ``prepare__scale``, stay as they are)."""
    from dataclasses import replace

    from ..experiments.space import GridPoints, SearchSpace

    steps = getattr(model, "steps", None)
    if not isinstance(steps, list):
        return space
    prefix = f"{steps[-1][0]}__"

    def named(name):
        return name if "__" in name else prefix + name

    def renamed(dimension):
        if isinstance(dimension, GridPoints):
            return replace(dimension, points=tuple({named(k): v for k, v in point.items()} for point in dimension.points))
        return replace(dimension, name=named(dimension.name))

    return SearchSpace(tuple(renamed(dimension) for dimension in space.dimensions))


#: The trials table's own columns, with what to leave out first when the terminal is narrow (``report.Column``).
TRIAL_COLUMNS = (
    report.Column("rank", keep=report.ALWAYS),
    report.Column("trial", keep=1),
    report.Column("status", number=False, keep=3),
    report.Column("score", keep=report.ALWAYS),
    report.Column("±", keep=0),
    report.Column("epochs", keep=2),
    report.Column("seconds", keep=0),
)


def trials_table(result, names, out=None):
    """The trials, best first: rank, status, score, spread over folds, epochs, seconds, then each searched
    value; fitted to the terminal (``report.fitted_table``: the searched values are kept before the rest)."""
    numeric = {name: all(isinstance(t["params"].get(name), (int, float)) and not isinstance(t["params"].get(name), bool)
                         for t in result.trials_) for name in names}
    columns = [*TRIAL_COLUMNS, *(report.Column(_shown(name), number=numeric[name], keep=4) for name in names)]
    rows = [[str(trial["rank"]), str(trial["trial"]), trial["status"], _number(trial["score"]),
             _number(trial["score_std"]), str(trial["epochs"]), _number(trial["seconds"], 2),
             *(_value(trial["params"].get(name, "")) for name in names)] for trial in result.trials_]
    return report.fitted_table(f"Sweep {result.name}: {len(result.trials_)} trials, best first", columns, rows, out)


def _shown(name: str) -> str:
    """A parameter as the user names it: the network's without the Pipeline's ``mlp__``."""
    return name.removeprefix("mlp__")


def _number(value, digits=DIGITS) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}g}"


def _value(value) -> str:
    """A searched value as the command line writes it: 64,32 for layers, relu for text."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(_value, value))
    return _number(value, 3) if isinstance(value, float) else str(value)
