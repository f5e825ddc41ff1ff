"""The configuration step: from an estimator's parameters and the data's shape to what training runs.

Pure functions of parameter values (read as attributes of ``p``, the estimator
or anything holding its parameters under their own names) and of the data's
shape. Every caller that trains or computes a training loss (``fit``,
``partial_fit``, the FluCoMa estimators, ``lr_find``, ``diagnose``, streaming,
data parallel) gets its compiled program and traced values here:

- ``architecture``: the forward pass (``network.Architecture``), after checking that
  the parameters fit together;
- ``program``: the static ``program.Program`` (change a field, compile anew);
- ``hyper``: the traced ``program.Hyper`` values (change them freely, ``max_iter``
  among them).

``split_batches_over(mesh)`` makes every program made inside it data parallel:
each mini-batch is split over the processes of a ``jax.sharding.Mesh``
(``distributed.py`` runs ``fit`` so in every process).
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions

from . import initializers
from . import program as programs
from ._dtypes import DTYPES
from .activations import HIDDEN_ACTIVATION_NAMES, OUTPUT_ACTIVATION_NAMES, canonical_name
from .losses import ALIASES as LOSS_ALIASES
from .losses import LOSSES
from .network import Architecture
from .schedules import RATES, SKLEARN_SCHEDULES
from .solvers import SOLVER_NAMES, decays_weights, solver_spec

#: scikit-learn's declarative checks of every parameter (``BaseEstimator._validate_params``), with
#: its messages; value sets widened where mlpkit offers more.
PARAMETER_CONSTRAINTS: dict = {
    # scikit-learn's parameters (value sets widened where mlpkit offers more)
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(HIDDEN_ACTIVATION_NAMES))],
    "solver": [StrOptions(set(SOLVER_NAMES)), HasMethods(["init", "update"])],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions(set(RATES)), callable],
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
    "training_loop": [StrOptions({"auto", "numpy", "compiled"})],
}

#: The mesh whose processes share each mini-batch (data parallel), or None: see ``split_batches_over``.
_MESH = contextvars.ContextVar("mlpkit_data_parallel_mesh", default=None)


@contextlib.contextmanager
def split_batches_over(mesh):
    """Programs made in this block split every mini-batch over ``mesh``'s "data" axis (one device per
    process): the same training loop, with the same steps, computed by all processes together."""
    token = _MESH.set(mesh)
    try:
        yield mesh
    finally:
        _MESH.reset(token)


def hidden_layer_sizes(value) -> list[int]:
    """The hidden layers' sizes as a list of whole positive numbers (one number is one layer)."""
    sizes = list(value) if hasattr(value, "__iter__") else [value]
    if not all(isinstance(n, Integral) and not isinstance(n, bool) for n in sizes):
        raise ValueError(f"hidden_layer_sizes must be whole numbers of units, like (100,) or (64, 32); got {value!r}.")
    if np.any(np.array(sizes) <= 0):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
    return sizes


def loss_name(p) -> str:
    """Name of the training loss in ``losses.LOSSES`` (aliases resolved)."""
    return LOSS_ALIASES.get(p.loss, p.loss)


def architecture(p, n_outputs: int, n_hidden: int, default_out_activation: str) -> Architecture:
    """The forward pass the parameters ask for, after checking that they fit together."""
    activation = canonical_name(p.activation)
    out_activation = canonical_name(p.out_activation or default_out_activation)
    loss = LOSSES[loss_name(p)]
    if loss.on_outputs is LOSSES["log_loss"].on_outputs and out_activation not in loss.on_logits:
        raise ValueError(
            f"out_activation={p.out_activation!r} does not give probabilities for loss='log_loss';"
            " leave out_activation=None (softmax for several classes, logistic otherwise)."
        )
    if out_activation == "softmax" and n_outputs == 1:
        raise ValueError("out_activation='softmax' needs several outputs; with one, use 'logistic'.")
    if not isinstance(p.solver, str) and not _is_optax_transformation(p.solver):
        raise ValueError(
            f"solver={p.solver!r} has init and update methods but is not an optax.GradientTransformation;"
            f" give one (optax.sgd(0.01), optax.chain(...)) or a solver name: {', '.join(SOLVER_NAMES)}."
        )
    rates = dropout_rates(p.dropout, n_hidden)
    if p.solver == "lbfgs" and (p.batch_norm or rates.any() or activation == "rrelu"):
        raise ValueError(
            "solver='lbfgs' takes deterministic full-batch steps; dropout, batch_norm and 'rrelu' need a"
            " stochastic solver such as 'adam' or 'sgd'."
        )
    if p.alpha_dropout and activation != "selu":
        raise ValueError("alpha_dropout=True keeps the mean and variance of SELU units; use it with activation='selu'.")
    return Architecture(
        activation=activation,
        out_activation=out_activation,
        negative_slope=float(p.negative_slope),
        batch_norm=bool(p.batch_norm),
        dropout=bool(rates.any()),
        alpha_dropout=bool(p.alpha_dropout),
    )


def _is_optax_transformation(solver) -> bool:
    import optax  # (a user who passes one has imported optax already)

    return isinstance(solver, optax.GradientTransformation)


def dropout_rates(dropout, n_hidden: int) -> np.ndarray:
    """One dropout rate per hidden layer, from a number or a sequence."""
    try:
        rates = np.asarray(dropout, dtype=float)
    except (TypeError, ValueError):
        rates = np.array([np.nan])  # not numbers: the error below says what is expected
    if rates.ndim == 0:
        rates = np.full(n_hidden, rates)
    if rates.shape != (n_hidden,) or not np.all((rates >= 0) & (rates < 1)):
        raise ValueError(
            f"dropout must be a rate in [0, 1) or a list of one such rate per hidden layer ({n_hidden}); got {dropout!r}."
        )
    return rates


def batch_rows(batch_size, n_samples: int) -> int:
    """Rows per mini-batch as requested, warning as scikit-learn when it exceeds the data."""
    if batch_size == "auto":
        return 200
    if batch_size > n_samples:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
    return int(batch_size)  # a bool is an Integral to scikit-learn's check


def flucoma_batch_rows(batch_size, n_samples: int) -> int:
    """FluCoMa's: ``min(batch_size, rows)``, silently (``DataSampler``)."""
    return min(int(batch_size), n_samples)


#: ``engine.RULES`` name -> rows per mini-batch from ``batch_size`` and the training rows.
BATCH_ROWS = {"sklearn": batch_rows, "flucoma": flucoma_batch_rows}


def program(p, arch: Architecture, n_train: int, *, score: str, rules: str = "sklearn") -> programs.Program:
    """The static description of the compiled training loop for ``n_train`` training rows; ``score``
    names early stopping's validation score in ``scores.SCORES``, ``rules`` the loop's rules in
    ``engine.RULES`` (the FluCoMa estimators train by FluCoMa's)."""
    spec = solver_spec(p.solver, vars(p))  # parameters are attributes of their own name
    schedule = p.learning_rate
    if schedule in SKLEARN_SCHEDULES and p.solver != "sgd":
        schedule = "constant"  # as scikit-learn: only its sgd follows these three
    return programs.Program(
        architecture=arch,
        loss=loss_name(p),
        solver=spec,
        schedule=schedule,
        batch_rows=min(BATCH_ROWS[rules](p.batch_size, n_train), programs.padded_rows(n_train)),
        shuffle=bool(p.shuffle),
        early_stopping=bool(p.early_stopping),
        monitor=p.early_stopping_monitor,
        score=score,
        l1=p.l1 > 0,
        weight_decay=p.weight_decay > 0 and not decays_weights(spec),
        clip_norm=p.clip_norm is not None,
        clip_value=p.clip_value is not None,
        mesh=_MESH.get(),
        rules=rules,
    )


def loss_program(p, arch: Architecture, solver=None, clipping=False) -> programs.Program:
    """The ``engine.Program`` fields that one batch's loss and step read (L-BFGS, ``lr_find``,
    ``diagnose``); ``solver`` (an ``optim.SolverSpec``) and ``clipping`` are for taking optimiser
    steps as ``fit`` does; leave them out to get raw gradients."""
    return programs.loss_program(
        arch,
        loss_name(p),
        solver=solver,
        l1=p.l1 > 0,
        weight_decay=solver is not None and p.weight_decay > 0 and not decays_weights(solver),
        clip_norm=clipping and p.clip_norm is not None,
        clip_value=clipping and p.clip_value is not None,
    )


def hyper(p, dtype, n_hidden: int, samples_seen=0) -> programs.Hyper:
    """The traced values of a fit in ``dtype``; ``samples_seen`` is scikit-learn's ``t_`` before it."""
    check_representable(p, dtype)
    as_dtype = partial(np.asarray, dtype=dtype)
    inf = np.inf
    return programs.Hyper(
        alpha=as_dtype(p.alpha),
        l1=as_dtype(p.l1),
        weight_decay=as_dtype(p.weight_decay),
        clip_norm=as_dtype(inf if p.clip_norm is None else p.clip_norm),
        clip_value=as_dtype(inf if p.clip_value is None else p.clip_value),
        huber_delta=as_dtype(p.huber_delta),
        dropout=as_dtype(dropout_rates(p.dropout, n_hidden)),
        tol=as_dtype(p.tol),
        n_iter_no_change=as_dtype(p.n_iter_no_change),
        power_t=as_dtype(p.power_t),
        learning_rate_init=as_dtype(p.learning_rate_init),
        lr_decay=as_dtype(p.lr_decay),
        lr_decay_epochs=as_dtype(p.lr_decay_epochs),
        lr_min=as_dtype(p.lr_min),
        lr_patience=as_dtype(p.lr_patience),
        max_iter=as_dtype(p.max_iter),
        samples_seen=as_dtype(samples_seen),
        epoch_limit=np.int32(0),
    )


def _is_number(value) -> bool:
    """A real number, or a 0-d array of one (numpy's or JAX's)."""
    if isinstance(value, Real):
        return True
    return hasattr(value, "__array__") and np.ndim(value) == 0 and np.asarray(value).dtype.kind in "iuf"


#: Parameters that must stay above zero in the training precision (they divide or scale).
POSITIVE_IN_DTYPE = ("learning_rate_init", "lr_decay", "lr_decay_epochs", "huber_delta", "epsilon")


def check_representable(p, dtype) -> None:
    """Positive settings that the training precision would round to zero, and learning-rate callables
    that do not return a number, are named here rather than failing inside the compiled loop."""
    for name in POSITIVE_IN_DTYPE:
        value = getattr(p, name)
        if value > 0 and np.asarray(value, dtype) == 0:
            raise ValueError(
                f"{name}={value!r} is 0 in {np.dtype(dtype).name}, the training precision: use a larger value,"
                " or dtype='float64'."
            )
    if callable(p.learning_rate):
        rate = p.learning_rate(0)
        if isinstance(rate, bool) or not _is_number(rate):
            raise ValueError(
                f"learning_rate, a callable, returned {rate!r} for step 0; it must map a step count to a number"
                " (an optax schedule such as optax.exponential_decay(0.01, 1000, 0.5))."
            )
