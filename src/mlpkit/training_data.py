"""The rows a fit trains on: cast to the training precision, split for early stopping, padded.

``device_data`` pads the rows to a bucket (``program.padded_rows``) with zero
sample weight on the padding, so similar data sizes share one compiled program,
and aligns large data so that XLA's CPU client uses it in place (the compiled loop
puts it on the device once per fit: ``trainer.py``).
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np
import scipy.sparse
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from . import program as programs
from ._sklearn_errors import stratified_split_error

#: Data below this size is handed to the compiled loop as numpy arrays at each chunk; above, it is
#: aligned here and put on the device once per fit (device_put's fixed cost dominates for the tiny data of
#: FluCoMa loops).
SMALL_DATA_BYTES = 1 << 20

#: Data above this size trains unpadded (see ``device_data``).
UNPADDED_DATA_BYTES = 64 << 20


def cast(a, dtype, what):
    """``a`` (an array or a sparse matrix) in ``dtype``; a ValueError if its finite values overflow there."""
    if a.dtype == dtype:
        return a
    converted = a.astype(dtype)
    values = converted.data if scipy.sparse.issparse(converted) else converted
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} has values beyond the range of {np.dtype(dtype).name} (about {np.finfo(dtype).max:.3g}):"
            " scale the data down, or use dtype='float64'."
        )
    return converted


def check_normal_weights(sample_weight):
    """XLA's CPU code flushes subnormal numbers to zero: such weights would make 0 / 0."""
    tiny = np.finfo(sample_weight.dtype).tiny
    if np.any((sample_weight > 0) & (sample_weight < tiny)):
        raise ValueError(
            f"sample_weight has values below {tiny:.3g}, the smallest normal {sample_weight.dtype.name}, which"
            " training would treat as 0. Rescale the weights (their ratios weigh the rows), or use"
            " dtype='float64'."
        )


def split_validation(X, y, sample_weight, validation_fraction, random_state, *, stratified_classes=None):
    """Hold out ``validation_fraction`` of the rows for early stopping, as scikit-learn does:
    ``(X_train, y_train, w_train, X_val, y_val, w_val)``. With ``stratified_classes`` (a classifier's
    ``classes_``, ``y`` its one column of 0/1) the split keeps the classes' shares, as scikit-learn's."""
    stratified = stratified_classes is not None
    # The splitter train_test_split uses, called directly: the same rows, without its ~0.2 ms of
    # argument handling on every refit of a live loop.
    splitter = (StratifiedShuffleSplit if stratified else ShuffleSplit)(
        n_splits=1, test_size=validation_fraction, random_state=random_state
    )
    try:
        train, val = next(splitter.split(X, y if stratified else None))
    except ValueError as error:  # its message speaks of test_size, which the user never gave
        if stratified and "least populated" in str(error):
            raise stratified_split_error(splitter, X, y, stratified_classes, validation_fraction) from None
        raise ValueError(
            f"early_stopping=True cannot hold out validation_fraction={validation_fraction!r} of"
            f" {X.shape[0]} rows: {error} Choose a validation_fraction between 0 and 1 that leaves rows on"
            " both sides."
        ) from None
    if val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of your dataset.")
    return X[train], y[train], sample_weight[train], X[val], y[val], sample_weight[val]


#: Padded rows made in a ``shared_rows`` block, with the rows they came from; None outside one.
_SHARED_ROWS = contextvars.ContextVar("mlpkit_shared_rows", default=None)


@contextlib.contextmanager
def shared_rows():
    """Fits started in this block that train on equal rows share one padded copy of them (``device_data``):
    the members of a population (``mlpkit.fit_many``) each prepare their own data, as a fit does, and
    hold it once (32 members on MNIST-size data would otherwise hold 32 copies)."""
    token = _SHARED_ROWS.set([])
    try:
        yield
    finally:
        _SHARED_ROWS.reset(token)


def _same_rows(a, b) -> bool:
    return a is b or (
        a is not None and b is not None and a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    )


def device_data(X, y, w, X_val=None, y_val=None, w_val=None) -> programs.Data:
    """Training (and validation) rows padded for the compiled loop (in a ``shared_rows`` block, those made
    already for equal rows)."""
    shared = _SHARED_ROWS.get()
    rows = (y, w, y_val, w_val, X_val, X)  # (compared in this order: the cheap ones first)
    for kept, data in shared or ():
        if all(map(_same_rows, rows, kept)):
            return data
    data = _padded_data(X, y, w, X_val, y_val, w_val)
    if shared is not None:
        shared.append((rows, data))
    return data


def _padded_data(X, y, w, X_val, y_val, w_val) -> programs.Data:
    # Large data is not padded to a bucket: a padded copy would double its memory, and compiling
    # once per exact size costs little beside training on it.
    n_pad = X.shape[0] if X.nbytes > UNPADDED_DATA_BYTES else programs.padded_rows(X.shape[0])
    if X_val is None:  # a one-row stand-in keeps the program's signature fixed
        X_val, y_val, w_val = X[:1], y[:1], w[:1]
    n_val_pad = programs.padded_rows(X_val.shape[0])
    data = programs.Data(
        X=programs.pad_rows(X, n_pad),
        Y=programs.pad_rows(y, n_pad),
        weight=programs.pad_rows(w, n_pad),
        n_rows=np.int32(X.shape[0]),
        X_val=programs.pad_rows(X_val, n_val_pad),
        Y_val=programs.pad_rows(y_val, n_val_pad),
        weight_val=programs.pad_rows(w_val, n_val_pad),
    )
    if sum(a.nbytes for a in data) < SMALL_DATA_BYTES:
        return data  # jit's own argument transfer is cheaper than device_put for a few kB
    # (on the CPU, the "device" then uses these host arrays in place)
    return data._replace(**{k: programs.aligned(v) for k, v in data._asdict().items() if np.ndim(v)})
