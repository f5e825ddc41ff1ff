"""What an estimator keeps from fit to fit, and how it puts itself back.

- ``Snapshot`` / ``_restore_on_error``: a failed fit leaves the estimator as it
  was (training curves, which fits extend in place, cut back to their length);
- ``Origin`` / ``fit_start_state``: what the training state's optimiser state and
  random key came from, and the state a fit starts from (carried on, or fresh);
- ``Prepared``: what a stochastic fit worked out before training, reused by the
  next fit when its parameters and arrays are the same (a live loop refitting
  again and again), with the helpers that decide "the same";
- ``ParamNamesOnce`` and ``PicklesWithoutCaches``: mixins that keep scikit-learn's
  estimator machinery cheap on that path, and caches out of pickles.
"""

from __future__ import annotations

import contextlib
from numbers import Integral
from typing import Any, ClassVar, NamedTuple

import numpy as np

from . import program as programs
from . import trainer
from .solvers import SolverSpec, optimizer_params
from .state import TrainState

#: Inputs up to this size (X, y and sample weights together) are copied and kept with a fit's
#: preparation, to be compared with the next fit's.
REUSABLE_INPUT_BYTES = 1 << 20


class Snapshot:
    """An estimator's attributes as they are now, to put back later.

    A fit assigns new arrays, so a shallow copy keeps the old ones; the training
    curves (``loss_curve_``, ...) are the exception: fits extend those lists in
    place (copying a live loop's ever longer history on every fit made each fit
    slower than the last), so their lengths are kept and restoring cuts them back.
    """

    def __init__(self, estimator):
        self.attributes = dict(estimator.__dict__)
        self.lengths = {  # (fitted attributes only: a parameter's list belongs to the user)
            name: len(value) for name, value in self.attributes.items() if type(value) is list and name.endswith("_")
        }

    def restore(self, estimator):
        for name, length in self.lengths.items():
            del self.attributes[name][length:]
        estimator.__dict__.clear()
        estimator.__dict__.update(self.attributes)


@contextlib.contextmanager
def _restore_on_error(estimator):
    """Put every attribute of ``estimator`` back as it was if the block raises."""
    snapshot = Snapshot(estimator)
    try:
        yield
    except BaseException:
        snapshot.restore(estimator)
        raise


class Origin(NamedTuple):
    """Where the training state's optimiser state and random key came from (kept beside ``_state``)."""

    solver: SolverSpec
    settings: dict  # the solver's hyper-parameters as last given, by estimator name
    random_state: Any  # the random_state the key's stream was drawn from


def fit_start_state(est, program, incremental, random_state, dtype) -> TrainState:
    """The training state this fit starts from (``trainer.start_state``).

    The optimiser's moments and the random key carry on from the previous fit
    (``partial_fit``, or ``warm_start``) when the solver is the same and the
    weights were not replaced; hyper-parameters changed since then take effect.
    A loop of short fits then trains as one long fit would. Otherwise the
    optimiser starts afresh; the key comes from ``random_state`` then, and
    whenever ``random_state`` was changed since the last fit.
    """
    spec = program.solver
    origin = est.__dict__.get("_origin")
    carry = (incremental or est.warm_start) and origin is not None and origin.solver == spec
    same_seed = origin is not None and (
        origin.random_state is est.random_state
        or (isinstance(est.random_state, Integral) and origin.random_state == est.random_state)
    )
    state = est._state if carry else est._state._replace(opt_state=None)
    reseed = not (carry and same_seed) or state.key is None
    return trainer.start_state(
        state,
        spec,
        optimizer_params(spec, vars(est)),
        origin.settings if carry else None,
        new_cycle=trainer.restarts_cycle(program.schedule, incremental),
        seed=(lambda: random_state().randint(np.iinfo(np.int32).max)) if reseed else None,
        dtype=dtype,
    )


class Prepared(NamedTuple):
    """What a stochastic fit worked out before training: checked and padded data, the compiled
    program's description, the traced hyper-parameters. A refit with the same parameters on equal
    small data (a live loop, FluCoMa's ``fit`` again and again) trains from it directly, skipping
    ~0.2 ms of checks and preparation per fit."""

    params: tuple  # the parameter values it was made with (``_param_values``)
    incremental: bool
    inputs: tuple  # copies of (X, y, sample_weight) as given
    checked: tuple  # (X, y, sample_weight) checked and cast, for early stopping's split
    split_again: bool  # early stopping's split comes out differently next time: draw it again
    program: programs.Program
    spec: object
    data: programs.Data  # padded training and validation rows
    hyper: programs.Hyper
    n_train: int
    max_iter: int


def _frozen(value):
    """A parameter's value as kept in ``Prepared.params``: containers copied, so that changing the
    user's list in place counts as a change."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, dict)):
        return type(value)(value)
    return value


def _same_value(a, b) -> bool:
    """Whether two parameter values (or input arrays) are the same: one object, or equal values of one type."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # values whose == is not a truth (lists of arrays): treat as changed
        return False


def reusable_preparation(estimator, X, y, sample_weight, incremental):
    """The last fit's ``Prepared``, when this fit would prepare the same: a warm fit or ``partial_fit``
    with every parameter as it was, on arrays equal to the last ones."""
    prepared = estimator.__dict__.get("_prepared")
    if (
        prepared is None
        or prepared.incremental != incremental
        or not (incremental or estimator.warm_start)
        or not _reusable_inputs(X, y, sample_weight)
    ):
        return None
    for given, kept in zip((X, y, sample_weight), prepared.inputs):
        if not (given is None and kept is None) and (given is None or kept is None or not _same_value(given, kept)):
            return None
    values = estimator._param_values()
    if len(values) != len(prepared.params) or not all(map(_same_value, values, prepared.params)):
        return None
    return prepared


def _reusable_inputs(X, y, sample_weight) -> bool:
    """Whether a fit's inputs are plain small arrays, cheap to keep a copy of and compare next time."""
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    return all(type(a) is np.ndarray for a in arrays) and sum(a.nbytes for a in arrays) <= REUSABLE_INPUT_BYTES


class ParamNamesOnce:
    """Reads the parameter names from ``__init__``'s signature once per class.

    scikit-learn's ``BaseEstimator`` inspects the signature on every
    ``get_params``, ``set_params`` and ``clone``: ~0.1 ms each, as much as ten
    epochs of a tiny network when a live-coding loop refits again and again.
    """

    _param_names_by_class: ClassVar[dict] = {}

    @classmethod
    def _get_param_names(cls):
        names = ParamNamesOnce._param_names_by_class.get(cls)
        if names is None:
            names = ParamNamesOnce._param_names_by_class[cls] = super()._get_param_names()
        return list(names)


class PicklesWithoutCaches:
    """Pickles leave out the attributes named in ``_caches``: what a process keeps to refit faster
    (copies of the training data among them), not part of the model."""

    _caches: ClassVar[tuple] = ()

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: it may be the instance's own __dict__
        for name in self._caches:
            state.pop(name, None)
        return state
