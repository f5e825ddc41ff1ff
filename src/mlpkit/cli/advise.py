"""``mlpkit advise DATA --target COL``: advice on a first network for the data (``mlpkit.guide.advise``).

How big a network the rows support, whether to scale the inputs, class
balance, a batch size, and what to change if the network under- or overfits.
"""

from __future__ import annotations

from ..guide import advise
from . import options
from .errors import CLIError

HELP = "advice on a first network for the data: size, scaling, class balance (mlpkit.guide.advise)"


def add_arguments(parser) -> None:
    options.add_data_arguments(parser)
    parser.add_argument("--task", choices=sorted(options.ESTIMATORS), help="classify or regress (default: detected)")
    parser.add_argument("--hidden", metavar="SIZES", type=options.parse_hidden, help="judge these hidden layer sizes, e.g. 64,32")


def run(args) -> int:
    data = options.read_training_data(args)
    task = args.task or options.detect_task(data.y)[0]
    options.check_task(task, data.y, ", ".join(data.target_names) or "the target")
    try:
        print(advise(data.X, data.y, hidden_layer_sizes=args.hidden, task=task, feature_names=data.feature_names))
    except ValueError as error:
        raise CLIError(f"advise: {error}") from None
    return 0
