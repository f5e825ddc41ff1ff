"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn's estimators on mlpkit's engine.

Parameters, defaults, fitted attributes, warnings and error messages follow
``sklearn.neural_network`` (1.9); training runs in the compiled loop of
``engine.py`` (stochastic solvers) or scipy's L-BFGS-B with a compiled
gradient (``lbfgs.py``). Small predictions use a numpy copy of the weights,
large ones a compiled forward pass.

Everything a fit changes is assigned at the end or rolled back on error: a fit
that raises leaves the estimator as it was.
"""

from __future__ import annotations

import contextlib
from functools import partial
import time
import warnings
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import engine
from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from .lbfgs import fit_lbfgs
from .losses import LOSSES
from .network import count_parameters, forward_logits, glorot_uniform_sklearn
from .optim import STOCHASTIC_SOLVERS, SOLVER_HYPERPARAMS, SolverSpec, set_hyperparams

#: Up to this many rows, ``predict`` runs in numpy (no dispatch); above, compiled.
NUMPY_PREDICT_MAX_ROWS = 256

#: Target wall time of one compiled chunk of epochs: short enough for Ctrl-C and progress.
SECONDS_PER_CHUNK = 0.25

_DTYPES = {"float32": np.float32, "float64": np.float64}


@contextlib.contextmanager
def _restore_on_error(estimator):
    """Put every attribute of ``estimator`` back as it was if the block raises."""
    snapshot = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(snapshot)
        raise


def _x64(dtype):
    """Context in which JAX computes in ``dtype``: float64 needs x64 switched on locally."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


_logits_compiled = jax.jit(partial(forward_logits, xp=jnp), static_argnames="activation")


class BaseMultilayerPerceptron(BaseEstimator):
    """Shared machinery of ``MLPClassifier`` and ``MLPRegressor``; use those."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
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
        "dtype": [StrOptions(set(_DTYPES))],
    }

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real numbers (regression).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : a fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _fit(self, X, y, sample_weight, incremental):
        with _restore_on_error(self):
            return self._fit_unguarded(X, y, sample_weight, incremental)

    def _fit_unguarded(self, X, y, sample_weight, incremental):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes)

        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = _DTYPES[self.dtype]
        sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        X = X.toarray() if scipy.sparse.issparse(X) else X
        X = np.asarray(X, dtype=dtype)
        y = np.asarray(y, dtype=dtype)
        if y.ndim == 1:
            y = y.reshape((-1, 1))

        layer_units = [X.shape[1], *hidden_layer_sizes, y.shape[1]]
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, dtype, random_state)
        else:
            self._check_structure(layer_units, dtype)

        if self.solver in STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, random_state, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight)

        if not all(np.isfinite(w).all() for w in (*self.coefs_, *self.intercepts_)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _initialize(self, y, layer_units, dtype, random_state):
        """First fit: output activation, initial weights and fresh history."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = LOSSES[self._loss_name()].out_activation
        params = glorot_uniform_sklearn(layer_units, self.activation, random_state, dtype)
        self.coefs_ = [W for W, _ in params]
        self.intercepts_ = [b for _, b in params]
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [b.copy() for b in self.intercepts_]
        self.__dict__.pop("_optimizer_state", None)
        if self.solver in STOCHASTIC_SOLVERS:
            self._start_history()

    def _start_history(self):
        """Empty training history of the stochastic solvers."""
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _check_structure(self, layer_units, dtype):
        """A warm start or partial_fit must keep the network's shape and precision."""
        fitted_units = [self.coefs_[0].shape[0], *(b.shape[0] for b in self.intercepts_)]
        if fitted_units != layer_units:
            raise ValueError(
                f"The network has layer sizes {fitted_units} but this data and hidden_layer_sizes="
                f"{self.hidden_layer_sizes!r} need {layer_units}. Fit with warm_start=False to build a"
                " new network, or keep the layer sizes, features and outputs of the previous fit."
            )
        if self.coefs_[0].dtype != dtype:
            raise ValueError(
                f"The network was trained with dtype={self.coefs_[0].dtype.name!r} but dtype={self.dtype!r}"
                " now. Set dtype back, or fit with warm_start=False to start anew."
            )

    def _loss_name(self):
        """Name of the training loss in ``losses.LOSSES``."""
        raise NotImplementedError

    def _solver_spec(self):
        return SolverSpec(self.solver, bool(self.nesterovs_momentum))

    def _params(self):
        return tuple(zip(self.coefs_, self.intercepts_))

    # ------------------------------------------------------- stochastic solvers
    def _fit_stochastic(self, X, y, sample_weight, random_state, incremental):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not hasattr(self, "loss_curve_"):  # warm start from a network trained by L-BFGS
            self._start_history()
        X_train, y_train, w_train, X_val, y_val, w_val = self._split_validation(X, y, sample_weight, random_state)
        n_train = X_train.shape[0]
        batch_rows = self._batch_rows(n_train)
        max_iter = 1 if incremental else self.max_iter

        spec = self._solver_spec()
        schedule = self.learning_rate if self.solver == "sgd" else "constant"
        program = engine.Program(
            activation=self.activation,
            loss=self._loss_name(),
            solver=spec,
            schedule=schedule,
            batch_rows=min(batch_rows, engine.padded_rows(n_train)),
            shuffle=bool(self.shuffle),
            early_stopping=bool(self.early_stopping),
            score="accuracy" if is_classifier(self) else "r2",
            curve_len=engine.curve_length(max_iter),
        )
        dtype = X.dtype
        with _x64(dtype):
            data = self._device_data(X_train, y_train, w_train, X_val, y_val, w_val)
            state = self._initial_loop_state(program, spec, incremental, random_state, dtype)
            hyper = engine.Hyper(
                alpha=np.asarray(self.alpha, dtype),
                tol=np.asarray(self.tol, dtype),
                n_iter_no_change=np.asarray(self.n_iter_no_change, dtype),
                power_t=np.asarray(self.power_t, dtype),
                learning_rate_init=np.asarray(self.learning_rate_init, dtype),
                samples_seen=np.asarray(self.t_, dtype),
                epoch_limit=np.int32(0),
            )
            state = self._run_in_chunks(program, state, data, hyper, max_iter, n_train)
        self._store_stochastic_results(state, spec, incremental, max_iter, n_train)

    def _split_validation(self, X, y, sample_weight, random_state):
        """Hold out ``validation_fraction`` of the rows for early stopping, as scikit-learn does."""
        if not self.early_stopping:
            return X, y, sample_weight, None, None, None
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        X_train, X_val, y_train, y_val, w_train, w_val = train_test_split(
            X, y, sample_weight, random_state=random_state, test_size=self.validation_fraction, stratify=stratify
        )
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        return X_train, y_train, w_train, X_val, y_val, w_val

    def _batch_rows(self, n_samples):
        """Rows per mini-batch as requested, warning as scikit-learn when it exceeds the data."""
        if self.batch_size == "auto":
            return 200
        if self.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        return self.batch_size

    @staticmethod
    def _device_data(X, y, w, X_val, y_val, w_val):
        n_pad = engine.padded_rows(X.shape[0])
        if X_val is None:  # a one-row stand-in keeps the program's signature fixed
            X_val, y_val, w_val = X[:1], y[:1], w[:1]
        n_val_pad = engine.padded_rows(X_val.shape[0])
        return engine.Data(
            X=jnp.asarray(engine.pad_rows(X, n_pad)),
            Y=jnp.asarray(engine.pad_rows(y, n_pad)),
            weight=jnp.asarray(engine.pad_rows(w, n_pad)),
            n_rows=jnp.asarray(X.shape[0], jnp.int32),
            X_val=jnp.asarray(engine.pad_rows(X_val, n_val_pad)),
            Y_val=jnp.asarray(engine.pad_rows(y_val, n_val_pad)),
            weight_val=jnp.asarray(engine.pad_rows(w_val, n_val_pad)),
        )

    def _optimizer_params(self):
        return {name: getattr(self, name) for name in SOLVER_HYPERPARAMS[self.solver].values()}

    def _initial_loop_state(self, program, spec, incremental, random_state, dtype):
        """Loop state at the start of a fit, built by one compiled call (no eager JAX ops to compile)."""
        optimizer_params = {k: np.asarray(v, dtype) for k, v in self._optimizer_params().items()}
        state = engine.start_state(
            program,
            params=self._params(),
            best_params=tuple(zip(self._best_coefs, self._best_intercepts)),
            optimizer_params=optimizer_params,
            seed=np.int32(random_state.randint(np.iinfo(np.int32).max)),
            no_improvement=np.int32(self._no_improvement_count),
            best_loss=np.asarray(np.inf if self.best_loss_ is None else self.best_loss_, dtype),
            best_score=np.asarray(
                -np.inf if self.best_validation_score_ is None else self.best_validation_score_, dtype
            ),
        )
        previous = getattr(self, "_optimizer_state", None)
        if incremental and previous is not None and previous[0] == spec:
            # partial_fit keeps the moments; parameters changed since apply from now on.
            changed = {k: v for k, v in self._optimizer_params().items() if previous[1].get(k) != v}
            state = state._replace(opt_state=jax.device_put(set_hyperparams(previous[2], spec, changed)))
        return state

    def _run_in_chunks(self, program, state, data, hyper, max_iter, n_train):
        """Run the compiled loop a chunk of epochs at a time until done, stopped or interrupted.

        Chunks aim at ``SECONDS_PER_CHUNK`` of work each, so Ctrl-C is honoured
        quickly and verbose output appears while training; the state stays on the
        device between chunks.
        """
        # First guess from the work per epoch (~6 flops per weight per row, ~1 GFLOP/s).
        n_weights = sum(W.size for W in self.coefs_)
        seconds_per_epoch = 6.0 * n_train * n_weights / 1e9
        chunk = int(np.clip(SECONDS_PER_CHUNK / max(seconds_per_epoch, 1e-9), 1, max_iter))
        done = 0
        try:
            while done < max_iter:
                started = time.perf_counter()
                limit = min(max_iter, done + chunk)
                new_state = engine.run_epochs_compiled(
                    program, state, data, hyper._replace(epoch_limit=np.int32(limit))
                )
                n_iter, stopped = int(new_state.n_iter), bool(new_state.stopped)
                self._print_epochs(new_state, done, n_iter)
                state, ran, done = new_state, n_iter - done, n_iter
                if stopped:
                    break
                if ran and done > chunk:  # the first chunk includes compiling: don't time it
                    per_epoch = (time.perf_counter() - started) / ran
                    chunk = int(np.clip(SECONDS_PER_CHUNK / max(per_epoch, 1e-9), 1, max_iter))
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        return state

    def _print_epochs(self, state, start, stop):
        if not self.verbose:
            return
        losses = np.asarray(state.loss_curve[start:stop])
        scores = np.asarray(state.score_curve[start:stop])
        for i in range(stop - start):
            print("Iteration %d, loss = %.8f" % (start + i + 1, losses[i]))
            if self.early_stopping:
                print("Validation score: %f" % scores[i])

    def _store_stochastic_results(self, state, spec, incremental, max_iter, n_train):
        state = jax.tree.map(np.array, state)  # copies: writable, as scikit-learn's arrays are
        n_iter = int(state.n_iter)
        self.n_iter_ = n_iter
        self.t_ = self.t_ + n_iter * n_train  # exact, in Python integers
        losses = [float(v) for v in state.loss_curve[:n_iter]]
        self.loss_curve_ = self.loss_curve_ + losses
        if losses:
            self.loss_ = losses[-1]
        self._no_improvement_count = int(state.no_improvement)
        self._optimizer_state = (spec, self._optimizer_params(), state.opt_state)
        params = state.params
        if self.early_stopping:
            self.validation_scores_ = (self.validation_scores_ or []) + [float(v) for v in state.score_curve[:n_iter]]
            self.best_validation_score_ = float(state.best_score)
            params = state.best_params  # restore the weights of the best validation score
            self._best_coefs = [W for W, _ in state.best_params]
            self._best_intercepts = [b for _, b in state.best_params]
        else:
            self.best_loss_ = float(state.best_loss)
        self.coefs_ = [W for W, _ in params]
        self.intercepts_ = [b for _, b in params]

        if bool(state.stopped):
            if self.verbose:
                watched = "Validation score" if self.early_stopping else "Training loss"
                print(
                    "%s did not improve more than tol=%f for %d consecutive epochs. Stopping."
                    % (watched, self.tol, self.n_iter_no_change)
                )
        elif not incremental and n_iter == max_iter:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't converged yet."
                % max_iter,
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------- L-BFGS
    def _fit_lbfgs(self, X, y, sample_weight):
        n_pad = engine.padded_rows(X.shape[0])
        with _x64(X.dtype):
            params, loss, result = fit_lbfgs(
                self._params(),
                engine.pad_rows(X, n_pad),
                engine.pad_rows(y, n_pad),
                engine.pad_rows(sample_weight, n_pad),
                loss_name=self._loss_name(),
                activation=self.activation,
                alpha=self.alpha,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
            )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(loss)
        self.coefs_ = [np.asarray(W) for W, _ in params]
        self.intercepts_ = [np.asarray(b) for _, b in params]

    # --------------------------------------------------------------- predicting
    @property
    def n_parameters_(self):
        """Number of trained weights and biases."""
        check_is_fitted(self)
        return count_parameters([self.coefs_[0].shape[0], *(b.shape[0] for b in self.intercepts_)])

    def _validate_predict_input(self, X):
        # Fast path for the common case (a float ndarray, no feature names); anything
        # else, or anything wrong, goes through scikit-learn's checks and messages.
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype.kind == "f"
            and X.shape[1] == self.n_features_in_
            and X.shape[0] > 0
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        ):
            return X
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def _check_is_fitted(self):
        if "coefs_" not in self.__dict__:  # cheap test first: predict on one row is a hot path
            check_is_fitted(self)

    def _output_logits(self, X, check_input=True):
        """Pre-activation of the output layer: numpy for few rows, the compiled pass for many."""
        if check_input:
            X = self._validate_predict_input(X)
        dtype = self.coefs_[0].dtype
        if X.shape[0] <= NUMPY_PREDICT_MAX_ROWS:
            X = X.astype(dtype, copy=False)
            return forward_logits(self._params(), X, self.activation, np)
        X = X.toarray() if scipy.sparse.issparse(X) else X
        n = X.shape[0]
        padded = engine.pad_rows(np.asarray(X, dtype=dtype), engine.padded_rows(n))
        with _x64(dtype):
            return np.asarray(_logits_compiled(self._params(), padded, activation=self.activation))[:n]

    def _forward_pass_fast(self, X, check_input=True):
        """Network output for ``X`` (probabilities, or predictions of a regressor)."""
        return ACTIVATIONS[self.out_activation_](self._output_logits(X, check_input), np)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_COMMON_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units in each hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        'lbfgs' is scipy's L-BFGS-B on the full batch; 'sgd' is SGD with
        (Nesterov's) momentum; 'adam' is Kingma & Ba's Adam.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 * sum ||W||^2 / n_samples``.
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of ``solver='sgd'``: constant; ``lr / (t + 1)^power_t``
        with ``t`` the samples seen; or divided by 5 each time ``n_iter_no_change``
        epochs bring no improvement of ``tol``.
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
        Epochs of the stochastic solvers, iterations of L-BFGS.
    shuffle : bool, default=True
        Shuffle the rows each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling.
    tol : float, default=1e-4
    verbose : bool, default=False
        Print the loss of each epoch.
    warm_start : bool, default=False
        Continue from the weights of the previous fit.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their score stops
        improving, and keep the weights of the best score.
    validation_fraction : float, default=0.1
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and its stabiliser.
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Most loss evaluations of L-BFGS.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of training and of the fitted weights (mlpkit's addition).

    Attributes
    ----------
    coefs_, intercepts_ : lists of ndarray
        Weights ``(fan_in, fan_out)`` and biases ``(fan_out,)`` of each layer.
    loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_ :
        Training history, as scikit-learn.
    t_, n_iter_, n_layers_, n_outputs_, out_activation_, n_features_in_,
    feature_names_in_, n_parameters_ :
        As scikit-learn; ``n_parameters_`` counts weights and biases.
"""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron classifier: scikit-learn's, trained by a compiled JAX loop.

    Optimises log-loss (softmax outputs for several classes, logistic outputs
    for two classes or multi-label indicator targets).
    """

    __doc__ += _COMMON_DOC

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    def _loss_name(self):
        return "log_loss" if self._label_binarizer.y_type_ == "multiclass" else "binary_log_loss"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype=(np.float64, np.float32), reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # fit (or a first partial_fit) learns the classes; warm_start and
        # partial_fit check the new labels against them.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the previous call to"
                        f" fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. 'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(bool)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        ``classes`` (all labels across calls) is required on the first call.
        """
        with _restore_on_error(self):
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predicted class labels (or label indicator rows for multi-label)."""
        self._check_is_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        # Decided on the logits: argmax of softmax(z) is argmax of z, sigmoid(z) > 0.5 is z > 0.
        z = self._output_logits(X, check_input=check_input)
        if self.out_activation_ == "softmax":
            return self.classes_[z.argmax(axis=1)]
        if self.n_outputs_ == 1:
            if len(self.classes_) == 1:  # trained on one class: it is the only answer
                return np.repeat(self.classes_, z.shape[0])
            return self.classes_[(z[:, 0] > 0).astype(np.intp)]
        return self._label_binarizer.inverse_transform((z > 0).astype(int))

    def predict_proba(self, X):
        """Probability of each class, columns in the order of ``classes_``."""
        self._check_is_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            p = y_pred[:, 0]
            return np.column_stack([1 - p, p])
        return y_pred

    def predict_log_proba(self, X):
        """Log of ``predict_proba``."""
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor: scikit-learn's, trained by a compiled JAX loop.

    Optimises squared error (identity outputs) or the Poisson deviance
    (``loss='poisson'``, exponential outputs).
    """

    __doc__ += _COMMON_DOC

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype="float32",
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    def _loss_name(self):
        return self.loss

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' needs non-negative targets y; got a minimum of %r." % float(np.min(y)))
        return X, y

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predicted values, shape (n_samples,) or (n_samples, n_outputs)."""
        self._check_is_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred
