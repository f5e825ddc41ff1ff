"""Train on data too big for memory: several epochs over a stream of chunks, through ``partial_fit``.

``fit_stream(estimator, source, ...)`` is the whole interface::

    from mlpkit import MLPClassifier
    from mlpkit.stream import fit_stream

    model = MLPClassifier(hidden_layer_sizes=(64,), random_state=0)
    fit_stream(model, "train.parquet", target="label", epochs=5, validation=10)
    model.stream_history_["val_loss"]

A *source* is one of

- a Parquet file (``.parquet``, ``.pq``) or a CSV file (``.csv``, ``.tsv``, ``.txt``), read in record
  batches with pyarrow (``pip install "mlpkit[stream]"``); ``target`` names the label column, every
  other column is a feature;
- a callable returning a fresh iterable of ``(X, y)`` chunks each time it is called (one call per
  pass over the data);
- an iterable of ``(X, y)`` chunks that can be iterated again (a list, a generator *function's*
  result cannot: it is used up after one pass).

Each epoch reads the source once. Rows go through a bounded shuffle buffer (at most
``shuffle_buffer`` rows are held at a time) and reach ``partial_fit`` in chunks of ``chunk_rows``
rows; memory stays flat however large the source is. Classifiers need every label up front:
``classes=`` gives them, or a first pass over the source finds them.

Validation, with early stopping across epochs: ``validation=k`` holds out every k-th chunk of the
source (never trained on), ``validation=<another source>`` uses that. After each epoch the held-out
rows are scored (the estimator's loss, as in training, and accuracy or R^2); training stops by
``fit``'s own rule (``stopping.judge_epoch``, with ``patience`` as its ``n_iter_no_change``): after
more than ``patience`` epochs in a row that do not improve the monitored value by the estimator's
``tol``. The training state of the best epoch is put back (weights, moments and counters).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import re
import threading
import time
import warnings
from dataclasses import dataclass, field

import jax
import numpy as np
from sklearn.base import is_classifier

from ._scale_defaults import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    STREAM_EPOCHS,
    STREAM_PATIENCE,
    STREAM_SHUFFLE_BUFFER,
)
from ._scale_defaults import STREAM_CHUNK_ROWS as DEFAULT_CHUNK_ROWS
from .guide.sizing import DataSizeWarning
from .losses import LOSSES
from .stopping import judge_epoch

#: The line (from 1, the header's) that pyarrow's CSV errors name, when read on one thread.
CSV_ROW = re.compile(r"\bRow #(\d+)")

#: The fitted attributes that make up a network (copied to keep the best epoch's weights).
#: What the estimators warn when Ctrl-C stopped their training (``fit`` and ``partial_fit``).
INTERRUPTED_MESSAGE = "Training interrupted by user"


class StreamError(ValueError):
    """The stream's data is not usable: a chunk of another width, an unseen label, an unreadable file."""


# --------------------------------------------------------------------------------------- entry point
def fit_stream(
    estimator,
    source,
    *,
    target=None,
    epochs=STREAM_EPOCHS,
    classes=None,
    shuffle_buffer=STREAM_SHUFFLE_BUFFER,
    chunk_rows=None,
    validation=None,
    monitor="loss",
    patience=STREAM_PATIENCE,
    random_state=None,
    on_epoch=None,
):
    """Train ``estimator`` for ``epochs`` passes over ``source`` through ``partial_fit``; returns it.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor (any estimator with ``partial_fit``)
        Trained in place. If it is already fitted, training goes on from its weights, as
        ``partial_fit`` does; pass ``sklearn.base.clone(estimator)`` to start afresh.
    source : path, callable or re-iterable
        Parquet/CSV file, a callable returning a fresh iterable of ``(X, y)`` chunks per call, or a
        re-iterable of such chunks (see the module's docstring).
    target : str, optional
        Name of the label column of a file source (required for files, unused otherwise).
    epochs : int, default=1
        Passes over the source.
    classes : array-like, optional
        Every label (classifiers, one label per row). When None, a fitted estimator's ``classes_``,
        else a first pass over the source finds them.
    shuffle_buffer : int, default=10_000
        Rows held at most for shuffling; 0 keeps the source's order.
    chunk_rows : int, optional
        Rows per ``partial_fit`` call (default ``DEFAULT_CHUNK_ROWS``); also the record-batch size
        read from a Parquet file.
    validation : int or source, optional
        ``k``: hold out every k-th chunk of the source; or a separate source of held-out rows.
    monitor : {'loss', 'score'}, default='loss'
        Early stopping watches the validation loss (lower is better) or score (accuracy, R^2).
    patience : int, default=3
        Training stops after more than this many epochs in a row without improvement (with
        ``validation``), as ``fit`` does after more than ``n_iter_no_change``.
    random_state : int or None
        Seeds the shuffle buffer.
    on_epoch : callable, optional
        Called after each epoch (and its validation) as ``on_epoch(epoch, history)``, ``epoch``
        counting from 1, ``history`` as ``stream_history_`` so far: to show progress.

    After the call ``estimator.stream_history_`` holds, per epoch, ``train_loss`` (mean of the
    chunks' losses), ``val_loss`` and ``val_score`` (with validation), plus ``best_epoch``,
    ``rows_trained`` and ``seconds``.

    Ctrl-C (KeyboardInterrupt) stops training as it does in ``fit``: the epochs finished so far
    are kept (with validation, the best one's weights), ``stream_history_`` is set, and a
    ``UserWarning`` "Training interrupted by user." is issued instead of the exception.
    """
    _check_arguments(estimator, epochs, shuffle_buffer, chunk_rows, validation, monitor, patience)
    chunk_rows = int(chunk_rows or DEFAULT_CHUNK_ROWS)
    read = as_chunk_reader(source, target=target, chunk_rows=chunk_rows, name="source")
    held_out = None
    if isinstance(validation, (int, np.integer)) and not isinstance(validation, bool):
        read, held_out = _split_every_kth(read, int(validation), chunk_rows)
    elif validation is not None:
        held_out = as_chunk_reader(validation, target=target, chunk_rows=chunk_rows, name="validation")

    if is_classifier(estimator):
        if classes is None and hasattr(estimator, "classes_"):  # training goes on: its labels stand
            classes = estimator.classes_
        classes = _known_classes(read, classes)
    trainer = _Trainer(estimator, classes, chunk_rows, shuffle_buffer, np.random.default_rng(random_state))
    stopper = _EarlyStopper(monitor, patience, estimator.tol) if held_out is not None else None
    history = trainer.history
    started = time.perf_counter()
    try:
        for epoch in range(epochs):
            history.train_loss.append(trainer.train_one_epoch(read))
            if stopper is not None:
                loss, score = evaluate(estimator, held_out, classes)
                history.val_loss.append(loss)
                history.val_score.append(score)
                if stopper.improved(loss, score):
                    stopper.keep(estimator, epoch)
            if on_epoch is not None:
                on_epoch(epoch + 1, history.as_dict())
            if stopper is not None and stopper.exhausted():
                break
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
        warnings.warn(INTERRUPTED_MESSAGE + ".")
    if stopper is not None:
        stopper.restore_best(estimator, mid_epoch=interrupted)
        history.best_epoch = stopper.best_epoch
    history.seconds = time.perf_counter() - started
    estimator.stream_history_ = history.as_dict()
    return estimator


def _check_arguments(estimator, epochs, shuffle_buffer, chunk_rows, validation, monitor, patience):
    """Fail early, naming the argument, for values that cannot work."""
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"fit_stream trains through partial_fit, which {type(estimator).__name__} lacks"
            + (
                " with solver='lbfgs'; use a stochastic solver such as 'adam' or 'sgd'."
                if getattr(estimator, "solver", None) == "lbfgs"
                else "."
            )
        )
    if getattr(estimator, "early_stopping", False):
        raise ValueError(
            "fit_stream cannot use the estimator's early_stopping=True (partial_fit does not support it);"
            " set early_stopping=False and pass validation= to fit_stream for early stopping across epochs."
        )
    for name, value, least in (
        ("epochs", epochs, 1),
        ("shuffle_buffer", shuffle_buffer, 0),
        ("patience", patience, 1),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}; got {value!r}.")
    if chunk_rows is not None and (not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive integer or None; got {chunk_rows!r}.")
    if isinstance(validation, (int, np.integer)) and not isinstance(validation, bool) and validation < 2:
        raise ValueError(f"validation=k holds out every k-th chunk and needs k >= 2; got {validation!r}.")
    if monitor not in ("loss", "score"):
        raise ValueError(f"monitor must be 'loss' or 'score'; got {monitor!r}.")


# ------------------------------------------------------------------------------------- sources
def as_chunk_reader(source, *, target=None, chunk_rows=DEFAULT_CHUNK_ROWS, name="source"):
    """A function that returns a fresh iterator of checked ``(index, X, y)`` chunks at each call.

    ``index`` counts the source's chunks from 0 in every pass; errors name it. Every chunk must
    have as many columns as the first one, and as many labels as rows.
    """
    if isinstance(source, (str, os.PathLike)):
        raw = _file_reader(os.fspath(source), target, chunk_rows)
    elif callable(source):
        raw = source
    elif hasattr(source, "__iter__"):
        if iter(source) is source:
            raise TypeError(
                f"the {name} is an iterator, which is used up after one pass; fit_stream reads it once per"
                " epoch (and once more to find the classes). Pass a list, or a function returning a fresh"
                " iterator (e.g. `lambda: make_chunks()` instead of `make_chunks()`)."
            )
        raw = lambda: source
    else:
        raise TypeError(
            f"the {name} must be a Parquet/CSV path, a callable returning an iterable of (X, y) chunks, or a"
            f" list of (X, y) chunks; got {type(source).__name__}."
        )
    width = {}  # the first chunk's width, shared by every pass

    def read():
        for index, chunk in enumerate(raw()):
            yield (index, *_checked_chunk(chunk, index, width, name))

    return read


def _checked_chunk(chunk, index, width, name):
    """``(X, y)`` as 2-D features and labels, after checking the chunk's shape against the first's."""
    try:
        X, y = chunk
    except (TypeError, ValueError):
        raise StreamError(
            f"chunk {index} of the {name} is not an (X, y) pair; got {type(chunk).__name__}."
        ) from None
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise StreamError(
            f"chunk {index} of the {name}: X must be 2-D (rows, features); got shape {X.shape}."
        )
    if y.shape[0] != X.shape[0]:
        raise StreamError(
            f"chunk {index} of the {name} has {X.shape[0]} rows of X but {y.shape[0]} labels; they must match."
        )
    expected = width.setdefault("n_features", X.shape[1])
    if X.shape[1] != expected:
        raise StreamError(
            f"chunk {index} of the {name} has {X.shape[1]} features, the first chunk had {expected}:"
            " every chunk must have the same columns."
        )
    return X, y


def _file_reader(path, target, chunk_rows):
    """Chunks of a Parquet or CSV file, read in record batches so that only a batch is in memory."""
    if target is None:
        raise ValueError(f"reading {path!r} needs target=, the name of the label column.")
    batches = _batches_of(path)
    _fail_unreadable(path, lambda: next(iter(batches(path, chunk_rows, target)), None))

    def read():
        pyarrow = _arrow()
        rows = 0
        pending = iter(batches(path, chunk_rows, target))
        for index in itertools.count():
            try:
                batch = next(pending, None)
            except (OSError, pyarrow.ArrowException) as error:  # a damaged or ragged part, past the first
                line = CSV_ROW.search(str(error))  # pyarrow reads ahead: the row's own chunk, where it says
                where = (
                    f"chunk {(int(line[1]) - 2) // chunk_rows} of {path!r} (line {line[1]})"
                    if line
                    else f"chunk {index} of {path!r} (from row {rows})"
                )
                raise StreamError(f"{where} cannot be read: {_first_line(error)}") from None
            if batch is None:
                return
            rows += batch.num_rows
            yield _batch_to_arrays(batch, target, path)

    return read


def feature_names(path, target):
    """The feature columns of a Parquet/CSV file in the order ``fit_stream`` reads them: all but ``target``.

    Reads one record batch; raises ``StreamError`` if the file cannot be read or lacks ``target``.
    """
    path = os.fspath(path)
    batches = _batches_of(path)
    batch = _fail_unreadable(path, lambda: next(iter(batches(path, 1)), None))
    if batch is None:
        raise StreamError(f"{path!r} holds no rows: there is nothing to train on.")
    names = batch.schema.names
    _check_target(names, target, path)
    return [name for name in names if name != target]


def _batches_of(path):
    """The record-batch reader for the file's format (by suffix), after checking that pyarrow is there."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in PARQUET_SUFFIXES:
        batches = _parquet_batches
    elif suffix in CSV_SUFFIXES:
        batches = _csv_batches
    else:
        raise ValueError(
            f"cannot tell the format of {path!r} from its suffix; use one of"
            f" {', '.join(PARQUET_SUFFIXES + CSV_SUFFIXES)}, or pass a callable returning (X, y) chunks."
        )
    _arrow()  # a clear ImportError now, not at the first epoch
    return batches


def _arrow():
    """The pyarrow modules, or an ImportError that says how to install them."""
    try:
        import pyarrow
        import pyarrow.csv
        import pyarrow.parquet
    except ImportError as error:
        raise ImportError(
            "reading Parquet or CSV files in mlpkit.stream needs pyarrow: pip install 'mlpkit[stream]'"
            " (or pip install pyarrow)."
        ) from error
    return pyarrow


def _parquet_batches(path, chunk_rows, target=None):
    import pyarrow.parquet as pq

    # pre_buffer=False: with pyarrow's default (True) iter_batches buffers the whole file's column
    # chunks, and memory grows with the file (300 MiB for a 300 MB file); without, one row group.
    with pq.ParquetFile(path, pre_buffer=False) as parquet:
        yield from parquet.iter_batches(batch_size=chunk_rows)


def _csv_batches(path, chunk_rows, target=None):
    """Record batches of a CSV file, read on one thread: pyarrow then names a ragged row's line.

    pyarrow infers each column's type from the first block (about 1 MB): a feature column of whole
    numbers there is read as float64, not int64, so that a later ``0.5`` does not fail the read.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    options = {
        "parse_options": pcsv.ParseOptions(delimiter="\t") if path.lower().endswith(".tsv") else None,
        "read_options": pcsv.ReadOptions(use_threads=False),
    }
    if target is not None:
        with contextlib.closing(pcsv.open_csv(path, **options)) as first_block:
            schema = first_block.schema
        whole = [
            f.name
            for f in schema
            if f.name != target and (pa.types.is_integer(f.type) or pa.types.is_null(f.type))
        ]
        options["convert_options"] = pcsv.ConvertOptions(column_types=dict.fromkeys(whole, pa.float64()))
    reader = pcsv.open_csv(path, **options)
    try:
        yield from _recut(reader, chunk_rows)
    finally:
        reader.close()


def _recut(batches, rows):
    """Record batches of exactly ``rows`` rows (the last one shorter) from batches of any size.

    pyarrow's CSV reader cuts by bytes (blocks of about 1 MB); cut again, a CSV file's chunks are
    ``chunk_rows`` rows as a Parquet file's are, so that chunk numbers and ``validation=k`` mean
    the same for both.
    """
    import pyarrow

    pieces, held = [], 0
    for batch in batches:
        start = 0
        while start < batch.num_rows:
            piece = batch.slice(start, rows - held)
            pieces.append(piece)
            held += piece.num_rows
            start += piece.num_rows
            if held == rows:
                yield _joined(pyarrow, pieces)
                pieces, held = [], 0
    if pieces:
        yield _joined(pyarrow, pieces)


def _joined(pyarrow, pieces):
    if len(pieces) == 1:
        return pieces[0]
    return pyarrow.Table.from_batches(pieces).combine_chunks().to_batches()[0]


def _fail_unreadable(path, attempt):
    """``attempt()`` (reading the file's first batch); any failure becomes a one-line StreamError."""
    pyarrow = _arrow()
    try:
        return attempt()
    except (OSError, pyarrow.ArrowException) as error:
        raise StreamError(f"cannot read {path!r}: {_first_line(error)}") from None


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _check_target(names, target, path):
    if target not in names:
        raise StreamError(f"{path!r} has no column {target!r} (target=); its columns are {names}.")


def _batch_to_arrays(batch, target, path):
    """(X, y) of one record batch: the target column, and every other column as float features."""
    names = batch.schema.names
    _check_target(names, target, path)
    features = [name for name in names if name != target]
    columns = []
    for name in features:
        column = batch.column(name).to_numpy(zero_copy_only=False)
        if column.dtype.kind not in "biuf":
            raise StreamError(
                f"column {name!r} of {path!r} holds {batch.schema.field(name).type}, not numbers; features"
                " must be numeric (encode it first, or drop it from the file)."
            )
        columns.append(column)
    X = np.column_stack(columns) if columns else np.empty((batch.num_rows, 0))
    return X, batch.column(target).to_numpy(zero_copy_only=False)


def _split_every_kth(read, k, chunk_rows):
    """Two readers over one source: every chunk but each k-th one, and each k-th one (held out)."""

    def train():
        return ((i, X, y) for i, X, y in read() if i % k != k - 1)

    def held_out():
        held = 0
        for i, X, y in read():
            if i % k == k - 1:
                held += 1
                yield i, X, y
        if not held:
            raise StreamError(
                f"validation={k} holds out chunks {k - 1}, {2 * k - 1}, ... (every k-th), but the source has"
                f" fewer than {k} chunks: nothing is held out. Lower validation (or, for a file, chunk_rows,"
                f" now {chunk_rows}), or pass a separate validation source."
            )

    return train, held_out


def _known_classes(read, classes):
    """The classifier's labels: ``classes`` as given, or the sorted labels of a first pass."""
    if classes is not None:
        return np.asarray(classes)
    found = None
    for _, _, y in read():
        labels = np.unique(y)
        found = labels if found is None else np.union1d(found, labels)
    if found is None:
        raise StreamError("the source yielded no chunks: there is nothing to train on.")
    return found


# ------------------------------------------------------------------------------------ shuffling
def shuffled_chunks(chunks, buffer_rows, chunk_rows, rng):
    """Rows of ``chunks`` (``(X, y)`` pairs) in a random order, as chunks of ``chunk_rows`` rows.

    The buffer holds at most ``max(buffer_rows, chunk_rows)`` rows plus one incoming chunk: when
    full, a random ``chunk_rows`` of its rows go out. So a row can move anywhere within the buffer's
    reach, not across the whole source: a source sorted by label needs a buffer larger than a
    label's run. ``buffer_rows=0`` keeps the order and only re-cuts the chunks. A last chunk of
    fewer than half ``chunk_rows`` rows joins the one before it.
    """
    buffer = _RowBuffer()
    capacity = max(buffer_rows, chunk_rows)
    pick = buffer.take_random if buffer_rows else buffer.take_first
    pending = None  # the chunk to emit next: held back one step so that a tiny tail can join it
    for X, y in chunks:
        buffer.add(X, y)
        while len(buffer) >= capacity:
            if pending is not None:
                yield pending
            pending = pick(chunk_rows, rng)
    while len(buffer):
        tail = pick(min(chunk_rows, len(buffer)), rng)
        if pending is not None and len(tail[0]) < chunk_rows // 2:
            pending = (np.concatenate([pending[0], tail[0]]), np.concatenate([pending[1], tail[1]]))
            continue
        if pending is not None:
            yield pending
        pending = tail
    if pending is not None:
        yield pending


class _RowBuffer:
    """Rows and their labels in preallocated arrays; taking ``k`` random rows costs O(k), not O(rows)."""

    def __init__(self):
        self.X = self.y = None
        self.n = 0

    def __len__(self):
        return self.n

    def add(self, X, y):
        if self.X is None:
            self.X = np.empty((0,) + X.shape[1:], X.dtype)
            self.y = np.empty((0,) + y.shape[1:], y.dtype)
        need = self.n + X.shape[0]
        dtypes = np.result_type(self.X, X), np.result_type(self.y, y)
        if need > self.X.shape[0] or (self.X.dtype, self.y.dtype) != dtypes:
            self._grow(max(need, 2 * self.X.shape[0]), *dtypes)
        self.X[self.n : need] = X
        self.y[self.n : need] = y
        self.n = need

    def _grow(self, rows, X_dtype, y_dtype):
        X = np.empty((rows,) + self.X.shape[1:], X_dtype)
        y = np.empty((rows,) + self.y.shape[1:], y_dtype)
        X[: self.n], y[: self.n] = self.X[: self.n], self.y[: self.n]
        self.X, self.y = X, y

    def take_first(self, k, rng=None):
        """The oldest ``k`` rows, in order (no shuffling)."""
        out = self.X[:k].copy(), self.y[:k].copy()
        self.X[: self.n - k] = self.X[k : self.n]
        self.y[: self.n - k] = self.y[k : self.n]
        self.n -= k
        return out

    def take_random(self, k, rng):
        """``k`` rows drawn at random, in random order; the last rows fill the gaps they leave."""
        chosen = rng.choice(self.n, k, replace=False)
        out = self.X[chosen], self.y[chosen]  # fancy indexing copies
        last = self.n - k
        gaps = chosen[chosen < last]
        taken_from_tail = np.zeros(k, bool)
        taken_from_tail[chosen[chosen >= last] - last] = True
        movers = last + np.flatnonzero(~taken_from_tail)
        self.X[gaps], self.y[gaps] = self.X[movers], self.y[movers]
        self.n = last
        return out


def prefetched(iterable, depth=2):
    """Items of ``iterable`` produced by a background thread, at most ``depth`` ahead of the consumer.

    Reading and decoding the file and shuffling overlap with training (JAX releases the GIL while
    it computes); memory grows by ``depth`` chunks at most. An error in the thread is raised here.
    """
    items = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        items.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put((done, None))
        except BaseException as error:  # noqa: BLE001 (handed to the consumer, raised in its thread)
            items.put((done, error))

    thread = threading.Thread(target=produce, name="mlpkit-stream-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a blocked put() see the stop
            try:
                items.get_nowait()
            except queue.Empty:
                pass
            thread.join(timeout=0.05)


# ------------------------------------------------------------------------------------- training
@dataclass
class _History:
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_score: list = field(default_factory=list)
    best_epoch: int | None = None
    rows_trained: int = 0
    seconds: float = 0.0

    def as_dict(self):
        return dict(vars(self))


class _Trainer:
    """One epoch at a time: read, check labels, shuffle, ``partial_fit`` each chunk."""

    def __init__(self, estimator, classes, chunk_rows, shuffle_buffer, rng):
        self.estimator = estimator
        self.classes = classes
        self.chunk_rows = chunk_rows
        self.shuffle_buffer = shuffle_buffer
        self.rng = rng
        self.history = _History()

    def train_one_epoch(self, read):
        """Train on every chunk of one pass; returns the row-weighted mean of the chunks' losses."""
        rows = loss_sum = 0
        chunks = shuffled_chunks(self._labelled(read()), self.shuffle_buffer, self.chunk_rows, self.rng)
        for X, y in prefetched(chunks):
            self._partial_fit(X, y)
            rows += X.shape[0]
            self.history.rows_trained += X.shape[0]  # as it goes: right after Ctrl-C too
            loss_sum += self.estimator.loss_ * X.shape[0]
        if rows == 0:
            raise StreamError(
                "the source yielded no training rows in this epoch: there is nothing to train on."
            )
        return loss_sum / rows

    def _partial_fit(self, X, y):
        with warnings.catch_warnings():
            # The rows-per-parameter rule would judge the whole data by its first chunk: not apt here.
            warnings.simplefilter("ignore", DataSizeWarning)
            # partial_fit turns Ctrl-C into a warning and returns, and the stream would go on with
            # the next chunk: as an error here, it becomes Ctrl-C again (the chunk is not trained on).
            warnings.filterwarnings("error", message=INTERRUPTED_MESSAGE, category=UserWarning)
            try:
                if self.classes is None:
                    self.estimator.partial_fit(X, y)
                else:
                    self.estimator.partial_fit(X, y, classes=self.classes)
            except UserWarning as warning:
                if INTERRUPTED_MESSAGE not in str(warning):
                    raise
                raise KeyboardInterrupt from None

    def _labelled(self, chunks):
        """The chunks as ``(X, y)``, each checked to hold only known labels (classifiers)."""
        for index, X, y in chunks:
            if self.classes is not None:
                unseen = np.setdiff1d(np.unique(y), self.classes)
                if unseen.size:
                    raise StreamError(
                        f"chunk {index} of the source has labels {unseen.tolist()} not in classes"
                        f" {np.asarray(self.classes).tolist()}; pass classes= with every label, or classes=None"
                        " to find them in a first pass."
                    )
            yield X, y


# ----------------------------------------------------------------------------------- validation
def evaluate(estimator, read, classes=None):
    """(loss, score) of ``estimator`` over every chunk of ``read``, one chunk in memory at a time.

    Classifiers: mean log-loss of ``predict_proba`` and accuracy. Regressors: the mean of the
    estimator's own loss (as its ``loss_``: half the squared error for ``loss='squared_error'``,
    so that it compares with the training loss) and R^2 (averaged over outputs), from running sums.
    """
    totals = _ClassifierTotals(classes) if is_classifier(estimator) else _RegressorTotals(estimator)
    for index, X, y in read():
        if classes is not None:
            unseen = np.setdiff1d(np.unique(y), classes)
            if unseen.size:
                raise StreamError(
                    f"chunk {index} of the validation rows has labels {unseen.tolist()} never seen in training."
                )
        totals.add(estimator, X, y)
    if totals.rows == 0:
        raise StreamError("the validation source yielded no rows; give it at least one chunk.")
    return totals.result()


class _ClassifierTotals:
    def __init__(self, classes):
        self.rows = self.log_loss = self.correct = 0.0

    def add(self, estimator, X, y):
        classes = estimator.classes_  # sorted: the columns of predict_proba
        proba = estimator.predict_proba(X)
        column = np.searchsorted(classes, y)
        p_true = proba[np.arange(len(y)), column]
        eps = np.finfo(proba.dtype).eps
        self.log_loss += float(-np.log(np.clip(p_true, eps, 1.0)).sum())
        self.correct += float((classes[proba.argmax(axis=1)] == y).sum())
        self.rows += len(y)

    def result(self):
        return self.log_loss / self.rows, self.correct / self.rows


class _RegressorTotals:
    def __init__(self, estimator):
        # scikit-learn's regressors (no _loss_name) train on half the squared error
        self.loss = LOSSES[estimator._loss_name() if hasattr(estimator, "_loss_name") else "squared_error"]
        self.huber_delta = getattr(estimator, "huber_delta", None)
        self.rows = self.loss_sum = 0
        self.sums = None  # per output: sum y, sum y^2, sum (y - prediction)^2

    def add(self, estimator, X, y):
        y = np.asarray(y, float).reshape(len(y), -1)
        prediction = np.asarray(estimator.predict(X), float).reshape(y.shape)
        per_row = np.asarray(self.loss.on_outputs(prediction, y, self.huber_delta))
        self.loss_sum += float(per_row.sum()) / (y.shape[1] if self.loss.reported_mean_over_outputs else 1)
        residual = y - prediction
        sums = np.stack([y.sum(0), (y**2).sum(0), (residual**2).sum(0)])
        self.sums = sums if self.sums is None else self.sums + sums
        self.rows += len(y)

    def result(self):
        total, squares, residual = self.sums
        centred = squares - total**2 / self.rows
        r2 = np.where(centred > 0, 1 - residual / np.where(centred > 0, centred, 1), 0.0)
        return self.loss_sum / self.rows, float(r2.mean())


# ------------------------------------------------------------------------------- early stopping
class _EarlyStopper:
    """``fit``'s stopping rule (``stopping.judge_epoch``) over passes of the stream, with the validation
    loss or score, keeping the training state of the best pass."""

    def __init__(self, monitor, patience, tol):
        self.monitor, self.patience, self.tol = monitor, patience, float(tol)
        self.best = -np.inf  # of the monitored value, signed so that larger is better
        self.best_epoch = None
        self.best_state = None
        self.epochs_without = 0
        self.epochs = 0
        self.stop = False

    def improved(self, loss, score):
        """Whether this epoch is the best so far (its state is to be kept)."""
        value = -loss if self.monitor == "loss" else score
        self.epochs += 1
        verdict = judge_epoch(value, self.best, self.epochs_without, self.tol, self.patience)
        self.best, self.epochs_without, self.stop = float(verdict.best), int(verdict.no_improvement), bool(verdict.stop)
        return bool(verdict.improved)

    def exhausted(self):
        return self.stop

    def keep(self, estimator, epoch):
        self.best_epoch = epoch
        self.best_state = jax.tree.map(np.array, estimator._state)

    def restore_best(self, estimator, mid_epoch=False):
        """Put the best epoch's training state back (weights, moments, counters: training goes on from
        there), unless the last finished epoch was the best and training did not go on from it
        (``mid_epoch``)."""
        if self.best_state is not None and (self.best_epoch != self.epochs - 1 or mid_epoch):
            estimator._state = self.best_state
