"""``mlpkit fit DATA --target COL --out MODEL``: train a network on a data file and save it.

The task (classify or regress) is detected from the target unless ``--task``
says; hidden layers come from ``--hidden``, any other estimator parameter from
``--set KEY=VALUE``. By default the inputs are prepared as the columns need
(``preparing.py``: categories one-hot, gaps filled, identifiers left out, dates as
numbers; ``--categorical``, ``--keep``), scaled (``--scale``, ``scaling.py``; a
regressor's targets too: ``--scale-target``) and a
tenth of the training rows is held out to stop on, keeping the best epoch's
weights (``--validation``, ``validation.py``); the summary says both.
``--test-size 0.2`` holds out a fifth of the rows (split with ``--seed``) to report
an honest score. ``--out`` and ``--plot`` are checked before training. The model,
with its scalers, is saved with ``mlpkit.save``; with column names (CSV, Parquet)
it remembers them, so ``predict`` and ``evaluate`` pick the right columns from
files with more.
"""

from __future__ import annotations

import argparse
import sys

from ..experiments.store import DEFAULT_RUNS
from . import options, preparing, scale, scaling, training, validation

HELP = "train a network on a data file and save it"

EPILOG = """examples:
  mlpkit fit iris.csv --target species --hidden 16 --out iris.npz --test-size 0.2 --plot plots/
  mlpkit fit houses.parquet --target price --set max_iter=500 --set early_stopping=True --out houses.npz
  mlpkit fit data.npz --out model.npz                   (arrays X and y)
  mlpkit fit features.json --target labels.json --out model.npz   (FluCoMa DataSet + LabelSet)
  mlpkit fit big.parquet --target y --stream --chunk-rows 4096 --epochs 5 --validation 0.1 --out big.npz
  mlpkit fit data.csv --target y --processes 2 --set max_iter=20 --out model.npz   (data parallel)

Ctrl-C stops training between two chunks of epochs: the model so far is saved and the command exits 130."""


def add_arguments(parser) -> None:
    options.add_data_arguments(parser)
    options.add_model_arguments(parser)
    parser.add_argument("--out", metavar="MODEL", required=True, help="where to save the model (.npz)")
    parser.add_argument(
        "--test-size", metavar="SHARE", type=float, default=0.0,
        help="hold out this share of the rows (e.g. 0.2) and report the score on them; default 0: train on all",
    )
    parser.add_argument("--plot", metavar="DIR", help="write PNG plots here: loss, learning rate, confusion matrix or predicted vs true")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="show a progress bar (default: when the output is a terminal)",
    )
    parser.add_argument("--dashboard", action="store_true", help="watch and steer training in the browser (the address is printed)")
    parser.add_argument("--dashboard-port", metavar="PORT", type=int, default=0, help="port of the dashboard on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--keep-dashboard", action="store_true",
        help="after training, keep the dashboard serving the final state until Ctrl-C",
    )
    parser.add_argument(
        "--track", metavar="DIR", nargs="?", const=DEFAULT_RUNS,
        help=f"record the fit as a run in a runs directory (default {DEFAULT_RUNS}); compare runs: mlpkit runs DIR",
    )
    scaling.add_arguments(parser)
    preparing.add_arguments(parser)
    scale.add_arguments(parser)


def run(args) -> int:
    scale.check_flags(args)
    training.check_destinations(args.out, args.plot)  # before anything is read or trained
    if args.stream:
        return scale.run_stream(args)
    data = options.read_training_data(args)
    task, why = options.task_of(args, data)
    target = ", ".join(data.target_names) or "the target"
    held_out = validation.overrides(args.validation, args.settings)
    network = options.build_estimator(task, args, **held_out)  # checks every parameter before anything is printed
    split = training.split(data.X, data.y, args.test_size, args.seed, classify=task == "classify")
    chosen = preparing.choose(args, split.X_train, split.y_train, task, data.feature_names)
    network.set_params(**validation.batch_size(network, len(split.y_train), args.settings))
    split = training.Split(*(preparing.training_rows(chosen, part, data.feature_names) if i % 2 == 0 else part
                             for i, part in enumerate((split.X_train, split.y_train, split.X_test, split.y_test))))  # fmt: skip
    other = "regress" if task == "classify" else "classify"
    print(f"mlpkit: {data.n_samples} rows, {data.X.shape[1]} features from {data.source}; task {task} for {target}:"
          f" {why}; --task {other} to change", file=sys.stderr)
    preparing.note_left_out_targets(data)
    for name, line in chosen.lines.items():
        print(f"mlpkit: {name}: {line}", file=sys.stderr)
    return training.run(preparing.wrap(network, chosen), split, training.Options(
        scaling=chosen,
        out=args.out,
        progress=sys.stdout.isatty() if args.progress is None else args.progress,
        dashboard=args.dashboard or args.keep_dashboard,
        dashboard_port=args.dashboard_port,
        keep_dashboard=args.keep_dashboard,
        plot_dir=args.plot,
        feature_names=data.feature_names,
        track=args.track,
        fit=None if args.processes is None else scale.data_parallel(args.processes, args.timeout),
    ))
