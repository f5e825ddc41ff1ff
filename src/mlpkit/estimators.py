"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn's estimators on mlpkit's engine.

Each takes every parameter of scikit-learn 1.9's, with its name, default and
meaning, followed by mlpkit's additions (activations, initialisers, losses,
solvers, schedules, regularisation). The machinery is in ``_base.py``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import validate_data

from ._base import BaseMultilayerPerceptron
from ._refits import _restore_on_error
from .losses import LOSSES

_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units in each hidden layer.
    activation : str, default='relu'
        Activation of the hidden layers: scikit-learn's 'identity', 'logistic',
        'tanh', 'relu', and 'sigmoid' (= logistic), 'leaky_relu' (slope
        ``negative_slope``), 'elu', 'selu', 'gelu', 'softplus', 'silu'/'swish',
        'prelu' (a slope learned per unit, ``prelu_slopes_``), 'rrelu' (random
        slope in [1/8, 1/3] while training, the mean at prediction).
    solver : str or optax.GradientTransformation, default='adam'
        'lbfgs' (scipy's L-BFGS-B, full batch), 'sgd' (momentum, Nesterov's),
        'adam' (both exactly as scikit-learn), 'adamw', 'nadam', 'adamax',
        'rmsprop', 'adagrad' (optax's), 'flucoma_sgd' (FluCoMa's damped
        momentum), or any optax transformation (then learning-rate parameters
        are yours to put in it).
    alpha : float, default=0.0001
        L2 penalty ``alpha / 2 * sum ||W||^2``, divided by the batch's sample weight.
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch; 'auto' is ``min(200, n_samples)``.
    learning_rate : str or callable, default='constant'
        Schedule. scikit-learn's 'constant', 'invscaling' (``lr / (t + 1)^power_t``,
        t the samples seen) and 'adaptive' (divide by 5 when ``n_iter_no_change``
        epochs bring no improvement) act on solver='sgd' only, as in scikit-learn.
        For every solver: 'exponential' and 'step' (times ``lr_decay`` every
        ``lr_decay_epochs`` epochs, smoothly or in steps), 'cosine' (to ``lr_min``
        over ``max_iter`` epochs), 'one_cycle' (up from lr/25 over 30 % of
        ``max_iter``, then down to lr/250000), 'reduce_on_plateau' (times ``lr_decay``
        after ``lr_patience`` epochs without improvement), or a callable (optax
        schedule) from the step count to the learning rate.
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
        Epochs of the stochastic solvers, iterations of L-BFGS.
    shuffle : bool, default=True
        Shuffle the rows each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split, the shuffling, dropout
        and rrelu: the same seed gives bit-identical results on one machine.
    tol : float, default=1e-4
        Least improvement that counts (the ``min_delta`` of early stopping).
    verbose : bool, default=False
        Print the loss of each epoch.
    warm_start : bool, default=False
        Continue from the weights of the previous fit. Unlike scikit-learn, the
        optimiser's moments carry on too (unless the weights were replaced).
    momentum : float, default=0.9
        Of 'sgd' and 'flucoma_sgd'.
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when the monitored
        value has not improved by ``tol`` for ``n_iter_no_change`` epochs (the
        patience), and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Moment decay rates and stabiliser of the Adam family; 'rmsprop' uses
        ``beta_2`` as its decay.
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Most loss evaluations of L-BFGS.
    out_activation : str or None, default=None
        Output activation; None picks the one matching the loss (softmax or
        logistic for log-loss, identity for the squared error, exp for Poisson).
    negative_slope : float, default=0.01
        Slope of 'leaky_relu' below zero.
    init : str or None, default=None
        'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal',
        'lecun_uniform', 'lecun_normal' (and 'xavier_*', 'kaiming_*'); None is
        scikit-learn's scheme ('lecun_normal' for selu).
    huber_delta : float, default=1.0
        Where loss='huber' turns from quadratic to linear.
    l1 : float, default=0.0
        L1 penalty ``l1 * sum |W|``, divided by the batch's sample weight.
    weight_decay : float, default=0.0
        Decoupled weight decay ``W <- W - lr * weight_decay * W`` each step.
    dropout : float or list of float, default=0.0
        Dropout rate of the hidden layers' outputs, one for all or one per layer.
    alpha_dropout : bool, default=False
        Dropout that keeps SELU's self-normalisation (with activation='selu').
    batch_norm : bool, default=False
        Batch normalisation before each hidden activation; running statistics
        at prediction (``batch_norm_``).
    clip_norm, clip_value : float or None, default=None
        Clip the gradient's global norm, or each of its elements.
    early_stopping_monitor : {'score', 'loss'}, default='score'
        Early stopping watches the validation score (as scikit-learn) or loss.
    lr_decay, lr_decay_epochs, lr_min, lr_patience : default=0.1, 30, 0.0, 5
        Settings of the 'exponential', 'step', 'cosine' and 'reduce_on_plateau'
        schedules.
    on_divergence : {'raise', 'warn'}, default='raise'
        When the loss or the weights become NaN or infinite, training stops and
        keeps the last finite weights; then raise scikit-learn's ValueError (its
        contract), or warn (``DivergenceWarning``).
    progress : bool, default=False
        Show a rich progress bar (epoch, losses, learning rate, time left).
    callbacks : list of callables or None, default=None
        Each is called as ``callback(model, info)`` with an ``EpochInfo`` per
        finished epoch (between compiled chunks of epochs, a few times a second);
        returning True stops training. See ``mlpkit.callbacks``.
    dtype : {'float32', 'float64'} or None, default=None
        Precision of training, of the fitted weights and of the predictions.
        None follows the input as scikit-learn does: a first fit on float64 data
        trains in float64, on float32 data in float32 (other inputs are converted
        to float64); warm_start and partial_fit go on in the network's precision.
        'float32' trades digits (about 7 instead of 16) for speed and memory.
    training_loop : {'auto', 'numpy', 'compiled'}, default='auto'
        Where the epochs run. 'auto' trains work too small to repay a compile
        (rows x weights x epochs up to ``mlpkit.numpy_loop.MAX_WORK``) in numpy and
        the rest in the compiled loop, by the settings and the data's shape alone;
        'compiled' always compiles (the fastest for many fits of one configuration
        in one process, once its program is built); 'numpy' never does (refused
        for settings only the compiled loop has). Both give the same numbers
        (1e-6 in float64).

    Attributes
    ----------
    coefs_, intercepts_ : lists of ndarray
        Weights ``(fan_in, fan_out)`` and biases ``(fan_out,)`` of each layer.
    loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_ :
        Training history, as scikit-learn; ``validation_loss_curve_`` beside them
        with early stopping, and ``learning_rate_curve_``, the learning rate at
        the start of each epoch.
    t_, n_iter_, n_layers_, n_outputs_, out_activation_, n_features_in_,
    feature_names_in_ : as scikit-learn.
    n_parameters_ : int
        Number of trained parameters.
    prelu_slopes_, batch_norm_ :
        The learned prelu slopes and the batch-norm parameters and statistics,
        where the network has them.
"""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron classifier: scikit-learn's, trained by a compiled JAX loop.

    Optimises log-loss (softmax outputs for several classes, logistic outputs
    for two classes or multi-label indicator targets), or with
    ``loss='squared_error'`` the squared error of logistic outputs against
    one-hot targets (as FluCoMa's classifier).
    """

    __doc__ += _PARAMETERS_DOC

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"log_loss", "cross_entropy", "squared_error"})],
    }

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
        loss="log_loss",
        out_activation=None,
        negative_slope=0.01,
        init=None,
        huber_delta=1.0,
        l1=0.0,
        weight_decay=0.0,
        dropout=0.0,
        alpha_dropout=False,
        batch_norm=False,
        clip_norm=None,
        clip_value=None,
        early_stopping_monitor="score",
        lr_decay=0.1,
        lr_decay_epochs=30,
        lr_min=0.0,
        lr_patience=5,
        on_divergence="raise",
        progress=False,
        callbacks=None,
        dtype=None,
        training_loop="auto",
    ):
        _store_init_arguments(self, locals())

    def _default_out_activation(self):
        if self._loss_name() == "log_loss" and self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

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
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. 'y' has {classes}."
                )
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
        if self.out_activation_ == "softmax":  # argmax of softmax(z) is argmax of z
            z = self._output_logits(X, check_input=check_input)
            return self.classes_[z.argmax(axis=1)]
        outputs = self._forward_pass_fast(X, check_input=check_input)
        if self._is_multilabel():  # one yes/no per label
            return self._label_binarizer.inverse_transform((outputs > 0.5).astype(int))
        if self.n_outputs_ > 1:  # one class per row: the most probable, as FluCoMa's core takes it
            return self.classes_[_probabilities_of_scores(outputs).argmax(axis=1)]
        if len(self.classes_) == 1:  # trained on one class: it is the only answer
            return np.repeat(self.classes_, outputs.shape[0])
        return self.classes_[(outputs[:, 0] > 0.5).astype(np.intp)]  # = argmax of predict_proba's [1 - p, p]

    def _is_multilabel(self):
        return self._label_binarizer.y_type_.startswith("multilabel")

    def _score_name(self):
        """The validation score of early stopping, as ``predict`` decides (``scores.SCORES``)."""
        one_class_per_row = self.n_outputs_ > 1 and not self._is_multilabel()
        return "argmax_accuracy" if one_class_per_row and self.out_activation_ != "softmax" else "accuracy"

    def predict_proba(self, X):
        """Probability of each class, columns in the order of ``classes_``.

        Softmax outputs (log-loss) are probabilities as they are; the one output of a binary
        problem ``p`` gives ``[1 - p, p]``; other outputs for one class per row (such as
        ``loss='squared_error'``'s sigmoids) are made into probabilities by dividing each row by
        its sum (negative outputs count as 0; a row with nothing positive is uniform), so rows sum
        to 1 and ``predict`` is the class of the largest. Multi-label outputs are each label's own
        (in [0, 1]; ``predict`` says yes above 0.5). A one-output ``p`` outside [0, 1] is clipped.
        """
        self._check_is_fitted()
        outputs = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            p = np.clip(outputs[:, 0], 0, 1)
            return np.column_stack([1 - p, p])
        if self.out_activation_ == "softmax":
            return outputs
        if self._is_multilabel():  # (outputs other than sigmoids clipped to [0, 1]: the 0.5 rule holds)
            return np.clip(outputs, 0, 1)
        return _probabilities_of_scores(outputs)

    def predict_log_proba(self, X):
        """Log of ``predict_proba``."""
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor: scikit-learn's, trained by a compiled JAX loop.

    Optimises the squared error (identity outputs), the absolute error, the
    Huber loss, or the Poisson deviance (exponential outputs); 'summed_squared_error'
    is FluCoMa's ``sum_k (pred_k - y_k)^2`` (twice the squared error, summed over
    outputs rather than averaged in ``loss_curve_``).
    """

    __doc__ += _PARAMETERS_DOC

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [
            StrOptions({"squared_error", "absolute_error", "huber", "poisson", "mse", "mae", "summed_squared_error"})
        ],
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
        out_activation=None,
        negative_slope=0.01,
        init=None,
        huber_delta=1.0,
        l1=0.0,
        weight_decay=0.0,
        dropout=0.0,
        alpha_dropout=False,
        batch_norm=False,
        clip_norm=None,
        clip_value=None,
        early_stopping_monitor="score",
        lr_decay=0.1,
        lr_decay_epochs=30,
        lr_min=0.0,
        lr_patience=5,
        on_divergence="raise",
        progress=False,
        callbacks=None,
        dtype=None,
        training_loop="auto",
    ):
        _store_init_arguments(self, locals())

    def _default_out_activation(self):
        return LOSSES[self._loss_name()].default_output

    def _score_name(self):
        """The validation score of early stopping (``scores.SCORES``)."""
        return "r2"

    def _validate_input(self, X, y, incremental, reset):
        plain_targets = (
            type(y) is np.ndarray
            and y.dtype.kind == "f"
            and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] > 1))
            and y.shape[0] == getattr(X, "shape", (None,))[0]
            and bool(np.isfinite(y.sum()))
        )
        if reset or not (plain_targets and self._is_plain_input(X)):  # (a warm refit skips the checks)
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
        if self._loss_name() == "poisson" and np.any(y < 0):
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


def _probabilities_of_scores(outputs):
    """Rows of one non-negative score per class scaled to sum to 1: ``max(o, 0) / sum(max(o, 0))``;
    a row with no positive score is uniform."""
    scores = np.maximum(outputs, 0)
    total = scores.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, scores / total, np.asarray(1 / scores.shape[1], scores.dtype))


def _store_init_arguments(estimator, arguments):
    """``__init__`` only stores its arguments, under their own names (scikit-learn's rule)."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
