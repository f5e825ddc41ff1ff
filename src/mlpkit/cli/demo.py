"""``mlpkit demo``: train on scikit-learn's bundled digits, with the progress bar, and write plots.

A classifier with one hidden layer of 64 units learns the 8x8 images of
handwritten digits (1797 rows, pixel values scaled to [0, 1]); a quarter of the
rows is held out for the score. Early stopping watches a further tenth: as
``mlpkit fit`` does by default (``validation.py``), it stops once the validation
*loss* has not improved for 20 epochs and keeps that best epoch's weights, so the
demo trains to its own best held-out score (watching the accuracy, which moves in
steps, stopped it at epoch 47 with the loss still falling: 0.94 where a full fit
reaches 0.97). The loss plot shows the validation curve and the best epoch. The directory (default ``./mlpkit-demo``)
receives the model (``digits.npz``) and the plots (loss, learning rate,
confusion matrix on the held-out rows).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import training, validation
from .errors import CLIError

HELP = "train on scikit-learn's digits with a progress bar and write plots (default ./mlpkit-demo)"


def add_arguments(parser) -> None:
    parser.add_argument("--out", metavar="DIR", default="mlpkit-demo", help="directory for the model and plots (default ./mlpkit-demo)")
    parser.add_argument("--max-iter", type=int, default=validation.SETTINGS["max_iter"],
                        help=f"most epochs (default {validation.SETTINGS['max_iter']}; it stops earlier on its own)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show the progress bar (default: when the output is a terminal)")
    parser.add_argument("--dashboard", action="store_true", help="also watch training in the browser")


def run(args) -> int:
    from sklearn.datasets import load_digits

    from ..estimators import MLPClassifier

    if args.max_iter < 1:
        raise CLIError(f"--max-iter {args.max_iter}: give at least 1 epoch")
    directory = Path(args.out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CLIError(f"--out {args.out}: cannot create the directory: {error.strerror or error}") from None
    X, y = load_digits(return_X_y=True)
    print(f"mlpkit demo: {len(X)} handwritten digits (8x8 pixels), 10 classes; results in {directory}/", file=sys.stderr)
    held_out = {**validation.overrides(None, []), "max_iter": args.max_iter}
    model = MLPClassifier(hidden_layer_sizes=(64,), random_state=args.seed, **held_out)
    split = training.split(X / 16.0, y, 0.25, args.seed, classify=True)
    return training.run(model, split, training.Options(
        out=str(directory / "digits.npz"),
        progress=sys.stdout.isatty() if args.progress is None else args.progress,
        dashboard=args.dashboard,
        plot_dir=str(directory),
    ))
