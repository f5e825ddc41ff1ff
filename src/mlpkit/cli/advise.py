"""``mlpkit advise DATA --target COL``: advice on a first network for the data (``mlpkit.guide.advise``).

The same advice as ``mlpkit.guide.advise`` (a first network, chosen on evidence from
a few short trainings where the data is small; its learning rate from the range
test; scaling, class balance, a batch size, and what to change if the network
under- or overfits), with the settings written as ``mlpkit fit`` options.
"""

from __future__ import annotations

import argparse

from . import options, preparing
from .errors import CLIError

HELP = "advice on a first network for the data: size, scaling, class balance (mlpkit.guide.advise)"


def add_arguments(parser) -> None:
    options.add_data_arguments(parser)
    parser.add_argument("--task", choices=sorted(options.ESTIMATORS), help="classify or regress (default: detected)")
    parser.add_argument("--hidden", metavar="SIZES", type=options.parse_hidden,
                        help="advise on these hidden layer sizes, e.g. 64,32 (default: choose them)")
    parser.add_argument("--seed", metavar="N", type=int, default=0, help="random seed of the trials (default 0)")
    parser.add_argument(
        "--trials", action=argparse.BooleanOptionalAction, default=None,
        help="choose the network by a few short trainings on held-out folds (default: where the data is small)",
    )  # fmt: skip
    preparing.add_arguments(parser)


def run(args) -> int:
    from ..guide import advise

    data = options.read_training_data(args)
    task, _ = options.task_of(args, data)
    preparing.note_left_out_targets(data)
    try:
        advice = advise(data.X, data.y, hidden_layer_sizes=args.hidden, task=task, feature_names=data.feature_names,
                        evidence_trials="auto" if args.trials is None else args.trials, random_state=args.seed,
                        categorical=options.column_names(args.categorical) or None, keep=options.column_names(args.keep) or None)  # fmt: skip
    except ValueError as error:
        raise CLIError(f"advise: {error}") from None
    print(advice.describe("cli"))
    return 0
