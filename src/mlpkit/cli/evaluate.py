"""``mlpkit evaluate MODEL DATA --target COL``: how well a saved model does on labelled data.

Classifiers: accuracy and F1 (macro and weighted averages over the classes), and the
confusion matrix. Regressors: R2, mean absolute error, root mean squared error.
``--plot DIR`` also draws the confusion matrix or predicted-vs-true values as PNG.
"""

from __future__ import annotations

from pathlib import Path

from . import options, preparing, report
from .errors import CLIError

HELP = "score a saved model on labelled data (accuracy, F1, confusion matrix; or R2, MAE, RMSE)"

EPILOG = """examples:
  mlpkit evaluate iris.npz test.csv --target species
  mlpkit evaluate model.npz features.json --target labels.json --plot plots/"""


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file (mlpkit fit --out, or a FluCoMa MLP JSON)")
    options.add_data_arguments(parser)
    parser.add_argument("--plot", metavar="DIR", help="write the confusion matrix or predicted-vs-true plot here (PNG)")


def run(args) -> int:
    with preparing.notes():  # (a level never seen in training: a note, not a traceback)
        return _run(args)


def _run(args) -> int:
    model = options.load_model(args.model)
    if args.target is None and not args.data.lower().endswith(".npz"):
        raise CLIError(f"{args.data}: name the true values with --target ({options.TARGET_HELP})")
    data = options.read_for_model(model, args.data, target=args.target or "y", drop=options.drop_list(args))
    console = report.console()
    metrics = report.scores(model, data.X, data.y)
    title = f"{type(model).__name__} on {Path(data.source).name}"
    console.print(report.scores_table(title, {"all rows": {"rows": data.n_samples, "scores": metrics}}))
    if options.is_classifier(model):
        table = report.confusion_table(model, data.X, data.y)
        if table is not None:
            console.print(table)
        elif data.y.ndim == 1 and not args.plot:
            report.note(f"the confusion matrix is too wide for {console.width} columns; --plot DIR draws it")
    if args.plot:
        from .. import plots

        try:
            with options.columns_checked_by_name():
                written = plots.write_plots(model, args.plot, data.X, data.y, prefix="evaluate_")
        except OSError as error:
            raise CLIError(f"--plot {args.plot}: cannot write the plots: {error.strerror or error}") from None
        report.note("plots: " + ", ".join(str(p) for p in written))
    return 0
