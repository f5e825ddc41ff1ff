"""Populations: many networks trained at once in one compiled program (``fit_many``).

>>> models = mlpkit.fit_many(MLPClassifier(max_iter=100), X, y,
...                          ParameterGrid({"learning_rate_init": [1e-3, 3e-3, 1e-2], "random_state": [0, 1, 2]}))

Every candidate is fitted as ``clone(estimator).set_params(**candidate).fit(X, y)``
would fit it, and is that fit: each member starts its fit on the estimator's own
path (``_start_fit``: validation, initial weights, early stopping's split, padded
rows, the state training starts from), and ends it there (``_end_fit``: the
history, the best weights, scikit-learn's warnings). Only the training between is
shared: members whose training is one compiled program (``programs.Program``) and
whose states have one layout (layer sizes, dtype) are stacked along a first axis
and trained by ``trainer.run_population``, ``jax.vmap`` of the one training loop
over their states and traced values (learning rate, momentum, betas, penalties,
dropout rates, tolerances, epochs, and the random key of ``random_state``). The
while loop of a vmapped loop keeps going while any member trains and leaves the
others as they ended, so each member's early stopping, divergence roll-back and
``max_iter`` are its own.

Grouping
    Candidates are grouped by program and layout: one population per group, in
    the order of their first member. A program's switches that only turn a term on
    (``SWITCHES``: an l1 penalty, decoupled weight decay, gradient clipping,
    dropout) do not split a group: members without the term train in the program
    with it, where their neutral traced value (a penalty of 0, a clip at
    infinity, a dropout rate of 0) leaves every number as their own program
    computes it. A group of one trains as a plain fit. Candidates that cannot
    train in a population fit on their own, in order, with the same result: L-BFGS
    (a full-batch scipy optimisation, not the compiled loop), data-parallel
    programs, and estimators other than mlpkit's ``MLPClassifier`` and
    ``MLPRegressor`` (a Pipeline, a FluCoMa estimator: ``clone(...).fit(...)``).

Where it pays
    ``population='auto'`` (the default) vmaps a group of two or more members on an
    accelerator always, and on the CPU where a member's mini-batch step is small
    (``pays_to_vmap``, ``CPU_STEP_FLOPS``): there a fit's fixed costs per step
    (dispatch, the loop, small kernels) dominate and a population shares them,
    while XLA's CPU backend runs a vmapped batch of larger matrix products no faster
    than it runs them one after another. Other groups train member by member,
    the separate fits themselves (spread over the lanes, below). ``population=True`` vmaps every group,
    ``False`` none; the results are the same either way.

Population sizes
    A vmapped program is compiled for its number of members. Populations are
    padded to a size in ``population_size`` (at most a quarter more members, idle
    copies of the first) so that sweeps, whose groups change size from batch to
    batch, reuse a few compiled programs instead of compiling one per size.

Lanes (``n_jobs``)
    On the CPU one compiled program runs on one core, and JAX lets go of the GIL
    while it runs, so ``fit_many`` trains in up to ``n_jobs`` threads at once
    (joblib's ``effective_n_jobs``: -1 every core, the default; 1 one thread;
    one on an accelerator, which one program fills). Members that train one by
    one are spread over the lanes member by member; a vmapped group is split into
    sub-populations of at least ``MIN_SUB_POPULATION`` members, as many as the
    machine has cores (``cores_to_split_for``), each compiled for one size
    (``split``). That split depends on the machine, never on ``n_jobs``: a member's
    last bits depend on the size its population is compiled for, so ``n_jobs``
    changes when members train, never a number. Members are started and ended on
    the calling thread, in order; only their training runs in the lanes. Their
    callbacks (every member's, ``callbacks=``, the progress bar, the sweep's
    pruner) are called one at a time, under one lock per call of ``fit_many``,
    never two at once. Ctrl-C stops every lane between chunks of epochs, each
    member keeping the epochs it has done, as a fit keeps them (members not yet
    trained keep none; ``trainer.Lanes``), with one warning, "Training interrupted
    by user."

Memory
    Members are started in order while their estimated memory
    (``member_bytes``: the loop state in ``STATE_COPIES`` copies, a mini-batch's
    activations, rows of their own not shared with an earlier member) stays
    within the budget (``memory_budget`` bytes; default ``MEMORY_FRACTION`` of the
    memory available now, ``available_memory``); those started are then trained
    and finished before the next are started. A population too large for memory
    is so split into several, automatically; rows that members share (the same
    data, the same early-stopping split) are held once (``training_data.shared_rows``).

Callbacks and failures
    Each member's callbacks (its ``callbacks``, ``verbose``, and ``callbacks=``
    given to ``fit_many``, which every member shares: they see the whole
    population) are called with that member and its epochs after each chunk, and
    steer that member only: True stops it (it is frozen as it is), a dict changes
    its solver's hyper-parameters. Members with ``progress=True`` share one
    ``callbacks.PopulationProgressBar``. A member whose fit fails (bad parameters,
    a callback that raises) is left as a failed fit leaves an estimator, unfitted;
    one that diverges with ``on_divergence='raise'`` keeps its last finite weights
    and its error, as ``fit`` leaves it; an error of a population's compiled call
    (out of memory, say) fails that population's members only, and the other
    lanes train on; the others go on either way. At the end
    ``errors='raise'`` raises ``FitManyError`` (all the estimators and errors
    attached), ``errors='warn'`` warns (``FitFailedWarning``) and returns them all.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from numbers import Integral
from typing import Any, NamedTuple

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from . import _tree, numpy_loop, trainer, training_data
from . import program as programs
from ._backend import on_accelerator
from ._base import BaseMultilayerPerceptron, TrainingJob
from ._dtypes import x64
from ._refits import Snapshot
from .callbacks import PopulationProgressBar, ProgressBar

__all__ = ["CPU_STEP_FLOPS", "FitManyError", "MEMORY_FRACTION", "MIN_SUB_POPULATION", "STATE_COPIES", "SWITCHES",
           "available_memory", "cores_to_split_for", "fit_estimators", "fit_many", "member_bytes", "n_lanes",
           "pays_to_vmap", "population_size", "split"]

#: Share of the memory available at the start of ``fit_many`` that its populations may use (default budget).
MEMORY_FRACTION = 0.5

#: Copies of a member's loop state a compiled population call holds at once: its input buffers, its
#: output buffers and the while loop's carry (with the select of a vmapped loop).
STATE_COPIES = 3

#: A mini-batch's activations, per unit and row, that one training step holds (forward values, their
#: gradients, and the fused temporaries between).
ACTIVATION_COPIES = 4


def _set_architecture_dropout(program, on):
    return program._replace(architecture=program.architecture._replace(dropout=on))


#: Program switch -> (whether a program has it on, the program with it set). Each only adds a term
#: whose traced strength has a neutral value where the member's own program has it off (``config.hyper``
#: makes those values: l1 = 0, weight_decay = 0, clip_norm = clip_value = inf, dropout rates 0), and with
#: that value the term changes no number: ``0 * |W|`` adds 0 to the loss and its gradient, ``u - lr * 0 * W``
#: is ``u``, clipping at infinity returns the gradient, dropout at rate 0 keeps every unit and divides
#: by 1. (Tests compare such members with their own separate fits.)
SWITCHES = {
    "l1": (lambda p: p.l1, lambda p, on: p._replace(l1=on)),
    "weight_decay": (lambda p: p.weight_decay, lambda p, on: p._replace(weight_decay=on)),
    "clip_norm": (lambda p: p.clip_norm, lambda p, on: p._replace(clip_norm=on)),
    "clip_value": (lambda p: p.clip_value, lambda p, on: p._replace(clip_value=on)),
    "dropout": (lambda p: p.architecture.dropout, _set_architecture_dropout),
}

#: ``errors=`` of ``fit_many``: what to do when some candidates could not be fitted.
ERROR_MODES = ("raise", "warn")

#: On the CPU, members whose mini-batch step takes more flops than this (about 6 per weight and row)
#: train one after another (``pays_to_vmap``): on the 2-core development machine a vmapped population of
#: such networks was no faster than separate fits (``bench/population.py``: 200 x 2 -> 8 -> 3, 15
#: kflop a step, ~1.9x faster together; digits 64 -> 64 -> 10, 5.8 Mflop, ~0.9x; crossing near 1-2 Mflop).
CPU_STEP_FLOPS = 1.5e6

#: Fewest members of a sub-population a vmapped group is split into for the lanes (``split``): smaller
#: ones share too little of a fit's fixed costs per step (on 2 cores 8 populations of 4 tiny networks took
#: ~1.3x the time of one of 32, one after another).
MIN_SUB_POPULATION = 4


class FitManyError(ValueError):
    """Some candidates of ``fit_many`` could not be fitted. ``estimators`` holds every candidate's
    estimator in order (fitted, or as its failed fit left it: unfitted), ``errors`` each one's exception
    or None."""

    def __init__(self, message, estimators, errors):
        super().__init__(message)
        self.estimators = estimators
        self.errors = errors


def fit_many(estimator, X, y, candidates, sample_weight=None, *, callbacks=None, errors="raise",
             memory_budget=None, population="auto", n_jobs=-1) -> list:
    """Fit a clone of ``estimator`` for each candidate setting, many at once; see the module docstring.

    Parameters
    ----------
    estimator : mlpkit.MLPClassifier or MLPRegressor (others are fitted one by one)
    X, y : the training data, as ``fit`` takes them
    candidates : list of dicts of parameters, or a scikit-learn ``ParameterGrid`` / ``ParameterSampler``
    sample_weight : array-like of shape (n_samples,), default=None
    callbacks : list of callables, default=None
        Called as ``callback(member, info)`` for every member's epochs, besides the members' own
        callbacks; one object for all members (not copied), so it sees the whole population. Callbacks
        may be called from the lanes' threads, but never two at once (one lock per call of ``fit_many``);
        one that must run on the main thread (a GUI's) needs ``n_jobs=1``.
    errors : {'raise', 'warn'}, default='raise'
        When some candidates cannot be fitted: raise ``FitManyError`` once all the others have trained
        (its ``estimators`` and ``errors`` say which; when every candidate failed with one error, that
        error itself), or warn and return them all (those that failed as their failed fit left them).
    memory_budget : int or None, default=None
        Bytes the populations may use at once; None: ``MEMORY_FRACTION`` of ``available_memory()``.
    population : {'auto', True, False}, default='auto'
        Whether members of one program train as one vmapped population (True), one after another
        (False: the separate fits themselves), or as ``pays_to_vmap`` says (see the module docstring).
    n_jobs : int or None, default=-1
        Lanes: populations and fits that train at once, in threads (scikit-learn's meaning, through
        joblib's ``effective_n_jobs``: -1 every core, 1 one after another, None 1 unless in a
        ``joblib.parallel_config``); at most one per piece of work, one on an accelerator, and one for
        -1 or None inside a joblib worker (a ``GridSearchCV(n_jobs=2)``'s: its processes hold the cores). It changes
        the time only, never a number. Ctrl-C stops every lane, each member keeping its epochs so far.

    Returns
    -------
    list of fitted estimators, one per candidate, in the order of ``candidates``: each the estimator
    ``clone(estimator).set_params(**candidate).fit(X, y, sample_weight=sample_weight)`` gives.
    """
    estimators, failures = fit_population(estimator, X, y, candidates, sample_weight, callbacks=callbacks,
                                          memory_budget=memory_budget, errors=errors, population=population,
                                          n_jobs=n_jobs)  # fmt: skip
    failed = [(i, error) for i, error in enumerate(failures) if error is not None]
    if not failed:
        return estimators
    if errors == "warn":
        for i, error in failed:
            warnings.warn(f"candidates[{i}] could not be fitted: {type(error).__name__}: {error}", FitFailedWarning)
        return estimators
    if len(failed) == len(failures) and len({(type(e), str(e)) for _, e in failed}) == 1:
        raise failed[0][1]  # every candidate failed alike: bad data, most likely; its own error says it best
    listed = "; ".join(f"candidates[{i}]: {type(e).__name__}: {e}" for i, e in failed[:3])
    more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
    raise FitManyError(
        f"{len(failed)} of {len(failures)} candidates could not be fitted, the others were: {listed}{more}."
        " The error's .estimators holds them all and .errors each one's error; errors='warn' returns them"
        " with a warning instead.",
        estimators,
        failures,
    ) from failed[0][1]


def fit_population(estimator, X, y, candidates, sample_weight=None, *, callbacks=None, memory_budget=None,
                   errors="raise", population="auto", n_jobs=-1) -> tuple[list, list]:
    """``fit_many``'s work: the estimators, and each one's error or None (the sweep and the ensembles
    deal with failures themselves)."""
    if errors not in ERROR_MODES:
        raise ValueError(f"errors must be one of {ERROR_MODES}, got {errors!r}")
    estimators = []
    for i, candidate in enumerate(_candidate_list(candidates)):
        try:
            estimators.append(clone(estimator).set_params(**candidate))
        except ValueError as error:  # (an unknown parameter: a mistake in the candidates, not a failed fit)
            raise ValueError(f"candidates[{i}] = {candidate!r}: {error}") from error
    return estimators, fit_estimators(estimators, X, y, sample_weight, callbacks=callbacks,
                                      memory_budget=memory_budget, population=population, n_jobs=n_jobs)  # fmt: skip


def fit_estimators(estimators, X, y, sample_weight=None, *, callbacks=None, memory_budget=None,
                   population="auto", n_jobs=-1) -> list:
    """Fit each of ``estimators`` (unfitted, ready to fit) on ``X, y``, in populations where they share a
    program, in up to ``n_jobs`` lanes; returns each one's error or None."""
    if not (isinstance(population, bool) or population == "auto"):
        raise ValueError(f"population must be 'auto', True or False, got {population!r}")
    callbacks = _checked_callbacks(callbacks)
    budget = _budget(memory_budget)
    lanes = _Lanes(n_lanes(n_jobs), trainer.new_lanes())
    failures = [None] * len(estimators)
    progress = PopulationProgressBar()
    wave, used = [], 0
    with training_data.shared_rows():  # (one block for all waves: later ones share rows with earlier ones)
        for i, member in enumerate(estimators):
            if not isinstance(member, BaseMultilayerPerceptron):
                failures[i] = _fit_alone(member, X, y, sample_weight)
                continue
            started = _start(i, member, X, y, sample_weight, callbacks, progress, failures)
            if started is None:
                continue
            wave.append(started)
            used += member_bytes(started.job, shared=any(s.job.prepared.data is started.job.prepared.data for s in wave[:-1]))
            if used > budget:
                _train_wave(wave, failures, population, lanes)
                wave, used = [], 0
        _train_wave(wave, failures, population, lanes)
    if lanes.shared.stop.is_set():  # (here, on the calling thread: where a fit says it, and the sweep listens)
        warnings.warn("Training interrupted by user.")
    return failures


def _candidate_list(candidates) -> list:
    if isinstance(candidates, Mapping) or isinstance(candidates, (str, bytes)):
        raise ValueError(
            "candidates must be a list of parameter dicts (or a ParameterGrid); got one dict: wrap it in a"
            " list, [dict(...)], or give sklearn.model_selection.ParameterGrid(dict(...)) for their grid."
        )
    try:
        listed = list(candidates)
    except TypeError:
        raise ValueError(f"candidates must be a list of parameter dicts (or a ParameterGrid); got {candidates!r}") from None
    for i, candidate in enumerate(listed):
        if not isinstance(candidate, Mapping):
            raise ValueError(f"candidates[{i}] is {candidate!r}, not a dict of parameter names to values")
    return [dict(candidate) for candidate in listed]


def _checked_callbacks(callbacks) -> list:
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)) or not all(callable(c) for c in callbacks):
        raise ValueError(
            f"callbacks must be a list of callables, each called as callback(member, info); got {callbacks!r}"
        )
    return list(callbacks)


def _fit_alone(member, X, y, sample_weight):
    """An estimator that trains on its own (not mlpkit's MLPClassifier or MLPRegressor): its ``fit``; its
    error, or None."""
    try:
        member.fit(X, y, **({} if sample_weight is None else {"sample_weight": sample_weight}))
    except Exception as error:
        return error
    return None


class _Started(NamedTuple):
    """A member whose fit has started (``_start_fit``) and waits for its training."""

    index: int
    member: Any
    snapshot: Snapshot  # the estimator before its fit, put back if the fit fails
    job: TrainingJob


def _start(i, member, X, y, sample_weight, callbacks, progress, failures) -> _Started | None:
    """Start member ``i``'s fit; None when it has ended already (L-BFGS fitted it; or it failed: in
    ``failures``)."""
    snapshot = Snapshot(member)
    try:
        job = member._start_fit_in_population(X, y, sample_weight)
        if job is not None:
            job = job._replace(callbacks=[progress if isinstance(c, ProgressBar) else c for c in job.callbacks] + callbacks)
            if job.prepared.program.mesh is not None:  # data parallel: trains as a fit of its own
                member._end_fit(job, member._train(job))
                job = None
    except Exception as error:
        snapshot.restore(member)
        failures[i] = error
        return None
    if job is None:
        _report_divergence(i, member, failures)
        return None
    return _Started(i, member, snapshot, job)


def _report_divergence(i, member, failures):
    """What ``fit`` says when training diverged: a DivergenceWarning, or (``on_divergence='raise'``) its
    ValueError, kept as the member's failure; the estimator keeps its last finite weights either way."""
    if member.__dict__.get("_diverged"):
        try:
            member._report_divergence()
        except ValueError as error:
            failures[i] = error


class _Lanes(NamedTuple):
    """How a call of ``fit_estimators`` trains: in up to ``count`` threads, sharing ``shared``."""

    count: int
    shared: trainer.Lanes  # the callbacks' lock, and the stop that Ctrl-C sets


class _Task(NamedTuple):
    """One lane's piece of work: members trained as one vmapped population compiled for ``size``, or
    (``size`` None) one member as a plain fit."""

    members: list[_Started]
    size: int | None


def _train_wave(wave: list[_Started], failures, population, lanes: _Lanes):
    """Train the started members, each group of one program and layout vmapped (where it pays) or one by
    one, in the lanes; then end their fits, in order."""
    groups, tasks = {}, []
    for started in wave:
        if _trains_in_numpy(started) and (population is not True or started.member.training_loop == "numpy"):
            tasks.append(_Task([started], None))  # (work too small to repay a compile: a plain fit, in numpy)
        else:
            groups.setdefault(_population_key(started.job), []).append(started)
    for group in groups.values():
        if len(group) > 1 and (population is True or (population == "auto" and pays_to_vmap(group[0].job))):
            per_part, size = split(len(group))
            tasks += [_Task(group[i:i + per_part], size) for i in range(0, len(group), per_part)]
        else:  # plain fits, spread over the lanes
            tasks += [_Task([started], None) for started in group]
    outcomes = {}
    for task, trained in zip(tasks, _in_lanes(tasks, lanes)):
        outcomes.update(zip((s.index for s in task.members), trained))
    for started in wave:
        _end(started, outcomes[started.index], failures)


def _in_lanes(tasks: list[_Task], lanes: _Lanes) -> list[list[trainer.Outcome]]:
    """Each task's outcomes, in order: on this thread where one lane does them all, else in threads.
    Ctrl-C reaches this thread only: it stops the lanes between chunks, and they are waited for."""
    n_threads = min(lanes.count, len(tasks))
    if n_threads <= 1:
        return [_train_task(task, lanes.shared) for task in tasks]
    with ThreadPoolExecutor(n_threads, thread_name_prefix="mlpkit-lane") as pool:
        futures = [pool.submit(_train_task, task, lanes.shared) for task in tasks]
        while True:
            try:
                wait(futures)
                break
            except KeyboardInterrupt:
                lanes.shared.stop.set()  # (each lane keeps the epochs it has done, as a fit does)
    return [future.result() for future in futures]


def _train_task(task: _Task, lanes: trainer.Lanes) -> list[trainer.Outcome]:
    """A task's training; an error (a callback's, in a plain fit; the compiled call's) is the failure of
    its members only: the other lanes go on."""
    try:
        if task.size is None:
            started = task.members[0]
            return [started.member._train(started.job, lanes)]  # as ``fit`` trains
        return _train_population(task.members, task.size, lanes)
    except Exception as error:
        return [trainer.Outcome(None, {}, 0, False, False, False, error)] * len(task.members)


def _train_population(group: list[_Started], size: int, lanes: trainer.Lanes) -> list[trainer.Outcome]:
    """``group`` as one vmapped population, padded to ``size`` members by idle copies of the first."""
    program = _widened([s.job.prepared.program for s in group])
    members = [_trainer_member(s) for s in group]
    padding = [members[0]._replace(max_iter=0, model=None, callbacks=(), on_change=None)]
    members += padding * (size - len(members))
    with x64(group[0].job.prepared.checked[0].dtype):  # (in the lane's thread: JAX's config contexts are per thread)
        return trainer.run_population(program, members, lanes)[: len(group)]


def _trainer_member(started: _Started) -> trainer.Member:
    """What the trainer gets of a member: what its ``_train`` would hand ``trainer.run``."""
    job, member = started.job, started.member
    return trainer.Member(job.state, job.prepared.data, job.hyper, job.prepared.max_iter, member, job.callbacks,
                          lambda changes, member=member, spec=job.prepared.spec: member._change_during_fit(spec, changes))


def _end(started: _Started, outcome: trainer.Outcome, failures):
    """End a member's fit as ``fit`` does: results stored, or the estimator put back on an error."""
    i, member = started.index, started.member
    try:
        if outcome.error is not None:
            raise outcome.error
        member._end_fit(started.job, outcome)
    except Exception as error:
        started.snapshot.restore(member)
        failures[i] = error
        return
    _report_divergence(i, member, failures)


# ------------------------------------------------------------------------------------- grouping
def _narrowed(program: programs.Program) -> programs.Program:
    """``program`` with every switch of ``SWITCHES`` off: members equal here train as one population."""
    for _, set_switch in SWITCHES.values():
        program = set_switch(program, False)
    return program


def _widened(programs: list) -> programs.Program:
    """The program of a population: each switch of ``SWITCHES`` on where any member's program has it."""
    program = programs[0]
    for has, set_switch in SWITCHES.values():
        program = set_switch(program, any(has(p) for p in programs))
    return program


def _population_key(job: TrainingJob):
    """Members with equal keys train as one population: one program (switches aside), one layout of
    the loop state (layer sizes, solver state, dtype), one shape of data."""
    from . import packing

    layout = packing.layout_of(programs.initial_loop_state(job.state))
    return _narrowed(job.prepared.program), layout, tuple((a.shape, a.dtype) for a in job.prepared.data)


def _trains_in_numpy(started: _Started) -> bool:
    """Whether ``started``'s fit, trained as a plain fit, takes the numpy loop (``numpy_loop.trains``)."""
    job = started.job
    prepared = job.prepared
    return numpy_loop.trains(prepared.program, prepared.data, prepared.max_iter, job.state.params,
                             started.member.training_loop)  # fmt: skip


def pays_to_vmap(job: TrainingJob) -> bool:
    """Whether a population of members like ``job``'s trains faster vmapped than one member after another:
    always on an accelerator; on the CPU while a member's mini-batch step is at most ``CPU_STEP_FLOPS``
    (above, XLA's CPU backend runs a vmapped batch of matrix products no faster than the products one
    after another, and a fit's fixed costs, which a population shares, are small beside its work)."""
    if on_accelerator():
        return True
    n_weights = sum(W.size for W in job.state.params["coefs"])
    return 6.0 * job.prepared.program.batch_rows * n_weights <= CPU_STEP_FLOPS


def population_size(n: int) -> int:
    """The number of members a population of ``n`` is compiled for: ``n`` up to 4, else the next
    ``2**k * {1, 1.25, 1.5, 1.75}`` (idle copies fill the rest: at most a quarter more work)."""
    if n <= 4:
        return n
    k = n.bit_length() - 1
    return next(int(2**k * s) for s in (1.0, 1.25, 1.5, 1.75, 2.0) if 2**k * s >= n)


# ---------------------------------------------------------------------------------------- lanes
def n_lanes(n_jobs) -> int:
    """The threads ``fit_many`` trains in for ``n_jobs`` (scikit-learn's meaning, joblib's
    ``effective_n_jobs``): one on an accelerator, where one program fills the device, and one for a
    share of the cores (-1, None) inside a joblib worker (``GridSearchCV(n_jobs=2)``'s, say), whose
    parallelism holds the cores already (as joblib limits BLAS threads there)."""
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0):
        raise ValueError(
            f"n_jobs must be a whole number other than 0 (-1: every core, 1: one lane) or None, got {n_jobs!r}"
        )
    if on_accelerator():
        return 1
    if (n_jobs is None or n_jobs < 0) and joblib.parallel.get_active_backend()[0].nesting_level > 0:
        return 1
    return joblib.effective_n_jobs(int(n_jobs) if n_jobs is not None else None)


def cores_to_split_for() -> int:
    """Lanes a vmapped group is split for: the machine's cores on the CPU (whatever ``n_jobs`` is, so
    that it changes no number), one on an accelerator."""
    return 1 if on_accelerator() else joblib.cpu_count()


def split(n: int) -> tuple[int, int]:
    """How a vmapped group of ``n`` trains: ``(members per sub-population, the size each is compiled
    for)``. As many sub-populations as ``cores_to_split_for``, of at least ``MIN_SUB_POPULATION`` members
    and as even as can be; all compiled for the size of the largest (one program; idle copies fill the
    rest), a size of ``population_size``."""
    parts = max(1, min(cores_to_split_for(), n // MIN_SUB_POPULATION))
    per_part = -(-n // parts)
    return per_part, population_size(per_part)


# --------------------------------------------------------------------------------------- memory
def member_bytes(job: TrainingJob, shared: bool = False) -> int:
    """Estimated bytes one member of a population holds while it trains: ``STATE_COPIES`` copies of its
    loop state, the activations of a mini-batch (``ACTIVATION_COPIES`` per unit and row), its history,
    and its rows unless ``shared`` with another member (then twice: its own, and the stacked copy)."""
    state = sum(np.asarray(leaf).nbytes for leaf in _tree.leaves(programs.initial_loop_state(job.state)))
    itemsize = np.dtype(job.prepared.checked[0].dtype).itemsize
    units = sum(W.shape[1] for W in job.state.params["coefs"]) + job.state.params["coefs"][0].shape[0]
    activations = ACTIVATION_COPIES * job.prepared.program.batch_rows * units * itemsize
    history = len(programs.CURVE_ROWS) * programs.CURVE_LEN * itemsize
    rows = 0 if shared else 2 * sum(a.nbytes for a in job.prepared.data)
    return STATE_COPIES * state + activations + history + rows


def available_memory() -> int:
    """Bytes of memory free now where training runs: an accelerator's free memory (JAX's memory
    statistics), else the host's available memory (``MemAvailable`` of /proc/meminfo, or the free pages)."""
    if on_accelerator():
        import jax

        device = jax.devices()[0]
        stats = device.memory_stats() or {}
        if "bytes_limit" in stats:
            return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30  # (a platform that says nothing: a modest guess)


def _budget(memory_budget) -> float:
    if memory_budget is None:
        return MEMORY_FRACTION * available_memory()
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float)) or not memory_budget > 0:
        raise ValueError(f"memory_budget must be a number of bytes > 0 (or None: half the free memory), got {memory_budget!r}")
    return float(memory_budget) if math.isfinite(memory_budget) else math.inf
