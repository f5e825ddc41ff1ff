"""The scikit-learn contract of ``MLPClassifier`` and ``MLPRegressor``: parameters, fitting, attributes.

Parameters, defaults, fitted attributes, warnings and error messages follow
``sklearn.neural_network`` (1.9). What the estimator keeps between fits is one
training state (``state.TrainState``, in ``_state``); the fitted weights are
views of it (``fitted.py``). A fit checks its inputs, makes the compiled
program and traced values (``config.py``) and the padded rows
(``training_data.py``), and hands the state to the one training loop
(``trainer.py``), or to scipy's L-BFGS-B (``lbfgs.py``).

Everything a fit changes is rolled back on error: a fit that raises leaves the
estimator as it was.
"""

from __future__ import annotations

import warnings
from functools import cache, partial
from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight

from . import config, history, initializers, trainer, training_data
from . import program as programs
from ._dtypes import training_dtype
from ._refits import (
    Origin,
    ParamNamesOnce,
    PicklesWithoutCaches,
    Prepared,
    _frozen,
    _restore_on_error,
    _reusable_inputs,
    fit_start_state,
    reusable_preparation,
)
from ._sklearn_errors import zero_weight_batch_error
from .callbacks import ProgressBar, VerbosePrinter, call_hook, option_callbacks
from .fitted import FittedNetwork
from .guide.sizing import warn_if_data_is_small
from .lbfgs import fit_lbfgs
from .network import glorot_uniform_sklearn, layer_extras, named_initialization
from .solvers import optimizer_params
from .state import TrainState, copied, forget_best, new_state


class TrainingJob(NamedTuple):
    """A stochastic fit worked out up to its training (``_start_fit``): what the trainer gets, and what
    ``_end_fit`` needs of it."""

    prepared: Prepared  # the program, padded data, traced values and epochs of the fit
    incremental: bool
    state: TrainState  # the state training starts from
    hyper: programs.Hyper  # the traced values, samples seen so far included
    callbacks: list  # verbose lines, the progress bar, the user's and the fit's watchers
    keep: tuple | None  # (inputs as given, first pass) to keep the preparation for the next fit; None: reused


class DivergenceWarning(UserWarning):
    """Training diverged (non-finite loss or weights); the last finite weights were kept."""


class BaseMultilayerPerceptron(FittedNetwork, PicklesWithoutCaches, ParamNamesOnce, BaseEstimator):
    """Shared machinery of ``MLPClassifier`` and ``MLPRegressor``; use those."""

    _caches = ("_prepared",)

    _parameter_constraints: dict = config.PARAMETER_CONSTRAINTS

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, dashboard=None, track=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real numbers (regression).
        sample_weight : array-like of shape (n_samples,), default=None
        dashboard : bool, dict or mlpkit.dashboard.Dashboard, default=None
            True: watch this fit in the browser (pause, stop, change the learning
            rate); a dict of ``Dashboard`` arguments, or a ``Dashboard``.
        track : bool, str, path or mlpkit.experiments.RunRecorder, default=None
            Record this fit as a run in a local run store (parameters, per-epoch
            curves, scores, data fingerprint, the model): True uses ``./mlpkit-runs``,
            a path names the runs directory. See ``mlpkit.experiments``.

        Returns
        -------
        self : a fitted estimator.
        """
        watchers = option_callbacks({"dashboard": dashboard, "track": track}, X, y, sample_weight)
        if not watchers:
            return self._fit(X, y, sample_weight=sample_weight, incremental=False)
        # Watchers are callbacks of this fit only; they also hear how it ended.
        self._fit_watchers = watchers
        try:
            self._fit(X, y, sample_weight=sample_weight, incremental=False)
        except BaseException as error:
            for watcher in watchers:  # each hears of it, and the fit's own error is the one raised
                try:
                    call_hook([watcher], "on_fit_failed", self, error)
                except Exception as hook_error:
                    warnings.warn(f"{watcher!r}.on_fit_failed raised {hook_error!r} while the fit failed.")
            raise
        finally:
            self.__dict__.pop("_fit_watchers", None)
        call_hook(watchers, "on_fit_succeeded", self)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def _start_fit_in_population(self, X, y, sample_weight) -> TrainingJob | None:
        """``fit``'s part before training, for ``mlpkit.fit_many``: the parameters are validated as ``fit``
        validates them (its ``_fit_context``). The caller restores the estimator if this or ``_end_fit``
        raises, as ``_fit`` does."""
        return self._start_fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _fit(self, X, y, sample_weight, incremental):
        with _restore_on_error(self):
            self._fit_unguarded(X, y, sample_weight, incremental)
        if self._diverged:  # the model keeps its last finite weights either way
            self._report_divergence()
        return self

    def _report_divergence(self):
        message = (
            "Solver produced non-finite parameter weights. The input data may contain large values and need to"
            f" be preprocessed. Training stopped at epoch {self.n_iter_} and kept the last finite weights;"
            " a smaller learning_rate_init (or gradient clipping, clip_norm) usually helps."
        )
        if self.on_divergence == "raise" and not self.early_stopping:
            # (with early stopping scikit-learn keeps the best epoch's finite weights and does not raise)
            raise ValueError(message + " Pass on_divergence='warn' to keep training's result with a warning.")
        warnings.warn(message, DivergenceWarning)

    def _fit_unguarded(self, X, y, sample_weight, incremental):
        job = self._start_fit(X, y, sample_weight, incremental)
        self._end_fit(job, None if job is None else self._train(job))
        return self

    def _start_fit(self, X, y, sample_weight, incremental) -> TrainingJob | None:
        """Everything a fit does before training: the inputs checked, a network started where none goes on,
        the data padded and the state training starts from. None when L-BFGS has fitted already.

        A fit is ``_start_fit``, ``_train`` and ``_end_fit``: ``mlpkit.fit_many`` starts many fits, trains
        the jobs that share a program as one population, and ends each, so that every member takes the
        very path of a separate fit."""
        prepared = reusable_preparation(self, X, y, sample_weight, incremental)
        if prepared is None:
            return self._prepare_fit(X, y, sample_weight, incremental)
        self._diverged = False
        random_state = self._lazy_random_state()
        if prepared.split_again:  # the rows held out change from fit to fit, as without the reuse
            data = self._split_and_pad(*prepared.checked, random_state)[0]
            seeded = isinstance(self.random_state, Integral)  # (then this split is every later one's)
            prepared = self._prepared = prepared._replace(data=data, split_again=not seeded)
        return self._training_job(prepared, incremental, random_state, keep=None)

    def _end_fit(self, job: TrainingJob | None, outcome: trainer.Outcome | None):
        """Store what training learned (``job``'s ``outcome``; nothing for L-BFGS, which stored its own) and
        check the weights."""
        if job is not None:
            self._store_stochastic_results(outcome, job.prepared.spec, job.incremental, job.prepared.max_iter,
                                           job.prepared.n_train)  # fmt: skip
            if job.keep is not None and not self._diverged:  # (a diverged fit may raise: nothing new kept)
                self._keep_preparation(job.prepared, *job.keep)
        if not all(np.isfinite(w).all() for layers in self._params().values() for w in layers):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )

    def _lazy_random_state(self):
        """``check_random_state(self.random_state)``, made when first called: a refit that carries its
        random key on draws nothing (and seeding a RandomState costs as much as a tiny network's epoch)."""
        return cache(partial(check_random_state, self.random_state))

    def _param_values(self) -> tuple:
        return tuple(_frozen(self.__dict__.get(name)) for name in self._get_param_names())

    def _prepare_fit(self, X, y, sample_weight, incremental) -> TrainingJob | None:
        """Check the inputs and parameters, start a network if none goes on, and prepare its training
        (L-BFGS trains here: None)."""
        given = (X, y, sample_weight)
        hidden_layer_sizes = config.hidden_layer_sizes(self.hidden_layer_sizes)

        self._diverged = False
        first_pass = "_state" not in self.__dict__ or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = training_dtype(self.dtype, X if first_pass else self.coefs_[0])
        if sample_weight is None:  # (scikit-learn's check would make the same ones, ~20x slower)
            sample_weight = np.ones(X.shape[0], dtype=dtype)
        else:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
            training_data.check_normal_weights(sample_weight)
        X = X.toarray() if scipy.sparse.issparse(X) else X
        X = training_data.cast(X, dtype, "X")
        y = training_data.cast(y, dtype, "y")
        if y.ndim == 1:
            y = y.reshape((-1, 1))

        layer_units = [X.shape[1], *hidden_layer_sizes, y.shape[1]]
        architecture = self._architecture(y.shape[1], len(hidden_layer_sizes))
        structure = (tuple(layer_units), architecture, self._loss_name(), dtype.name)
        if not first_pass and structure != self._structure:
            warnings.warn(
                "The network's structure changed since the last fit (layer sizes, activations, batch_norm,"
                " loss or dtype): it starts again from new weights."
            )
            first_pass = True
        random_state = self._lazy_random_state()
        if first_pass:
            self._initialize(y, layer_units, architecture, dtype, random_state())
            warn_if_data_is_small(X.shape[0], layer_units)  # where guidance is asked for (guide.sizing)

        self.__dict__.pop("_prepared", None)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, y, sample_weight, architecture)
            return None
        prepared = self._prepare_stochastic(X, y, sample_weight, architecture, random_state, incremental)
        return self._training_job(prepared, incremental, random_state, keep=(given, first_pass))

    def _keep_preparation(self, prepared, given, first_pass):
        """Keep this fit's preparation for the next one, where its inputs are small plain arrays."""
        if not _reusable_inputs(*given):
            return
        inputs = tuple(None if a is None else a.copy() for a in given)
        # A split seeded by an int comes out the same in every later fit, unless drawing new weights
        # came first in this one.
        same_split = isinstance(self.random_state, Integral) and not first_pass
        split_again = self.early_stopping and not same_split
        self._prepared = prepared._replace(params=self._param_values(), inputs=inputs, split_again=split_again)

    def _loss_name(self):
        """Name of the training loss in ``losses.LOSSES``."""
        return config.loss_name(self)

    def _default_out_activation(self):
        raise NotImplementedError

    def _architecture(self, n_outputs, n_hidden):
        """The forward pass the parameters ask for (``config.architecture``)."""
        return config.architecture(self, n_outputs, n_hidden, self._default_out_activation())

    def _initialize(self, y, layer_units, architecture, dtype, random_state):
        """First fit: initial weights drawn as ``init`` says, and a fresh history."""
        init = initializers.resolve(self.init, architecture.activation)
        if init is None:
            coefs, intercepts = glorot_uniform_sklearn(layer_units, self.activation, random_state, dtype)
        else:
            coefs, intercepts = named_initialization(init, layer_units, random_state, dtype)
        self._start_network(layer_units, architecture, coefs, intercepts)

    def _start_network(self, layer_units, architecture, coefs, intercepts):
        """Fitted attributes of a new network with these weights, and nothing learned yet."""
        dtype = training_dtype(self.dtype, np.asarray(coefs[0]))
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = architecture.out_activation
        extras, stats = layer_extras(layer_units, architecture, dtype)
        params = {"coefs": tuple(np.array(W, dtype=dtype) for W in coefs), "intercepts": tuple(np.array(b, dtype=dtype) for b in intercepts), **extras}
        self._state = new_state(params, stats, dtype)
        self._structure = (tuple(layer_units), architecture, self._loss_name(), dtype.name)
        for stale in ("_origin", "_prepared"):
            self.__dict__.pop(stale, None)
        if self.solver != "lbfgs":
            self._start_history()

    def _adopt_network(self, coefs, intercepts):
        """Become a fitted estimator holding these weights (a loaded model).

        The activations are the estimator's own parameters; ``fit`` with
        ``warm_start=True`` or ``partial_fit`` trains on from these weights.
        """
        layer_units = [np.shape(coefs[0])[0], *(np.size(b) for b in intercepts)]
        self._start_network(layer_units, self._architecture(layer_units[-1], len(coefs) - 1), coefs, intercepts)
        self.n_features_in_ = layer_units[0]
        return self

    def _forget_best(self):
        """Start early stopping's record afresh: the next fit's best epoch is its own."""
        self._state = forget_best(self._state)
        if self.best_loss_ is not None:
            self.best_loss_ = np.inf

    def _start_history(self):
        history.start_history(self)

    # ------------------------------------------------------- stochastic solvers
    def _prepare_stochastic(self, X, y, sample_weight, architecture, random_state, incremental) -> Prepared:
        """The validation split, the program and the padded data of a stochastic fit; ``random_state()``
        gives the RandomState."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not hasattr(self, "loss_curve_"):  # warm start from a network trained by L-BFGS
            self._start_history()
        data, n_train = self._split_and_pad(X, y, sample_weight, random_state)
        program = config.program(self, architecture, n_train, score=self._score_name())
        return Prepared(
            params=(),  # (filled in where it is kept: see _keep_preparation)
            incremental=incremental,
            inputs=(),
            checked=(X, y, sample_weight),
            split_again=False,
            program=program,
            spec=program.solver,
            data=data,
            hyper=config.hyper(self, X.dtype, len(self._structure[0]) - 2),
            n_train=n_train,
            max_iter=1 if incremental else self.max_iter,
        )

    def _split_and_pad(self, X, y, sample_weight, random_state):
        """The training and validation rows padded for the compiled loop, and the number of training rows."""
        rows = (X, y, sample_weight)
        if self.early_stopping:
            stratified = is_classifier(self) and self.n_outputs_ == 1
            rows = training_data.split_validation(
                X, y, sample_weight, self.validation_fraction, random_state(),
                stratified_classes=self.classes_ if stratified else None,
            )  # fmt: skip
        return training_data.device_data(*rows), rows[0].shape[0]

    def _training_job(self, prepared: Prepared, incremental, random_state, keep) -> TrainingJob:
        """What training this fit gets: the state it starts from (``fit_start_state``), the traced values and
        the callbacks; ``keep`` is what ``_keep_preparation`` needs, or None where the preparation was reused."""
        dtype = prepared.checked[0].dtype
        hyper = prepared.hyper._replace(samples_seen=np.asarray(self.t_, dtype))
        state = fit_start_state(self, prepared.program, incremental, random_state, dtype)
        return TrainingJob(prepared, incremental, state, hyper, self._reporters(), keep)

    def _train(self, job: TrainingJob, lanes: trainer.Lanes | None = None) -> trainer.Outcome:
        """Train from where the network is (``lanes``: beside other fits in threads, ``mlpkit.fit_many``'s)."""
        program = job.prepared.program
        return trainer.run(
            program, job.state, job.prepared.data, job.hyper, max_iter=job.prepared.max_iter, model=self,
            callbacks=job.callbacks, on_change=partial(self._change_during_fit, program.solver), lanes=lanes,
            loop=self.training_loop,
        )  # fmt: skip

    def _reporters(self):
        """The callbacks of this fit: verbose printing, the progress bar, then the user's."""
        for index, callback in enumerate(self.callbacks or []):
            if not callable(callback):
                raise ValueError(
                    f"callbacks[{index}] is {callback!r}, not callable: each callback is called as"
                    " callback(model, info) after each chunk of epochs (see mlpkit.callbacks)."
                )
        reporters = [VerbosePrinter()] if self.verbose else []
        if self.progress:
            reporters.append(ProgressBar())
        return reporters + list(self.callbacks or []) + getattr(self, "_fit_watchers", [])

    def _change_during_fit(self, spec, changed):
        """Hyper-parameters a callback changed mid-fit (``{"learning_rate_init": 0.01}``): set on the
        estimator too; the trainer puts them in the running optimiser state, keeping its moments."""
        allowed = optimizer_params(spec, vars(self))
        unknown = set(changed) - set(allowed)
        if unknown:
            raise ValueError(
                f"a callback asked to change {sorted(unknown)}, which solver={self.solver!r} does not keep in its"
                f" state; it can change {sorted(allowed)} during a fit."
            )
        self.set_params(**changed)

    def _store_stochastic_results(self, outcome: trainer.Outcome, spec, incremental, max_iter, n_train):
        """Keep the training state (with early stopping, the best epoch's weights) and the history."""
        if outcome.zero_weight_batch:  # scikit-learn's error, before anything is stored
            raise zero_weight_batch_error(self.batch_size)
        self.t_ = self.t_ + outcome.n_iter * n_train  # exact, in Python integers
        self._diverged = outcome.diverged
        state = outcome.state
        params, stats = (state.best_params, state.best_stats) if self.early_stopping else (state.params, state.stats)
        # writable arrays of their own, as scikit-learn's
        self._state = state._replace(params=copied(params), stats=copied(stats))
        self._origin = Origin(spec, optimizer_params(spec, vars(self)), self.random_state)
        history.record(self, outcome, incremental=incremental, max_iter=max_iter)

    # ------------------------------------------------------------------- L-BFGS
    def _fit_lbfgs(self, X, y, sample_weight, architecture):
        n_pad = programs.padded_rows(X.shape[0])
        program = config.loss_program(self, architecture)
        params, loss, result = fit_lbfgs(
            self._params(),
            programs.pad_rows(X, n_pad),
            programs.pad_rows(y, n_pad),
            programs.pad_rows(sample_weight, n_pad),
            program,
            config.hyper(self, X.dtype, len(self._structure[0]) - 2),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            loop=self.training_loop,
        )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(loss)
        self._state = self._state._replace(params=copied(params), opt_state=None)

    # ---------------------------------------------------------------- reporting
    def diagnose(self, X=None, y=None, *, sample_weight=None):
        """Findings and suggested fixes from the training history and the weights (``mlpkit.guide.diagnose``):
        divergence, overfitting, plateaus; with ``X`` (and ``y``) dead ReLUs, saturated units and gradient norms."""
        from .guide.diagnosis import diagnose  # the guide builds on the estimators: imported when asked for

        return diagnose(self, X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
