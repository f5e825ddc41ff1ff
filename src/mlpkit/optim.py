"""Optimisers as optax transformations, and the table from solver names to them.

scikit-learn's two stochastic solvers differ from optax's ``sgd`` and ``adam`` in
small ways that change the weights, so they are written here as two small
``GradientTransformation`` s with scikit-learn's update rules:

- ``sgd``: the learning rate lives inside the velocity (``v = m v - lr g``), so a
  learning rate that changes (invscaling, adaptive) scales only new gradients;
- ``adam``: epsilon is added to ``sqrt(v)`` before the bias correction.

Every optimiser is wrapped in ``optax.inject_hyperparams``: its hyper-parameters
(learning rate, momentum, betas) live in the optimiser state as arrays, so the
training loop can change the learning rate (schedules) and a later fit can take
new values without recompiling or losing the moments.
"""

from __future__ import annotations

from typing import NamedTuple

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


class SolverSpec(NamedTuple):
    """What defines a compiled optimiser: its name and its static (Python) options."""

    name: str
    nesterov: bool = True


def _sgd(spec, p):
    return optax.inject_hyperparams(sklearn_sgd, static_args="nesterov")(
        learning_rate=p["learning_rate_init"], momentum=p["momentum"], nesterov=spec.nesterov
    )


def _adam(spec, p):
    return optax.inject_hyperparams(sklearn_adam)(
        learning_rate=p["learning_rate_init"], beta_1=p["beta_1"], beta_2=p["beta_2"], epsilon=p["epsilon"]
    )


#: solver name -> (spec, estimator parameters) -> optax transformation.
STOCHASTIC_SOLVERS = {"sgd": _sgd, "adam": _adam}

#: Hyper-parameters each solver keeps in its state, and the estimator parameter each comes from.
SOLVER_HYPERPARAMS = {
    "sgd": {"learning_rate": "learning_rate_init", "momentum": "momentum"},
    "adam": {
        "learning_rate": "learning_rate_init",
        "beta_1": "beta_1",
        "beta_2": "beta_2",
        "epsilon": "epsilon",
    },
}


def make_optimizer(spec: SolverSpec, estimator_params: dict):
    """The optax transformation for ``spec`` with the estimator's current hyper-parameters."""
    return STOCHASTIC_SOLVERS[spec.name](spec, estimator_params)


def set_hyperparams(opt_state, spec: SolverSpec, changed: dict):
    """Optimiser state with some hyper-parameters replaced, its moments kept.

    ``changed`` maps estimator parameter names (``learning_rate_init``,
    ``momentum``, ...) to new values; those the solver does not use are ignored.
    Used when a parameter changed between ``partial_fit`` calls.
    """
    hyper = dict(opt_state.hyperparams)
    for key, param in SOLVER_HYPERPARAMS[spec.name].items():
        if param in changed:
            hyper[key] = np.asarray(changed[param], dtype=np.asarray(hyper[key]).dtype)
    return opt_state._replace(hyperparams=hyper)
