"""The ``mlpkit`` command: train, use and inspect networks from the shell.

::

    mlpkit fit DATA --target COL --out MODEL [--task classify|regress] [--hidden 64,32]
               [--set KEY=VALUE ...] [--seed N] [--test-size 0.2] [--plot DIR]
               [--scale auto|standard|minmax|robust|none] [--scale-target auto|standard|none]
               [--validation SHARE]
               [--progress/--no-progress] [--dashboard [--keep-dashboard]] [--track [DIR]]
    mlpkit predict MODEL DATA [--out FILE.csv|FILE.json] [--proba]
    mlpkit evaluate MODEL DATA --target COL [--plot DIR]
    mlpkit inspect MODEL
    mlpkit lr-find DATA --target COL [--plot lr.png] [--scale ...]
    mlpkit advise DATA --target COL [--hidden 64,32] [--no-trials]
    mlpkit convert MODEL --to flucoma|onnx|native --out FILE
    mlpkit demo [--out DIR]
    mlpkit runs DIR [--port P] [--sweep NAME] [--open]
    mlpkit sweep DATA --target COL --space SPEC [--space ...] --trials N [--cv K] [--jobs J]
                 [--runs DIR] [--name NAME] [--out MODEL] [--hidden ...] [--set KEY=VALUE ...]
    mlpkit serve [--host H] [--port P] [--reply-port P] [--autosave DIR] [--dashboard]

DATA is CSV/TSV (a header row), Parquet, ``.npy`` (a 2-D array; ``--target`` a
column index), ``.npz`` (arrays ``X`` and ``y``) or a FluCoMa DataSet JSON
(``--target`` a DataSet/LabelSet JSON file paired by identifier): see
``mlpkit.data_files``. Exit codes: 0 done, 2 a bad file, column or option (one
line ``mlpkit: error: ...`` on stderr), 130 interrupted by Ctrl-C (``fit``
still saves the model): see ``errors.py``. A bare ``mlpkit`` prints the help and
exits 0, as ``pip`` and ``docker`` do: asking for nothing is asking what there is.

Each subcommand is a module with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> exit code`` (and optionally ``EPILOG``); ``COMMANDS`` maps the
names to them. ``python -m mlpkit.cli`` runs the same as the ``mlpkit`` script.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import advise, convert, demo, evaluate, fit, inspect_model, lr_find, predict, runs, serve, sweep
from .errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, USER_ERRORS, CLIError, debugging, one_line

__all__ = ["COMMANDS", "build_parser", "main"]

#: Subcommand name -> module with HELP, add_arguments(parser) and run(args).
COMMANDS = {
    "fit": fit,
    "predict": predict,
    "evaluate": evaluate,
    "inspect": inspect_model,
    "lr-find": lr_find,
    "advise": advise,
    "convert": convert,
    "demo": demo,
    "runs": runs,
    "sweep": sweep,
    "serve": serve,
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line ``mlpkit: error: ...`` (exit 2) instead of usage + message."""

    def error(self, message):
        raise CLIError(f"{message} (see {self.prog} --help)")


def build_parser() -> Parser:
    parser = Parser(
        prog="mlpkit",
        description="Multilayer perceptrons for tabular data: train, predict, evaluate, inspect, convert.",
        epilog="Run 'mlpkit COMMAND --help' for a command's options; 'mlpkit demo' for a first look.",
    )
    parser.add_argument("--version", action="version", version=f"mlpkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for name, module in COMMANDS.items():
        sub = commands.add_parser(
            name, help=module.HELP, description=(module.__doc__ or "").strip().split("\n\n")[0],
            epilog=getattr(module, "EPILOG", None), formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
    return parser


def main(argv=None) -> int:
    """Run ``mlpkit`` with ``argv`` (default: the command line); returns the exit code.

    ``--help`` and ``--version`` exit through ``SystemExit(0)``, as argparse does.
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return EXIT_OK
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print("mlpkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as error:
        if debugging():
            raise
        print(f"mlpkit: error: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
