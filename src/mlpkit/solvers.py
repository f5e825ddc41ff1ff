"""The stochastic solvers by name, and the shape of their state, in plain numpy.

Which estimator parameter feeds which argument of each solver, what defines a compiled optimiser
(``SolverSpec``), and the optimiser states of the solvers written here: what the estimators, the
numpy training loop and model files need of a solver without importing JAX. The optax
transformations themselves are in ``optim.py``.

A solver's hyper-parameters (learning rate, momentum, betas) live in its state as arrays
(``HyperparamsState``, the layout of ``optax.inject_hyperparams``' state: count, hyperparams, inner
state), so the training loop can change the learning rate and a later fit can take new values
without recompiling or losing the moments.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class HyperparamsState(NamedTuple):
    """An optimiser state with its hyper-parameters as arrays: ``optax.inject_hyperparams``' fields, in
    its order (model files store the leaves in this order), as a type that needs no JAX to make."""

    count: Any  # int32: updates taken
    hyperparams: dict  # factory argument -> array (``learning_rate``, ``momentum``, ...)
    inner_state: Any


class VelocityState(NamedTuple):
    velocity: Any


class AdamState(NamedTuple):
    count: Any
    mu: Any
    nu: Any


class Solver(NamedTuple):
    """A solver: which estimator parameter feeds each argument of its factory (``optim.FACTORIES``)."""

    hyperparams: dict  # factory argument -> estimator parameter (traced, in the state)
    static: dict = {}  # factory argument -> estimator parameter (a Python value: compiled in)
    decays_weights: bool = False  # applies ``weight_decay`` itself


_LR = {"learning_rate": "learning_rate_init"}
_BETAS = {"b1": "beta_1", "b2": "beta_2", "eps": "epsilon"}

#: solver name -> Solver. ``lbfgs`` is not here: it is full-batch (``lbfgs.py``).
STOCHASTIC_SOLVERS = {
    "sgd": Solver({**_LR, "momentum": "momentum"}, {"nesterov": "nesterovs_momentum"}),
    "adam": Solver({**_LR, "beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon"}),
    "adamw": Solver({**_LR, **_BETAS, "weight_decay": "weight_decay"}, decays_weights=True),
    "nadam": Solver({**_LR, **_BETAS}),
    "adamax": Solver({**_LR, **_BETAS}),
    "rmsprop": Solver({**_LR, "decay": "beta_2", "eps": "epsilon"}),
    "adagrad": Solver({**_LR, "eps": "epsilon"}),
    "flucoma_sgd": Solver({**_LR, "momentum": "momentum"}),
}

SOLVER_NAMES = (*STOCHASTIC_SOLVERS, "lbfgs")


class SolverSpec(NamedTuple):
    """What defines a compiled optimiser: a solver name and its static options,
    or a user's own ``optax.GradientTransformation``."""

    name: str
    static: tuple = ()  # sorted (argument, value) pairs
    transformation: Any = None  # a user's GradientTransformation (name == "custom")


def solver_spec(solver, estimator_params: dict) -> SolverSpec:
    """The spec of ``solver``: a name of ``STOCHASTIC_SOLVERS``, or a user's optax transformation."""
    if not isinstance(solver, str):
        return SolverSpec("custom", transformation=solver)
    static = STOCHASTIC_SOLVERS[solver].static
    return SolverSpec(solver, tuple(sorted((arg, estimator_params[p]) for arg, p in static.items())))


def optimizer_params(spec: SolverSpec, estimator_params: dict) -> dict:
    """The estimator parameters the solver keeps in its state, by estimator name."""
    if spec.transformation is not None:
        return {}
    return {p: estimator_params[p] for p in STOCHASTIC_SOLVERS[spec.name].hyperparams.values()}


def decays_weights(spec: SolverSpec) -> bool:
    """Whether the solver applies ``weight_decay`` itself (else the training loop does)."""
    return spec.transformation is None and STOCHASTIC_SOLVERS[spec.name].decays_weights


def set_hyperparams(opt_state, spec: SolverSpec, changed: dict):
    """Optimiser state with some hyper-parameters replaced, its moments kept.

    ``changed`` maps estimator parameter names (``learning_rate_init``,
    ``momentum``, ...) to new values; those the solver does not use are ignored.
    """
    if spec.transformation is not None:
        return opt_state
    hyper = dict(opt_state.hyperparams)
    for arg, param in STOCHASTIC_SOLVERS[spec.name].hyperparams.items():
        if param in changed:
            hyper[arg] = np.asarray(changed[param], dtype=np.asarray(hyper[arg]).dtype)
    return opt_state._replace(hyperparams=hyper)


def has_learning_rate(opt_state) -> bool:
    """Whether the state carries a learning rate the loop can schedule (not so for custom optimisers)."""
    return isinstance(getattr(opt_state, "hyperparams", None), dict) and "learning_rate" in opt_state.hyperparams


def _zeros_like(params: dict) -> dict:
    return {name: tuple(np.zeros_like(a) for a in arrays) for name, arrays in params.items()}


#: solver name -> (params -> its inner state, all zeros), for the solvers whose state is written here.
FRESH_INNER_STATES = {
    "sgd": lambda params: VelocityState(_zeros_like(params)),
    "flucoma_sgd": lambda params: VelocityState(_zeros_like(params)),
    "adam": lambda params: AdamState(np.zeros([], np.int32), _zeros_like(params), _zeros_like(params)),
}


def fresh_state(spec: SolverSpec, values: dict, params: dict):
    """A new optimiser state for ``params`` made in numpy (``values``: the estimator's values of the
    solver's hyper-parameters, as arrays), or None for a solver whose state only its optax
    transformation knows (``optim.fresh_state`` makes those)."""
    inner = FRESH_INNER_STATES.get(spec.name) if spec.transformation is None else None
    if inner is None:
        return None
    hyperparams = {arg: np.asarray(values[p]) for arg, p in STOCHASTIC_SOLVERS[spec.name].hyperparams.items()}
    return HyperparamsState(np.zeros([], np.int32), hyperparams, inner(params))
