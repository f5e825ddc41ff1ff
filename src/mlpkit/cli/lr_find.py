"""``mlpkit lr-find DATA --target COL [--plot lr.png]``: suggest a learning rate (``mlpkit.guide.lr_find``).

Trains a copy of the network for ``--steps`` mini-batches while the learning
rate grows from ``--start`` to ``--end``, and suggests the rate where the loss
falls fastest (or says that the curve gives no clear answer). The network and the
data are those ``mlpkit fit`` would train with the same ``--task``, ``--hidden``,
``--set``, ``--seed``, ``--scale``, ``--scale-target``, ``--categorical`` and ``--keep``: the inputs prepared
(and a regressor's targets scaled) as fit prepares them, so the rate suits that fit.
"""

from __future__ import annotations

from . import options, preparing, report, scaling
from .errors import CLIError

HELP = "suggest a learning rate with a range test (mlpkit.guide.lr_find)"

EPILOG = """example:
  mlpkit lr-find iris.csv --target species --hidden 16 --plot lr.png
  then: mlpkit fit iris.csv --target species --hidden 16 --set learning_rate_init=<suggestion> ..."""


def add_arguments(parser) -> None:
    options.add_data_arguments(parser)
    options.add_model_arguments(parser)
    parser.add_argument("--start", type=float, default=1e-7, help="first learning rate (default 1e-7)")
    parser.add_argument("--end", type=float, default=10.0, help="last learning rate (default 10)")
    parser.add_argument("--steps", type=int, default=100, help="mini-batches in the sweep (default 100)")
    parser.add_argument("--plot", metavar="FILE", help="write the loss against the learning rate here (PNG)")
    scaling.add_arguments(parser)
    preparing.add_arguments(parser)


def run(args) -> int:
    from .. import plots
    from ..guide import lr_find

    data = options.read_training_data(args)
    task, _ = options.task_of(args, data)
    preparing.note_left_out_targets(data)
    model = options.build_estimator(task, args)
    chosen = preparing.choose(args, data.X, data.y, task, data.feature_names)
    for name, line in chosen.lines.items():
        report.note(f"{name}: {line}")
    X, y = preparing.prepared(chosen, data.X, data.y, data.feature_names)
    try:
        result = lr_find(model, X, y, start=args.start, end=args.end, steps=args.steps)
    except ValueError as error:
        raise CLIError(f"lr-find: {error}") from None
    print(result)
    if result.clear:
        print(f"try: --set learning_rate_init={result.suggestion:.2g}")
    else:
        print(f"no rate to suggest from this sweep; the rate stays --set learning_rate_init={result.suggestion:.2g}")
    if args.plot:
        try:
            plots.lr_find_curve(result).savefig(args.plot)
        except (OSError, ValueError) as error:
            raise CLIError(f"--plot {args.plot}: cannot write the plot: {error}") from None
        report.note(f"plot: {args.plot}")
    return 0
