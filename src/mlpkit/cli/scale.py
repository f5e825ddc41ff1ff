"""``mlpkit fit --stream`` and ``mlpkit fit --processes N``: data larger than memory, and several processes.

``--stream`` trains through :func:`mlpkit.stream.fit_stream`, reading a Parquet or CSV file in
record batches of ``--chunk-rows`` rows, never all of it: the task is detected from the first chunk,
a classifier finds its labels in a first pass over the file, and ``--validation SHARE`` holds out
every k-th chunk (k = 1 / SHARE; in memory it holds out rows: ``validation.py``) to score after each
epoch and stop early on. Scores on the whole
file would load it, so the summary gives the streamed losses instead: each epoch's training loss
(the mean over its chunks, as they were trained on) and the held-out chunks' loss and score.

``--processes N`` trains with :func:`mlpkit.distributed.fit_data_parallel` (N local processes, each
with its shard of the rows, gradients summed at every step); the data, the scores, saving and plots
are the normal fit's.
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import partial

from .. import _scale_defaults as defaults
from . import options, report, scaling, training
from .errors import CLIError

#: Flags that only --stream reads, with what to do instead without it.
STREAM_ONLY = {
    "chunk_rows": "--chunk-rows",
    "epochs": "--epochs",
    "shuffle_buffer": "--shuffle-buffer",
    "patience": "--patience",
}


# ------------------------------------------------------------------------ arguments
def add_arguments(parser) -> None:
    """The ``larger data`` group of ``mlpkit fit``: --stream and its settings, --processes, --timeout."""
    group = parser.add_argument_group(
        "larger data",
        "--stream trains on a Parquet or CSV file a chunk at a time (memory stays flat as the file grows);"
        " --processes N trains data-parallel over N local processes",
    )
    group.add_argument(
        "--stream",
        action="store_true",
        help="read DATA (Parquet or CSV) in chunks and train through partial_fit, never loading it whole",
    )
    def count(flag, least):
        return partial(whole_number, flag, least=least)

    flags = [  # flag, metavar, type, help
        ("--chunk-rows", "N", count("--chunk-rows", 1),
         f"--stream: rows read and trained on at a time (default {defaults.STREAM_CHUNK_ROWS})"),
        ("--epochs", "E", count("--epochs", 1), f"--stream: passes over the file (default {defaults.STREAM_EPOCHS})"),
        ("--shuffle-buffer", "R", count("--shuffle-buffer", 0),
         f"--stream: rows held for shuffling (default {defaults.STREAM_SHUFFLE_BUFFER}; 0 keeps the file's order)"),
        ("--validation", "SHARE", held_out_share,
         ("hold out this share of the rows (default 0.1; with --stream, of the chunks: 0.1 is every 10th and the"
          " default is none), stop when their loss stops improving and keep the best epoch's weights; 0: none")),
        ("--patience", "P", count("--patience", 1),
         f"--validation: epochs without improvement before stopping (default {defaults.STREAM_PATIENCE})"),
        ("--processes", "N", count("--processes", 1),
         "train data-parallel over N local processes (mlpkit.distributed.fit_data_parallel)"),
    ]  # fmt: skip
    for flag, metavar, kind, text in flags:
        group.add_argument(flag, metavar=metavar, type=kind, help=text)
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_seconds,
        help="--processes: stop every process and fail if training takes longer"
        f" (default {defaults.DATA_PARALLEL_TIMEOUT:g})",
    )


def whole_number(flag: str, text: str, *, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < least:
        raise CLIError(f"{flag} {text!r}: give a whole number of at least {least}")
    return value


def held_out_share(text: str) -> float:
    """``--validation SHARE``: the share held out, 0 (none) to 0.5."""
    try:
        share = float(text)
    except ValueError:
        share = None
    if share is None or not 0 <= share <= 0.5:
        raise CLIError(
            f"--validation {text!r}: give the share to hold out, from 0 (none) to 0.5 (0.1 holds out a tenth)"
        )
    return share


def every_kth_chunk(share: float | None) -> int | None:
    """``fit_stream(validation=k)`` for ``--validation share``: every k-th chunk held out (None: none)."""
    return None if not share else round(1 / share)


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is None or not seconds > 0:
        raise CLIError(f"--timeout {text!r}: give the most seconds training may take, e.g. 1200")
    return seconds


def check_flags(args) -> None:
    """Flags that do not go together, each named with what to do instead."""
    if not args.stream:
        for name, flag in STREAM_ONLY.items():
            if getattr(args, name) is not None:
                instead = "; for a fit in memory, --set max_iter=E" if name == "epochs" else ""
                raise CLIError(
                    f"{flag} goes with --stream (training a chunk at a time): add --stream{instead}"
                )
    elif args.patience is not None and not args.validation:
        raise CLIError(
            "--patience counts epochs without improvement on held-out chunks: add --validation SHARE"
        )
    if args.timeout is not None and args.processes is None:
        raise CLIError("--timeout limits the processes of --processes N: add --processes, or drop --timeout")
    if args.stream:
        _refuse(
            args,
            "--stream",
            {
                "processes": "--processes trains on rows in memory; drop one of them",
                "test_size": "--test-size splits rows in memory; hold out chunks with --validation SHARE instead",
                "plot": "the plots need the data in memory; plot a sample with mlpkit evaluate MODEL SAMPLE --plot DIR",
                "dashboard": "the dashboard follows a fit in memory; the epochs of --stream are printed as they end",
                "keep_dashboard": "the dashboard follows a fit in memory; the epochs of --stream are printed as they end",
                "drop": "every column but --target is a feature; write the file without the column",
                "track": "a run records the epochs of a fit in memory, and --stream trains through partial_fit",
            },
        )
    elif args.processes is not None:
        _refuse(
            args,
            f"--processes {args.processes}",
            {
                "dashboard": "the dashboard watches a fit in this process, and the training runs in others",
                "keep_dashboard": "the dashboard watches a fit in this process, and the training runs in others",
                "track": "a run records the epochs of a fit in this process, and the training runs in others",
            },
        )


def _refuse(args, flag: str, reasons: dict) -> None:
    for name, why in reasons.items():
        if getattr(args, name):
            raise CLIError(f"{flag} and --{name.replace('_', '-')} do not go together: {why}")


# ------------------------------------------------------------------------ --processes
def data_parallel(n_processes: int, timeout: float | None):
    """The ``fit(model, X, y)`` of ``training.run`` for ``--processes N``: the launcher's errors as CLI errors."""
    limit = {} if timeout is None else {"timeout": timeout}

    def fit(model, X, y):
        from ..distributed import DistributedError, fit_data_parallel

        try:
            fit_data_parallel(model, X, y, n_processes=n_processes, **limit)
        except (NotImplementedError, DistributedError) as error:
            raise CLIError(f"--processes {n_processes}: {error}") from None

    return fit


# ------------------------------------------------------------------------ --stream
def run_stream(args) -> int:
    """``mlpkit fit DATA --stream``: train a chunk at a time, save, report the streamed losses."""
    path, target = args.data, args.target
    from .. import stream

    suffixes = defaults.PARQUET_SUFFIXES + defaults.CSV_SUFFIXES
    if os.path.splitext(path)[1].lower() not in suffixes:
        raise CLIError(
            f"--stream reads Parquet or CSV files ({', '.join(suffixes)}); for {path}, drop --stream"
        )
    if target is None:
        raise CLIError(f"{path}: name the label column with --target")
    chunk_rows = args.chunk_rows or defaults.STREAM_CHUNK_ROWS
    feature_names = stream.feature_names(path, target)
    with contextlib.closing(stream.as_chunk_reader(path, target=target, chunk_rows=chunk_rows)()) as chunks:
        _, X, y = next(chunks)
    task, why = (args.task, "as asked") if args.task else options.detect_task(y)
    options.check_task(task, y, target)
    model = options.build_estimator(task, args)
    _check_streamable(model, args)
    scaling.check_streamable(args)
    other = "regress" if task == "classify" else "classify"
    print(
        f"mlpkit: streaming {path} in chunks of {chunk_rows} rows, {X.shape[1]} features; task {task} for"
        f" {target}: {why}{'' if args.task else ' in the first chunk'}; --task {other} to change",
        file=sys.stderr,
    )
    epochs = args.epochs or defaults.STREAM_EPOCHS
    settings = {
        name: getattr(args, name)
        for name in ("shuffle_buffer", "patience")
        if getattr(args, name) is not None
    }

    def fit(model, X, y):
        stream.fit_stream(
            model, path, target=target, epochs=epochs, chunk_rows=chunk_rows,
            validation=every_kth_chunk(args.validation),
            random_state=args.seed, on_epoch=partial(_print_epoch, model, epochs), **settings,
        )  # fmt: skip
        if not hasattr(model, "coefs_"):  # Ctrl-C before the first chunk was trained on: nothing to save
            raise KeyboardInterrupt

    summary = partial(
        _print_stream_summary, epochs=epochs, patience=settings.get("patience", defaults.STREAM_PATIENCE)
    )
    return training.run(
        model,
        training.Split(None, None),
        training.Options(
            out=args.out,
            feature_names=feature_names,
            fit=fit,
            summary=summary,
        ),
    )


def _check_streamable(model, args) -> None:
    """Estimator settings that --stream (partial_fit) cannot use, with the flag to use instead."""
    given = {key for key, _ in args.settings}
    if "max_iter" in given:
        raise CLIError(
            f"--stream trains for --epochs passes over the file; use --epochs {model.max_iter}, not --set max_iter"
        )
    if model.early_stopping:
        raise CLIError(
            "--stream cannot use --set early_stopping=True (partial_fit has none); hold out chunks with --validation SHARE"
        )
    if model.solver == "lbfgs":
        raise CLIError(
            "--stream trains through partial_fit, which solver='lbfgs' lacks; use --set solver=adam (or sgd)"
        )


def _score_name(model) -> str:
    return "accuracy" if options.is_classifier(model) else "R2"


def _print_epoch(model, epochs: int, epoch: int, history: dict) -> None:
    """``mlpkit: epoch 2/5: training loss 0.41, validation loss 0.39, accuracy 0.87`` on stderr."""
    line = f"mlpkit: epoch {epoch}/{epochs}: training loss {history['train_loss'][-1]:.4g}"
    if history["val_loss"]:
        line += f", validation loss {history['val_loss'][-1]:.4g}, {_score_name(model)} {history['val_score'][-1]:.4g}"
    print(line, file=sys.stderr, flush=True)


def _print_stream_summary(
    model, seconds: float, out: str, interrupted: bool, *, epochs: int, patience: int
) -> None:
    history = model.stream_history_
    ran = len(history["train_loss"])
    if interrupted:
        ended = "interrupted (Ctrl-C)"
    elif ran < epochs:
        ended = f"stopped early: no validation loss improvement for {patience} epochs"
    else:
        ended = "all epochs run"
    rows = {
        "rows trained": f"{history['rows_trained']:,}"
        + (f" ({history['rows_trained'] // ran:,} per epoch)" if ran else ""),
        "epochs": f"{ran} of --epochs {epochs}",
        "ended": ended,
    }
    if ran:
        rows["training loss"] = (
            f"{history['train_loss'][-1]:.4g} (last epoch: the mean of its chunks' losses while training)"
        )
    best = history["best_epoch"]
    if best is not None:
        rows["validation loss"] = (
            f"{history['val_loss'][best]:.4g} (epoch {best + 1}, whose weights are kept)"
        )
        rows[f"validation {_score_name(model)}"] = f"{history['val_score'][best]:.4g}"
    rows["fit time"] = (
        f"{seconds:.2f} s ({history['rows_trained'] / max(history['seconds'], 1e-9):,.0f} rows/s)"
    )
    rows["parameters"] = f"{model.n_parameters_:,}"
    rows["saved to"] = out
    report.console().print(report.key_value_table("Streamed training", rows))
    if best is None:
        report.note(
            "no held-out score: the loss is the training chunks'; hold out chunks with --validation 0.1"
        )
