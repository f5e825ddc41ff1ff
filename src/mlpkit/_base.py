"""Shared machinery of ``MLPClassifier`` and ``MLPRegressor``.

Parameters, defaults, fitted attributes, warnings and error messages follow
``sklearn.neural_network`` (1.9); training runs in the compiled loop of
``engine.py`` (stochastic solvers) or scipy's L-BFGS-B with a compiled
gradient (``lbfgs.py``). Small predictions use a numpy copy of the weights,
large ones a compiled forward pass.

Everything a fit changes is rolled back on error: a fit that raises leaves the
estimator as it was.
"""

from __future__ import annotations

import time
import warnings
from functools import cache, partial
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.sparse
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _compilation_cache, engine, initializers, packing
from ._dtypes import DTYPES, training_dtype
from ._sklearn_errors import stratified_split_error, zero_weight_batch_error
from ._refits import (
    ParamNamesOnce,
    PicklesWithoutCaches,
    Prepared,
    _frozen,
    _restore_on_error,
    _reusable_inputs,
    _same_value,
)
from .activations import ACTIVATIONS, HIDDEN_ACTIVATION_NAMES, OUTPUT_ACTIVATION_NAMES, canonical_name
from .callbacks import EpochInfo, ProgressBar, VerbosePrinter, call_hook
from .guide.sizing import warn_if_data_is_small
from .lbfgs import fit_lbfgs
from .losses import ALIASES as LOSS_ALIASES
from .losses import LOSSES
from .network import (
    Architecture,
    forward_logits,
    glorot_uniform_sklearn,
    layer_extras,
    named_initialization,
)
from .optim import SOLVER_NAMES, decays_weights, optimizer_params, set_hyperparams, solver_spec
from .schedules import SKLEARN_SCHEDULES, STEP_FACTORS


class DivergenceWarning(UserWarning):
    """Training diverged (non-finite loss or weights); the last finite weights were kept."""


#: Up to this many rows, ``predict`` runs in numpy (no dispatch); above, compiled when JAX has an
#: accelerator. On the CPU numpy's BLAS wins at every size (100k x 784 rows, 784 -> 100 -> 10 net:
#: 148 ms in numpy, 508 ms compiled with padding and transfers), so the CPU stays in numpy.
#: None: 256 on an accelerator, no limit on the CPU, decided at the first predict (asking JAX for
#: its backend at import would start it).
NUMPY_PREDICT_MAX_ROWS = None


@cache
def _default_numpy_predict_max_rows():
    return 256 if jax.default_backend() != "cpu" else float("inf")

#: Data below this size is handed to the compiled loop as numpy arrays at each chunk; above, it is
#: put on the device once per fit (device_put's fixed cost dominates for the tiny data of FluCoMa loops).
SMALL_DATA_BYTES = 1 << 20

#: Data above this size trains unpadded (see ``_device_data``).
UNPADDED_DATA_BYTES = 64 << 20

#: Most epochs one compiled chunk runs: the per-epoch history buffers have this length (a power of
#: two), whatever max_iter is.
MAX_EPOCHS_PER_CHUNK = 1024

#: Fields of the loop state holding each chunk's per-epoch history, by their name in ``history``.
HISTORY = {"loss": "loss_curve", "val_loss": "val_loss_curve", "score": "score_curve", "lr": "lr_curve"}

#: The estimator's training curves, by their name in ``history``: lists that each fit extends.
CURVES = {"loss": "loss_curve_", "lr": "learning_rate_curve_", "score": "validation_scores_", "val_loss": "validation_loss_curve_"}

#: Target wall time of one compiled chunk of epochs: short enough for Ctrl-C and progress.
SECONDS_PER_CHUNK = 0.25


def _cast(a, dtype, what):
    """``a`` (an array or a sparse matrix) in ``dtype``; a ValueError if its finite values overflow there."""
    if a.dtype == dtype:
        return a
    cast = a.astype(dtype)
    values = cast.data if scipy.sparse.issparse(cast) else cast
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} has values beyond the range of {np.dtype(dtype).name} (about {np.finfo(dtype).max:.3g}):"
            " scale the data down, or use dtype='float64'."
        )
    return cast


def _check_normal_weights(sample_weight):
    """XLA's CPU code flushes subnormal numbers to zero: such weights would make 0 / 0."""
    tiny = np.finfo(sample_weight.dtype).tiny
    if np.any((sample_weight > 0) & (sample_weight < tiny)):
        raise ValueError(
            f"sample_weight has values below {tiny:.3g}, the smallest normal {sample_weight.dtype.name}, which"
            " training would treat as 0. Rescale the weights (their ratios weigh the rows), or use"
            " dtype='float64'."
        )


def _x64(dtype):
    """Context in which JAX computes in ``dtype``: float64 needs x64 switched on locally."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


_logits_compiled = jax.jit(partial(forward_logits, xp=jnp), static_argnames="architecture")


def _chunk_epochs(seconds_per_epoch, max_iter):
    """Epochs in one compiled chunk: about ``SECONDS_PER_CHUNK`` of work, at least 1, at most ``max_iter``."""
    return int(min(max(SECONDS_PER_CHUNK / max(seconds_per_epoch, 1e-9), 1), max_iter))


def _copy_tree(tree):
    return jax.tree.map(np.array, tree)


class BaseMultilayerPerceptron(PicklesWithoutCaches, ParamNamesOnce, BaseEstimator):
    """Shared machinery of ``MLPClassifier`` and ``MLPRegressor``; use those."""

    _caches = ("_prepared",)

    _parameter_constraints: dict = {
        # scikit-learn's parameters (value sets widened where mlpkit offers more)
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATION_NAMES))],
        "solver": [StrOptions(set(SOLVER_NAMES)), HasMethods(["init", "update"])],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions(set(STEP_FACTORS)), callable],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        # mlpkit's additions
        "out_activation": [None, StrOptions(set(OUTPUT_ACTIVATION_NAMES))],
        "negative_slope": [Interval(Real, 0, None, closed="left")],
        "init": [None, StrOptions(set(initializers.INITIALIZER_NAMES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "alpha_dropout": ["boolean"],
        "batch_norm": ["boolean"],
        "clip_norm": [None, Interval(Real, 0, None, closed="neither")],
        "clip_value": [None, Interval(Real, 0, None, closed="neither")],
        "early_stopping_monitor": [StrOptions({"score", "loss"})],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "lr_decay_epochs": [Interval(Real, 0, None, closed="neither")],
        "lr_min": [Interval(Real, 0, None, closed="left")],
        "lr_patience": [Interval(Integral, 1, None, closed="left")],
        "on_divergence": [StrOptions({"raise", "warn"})],
        "progress": ["boolean"],
        "callbacks": [None, list],
        "dtype": [None, StrOptions(set(DTYPES))],
    }

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
        watchers = []
        if dashboard is not None and dashboard is not False:
            from .dashboard import from_option  # the web server is loaded only when asked for

            watchers.append(from_option(dashboard))
        if track is not None and track is not False:
            from .experiments import recorder_from_option  # sqlite is loaded only when asked for

            watchers.append(recorder_from_option(track, X, y, sample_weight))
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

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _fit(self, X, y, sample_weight, incremental):
        _compilation_cache.enable()  # once per process, at the first fit: importing mlpkit leaves JAX alone
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
        prepared = self._reusable_preparation(X, y, sample_weight, incremental)
        if prepared is not None:
            self._diverged = False
            random_state = self._lazy_random_state()
            if prepared.split_again:  # the rows held out change from fit to fit, as without the reuse
                data = self._split_and_pad(*prepared.checked, random_state)[0]
                seeded = isinstance(self.random_state, Integral)  # (then this split is every later one's)
                prepared = self._prepared = prepared._replace(data=data, split_again=not seeded)
            self._train_stochastic(prepared, incremental, random_state)
        else:
            self._prepare_and_fit(X, y, sample_weight, incremental)
        if not all(np.isfinite(w).all() for w in jax.tree.leaves(self._params())):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _lazy_random_state(self):
        """``check_random_state(self.random_state)``, made when first called: a refit that carries its
        random key on draws nothing (and seeding a RandomState costs as much as a tiny network's epoch)."""
        return cache(partial(check_random_state, self.random_state))

    def _param_values(self) -> tuple:
        return tuple(_frozen(self.__dict__.get(name)) for name in self._get_param_names())

    def _reusable_preparation(self, X, y, sample_weight, incremental):
        """The last fit's ``Prepared``, when this fit would prepare the same: a warm fit or ``partial_fit``
        with every parameter as it was, on arrays equal to the last ones."""
        prepared = self.__dict__.get("_prepared")
        if (
            prepared is None
            or prepared.incremental != incremental
            or not (incremental or self.warm_start)
            or not _reusable_inputs(X, y, sample_weight)
        ):
            return None
        for given, kept in zip((X, y, sample_weight), prepared.inputs):
            if not (given is None and kept is None) and (given is None or kept is None or not _same_value(given, kept)):
                return None
        values = self._param_values()
        if len(values) != len(prepared.params) or not all(map(_same_value, values, prepared.params)):
            return None
        return prepared

    def _prepare_and_fit(self, X, y, sample_weight, incremental):
        """Check the inputs and parameters, start a network if none goes on, and train it."""
        given = (X, y, sample_weight)
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if not all(isinstance(n, Integral) and not isinstance(n, bool) for n in hidden_layer_sizes):
            raise ValueError(
                f"hidden_layer_sizes must be whole numbers of units, like (100,) or (64, 32); got {self.hidden_layer_sizes!r}."
            )
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes)

        self._diverged = False
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = training_dtype(self.dtype, X if first_pass else self.coefs_[0])
        if sample_weight is None:  # (scikit-learn's check would make the same ones, ~20x slower)
            sample_weight = np.ones(X.shape[0], dtype=dtype)
        else:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
            _check_normal_weights(sample_weight)
        X = X.toarray() if scipy.sparse.issparse(X) else X
        X = _cast(X, dtype, "X")
        y = _cast(y, dtype, "y")
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
            warn_if_data_is_small(X.shape[0], self.n_parameters_)  # where guidance is asked for (guide.sizing)

        self.__dict__.pop("_prepared", None)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, y, sample_weight, architecture)
            return
        prepared = self._prepare_stochastic(X, y, sample_weight, architecture, random_state, incremental)
        self._train_stochastic(prepared, incremental, random_state)
        if _reusable_inputs(*given) and not self._diverged:  # (a diverged fit may raise: nothing new kept)
            inputs = tuple(None if a is None else a.copy() for a in given)
            # A split seeded by an int comes out the same in every later fit, unless drawing new weights
            # came first in this one.
            same_split = isinstance(self.random_state, Integral) and not first_pass
            split_again = self.early_stopping and not same_split
            self._prepared = prepared._replace(params=self._param_values(), inputs=inputs, split_again=split_again)

    def _loss_name(self):
        """Name of the training loss in ``losses.LOSSES``."""
        return LOSS_ALIASES.get(self.loss, self.loss)

    def _default_out_activation(self):
        raise NotImplementedError

    def _architecture(self, n_outputs, n_hidden) -> Architecture:
        """The forward pass the parameters ask for, after checking that they fit together."""
        activation = canonical_name(self.activation)
        out_activation = canonical_name(self.out_activation or self._default_out_activation())
        loss = LOSSES[self._loss_name()]
        if loss.on_outputs is LOSSES["log_loss"].on_outputs and out_activation not in loss.on_logits:
            raise ValueError(
                f"out_activation={self.out_activation!r} does not give probabilities for loss='log_loss';"
                " leave out_activation=None (softmax for several classes, logistic otherwise)."
            )
        if out_activation == "softmax" and n_outputs == 1:
            raise ValueError("out_activation='softmax' needs several outputs; with one, use 'logistic'.")
        if not isinstance(self.solver, (str, optax.GradientTransformation)):
            raise ValueError(
                f"solver={self.solver!r} has init and update methods but is not an optax.GradientTransformation;"
                f" give one (optax.sgd(0.01), optax.chain(...)) or a solver name: {', '.join(SOLVER_NAMES)}."
            )
        rates = self._dropout_rates(n_hidden)
        if self.solver == "lbfgs" and (self.batch_norm or rates.any() or activation == "rrelu"):
            raise ValueError(
                "solver='lbfgs' takes deterministic full-batch steps; dropout, batch_norm and 'rrelu' need a"
                " stochastic solver such as 'adam' or 'sgd'."
            )
        if self.alpha_dropout and activation != "selu":
            raise ValueError(
                "alpha_dropout=True keeps the mean and variance of SELU units; use it with activation='selu'."
            )
        return Architecture(
            activation=activation,
            out_activation=out_activation,
            negative_slope=float(self.negative_slope),
            batch_norm=bool(self.batch_norm),
            dropout=bool(rates.any()),
            alpha_dropout=bool(self.alpha_dropout),
        )

    def _dropout_rates(self, n_hidden):
        """One dropout rate per hidden layer, from a number or a sequence."""
        try:
            rates = np.asarray(self.dropout, dtype=float)
        except (TypeError, ValueError):
            rates = np.array([np.nan])  # not numbers: the error below says what is expected
        if rates.ndim == 0:
            rates = np.full(n_hidden, rates)
        if rates.shape != (n_hidden,) or not np.all((rates >= 0) & (rates < 1)):
            raise ValueError(
                f"dropout must be a rate in [0, 1) or a list of one such rate per hidden layer ({n_hidden});"
                f" got {self.dropout!r}."
            )
        return rates

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
        self.coefs_ = [np.array(W, dtype=dtype) for W in coefs]
        self.intercepts_ = [np.array(b, dtype=dtype) for b in intercepts]
        extras, stats = layer_extras(layer_units, architecture, dtype)
        self._set_extras(extras, stats)
        self._structure = (tuple(layer_units), architecture, self._loss_name(), dtype.name)
        self._best_params, self._best_stats = _copy_tree(self._params()), _copy_tree(self._stats())
        for stale in ("_optimizer_state", "_prepared"):
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
        self._best_params, self._best_stats = _copy_tree(self._params()), _copy_tree(self._stats())
        self._best_monitored = -np.inf
        self._no_improvement_count = 0
        if self.best_loss_ is not None:
            self.best_loss_ = np.inf

    def _set_extras(self, extras, stats):
        """Fitted attributes of the parameters beside weights and biases, where the network has them."""
        for name in ("prelu_slopes_", "batch_norm_"):
            self.__dict__.pop(name, None)
        if extras["slopes"]:
            self.prelu_slopes_ = list(extras["slopes"])
        if extras["bn_scale"]:
            self.batch_norm_ = {
                "scale": list(extras["bn_scale"]),
                "shift": list(extras["bn_shift"]),
                "mean": list(stats["mean"]),
                "var": list(stats["var"]),
            }

    def _params(self):
        """The parameter pytree of ``network.py`` from the fitted attributes."""
        bn = getattr(self, "batch_norm_", None)
        return {
            "coefs": tuple(self.coefs_),
            "intercepts": tuple(self.intercepts_),
            "slopes": tuple(getattr(self, "prelu_slopes_", ())),
            "bn_scale": tuple(bn["scale"]) if bn else (),
            "bn_shift": tuple(bn["shift"]) if bn else (),
        }

    def _stats(self):
        bn = getattr(self, "batch_norm_", None)
        return {"mean": tuple(bn["mean"]) if bn else (), "var": tuple(bn["var"]) if bn else ()}

    def _set_params_and_stats(self, params, stats):
        self.coefs_ = list(params["coefs"])
        self.intercepts_ = list(params["intercepts"])
        self._set_extras(params, stats)

    def _start_history(self):
        """Empty training history of the stochastic solvers."""
        self.loss_curve_ = []
        self.learning_rate_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
        self._best_monitored = -np.inf

    # ------------------------------------------------------- stochastic solvers
    def _prepare_stochastic(self, X, y, sample_weight, architecture, random_state, incremental) -> Prepared:
        """The validation split, the program and the padded data of a stochastic fit; ``random_state()``
        gives the RandomState."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not hasattr(self, "loss_curve_"):  # warm start from a network trained by L-BFGS
            self._start_history()
        data, n_train = self._split_and_pad(X, y, sample_weight, random_state)
        max_iter = 1 if incremental else self.max_iter
        spec = solver_spec(self.solver, vars(self))  # parameters are attributes of their own name
        schedule = self.learning_rate
        if schedule in SKLEARN_SCHEDULES and self.solver != "sgd":
            schedule = "constant"  # as scikit-learn: only its sgd follows these three
        program = engine.Program(
            architecture=architecture,
            loss=self._loss_name(),
            solver=spec,
            schedule=schedule,
            batch_rows=min(self._batch_rows(n_train), engine.padded_rows(n_train)),
            shuffle=bool(self.shuffle),
            early_stopping=bool(self.early_stopping),
            monitor=self.early_stopping_monitor,
            score=self._score_name(),
            curve_len=engine.curve_length(min(max_iter, MAX_EPOCHS_PER_CHUNK)),
            l1=self.l1 > 0,
            weight_decay=self.weight_decay > 0 and not decays_weights(spec),
            clip_norm=self.clip_norm is not None,
            clip_value=self.clip_value is not None,
        )
        return Prepared(
            params=(),  # (filled in where it is kept: see _prepare_and_fit)
            incremental=incremental,
            inputs=(),
            checked=(X, y, sample_weight),
            split_again=False,
            program=program,
            spec=spec,
            data=data,
            hyper=self._hyper(X.dtype, len(self.coefs_) - 1),
            n_train=n_train,
            max_iter=max_iter,
        )

    def _split_and_pad(self, X, y, sample_weight, random_state):
        """The training and validation rows (``_split_validation``) padded for the compiled loop, and the
        number of training rows."""
        X_train, y_train, w_train, X_val, y_val, w_val = self._split_validation(X, y, sample_weight, random_state)
        with _x64(X.dtype):
            return self._device_data(X_train, y_train, w_train, X_val, y_val, w_val), X_train.shape[0]

    def _train_stochastic(self, prepared: Prepared, incremental, random_state):
        """Train in the compiled loop from where the network is, and store what it learned."""
        program, spec, n_train, max_iter = prepared.program, prepared.spec, prepared.n_train, prepared.max_iter
        dtype = prepared.checked[0].dtype
        hyper = prepared.hyper._replace(samples_seen=np.asarray(self.t_, dtype))
        with _x64(dtype):
            layout, buffers = self._initial_loop_state(program, spec, incremental, random_state, dtype)
            state, history = self._run_in_chunks(program, layout, buffers, prepared.data, hyper, max_iter, n_train)
        self._store_stochastic_results(state, history, spec, incremental, max_iter, n_train)

    def _hyper(self, dtype, n_hidden):
        self._check_representable(dtype)
        as_dtype = partial(np.asarray, dtype=dtype)
        inf = np.inf
        return engine.Hyper(
            alpha=as_dtype(self.alpha),
            l1=as_dtype(self.l1),
            weight_decay=as_dtype(self.weight_decay),
            clip_norm=as_dtype(inf if self.clip_norm is None else self.clip_norm),
            clip_value=as_dtype(inf if self.clip_value is None else self.clip_value),
            huber_delta=as_dtype(self.huber_delta),
            dropout=as_dtype(self._dropout_rates(n_hidden)),
            tol=as_dtype(self.tol),
            n_iter_no_change=as_dtype(self.n_iter_no_change),
            power_t=as_dtype(self.power_t),
            learning_rate_init=as_dtype(self.learning_rate_init),
            lr_decay=as_dtype(self.lr_decay),
            lr_decay_epochs=as_dtype(self.lr_decay_epochs),
            lr_min=as_dtype(self.lr_min),
            lr_patience=as_dtype(self.lr_patience),
            max_iter=as_dtype(self.max_iter),
            samples_seen=as_dtype(self.t_),
            epoch_limit=np.int32(0),
            curve_offset=np.int32(0),
        )

    #: Parameters that must stay above zero in the training precision (they divide or scale).
    _POSITIVE_IN_DTYPE = ("learning_rate_init", "lr_decay", "lr_decay_epochs", "huber_delta", "epsilon")

    def _check_representable(self, dtype):
        """Positive settings that the training precision would round to zero, and learning-rate callables
        that do not return a number, are named here rather than failing inside the compiled loop."""
        for name in self._POSITIVE_IN_DTYPE:
            value = getattr(self, name)
            if value > 0 and np.asarray(value, dtype) == 0:
                raise ValueError(
                    f"{name}={value!r} is 0 in {np.dtype(dtype).name}, the training precision: use a larger value,"
                    " or dtype='float64'."
                )
        if callable(self.learning_rate):
            rate = self.learning_rate(0)
            if not isinstance(rate, (Real, np.ndarray, jax.Array)) or isinstance(rate, bool) or np.ndim(rate) != 0:
                raise ValueError(
                    f"learning_rate, a callable, returned {rate!r} for step 0; it must map a step count to a number"
                    " (an optax schedule such as optax.exponential_decay(0.01, 1000, 0.5))."
                )

    def _split_validation(self, X, y, sample_weight, random_state):
        """Hold out ``validation_fraction`` of the rows for early stopping, as scikit-learn does."""
        if not self.early_stopping:
            return X, y, sample_weight, None, None, None
        # The splitter train_test_split uses, called directly: the same rows, without its ~0.2 ms of
        # argument handling on every refit of a live loop.
        stratified = is_classifier(self) and self.n_outputs_ == 1
        splitter = (StratifiedShuffleSplit if stratified else ShuffleSplit)(
            n_splits=1, test_size=self.validation_fraction, random_state=random_state()
        )
        try:  # (on the 0/1 rows as booleans, as scikit-learn's, whose error then reads the same)
            train, val = next(splitter.split(X, y > 0.5 if stratified else None))
        except ValueError as error:  # its message speaks of test_size, which the user never gave
            if stratified and "least populated" in str(error):
                raise stratified_split_error(error, y, self.classes_, self.validation_fraction) from None
            raise ValueError(
                f"early_stopping=True cannot hold out validation_fraction={self.validation_fraction!r} of"
                f" {X.shape[0]} rows: {error} Choose a validation_fraction between 0 and 1 that leaves rows on"
                " both sides."
            ) from None
        if val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        return X[train], y[train], sample_weight[train], X[val], y[val], sample_weight[val]

    def _batch_rows(self, n_samples):
        """Rows per mini-batch as requested, warning as scikit-learn when it exceeds the data."""
        if self.batch_size == "auto":
            return 200
        if self.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        return int(self.batch_size)  # a bool is an Integral to scikit-learn's check

    @staticmethod
    def _device_data(X, y, w, X_val, y_val, w_val):
        # Large data is not padded to a bucket: a padded copy would double its memory, and compiling
        # once per exact size costs little beside training on it.
        n_pad = X.shape[0] if X.nbytes > UNPADDED_DATA_BYTES else engine.padded_rows(X.shape[0])
        if X_val is None:  # a one-row stand-in keeps the program's signature fixed
            X_val, y_val, w_val = X[:1], y[:1], w[:1]
        n_val_pad = engine.padded_rows(X_val.shape[0])
        data = engine.Data(
            X=engine.pad_rows(X, n_pad),
            Y=engine.pad_rows(y, n_pad),
            weight=engine.pad_rows(w, n_pad),
            n_rows=np.int32(X.shape[0]),
            X_val=engine.pad_rows(X_val, n_val_pad),
            Y_val=engine.pad_rows(y_val, n_val_pad),
            weight_val=engine.pad_rows(w_val, n_val_pad),
        )
        if sum(a.nbytes for a in data) < SMALL_DATA_BYTES:
            return data  # jit's own argument transfer is cheaper than device_put for a few kB
        if jax.default_backend() == "cpu":  # then the "device" uses aligned host arrays in place
            data = data._replace(**{k: engine.aligned(v) for k, v in data._asdict().items() if np.ndim(v)})
        return jax.device_put(data)  # once, not per chunk of epochs

    def _initial_loop_state(self, program, spec, incremental, random_state, dtype):
        """The loop state at the start of a fit, packed on the host, and its layout (``packing.layout_of``).

        The optimiser's moments and the random key carry on from the previous fit
        (``partial_fit``, or ``warm_start``) when the solver is the same and the
        weights are still the ones it trained; hyper-parameters changed since then
        take effect. A loop of short fits then trains as one long fit would.
        Otherwise the optimiser starts afresh; the key comes from ``random_state``
        then, and whenever ``random_state`` was changed since the last fit.
        """
        hyper_now = optimizer_params(spec, vars(self))
        previous = getattr(self, "_optimizer_state", None)
        continuing = incremental or self.warm_start
        if continuing and previous is not None and previous["spec"] == spec and self._weights_unchanged(previous):
            changed = {k: v for k, v in hyper_now.items() if previous["hyperparams"].get(k) != v}
            opt_state = set_hyperparams(previous["state"], spec, changed)
            same_seed = previous.get("random_state", self.random_state) is self.random_state or (
                isinstance(self.random_state, Integral) and previous.get("random_state") == self.random_state
            )
            key = previous.get("key") if same_seed else None  # a new random_state: batches drawn from it
        else:
            optimizer_params_now = {k: np.asarray(v, dtype) for k, v in hyper_now.items()}
            opt_state = jax.device_get(engine.fresh_optimizer_state(spec, optimizer_params_now, self._params()))
            key = None
        if key is None:
            key = engine.seed_key(random_state().randint(np.iinfo(np.int32).max))
        state = engine.initial_state(
            program,
            self._params(),
            self._stats(),
            self._best_params,
            self._best_stats,
            opt_state,
            key,
            self._no_improvement_count,
            np.asarray(np.inf if self.best_loss_ is None else self.best_loss_, dtype),
            self._best_monitored,
        )
        layout = packing.layout_of(state)
        return layout, packing.pack(state, layout, np)

    def _weights_unchanged(self, previous):
        """Whether the weight arrays are still those the stored optimiser state trained.

        Arrays assigned to ``coefs_`` (or the other fitted parameters) since then
        are new objects: the old moments do not belong to them, so the
        optimiser starts afresh, as scikit-learn's always does in ``fit``.
        """
        now = jax.tree.leaves(self._params())
        then = jax.tree.leaves(previous["params"])
        return len(now) == len(then) and all(a is b for a, b in zip(now, then))

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

    def __setstate__(self, state):
        """Unpickling. joblib stores arrays apart, so the weights the optimiser state refers to arrive
        as copies of ``coefs_``: where they are equal, link them to the model's own arrays again so the
        moments carry on (see ``_weights_unchanged``)."""
        super().__setstate__(state)
        previous = self.__dict__.get("_optimizer_state")
        if previous is None or "coefs_" not in self.__dict__:
            return
        now, then = jax.tree.leaves(self._params()), jax.tree.leaves(previous["params"])
        same = len(now) == len(then) and all(
            np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)
            for a, b in zip(now, then)
        )
        if same:
            previous["params"] = self._params()

    def _run_in_chunks(self, program, layout, buffers, data, hyper, max_iter, n_train):
        """Run the compiled loop a chunk of epochs at a time until done, stopped or interrupted.

        Chunks aim at ``SECONDS_PER_CHUNK`` of work each, so Ctrl-C is honoured
        quickly and callbacks (verbose lines, progress, the user's) hear of each
        epoch while training goes on. The packed state (``buffers``) stays on the
        device between chunks; a numpy copy of the last finished chunk's state
        is read on the host and returned.
        """
        # First guess from the work per epoch (~6 flops per weight per row, ~1 GFLOP/s).
        n_weights = sum(W.size for W in self.coefs_)
        seconds_per_epoch = 6.0 * n_train * n_weights / 1e9
        chunk = _chunk_epochs(seconds_per_epoch, max_iter)
        reporters = self._reporters()
        call_hook(reporters, "on_fit_start", self, max_iter)
        fit_started = time.perf_counter()
        history = {name: [] for name in HISTORY}
        done, state = 0, None
        try:
            while done < max_iter:
                started = time.perf_counter()
                limit = min(max_iter, done + chunk, done + program.curve_len)  # the curves hold one chunk
                chunk_hyper = hyper._replace(epoch_limit=np.int32(limit), curve_offset=np.int32(done))
                new_buffers = engine.run_epochs_compiled(program, layout, buffers, data, chunk_hyper)
                # The packed buffers (counters, curves, small arrays) come to the host after each chunk
                # (np.asarray: a third of jax.device_get's cost for a few small arrays); large weight
                # arrays stay on the device until the fit ends.
                n_packed = len(layout.groups)
                host = (*(np.asarray(b) for b in new_buffers[:n_packed]), *new_buffers[n_packed:])
                buffers, state = new_buffers, packing.unpack(host, layout)
                n_iter, stopped = int(state.n_iter), bool(state.stopped)
                ran, done = n_iter - done, n_iter
                for name, field in HISTORY.items():
                    history[name].extend(getattr(state, field)[:ran].tolist())
                answers = self._report_epochs(reporters, history, done - ran, time.perf_counter() - fit_started)
                if stopped or True in answers:
                    break
                changes = [a for a in answers if isinstance(a, dict)]
                if changes:
                    state = self._apply_changes(state, program.solver, changes)
                    buffers = packing.pack(state, layout, np)
                if ran and done > chunk:  # the first chunk includes compiling: don't time it
                    per_epoch = (time.perf_counter() - started) / ran
                    chunk = _chunk_epochs(per_epoch, max_iter)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        finally:
            call_hook(reporters, "on_fit_end", self)
        if state is None:  # interrupted before the first chunk finished: the state it started from
            state = packing.unpack(jax.device_get(buffers), layout)
        if len(buffers) > len(layout.groups):  # large arrays crossed on their own: fetch them, once
            state = jax.device_get(state)
        return state, history

    def _report_epochs(self, reporters, history, start, elapsed):
        """Hand each reporter the epochs of this fit from ``start`` on; returns their truthy answers."""
        if not reporters:
            return []
        answers = []
        new = [history[name][start:] for name in ("loss", "val_loss", "score", "lr")]
        for i, (loss, val_loss, score, lr) in enumerate(zip(*new)):
            info = EpochInfo(start + i + 1, loss, val_loss, score, lr, elapsed)
            for reporter in reporters:
                answer = reporter(self, info)
                if answer:
                    answers.append(True if answer is True or not isinstance(answer, dict) else answer)
        return answers

    def _apply_changes(self, state, spec, changes):
        """Hyper-parameters a callback changed mid-fit (``{"learning_rate_init": 0.01}``): set on the
        estimator and in the running optimiser state, keeping its moments; the rest of the fit uses them."""
        if not changes:
            return state
        changed = {name: value for change in changes for name, value in change.items()}
        unknown = set(changed) - set(optimizer_params(spec, vars(self)))
        if unknown:
            raise ValueError(
                f"a callback asked to change {sorted(unknown)}, which solver={self.solver!r} does not keep in its"
                f" state; it can change {sorted(optimizer_params(spec, vars(self)))} during a fit."
            )
        self.set_params(**changed)
        return state._replace(opt_state=set_hyperparams(state.opt_state, spec, changed))

    def _store_stochastic_results(self, state, history, spec, incremental, max_iter, n_train):
        if bool(state.zero_weight_batch):  # scikit-learn's error, before anything is stored
            raise zero_weight_batch_error(self.batch_size)
        state = state._replace(good=None)
        n_iter = int(state.n_iter)
        self.n_iter_ = n_iter
        self.t_ = self.t_ + n_iter * n_train  # exact, in Python integers
        losses = history["loss"]
        for name in ("loss", "lr", "score", "val_loss") if self.early_stopping else ("loss", "lr"):
            curve = getattr(self, CURVES[name], None)
            if curve is None:  # (early stopping turned on since the last fit, or a model read without it)
                curve = []
                setattr(self, CURVES[name], curve)
            curve.extend(history[name])  # in place: see Snapshot
        if losses:
            self.loss_ = losses[-1]
        self._no_improvement_count = int(state.no_improvement)
        self._diverged = bool(state.diverged)
        params, stats = state.params, state.stats
        if self.early_stopping:
            self._best_monitored = float(state.best_monitored)
            if self.early_stopping_monitor == "score":
                self.best_validation_score_ = self._best_monitored
            elif len(self.validation_scores_) == len(history["score"]):  # the first scores
                self.best_validation_score_ = max(history["score"])
            else:  # max over all the scores, carried on rather than taken again over a live loop's history
                self.best_validation_score_ = max([self.best_validation_score_, *history["score"]])
            self._best_params, self._best_stats = state.best_params, state.best_stats
            params, stats = state.best_params, state.best_stats  # restore the best validation epoch
        else:
            self.best_loss_ = float(state.best_loss)
        self._set_params_and_stats(*_copy_tree((params, stats)))  # writable arrays of their own, as scikit-learn's
        self._optimizer_state = {
            "spec": spec,
            "hyperparams": optimizer_params(spec, vars(self)),
            "state": state.opt_state,
            "key": state.key,
            "random_state": self.random_state,  # the key's stream came from this
            "params": self._params(),  # the very arrays: see _weights_unchanged
        }

        if bool(state.stopped) and not self._diverged:
            if self.verbose:
                watched = "Validation score" if self.early_stopping else "Training loss"
                print(
                    "%s did not improve more than tol=%f for %d consecutive epochs. Stopping."
                    % (watched, self.tol, self.n_iter_no_change)
                )
        elif not incremental and n_iter == max_iter and not self._diverged:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't converged yet."
                % max_iter,
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------- L-BFGS
    def _fit_lbfgs(self, X, y, sample_weight, architecture):
        n_pad = engine.padded_rows(X.shape[0])
        program = engine.loss_program(architecture, self._loss_name(), l1=self.l1 > 0)
        with _x64(X.dtype):
            params, loss, result = fit_lbfgs(
                self._params(),
                engine.pad_rows(X, n_pad),
                engine.pad_rows(y, n_pad),
                engine.pad_rows(sample_weight, n_pad),
                program,
                self._hyper(X.dtype, len(self.coefs_) - 1),
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
            )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(loss)
        self._set_params_and_stats(_copy_tree(params), self._stats())

    # --------------------------------------------------------------- predicting
    @property
    def n_parameters_(self):
        """Number of trained parameters: weights, biases, and prelu slopes and batch-norm scales and shifts."""
        check_is_fitted(self)
        return sum(a.size for a in jax.tree.leaves(self._params()))

    def diagnose(self, X=None, y=None, *, sample_weight=None):
        """Findings and suggested fixes from the training history and the weights (``mlpkit.guide.diagnose``):
        divergence, overfitting, plateaus; with ``X`` (and ``y``) dead ReLUs, saturated units and gradient norms."""
        from .guide import diagnose  # the guide builds on the estimators: imported when asked for

        return diagnose(self, X, y, sample_weight=sample_weight)

    def _is_plain_input(self, X) -> bool:
        """Whether scikit-learn's checks would pass ``X`` as it is: a finite 2-D float ndarray of the
        fitted width, without feature names. Hot paths (predicting a row, refitting again and again in a
        live loop) then skip them; anything else, or anything wrong, gets their checks and messages."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype.kind == "f"
            and X.shape[1] == self.n_features_in_
            and X.shape[0] > 0
            and not hasattr(self, "feature_names_in_")
            and bool(np.isfinite(X.sum()))  # one pass, no (n, d) bool array; an overflowing sum: slow path
        )

    def _validate_predict_input(self, X):
        if self._is_plain_input(X):
            return X
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def _check_is_fitted(self):
        if "coefs_" not in self.__dict__:  # cheap test first: predict on one row is a hot path
            check_is_fitted(self)

    def _architecture_fitted(self):
        return self._structure[1]

    def _output_logits(self, X, check_input=True):
        """Pre-activation of the output layer: numpy for few rows, the compiled pass for many."""
        if check_input:
            X = self._validate_predict_input(X)
        dtype = self.coefs_[0].dtype
        architecture = self._architecture_fitted()
        if X.shape[0] <= (NUMPY_PREDICT_MAX_ROWS or _default_numpy_predict_max_rows()):
            X = _cast(X, dtype, "X")
            return forward_logits(self._params(), self._stats(), X, architecture, np)
        X = X.toarray() if scipy.sparse.issparse(X) else X
        n = X.shape[0]
        padded = engine.pad_rows(np.asarray(X, dtype=dtype), engine.padded_rows(n))
        with _x64(dtype):
            out = _logits_compiled(self._params(), self._stats(), padded, architecture=architecture)
            return np.asarray(out)[:n]

    def _forward_pass_fast(self, X, check_input=True):
        """Network output for ``X`` (probabilities, or predictions of a regressor)."""
        return ACTIVATIONS[self.out_activation_](self._output_logits(X, check_input), np)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
