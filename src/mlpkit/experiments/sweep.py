"""``mlpkit.sweep``: hyper-parameter search on Optuna, every trial a run in the run store.

>>> result = mlpkit.sweep(MLPClassifier(max_iter=50), X, y,
...                       {"learning_rate_init": {"low": 1e-4, "high": 0.1, "log": True},
...                        "alpha": {"low": 1e-6, "high": 1e-2, "log": True},
...                        "hidden_layer_sizes": [(64,), (128,), (64, 64)]},
...                       n_trials=20, cv=3, runs="experiments/")          # doctest: +SKIP
>>> result.best_params_, result.best_score_, result.trials_[:3]            # doctest: +SKIP

How it searches
    Optuna's TPE sampler (seeded by ``random_state``) proposes each trial's
    parameters from the space (``mlpkit.experiments.space``). A trial fits a clone
    of the estimator on each cross-validation fold (``cv``; without it, one
    stratified holdout of ``HOLDOUT`` of the rows) and scores it on the held-out
    rows (``scoring``, default the estimator's ``score``); its value is the mean.

Pruning
    During the first fold's fit a callback reports minus the validation loss
    every ``REPORT_EVERY`` epochs (the study maximises) to a ``MedianPruner``,
    which stops a trial whose curve is worse than the median of earlier trials at
    the same epoch; the other folds are then skipped. The validation loss is the
    one the estimator's early stopping computes on its ``validation_fraction`` of
    the training rows, so with ``prune=True`` the sweep turns ``early_stopping``
    on for every trial (and for the refitted best model) unless the space sets
    it; ``prune=False`` leaves the estimator as it is. L-BFGS fits are never pruned.

Where it is kept
    Optuna's study lives in the runs directory's ``runs.sqlite`` (its RDB
    storage, beside the run store's tables), under the sweep's ``name``; run the
    same sweep again and it continues: trials that finished, were pruned or
    failed are kept, interrupted ones (Ctrl-C, a killed process) are run anew,
    until ``n_trials`` are done. Without ``name``, the name is derived from the
    estimator, the space, the data, ``cv`` and ``scoring``, so repeating the call
    resumes it; a named sweep run again with any of these changed is refused
    (its trials would not compare). Each trial is also a run (sweep = the name, trial = its number)
    with the first fold's curves and the scores ``score`` (the mean), ``score_std``
    and ``fold_<k>``; pruned and failed trials say why in ``error``.

Speed
    Trials that differ only in traced parameters (``learning_rate_init``,
    ``alpha``, ``momentum``, ...) reuse the compiled training program; each
    distinct structure compiles once per process. ``n_jobs > 1`` runs that many
    worker processes (spawned), each an Optuna worker on the shared storage.
    ``population=K`` asks Optuna for K trials at a time (its batched ask and tell,
    TPE with ``constant_liar``) and trains each fold of them as populations
    (``mlpkit.fit_many``'s machinery: trials of one structure in one compiled
    program, the others in groups, L-BFGS and Pipelines one by one; in a lane per
    core with ``n_jobs=1``, one lane in each worker process otherwise); every trial's
    fits, scores and runs are those it would have alone. Its first fold's watcher
    reports to the pruner as above, and a pruned trial's member is frozen while the
    others train on. Only trials finished in earlier batches count for the pruner's
    median, so the first batch is never pruned (``PRUNER_STARTUP_TRIALS``), and the
    pruner is not even asked while fewer than that many trials have finished.

The best parameters are refitted on all the data (recorded as one more run,
outside the sweep, named ``<name>: best``), saved natively in the runs directory's
``models/`` (the whole estimator: a Pipeline's preparation or scaler with its
network, so it predicts on the rows the sweep was given) and, with
``flucoma=True``, as FluCoMa JSON beside it with its scaler where FluCoMa can
express it (``mlpkit.experiments.export``; the notes say why not where it cannot).

Notes (``SweepResult.notes``) say what the sweep changed or could not do and the
setting that changes it; they are text in Python's words (``prune=False``), and
``note.in_words(...)`` gives them in another interface's (the command line's
``--no-prune``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing
import re
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit, check_cv
from sklearn.utils import _safe_indexing

from ..population import fit_estimators
from .export import FluCoMaFiles, network_of, write_flucoma_beside
from .recorder import (
    DEFAULT_RUNS,
    EpochBuffer,
    RunRecorder,
    data_fingerprint,
    estimator_name,
    history_rows,
    run_params,
)
from .space import parse_space
from .store import BUSY_TIMEOUT, DATABASE_NAME, RunStore

__all__ = ["HOLDOUT", "REPORT_EVERY", "Note", "SweepResult", "sweep"]

#: Share of the rows held out to score a trial when no ``cv`` is given.
HOLDOUT = 0.2

#: Epochs between two reports to the pruner (each is a database write and a query).
REPORT_EVERY = 5

#: MedianPruner: prune only after this many trials finished, and not before this epoch.
PRUNER_STARTUP_TRIALS = 3
PRUNER_WARMUP_EPOCHS = 5

#: The estimators' warning when Ctrl-C stopped a fit between two chunks (they keep the epochs so far).
INTERRUPTED_MESSAGE = "Training interrupted by user"

#: Study attributes that must match when a sweep is resumed: name -> what differs if they don't.
STUDY_CHECKS = {"mlpkit.space": "search space", "mlpkit.data": "data", "mlpkit.estimator": "estimator",
                "mlpkit.setup": "setting of the parameters not searched, cv, scoring or prune"}

#: Setting -> how Python spells it, for the notes (``Note``); another interface passes its own spellings.
PYTHON_WORDS = {"no_prune": "prune=False", "flucoma": "flucoma=True"}


class Note(str):
    """A remark of a sweep: the text in Python's words (``prune=False``), ``in_words`` in another's."""

    def __new__(cls, template: str):
        note = super().__new__(cls, template.format_map(PYTHON_WORDS))
        note.template = template
        return note

    @classmethod
    def plain(cls, text: str) -> Note:
        """A note that names no setting (its braces are text)."""
        return cls(text.replace("{", "{{").replace("}", "}}"))

    def in_words(self, words: dict) -> str:
        """The note with the settings spelled as in ``words`` (setting -> text, e.g. ``{"no_prune": "--no-prune"}``)."""
        return self.template.format_map({**PYTHON_WORDS, **words})

    def __reduce__(self):  # pickled by its template (a str subclass with an attribute)
        return (Note, (self.template,))


#: Optuna trial state name -> run status (and the order of the ranking, best first).
STATES = {"COMPLETE": "finished", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError('mlpkit.sweep needs Optuna: pip install "mlpkit[sweep]"') from None
    return optuna


@dataclass
class SweepResult:
    """What a sweep found: the best parameters and score, the refitted model, every trial ranked."""

    name: str
    study: object  # the optuna.Study
    store: RunStore
    best_params_: dict
    best_score_: float
    best_estimator_: object
    trials_: list  # dicts, best first: rank, trial, status, score, score_std, params, epochs, seconds, run_id, error
    model_path: Path | None = None  # the best model, natively: the whole estimator (a Pipeline's steps too)
    flucoma_path: Path | None = None
    scaler_path: Path | None = None
    notes: list = field(default_factory=list)  # Notes: what the sweep changed or could not do, and why
    n_trials_run: int = 0  # trials run by this call (the rest were there already)


@dataclass(frozen=True)
class _Context:
    """Everything a worker needs to run trials (picklable: spawned processes get a copy)."""

    estimator: object
    X: object
    y: object
    space: object
    splits: list
    scoring: object
    runs: str
    name: str
    fingerprint: str
    prune: bool
    n_trials: int
    seed: int
    timeout: float | None
    setup: str  # the fixed parameters, cv, scoring and prune as text (``_setup``)
    population: int = 1  # trials asked for and trained at once
    lanes: int = -1  # fit_estimators' n_jobs: every core, or 1 where worker processes share the cores


def sweep(estimator, X, y, space, *, n_trials=20, cv=None, scoring=None, runs=None, name=None, n_jobs=1,
          random_state=None, timeout=None, prune=True, flucoma=False, population=1) -> SweepResult:
    """Search ``space`` for the parameters of ``estimator`` that score best on ``X, y``; see the module docstring.

    Parameters
    ----------
    estimator : mlpkit estimator, or a Pipeline ending in one
    X, y : the data
    space : dict, list of ``NAME=SPEC`` strings, or a parameter grid (``mlpkit.experiments.space``)
    n_trials : trials to have done in all (a resumed sweep runs only the missing ones)
    cv : None (one holdout of ``HOLDOUT``), a number of folds, or a scikit-learn splitter
    scoring : None (the estimator's ``score``) or a scikit-learn scoring name or callable; higher is better
    runs : the runs directory (default ``./mlpkit-runs``)
    name : the sweep's name (default: derived from what is searched, so a repeated call resumes)
    n_jobs : worker processes
    random_state : seeds the sampler, the holdout split and (when it has none) the estimator
    timeout : seconds after which no new trial starts (per worker)
    prune : stop unpromising trials from their validation loss (turns early stopping on; see above)
    flucoma : also write the best model as FluCoMa JSON (and its scaler) beside the native file, where
        FluCoMa can express it; a note says why where it cannot
    population : trials asked for at once and trained together, each fold as one population (see Speed)
    """
    optuna = _optuna()
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a whole number >= 1, got {n_trials!r}")
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a whole number of worker processes >= 1, got {n_jobs!r}")
    if not isinstance(population, int) or isinstance(population, bool) or population < 1:
        raise ValueError(f"population must be a whole number of trials trained at once >= 1, got {population!r}")
    if not isinstance(flucoma, bool):
        raise ValueError(f"flucoma must be True (also write FluCoMa JSON) or False, got {flucoma!r}")
    space = parse_space(space)
    space.check(estimator)
    estimator, notes = _prepared(estimator, space, prune, random_state)
    store = RunStore(DEFAULT_RUNS if runs is None else runs)
    fingerprint = data_fingerprint(X, y)
    splits = _splits(estimator, X, y, cv, random_state)
    name = name or _default_name(estimator, space, fingerprint, cv, scoring, prune)
    context = _Context(estimator, X, y, space, splits, scoring, str(store.directory), name, fingerprint, prune,
                       n_trials, 0 if random_state is None else int(random_state), timeout,
                       _setup(estimator, cv, scoring, prune), population, -1 if n_jobs == 1 else 1)

    with _quiet_optuna(optuna):
        storage = _storage(context)
        study = _open_study(context, storage)
        _fail_abandoned_trials(study, store)
        done_before = _count_done(study)
        remaining = n_trials - done_before
        if remaining > 0:
            seeds = [_seed(context.seed, len(study.trials), worker) for worker in range(n_jobs)]
            if n_jobs == 1:
                _optimize(context, seeds[0], remaining, storage)
            else:
                _optimize_in_processes(context, seeds, remaining)
    return _result(context, study, store, notes, _count_done(study) - done_before, flucoma)


# ------------------------------------------------------------------------------------ preparing
def _prepared(estimator, space, prune, random_state):
    """A clone set up for the sweep: early stopping for pruning, a seed; and notes saying so."""
    estimator, notes = clone(estimator), []
    network, prefix = network_of(estimator), _prefix(estimator)
    if prune and network.solver != "lbfgs" and not network.early_stopping and f"{prefix}early_stopping" not in space.names:
        estimator.set_params(**{f"{prefix}early_stopping": True})
        notes.append(Note("early_stopping=True for every trial and the best model: pruning watches its validation"
                          " loss ({no_prune} keeps the estimator as it was)"))
    if network.random_state is None and random_state is not None:
        estimator.set_params(**{f"{prefix}random_state": random_state})
    return estimator, notes


def _prefix(estimator) -> str:
    """How the network's parameters are named in ``estimator.set_params``: '' or a Pipeline's 'step__'."""
    steps = getattr(estimator, "steps", None)
    return f"{steps[-1][0]}__" if isinstance(steps, list) else ""


def _splits(estimator, X, y, cv, random_state) -> list:
    """(train rows, held-out rows) of each fold: ``cv``'s, or one stratified (classifiers) holdout."""
    if cv is None:
        kind = StratifiedShuffleSplit if is_classifier(estimator) else ShuffleSplit
        seed = 0 if random_state is None else random_state  # the same rows on every call: a resumed sweep scores alike
        try:
            return list(kind(n_splits=1, test_size=HOLDOUT, random_state=seed).split(X, y))
        except ValueError:  # a class with a single row: no stratified split
            return list(ShuffleSplit(n_splits=1, test_size=HOLDOUT, random_state=seed).split(X, y))
    return list(check_cv(cv, y, classifier=is_classifier(estimator)).split(X, y))


def _setup(estimator, cv, scoring, prune) -> str:
    """What decides a trial's score besides the space and the data, as text that is the same in every process
    (an object's address, as in ``<function f at 0x7f...>``, left out)."""
    described = [repr(cv), repr(scoring), prune, sorted((k, repr(v)) for k, v in run_params(estimator).items())]
    return re.sub(r" at 0x[0-9a-fA-F]+", "", json.dumps(described))


def _default_name(estimator, space, fingerprint, cv, scoring, prune) -> str:
    described = json.dumps([space.describe(), fingerprint, _setup(estimator, cv, scoring, prune)])
    return f"{type(network_of(estimator)).__name__}-{hashlib.blake2b(described.encode(), digest_size=4).hexdigest()}"


def _seed(seed: int, n_existing: int, worker: int) -> int:
    """The sampler's seed: fixed for a fresh sweep, different when resumed (or for another worker), so a
    resumed sweep does not propose its first trials again."""
    return int.from_bytes(hashlib.blake2b(f"{seed}/{n_existing}/{worker}".encode(), digest_size=4).digest(), "big")


class _quiet_optuna:
    """Optuna's log lines per trial (and a traceback per failed one), silenced for the sweep: the runs
    and the ranked table say how each trial went."""

    def __init__(self, optuna):
        self.logging = optuna.logging

    def __enter__(self):
        self.level = self.logging.get_verbosity()
        self.logging.set_verbosity(self.logging.ERROR)

    def __exit__(self, *exc):
        self.logging.set_verbosity(self.level)


# ------------------------------------------------------------------------------------ the study
def _storage(context: _Context):
    """Optuna's RDB storage in the runs database (waiting up to a minute for another process's write)."""
    return _optuna().storages.RDBStorage(
        f"sqlite:///{Path(context.runs) / DATABASE_NAME}", engine_kwargs={"connect_args": {"timeout": BUSY_TIMEOUT}}
    )


def _open_study(context: _Context, storage, seed=None):
    """Create or load the sweep's study; a resumed one must search the same thing."""
    optuna = _optuna()
    study = optuna.create_study(
        study_name=context.name, storage=storage, direction="maximize", load_if_exists=True,
        # (in batches, the trials asked for and not yet told count as doing as badly as the worst so far:
        # TPE then spreads a batch out instead of proposing one region many times)
        sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=context.population > 1),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_EPOCHS),
    )
    expected = {"mlpkit.space": context.space.describe(), "mlpkit.data": context.fingerprint,
                "mlpkit.estimator": estimator_name(context.estimator), "mlpkit.setup": context.setup}
    for key, what in STUDY_CHECKS.items():
        stored = study.user_attrs.get(key)
        if stored is None:
            study.set_user_attr(key, expected[key])
        elif stored != expected[key]:
            raise ValueError(
                f"the sweep {context.name!r} in {context.runs} was run with another {what}; resuming it would mix"
                f" two searches. Give this sweep another name (name=... or --name)."
            )
    return study


def _count_done(study) -> int:
    """Trials that ended, except those cut short by Ctrl-C or a crash (they are run again)."""
    states = ("COMPLETE", "PRUNED", "FAIL")
    return sum(t.state.name in states and not t.user_attrs.get("interrupted") for t in study.get_trials(deepcopy=False))


def _fail_abandoned_trials(study, store: RunStore):
    """Trials left 'running' by a process that died: failed (as interrupted) where their run is no longer running."""
    runs = {run.id: run for run in store.runs(sweep=study.study_name)}  # the store marks crashed runs first
    for trial in study.get_trials(deepcopy=False, states=(_optuna().trial.TrialState.RUNNING,)):
        run = runs.get(trial.user_attrs.get("run_id"))
        if run is None or run.status != "running":
            study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            study._storage.set_trial_state_values(trial._trial_id, _optuna().trial.TrialState.FAIL)


class _StopWhenDone:
    """Stops a worker once the study holds ``n_trials`` done trials (all workers count the same storage)."""

    def __init__(self, n_trials):
        self.n_trials = n_trials

    def __call__(self, study, trial):
        if _count_done(study) >= self.n_trials:
            study.stop()


def _optimize(context: _Context, seed: int, remaining: int, storage=None):
    """Run trials in this process until the study has ``n_trials`` done (or ``timeout``): one at a time
    (Optuna's ``optimize``), or ``population`` at a time (``_optimize_in_populations``)."""
    optuna = _optuna()
    with _quiet_optuna(optuna):
        study = _open_study(context, storage or _storage(context), seed)
        store = RunStore(context.runs)
        if context.population > 1:
            _optimize_in_populations(context, study, store, remaining)
            return
        study.optimize(partial(_objective, context=context, store=store), n_trials=remaining, timeout=context.timeout,
                       catch=(Exception,), callbacks=[_StopWhenDone(context.n_trials)])


def _optimize_in_populations(context: _Context, study, store: RunStore, remaining: int):
    """Optuna's batched ask-and-tell: ask for ``population`` trials, train each fold of them as one
    population (``mlpkit.population.fit_estimators``), tell each trial how it ended; until ``remaining``
    trials ran, the study has ``n_trials`` done, or ``timeout`` seconds passed (no batch starts after)."""
    started = time.monotonic()
    while remaining > 0 and _count_done(study) < context.n_trials:
        if context.timeout is not None and time.monotonic() - started > context.timeout:
            return
        # The pruner's median is over the trials finished before the batch: with fewer than its startup
        # trials it prunes none of the batch, so it is not asked (each question reads every trial).
        consult = len(study.get_trials(deepcopy=False, states=(_optuna().trial.TrialState.COMPLETE,))) >= PRUNER_STARTUP_TRIALS
        batch = [_begin_trial(study.ask(), context, store, consult) for _ in range(min(context.population, remaining))]
        remaining -= len(batch)
        _run_population(context, study, store, batch)


def _optimize_in_processes(context: _Context, seeds, remaining):
    """One Optuna worker per spawned process (JAX does not survive fork); Ctrl-C reaches them all."""
    with ProcessPoolExecutor(len(seeds), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_optimize, context, seed, remaining) for seed in seeds]
        try:
            for future in futures:
                future.result()
        except BrokenProcessPool:
            raise RuntimeError(
                f"a worker process of the sweep {context.name!r} ended abruptly. Workers are started with 'spawn',"
                " which imports the main script again: put the code that calls sweep under"
                " `if __name__ == \"__main__\":` (and run it from a file, not from standard input), or use n_jobs=1."
                " Trials that ended are kept; the same call continues the sweep."
            ) from None


# ------------------------------------------------------------------------------------ one trial
class _TrialWatcher:
    """The first fold's callback: writes its epochs to the trial's run and reports to the pruner."""

    def __init__(self, trial, store: RunStore, run_id: int, report: bool, consult: bool = True):
        self.trial, self.report, self.consult = trial, report, consult  # consult: ask the pruner after reporting
        self.epochs = EpochBuffer(partial(store.log_epochs, run_id))
        self.pruned_at = None

    def __call__(self, model, info):
        self.epochs.add(info)
        if self.report and info.epoch % REPORT_EVERY == 0 and not math.isnan(info.validation_loss):
            self.trial.report(-info.validation_loss, info.epoch)
            if self.consult and self.trial.should_prune():
                self.pruned_at = (info.epoch, info.validation_loss)
                return True  # stop this fit
        return None

    def on_fit_end(self, model):
        self.epochs.flush()


class _Trial(NamedTuple):
    """A trial begun: its estimator (the space's values set), its run in the store, its first fold's watcher."""

    trial: object
    estimator: object
    run_id: int
    watcher: _TrialWatcher


def _begin_trial(trial, context: _Context, store: RunStore, consult: bool = True) -> _Trial:
    params = context.space.suggest(trial)
    estimator = clone(context.estimator).set_params(**params)
    run_id = store.start_run(estimator_name(estimator), run_params(estimator), sweep=context.name,
                             trial=trial.number, data_fingerprint=context.fingerprint)
    trial.set_user_attr("run_id", run_id)
    return _Trial(trial, estimator, run_id, _TrialWatcher(trial, store, run_id, context.prune, consult))


def _objective(trial, context: _Context, store: RunStore) -> float:
    begun = _begin_trial(trial, context, store)
    try:
        scores = []
        for fold, (train, test) in enumerate(context.splits):
            model = _fit_fold(context, begun.estimator, train, begun.watcher if fold == 0 else None)
            if fold == 0:
                _after_first_fold(begun, store, model)
            scores.append(float(_score(context, model, test)))
    except BaseException as error:
        _record_failure(begun, store, error)
        raise
    return _finish_trial(begun, store, scores)


def _run_population(context: _Context, study, store: RunStore, batch: list[_Trial]):
    """The trials of ``batch`` fold by fold, each fold's fits as one population; a trial pruned (its member
    frozen by its watcher) or failed in a fold skips the folds after. Ctrl-C marks them all interrupted."""
    scores, ended = {id(t): [] for t in batch}, {}
    try:
        for fold, (train, test) in enumerate(context.splits):
            going = [t for t in batch if id(t) not in ended]
            models, errors = _fit_fold_population(context, [t.estimator for t in going], train,
                                                  [t.watcher if fold == 0 else None for t in going])  # fmt: skip
            for begun, model, error in zip(going, models, errors):
                try:
                    if error is not None:
                        raise error
                    if fold == 0:
                        _after_first_fold(begun, store, model)
                    scores[id(begun)].append(float(_score(context, model, test)))
                except Exception as failure:
                    ended[id(begun)] = _record_failure(begun, store, failure)
    except KeyboardInterrupt as interrupted:
        for begun in batch:
            if id(begun) not in ended:
                study.tell(begun.trial, state=_record_failure(begun, store, interrupted))
        raise
    for begun in batch:
        if id(begun) in ended:
            study.tell(begun.trial, state=ended[id(begun)])
        else:
            study.tell(begun.trial, _finish_trial(begun, store, scores[id(begun)]))


def _after_first_fold(begun: _Trial, store: RunStore, model):
    """A trial whose first fold's watcher stopped it is pruned; an L-BFGS fit (no per-epoch calls) has its
    curves logged from its history."""
    if begun.watcher.pruned_at is not None:
        epoch, loss = begun.watcher.pruned_at
        raise _optuna().TrialPruned(f"pruned at epoch {epoch}: validation loss {loss:.4g} is worse than the"
                                    " median of earlier trials at that epoch")
    if not begun.watcher.epochs.count:
        store.log_epochs(begun.run_id, history_rows(network_of(model)))


def _record_failure(begun: _Trial, store: RunStore, error: BaseException):
    """The trial's run marked as pruned, interrupted or failed; returns the Optuna state it ended in."""
    states = _optuna().trial.TrialState
    if isinstance(error, _optuna().TrialPruned):
        store.fail_run(begun.run_id, str(error), status="pruned")
        return states.PRUNED
    if isinstance(error, KeyboardInterrupt):
        begun.trial.set_user_attr("interrupted", True)
        store.fail_run(begun.run_id, "interrupted (Ctrl-C): the trial runs again when the sweep is resumed")
    else:
        store.fail_run(begun.run_id, error)
    return states.FAIL


def _finish_trial(begun: _Trial, store: RunStore, scores: list) -> float:
    mean = float(np.mean(scores))
    store.finish_run(begun.run_id, {"score": mean, "score_std": float(np.std(scores)),
                                    **{f"fold_{k}": s for k, s in enumerate(scores)}})
    return mean


def _with_watcher(estimator, watcher):
    """A clone of ``estimator`` whose callbacks end with ``watcher`` (after the estimator's own, which steer
    every fold's fit alike)."""
    model = clone(estimator)
    if watcher is not None:
        name = f"{_prefix(model)}callbacks"
        model.set_params(**{name: [*(model.get_params()[name] or []), watcher]})
    return model


@contextlib.contextmanager
def _fitting():
    """Around a fold's fits: their warnings (ConvergenceWarning and the like) are expected in short trials;
    Ctrl-C during a fit (the estimators' warning: they keep the epochs so far) stops the sweep."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    if any(INTERRUPTED_MESSAGE in str(warning.message) for warning in caught):
        raise KeyboardInterrupt


def _fit_fold(context: _Context, estimator, train, watcher):
    """A clone of ``estimator`` fitted on the rows ``train``; Ctrl-C during the fit stops the sweep."""
    model = _with_watcher(estimator, watcher)
    with _fitting():
        model.fit(_safe_indexing(context.X, train), _safe_indexing(context.y, train))
    return model


def _fit_fold_population(context: _Context, estimators, train, watchers):
    """Clones of ``estimators`` fitted on the rows ``train``, many at once (``fit_estimators``); the models
    and each one's error or None."""
    models = [_with_watcher(estimator, watcher) for estimator, watcher in zip(estimators, watchers)]
    with _fitting():
        errors = fit_estimators(models, _safe_indexing(context.X, train), _safe_indexing(context.y, train),
                                n_jobs=context.lanes)
    return models, errors


def _score(context: _Context, model, test) -> float:
    from sklearn.metrics import check_scoring

    return check_scoring(model, scoring=context.scoring)(
        model, _safe_indexing(context.X, test), _safe_indexing(context.y, test)
    )


# ------------------------------------------------------------------------------------ the result
def _result(context: _Context, study, store: RunStore, notes, n_run, flucoma=False) -> SweepResult:
    trials = _ranked_trials(context, study, store)
    finished = [t for t in trials if t["status"] == "finished"]
    if not finished:
        errors = list(dict.fromkeys(t["error"] for t in trials if t["error"]))[:3]  # each different one once
        raise ValueError(
            f"no trial of the sweep {context.name!r} finished ({len(trials)} pruned, failed or interrupted);"
            f" first errors: {'; '.join(errors) or 'none recorded'}. Check the space's values, or more n_trials."
        )
    best = finished[0]
    estimator = clone(context.estimator).set_params(**best["params"])
    # The recorder watches the network; the run keeps the whole pipeline, handed over once it is fitted,
    # so that the store's best model predicts on the rows the sweep was given (a table's raw columns).
    recorder = RunRecorder(store, name=f"{context.name}: best", model_follows=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(context.X, context.y, **{f"{_prefix(estimator)}track": recorder})
    recorder.finish(estimator)
    model_path = store.model_file(recorder.run_id)
    copies = write_flucoma_beside(estimator, context.X, model_path) if flucoma else FluCoMaFiles()
    return SweepResult(
        name=context.name, study=study, store=store, best_params_=best["params"], best_score_=best["score"],
        best_estimator_=estimator, trials_=trials, model_path=model_path, flucoma_path=copies.model,
        scaler_path=copies.scaler, notes=notes + [Note.plain(note) for note in copies.notes], n_trials_run=n_run,
    )


def _ranked_trials(context: _Context, study, store: RunStore) -> list[dict]:
    """Every trial as a dict, best first: finished by score, then pruned, failed, running."""
    runs = {run.id: run for run in store.runs(sweep=context.name)}
    curves = store.curves(runs)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        run = runs.get(trial.user_attrs.get("run_id"))
        status = STATES.get(trial.state.name, trial.state.name.lower())
        if trial.user_attrs.get("interrupted"):
            status = "interrupted"
        rows.append({
            "trial": trial.number,
            "status": status,
            "score": trial.value if status == "finished" else None,
            "score_std": (run.scores or {}).get("score_std") if run else None,
            "params": context.space.decode(trial.params) if trial.params else {},
            "epochs": len(curves[run.id]["epoch"]) if run else 0,
            "seconds": run.wall_time if run else None,
            "run_id": run.id if run else None,
            "error": run.error if run else None,
        })
    order = list(STATES.values()) + ["interrupted"]
    rows.sort(key=lambda r: (order.index(r["status"]) if r["status"] in order else len(order),
                             -(r["score"] if r["score"] is not None else -math.inf), r["trial"]))
    return [{"rank": rank, **row} for rank, row in enumerate(rows, 1)]

