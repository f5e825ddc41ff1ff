"""Optimisers as optax transformations, and the table from solver names to them.

scikit-learn's two stochastic solvers differ from optax's ``sgd`` and ``adam`` in
small ways that change the weights, so they are written here as two small
``GradientTransformation`` s with scikit-learn's update rules:

- ``sgd``: the learning rate lives inside the velocity (``v = m v - lr g``), so a
  learning rate that changes (invscaling, adaptive) scales only new gradients;
- ``adam``: epsilon is added to ``sqrt(v)`` before the bias correction.

FluCoMa's damped momentum is a third. The others are optax's own aliases.

Every optimiser is wrapped in ``optax.inject_hyperparams``: its hyper-parameters
(learning rate, momentum, betas) live in the optimiser state as arrays, so the
training loop can change the learning rate (schedules) and a later fit can take
new values without recompiling or losing the moments.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


class VelocityState(NamedTuple):
    velocity: optax.Updates


def sklearn_sgd(learning_rate, momentum, nesterov=True):
    """SGD with momentum as scikit-learn's ``SGDOptimizer``.

    ``v <- m v - lr g``; the update is ``v`` or, with Nesterov's momentum,
    ``m v - lr g``. Sutskever et al. (2013), "On the importance of
    initialization and momentum in deep learning".
    """

    def init(params):
        return VelocityState(jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        velocity = jax.tree.map(lambda v, g: momentum * v - learning_rate * g, state.velocity, grads)
        if nesterov:
            updates = jax.tree.map(lambda v, g: momentum * v - learning_rate * g, velocity, grads)
        else:
            updates = velocity
        return updates, VelocityState(velocity)

    return optax.GradientTransformation(init, update)


def damped_momentum_sgd(learning_rate, momentum):
    """SGD with FluCoMa's damped momentum: ``v <- m v + (1 - m) lr g``, ``w <- w - v``.

    The factor ``1 - m`` keeps the step size independent of the momentum
    (flucoma-core, ``SGD.hpp``).
    """

    def init(params):
        return VelocityState(jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        velocity = jax.tree.map(
            lambda v, g: momentum * v + (1 - momentum) * learning_rate * g, state.velocity, grads
        )
        return jax.tree.map(jnp.negative, velocity), VelocityState(velocity)

    return optax.GradientTransformation(init, update)


class AdamState(NamedTuple):
    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates


def sklearn_adam(learning_rate, beta_1, beta_2, epsilon):
    """Adam as scikit-learn's ``AdamOptimizer``.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``update = -lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
    Kingma & Ba (2014), "Adam: A method for stochastic optimization".
    """

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return AdamState(jnp.zeros([], jnp.int32), zeros, zeros)

    def update(grads, state, params=None):
        count = state.count + 1
        mu = jax.tree.map(lambda m, g: beta_1 * m + (1 - beta_1) * g, state.mu, grads)
        nu = jax.tree.map(lambda v, g: beta_2 * v + (1 - beta_2) * g**2, state.nu, grads)
        step = learning_rate * jnp.sqrt(1 - beta_2**count) / (1 - beta_1**count)
        updates = jax.tree.map(lambda m, v: -step * m / (jnp.sqrt(v) + epsilon), mu, nu)
        return updates, AdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)


def _weights_only(params):
    """optax mask: decay the weight matrices, not biases or other parameters."""
    return {name: jax.tree.map(lambda _: name == "coefs", part) for name, part in params.items()}


def adamw(learning_rate, b1, b2, eps, weight_decay):
    """optax's AdamW with decay on the weight matrices only (Loshchilov & Hutter 2019)."""
    return optax.adamw(learning_rate, b1, b2, eps, weight_decay=weight_decay, mask=_weights_only)


class Solver(NamedTuple):
    """A solver: its optax factory, and which estimator parameter feeds each of its arguments."""

    factory: Callable[..., optax.GradientTransformation]
    hyperparams: dict  # factory argument -> estimator parameter (traced, in the state)
    static: dict = {}  # factory argument -> estimator parameter (a Python value: compiled in)
    decays_weights: bool = False  # applies ``weight_decay`` itself


_LR = {"learning_rate": "learning_rate_init"}
_BETAS = {"b1": "beta_1", "b2": "beta_2", "eps": "epsilon"}

#: solver name -> Solver. ``lbfgs`` is not here: it is full-batch (``lbfgs.py``).
STOCHASTIC_SOLVERS = {
    "sgd": Solver(sklearn_sgd, {**_LR, "momentum": "momentum"}, {"nesterov": "nesterovs_momentum"}),
    "adam": Solver(sklearn_adam, {**_LR, "beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon"}),
    "adamw": Solver(adamw, {**_LR, **_BETAS, "weight_decay": "weight_decay"}, decays_weights=True),
    "nadam": Solver(optax.nadam, {**_LR, **_BETAS}),
    "adamax": Solver(optax.adamax, {**_LR, **_BETAS}),
    "rmsprop": Solver(optax.rmsprop, {**_LR, "decay": "beta_2", "eps": "epsilon"}),
    "adagrad": Solver(optax.adagrad, {**_LR, "eps": "epsilon"}),
    "flucoma_sgd": Solver(damped_momentum_sgd, {**_LR, "momentum": "momentum"}),
}

SOLVER_NAMES = (*STOCHASTIC_SOLVERS, "lbfgs")


class SolverSpec(NamedTuple):
    """What defines a compiled optimiser: a solver name and its static options,
    or a user's own ``optax.GradientTransformation``."""

    name: str
    static: tuple = ()  # sorted (argument, value) pairs
    transformation: Any = None  # a user's GradientTransformation (name == "custom")


def solver_spec(solver, estimator_params: dict) -> SolverSpec:
    if isinstance(solver, optax.GradientTransformation):
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


def make_optimizer(spec: SolverSpec, values: dict):
    """The optax transformation for ``spec``; ``values`` maps estimator parameter names to values."""
    if spec.transformation is not None:
        return spec.transformation
    solver = STOCHASTIC_SOLVERS[spec.name]
    arguments = {arg: values[p] for arg, p in solver.hyperparams.items()}
    return optax.inject_hyperparams(solver.factory, static_args=tuple(solver.static))(
        **arguments, **dict(spec.static)
    )


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
