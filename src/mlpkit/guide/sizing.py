"""How the size of a network compares with the data, which widths to try, and how big a mini-batch to take.

- **Rows per parameter, as context.** FluCoMa's learning resources (learn.flucoma.org) give
  a rule of thumb of about 10 rows of data per trained parameter; its own parameter guide
  calls it that, a rule of thumb, and says that in practice networks often learn from many
  fewer points. So mlpkit shows the count and the ratio with that caveat
  (``data_size_note``) and never caps a network by it: whether a size works is for a
  held-out score to say (``advise`` measures it on small data, ``evidence.py``).
- **Widths to try**: one hidden layer of ``CANDIDATE_WIDTHS`` units (16, 64, 256), never
  narrower than the outputs; ``rule_width`` is the one used without evidence.
- **A batch that gives about 10 updates per epoch**, capped at scikit-learn's 200.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import warnings
from numbers import Integral
from typing import NamedTuple

from ..network import count_parameters as _count_layer_units
from .vocabulary import Change, vocabulary

#: FluCoMa's rule of thumb: about this many rows of data per trained parameter (context, not a cap).
ROWS_PER_PARAMETER = 10

#: The narrowest hidden layer ever suggested: fewer units pass too little on to be worth training.
MIN_USEFUL_UNITS = 4

#: Widths of one hidden layer that ``advise`` compares on small data (each a quarter of the next).
CANDIDATE_WIDTHS = (16, 64, 256)
#: The width used without evidence (large data): wide enough for most tabular data; early stopping guards it.
RULE_WIDTH = 64

#: Suggested mini-batch: about this many updates per epoch ...
UPDATES_PER_EPOCH = 10
#: ... with at least this many rows (fewer make very noisy gradients) ...
MIN_BATCH_SIZE = 8
#: ... and at most scikit-learn's batch_size='auto' (min(200, n_samples)).
MAX_BATCH_SIZE = 200


class DataSizeWarning(UserWarning):
    """The network has fewer than about 10 rows of data per parameter (FluCoMa's rule of thumb), said with its caveat.

    Emitted where mlpkit's guidance is asked for (``advising_on_data_size``: the command line; the
    FluCoMa estimators, once per network structure and data size), never by ``mlpkit.MLPClassifier`` /
    ``MLPRegressor``, which warn exactly where scikit-learn's do. Silence it with
    ``warnings.simplefilter("ignore", mlpkit.DataSizeWarning)``.
    """


class _Advising(NamedTuple):
    interface: str  # whose words the note uses (``vocabulary.VOCABULARIES``)
    said: set  # (layer units, rows) already advised on in this block: once per structure


#: Whether fits in this context note a small data size for their network (``advising_on_data_size``).
_ADVISING = contextvars.ContextVar("mlpkit_advising_on_data_size", default=None)


@contextlib.contextmanager
def advising_on_data_size(interface: str = "python"):
    """Within this block, a fit that starts a new network warns (``DataSizeWarning``) when the data
    has fewer than about 10 rows per parameter, once per network structure and number of rows, in the
    words of ``interface`` ('python', 'cli', 'flucoma'). The scikit-learn replacements never warn outside it."""
    vocabulary(interface)  # (an unknown name fails here, with the choices)
    token = _ADVISING.set(_Advising(interface, set()))
    try:
        yield
    finally:
        _ADVISING.reset(token)


def warn_if_data_is_small(n_rows: int, layer_units) -> None:
    """A ``DataSizeWarning`` for a new network of ``layer_units`` (inputs, hidden..., outputs) on ``n_rows``
    rows, inside ``advising_on_data_size`` only and once per structure there (``data_size_note`` has the rule)."""
    advising = _ADVISING.get()
    key = (tuple(int(n) for n in layer_units), int(n_rows))
    if advising is None or key in advising.said:
        return
    advising.said.add(key)
    n_in, *hidden, n_out = key[0]
    note = data_size_note(n_rows, n_in, tuple(hidden), n_out, interface=advising.interface)
    if note is not None:
        warnings.warn(note, DataSizeWarning, stacklevel=3)


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
    """The data-size note for ``n_parameters`` on ``n_rows`` rows (no width suggestion: ``data_size_note``
    knows the layers), or None from 10 rows per parameter on."""
    return _note(n_rows, n_parameters, fewer=None, words=vocabulary("python"))


def data_size_note(n_rows: int, n_in: int, hidden, n_out: int, *, interface: str = "python") -> str | None:
    """FluCoMa's rule of thumb, as context: the count, the rows per parameter and the caveat, with what to
    try if held-out scores say the network memorises (in ``interface``'s words), or None when the data has
    10 rows per parameter or more.

    A narrower network is suggested only if one of at least ``MIN_USEFUL_UNITS`` (and as many as the
    outputs) meets the rule; never "at most 0 parameters".
    """
    n_parameters = count_parameters(n_in, hidden, n_out)
    if n_rows >= ROWS_PER_PARAMETER * n_parameters:
        return None
    layers = as_hidden_tuple(hidden)
    width = largest_supported_width(n_rows, n_in, n_out) if len(layers) <= 1 else 0
    useful = max(MIN_USEFUL_UNITS, n_out)
    fewer = (width,) if width >= useful and (not layers or width < layers[0]) else None
    return _note(n_rows, n_parameters, fewer, vocabulary(interface))


def _note(n_rows: int, n_parameters: int, fewer, words) -> str | None:
    if n_rows >= ROWS_PER_PARAMETER * n_parameters:
        return None
    check = words.join(Change("held_out", True))
    regularise = words.join(Change("alpha", 0.01))
    steps = [f"a smaller network ({words.join(Change('hidden_layer_sizes', fewer))} meets the rule)"
             if fewer else "fewer hidden units"]  # fmt: skip
    steps += [f"regularisation ({regularise})"] if regularise else []
    steps.append("more data")
    return (
        f"{n_rows} rows of data for a network of {n_parameters} parameters"
        f" ({rows_per_parameter(n_rows, n_parameters):.3g} rows per parameter). FluCoMa's rule of thumb asks for"
        f" about {ROWS_PER_PARAMETER} per parameter ({ROWS_PER_PARAMETER * n_parameters} rows); it is a caution,"
        " not a limit: networks often learn well from fewer rows. Judge by a held-out score"
        f"{f' ({check})' if check else ''}: if it is much worse than the training score, try "
        + ", ".join(steps[:-1]) + f" or {steps[-1]}."
    )


def largest_supported_width(n_rows: int, n_in: int, n_out: int) -> int:
    """Widest single hidden layer that keeps ``n_rows >= 10 * parameters`` (0 if not even one unit does).

    One hidden layer of ``h`` units has ``(n_in + 1) h + (h + 1) n_out`` parameters.
    """
    budget = n_rows / ROWS_PER_PARAMETER - n_out
    return max(0, math.floor(budget / (n_in + 1 + n_out)))


def candidate_widths(n_out: int) -> tuple[int, ...]:
    """One-hidden-layer widths ``advise`` compares: ``CANDIDATE_WIDTHS``, those narrower than the
    outputs (or ``MIN_USEFUL_UNITS``) left out, the widest always kept."""
    useful = max(MIN_USEFUL_UNITS, n_out)
    kept = tuple(w for w in CANDIDATE_WIDTHS if w >= useful)
    return kept or (max(CANDIDATE_WIDTHS[-1], useful),)


def rule_width(n_out: int) -> int:
    """The width advised without evidence: ``RULE_WIDTH``, or as many as the outputs if more."""
    return max(RULE_WIDTH, n_out)


def suggest_batch_size(n_rows: int) -> int:
    """Rows per mini-batch for ``n_rows`` rows of training data.

    Rule: ``n_rows // 10`` (about 10 updates per epoch, so small data still gets
    enough steps), at least 8 (smaller batches give very noisy gradients; all
    the rows if there are fewer) and at most 200 (scikit-learn's ``'auto'``,
    which is ``min(200, n_rows)``: from 2000 rows on, the two agree).
    """
    return min(n_rows, max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, n_rows // UPDATES_PER_EPOCH)))
