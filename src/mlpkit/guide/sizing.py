"""How big a network the data can support, and how big a mini-batch to take.

Three rules of thumb, each a small function with its rule in the docstring:

- **about 10 rows of data per trained parameter** (FluCoMa's learning
  resources, learn.flucoma.org: a network with more parameters than that
  tends to memorise its data rather than learn from it);
- **a funnel for the first hidden layer**: one layer whose width lies between
  the input's and the output's (FluCoMa's "Neural Network Parameters" guide,
  learn.flucoma.org/learn/mlp-parameters), here their geometric mean;
- **a batch that gives about 10 updates per epoch**, capped at scikit-learn's 200.

They are starting points, not laws: a network larger than the 10-rows rule
allows can still generalise when it is regularised (``alpha``, ``dropout``) and
watched on held-out data (``early_stopping=True``). The point is to start small
and grow only when the network underfits.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import warnings
from numbers import Integral

from ..network import count_parameters as _count_layer_units

#: FluCoMa's rule of thumb: about this many rows of data per trained parameter.
ROWS_PER_PARAMETER = 10

#: The narrowest hidden layer suggested: one unit can only pass one number on.
MIN_HIDDEN_UNITS = 2

#: Suggested mini-batch: about this many updates per epoch ...
UPDATES_PER_EPOCH = 10
#: ... with at least this many rows (fewer make very noisy gradients) ...
MIN_BATCH_SIZE = 8
#: ... and at most scikit-learn's batch_size='auto' (min(200, n_samples)).
MAX_BATCH_SIZE = 200


class DataSizeWarning(UserWarning):
    """The network has more parameters than the data can support (about 10 rows per parameter).

    Emitted where mlpkit's guidance is asked for (``advising_on_data_size``: the command line, the
    FluCoMa estimators), never by ``mlpkit.MLPClassifier`` / ``MLPRegressor``, which warn exactly
    where scikit-learn's do. Silence it with ``warnings.simplefilter("ignore", mlpkit.DataSizeWarning)``.
    """


#: Whether fits in this context warn about data too small for their network (``advising_on_data_size``).
_ADVISING = contextvars.ContextVar("mlpkit_advising_on_data_size", default=False)


@contextlib.contextmanager
def advising_on_data_size():
    """Within this block, a fit that starts a new network warns (``DataSizeWarning``) when the data
    has fewer than about 10 rows per parameter. The scikit-learn replacements never warn outside it."""
    token = _ADVISING.set(True)
    try:
        yield
    finally:
        _ADVISING.reset(token)


def warn_if_data_is_small(n_rows: int, n_parameters: int) -> None:
    """A ``DataSizeWarning`` for a new network of ``n_parameters`` on ``n_rows`` rows, inside
    ``advising_on_data_size`` only (``data_size_warning`` has the rule)."""
    if not _ADVISING.get():
        return
    advice = data_size_warning(n_rows, n_parameters)
    if advice is not None:
        warnings.warn(advice, DataSizeWarning, stacklevel=3)


def as_hidden_tuple(hidden) -> tuple[int, ...]:
    """``hidden`` (an int, or a sequence of ints, possibly empty) as a tuple of positive ints."""
    layers = (hidden,) if isinstance(hidden, Integral) else tuple(hidden)
    if not all(isinstance(n, Integral) and n >= 1 for n in layers):
        raise ValueError(
            f"hidden layer sizes must be positive integers, e.g. (5,) or (8, 4); got {hidden!r}."
        )
    return tuple(int(n) for n in layers)


def count_parameters(n_in: int, hidden, n_out: int) -> int:
    """Trained weights plus biases of a network ``n_in -> hidden... -> n_out``.

    ``hidden`` is one width or a sequence of widths (``()`` for no hidden layer).
    Every layer has ``fan_in * fan_out`` weights and ``fan_out`` biases (prelu
    slopes and batch-norm parameters, where used, come on top).

    >>> count_parameters(13, (5, 4), 3)   # 13*5 + 5*4 + 4*3 = 97 weights, 5 + 4 + 3 = 12 biases
    109
    """
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer (a number of columns); got {value!r}.")
    return _count_layer_units([int(n_in), *as_hidden_tuple(hidden), int(n_out)])


def rows_per_parameter(n_rows: int, n_parameters: int) -> float:
    """Rows of training data for each trained parameter."""
    return n_rows / max(n_parameters, 1)


def data_size_warning(n_rows: int, n_parameters: int) -> str | None:
    """The warning text when ``n_rows`` is below ~10 rows per parameter, else None.

    Rule (FluCoMa's rule of thumb): ``n_rows < 10 * n_parameters`` warns. Fits inside
    ``advising_on_data_size`` emit it as a ``DataSizeWarning``.
    """
    if n_rows >= ROWS_PER_PARAMETER * n_parameters:
        return None
    return (
        f"{n_rows} rows of data for a network of {n_parameters} parameters"
        f" ({rows_per_parameter(n_rows, n_parameters):.2g} rows per parameter); a rule of thumb asks for about"
        f" {ROWS_PER_PARAMETER} per parameter ({ROWS_PER_PARAMETER * n_parameters} rows). With fewer, the network"
        f" can memorise its data instead of learning from it. Use fewer hidden units (at most"
        f" {n_rows // ROWS_PER_PARAMETER} parameters), collect more data, or regularise (alpha, dropout) and"
        " watch held-out data (early_stopping=True); mlpkit.guide.advise(X, y) suggests a size."
    )


def funnel_width(n_in: int, n_out: int) -> int:
    """Width of one hidden layer between an input of ``n_in`` and an output of ``n_out`` columns.

    Rule: the geometric mean ``sqrt(n_in * n_out)``, rounded, and at least 2 -
    a "funnel" narrowing from the input towards the output (e.g. 64 pixels to
    10 classes: 25 units; 2 controls to 10 synth parameters: 4). FluCoMa's guide
    takes the middle (13 MFCCs to 3 parameters: 8); the geometric mean (6 there)
    leans towards the narrow side, so a wide input does not dictate the size
    (64 to 10: 25 rather than 37).
    """
    return max(MIN_HIDDEN_UNITS, round(math.sqrt(n_in * n_out)))


def largest_supported_width(n_rows: int, n_in: int, n_out: int) -> int:
    """Widest single hidden layer that keeps ``n_rows >= 10 * parameters`` (0 if not even one unit does).

    One hidden layer of ``h`` units has ``(n_in + 1) h + (h + 1) n_out`` parameters.
    """
    budget = n_rows / ROWS_PER_PARAMETER - n_out
    return max(0, math.floor(budget / (n_in + 1 + n_out)))


def suggest_hidden_layer_sizes(n_rows: int, n_in: int, n_out: int) -> tuple[int, ...]:
    """A first architecture: one funnel layer (``funnel_width``), narrowed until the data supports it.

    Never narrower than 2 units: when even that breaks the 10-rows rule, the
    data is too small for a network to beat a linear model; ``advise`` says so.
    """
    width = min(funnel_width(n_in, n_out), largest_supported_width(n_rows, n_in, n_out))
    return (max(MIN_HIDDEN_UNITS, width),)


def suggest_batch_size(n_rows: int) -> int:
    """Rows per mini-batch for ``n_rows`` rows of training data.

    Rule: ``n_rows // 10`` (about 10 updates per epoch, so small data still gets
    enough steps), at least 8 (smaller batches give very noisy gradients; all
    the rows if there are fewer) and at most 200 (scikit-learn's ``'auto'``,
    which is ``min(200, n_rows)``: from 2000 rows on, the two agree).
    """
    return min(n_rows, max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, n_rows // UPDATES_PER_EPOCH)))
