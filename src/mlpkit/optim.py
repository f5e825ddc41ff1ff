"""Optimisers as optax transformations, and the table from solver names to them.

scikit-learn's two stochastic solvers differ from optax's ``sgd`` and ``adam`` in
small ways that change the weights, so they are written here as two small
``GradientTransformation`` s with scikit-learn's update rules:

- ``sgd``: the learning rate lives inside the velocity (``v = m v - lr g``), so a
  learning rate that changes (invscaling, adaptive) scales only new gradients;
- ``adam``: epsilon is added to ``sqrt(v)`` before the bias correction.

FluCoMa's damped momentum is a third. The others are optax's own aliases.

Every optimiser keeps its hyper-parameters (learning rate, momentum, betas) in its
state as arrays (``solvers.HyperparamsState``, as ``optax.inject_hyperparams`` does),
so the training loop can change the learning rate (schedules) and a later fit can
take new values without recompiling or losing the moments. Which estimator
parameter feeds which argument is ``solvers.STOCHASTIC_SOLVERS``, readable without JAX.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

from .solvers import (  # noqa: F401 (re-exported)
    SOLVER_NAMES,
    STOCHASTIC_SOLVERS,
    AdamState,
    HyperparamsState,
    SolverSpec,
    VelocityState,
    decays_weights,
    has_learning_rate,
    optimizer_params,
    set_hyperparams,
    solver_spec,
)


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


#: solver name -> its optax factory; ``solvers.STOCHASTIC_SOLVERS`` says which estimator parameter
#: feeds each argument.
FACTORIES = {
    "sgd": sklearn_sgd,
    "adam": sklearn_adam,
    "adamw": adamw,
    "nadam": optax.nadam,
    "adamax": optax.adamax,
    "rmsprop": optax.rmsprop,
    "adagrad": optax.adagrad,
    "flucoma_sgd": damped_momentum_sgd,
}


def with_hyperparams_in_state(factory, static: dict, **hyperparams) -> optax.GradientTransformation:
    """``factory(**hyperparams, **static)`` with the hyper-parameters kept in its state as arrays
    (``solvers.HyperparamsState``): what ``optax.inject_hyperparams`` does for numbers, with a state
    type that the numpy loop and model files make without JAX."""

    def init(params):
        values = {name: jnp.asarray(value) for name, value in hyperparams.items()}
        return HyperparamsState(jnp.zeros([], jnp.int32), values, factory(**values, **static).init(params))

    def update(grads, state, params=None):
        updates, inner = factory(**state.hyperparams, **static).update(grads, state.inner_state, params)
        return updates, HyperparamsState(optax.safe_increment(state.count), state.hyperparams, inner)

    return optax.GradientTransformation(init, update)


def make_optimizer(spec: SolverSpec, values: dict):
    """The optax transformation for ``spec``; ``values`` maps estimator parameter names to values."""
    if spec.transformation is not None:
        return spec.transformation
    arguments = {arg: values[p] for arg, p in STOCHASTIC_SOLVERS[spec.name].hyperparams.items()}
    return with_hyperparams_in_state(FACTORIES[spec.name], dict(spec.static), **arguments)


@partial(jax.jit, static_argnames="solver")
def _init_compiled(solver: SolverSpec, values, params):
    return make_optimizer(solver, values).init(params)


def fresh_state_compiled(spec: SolverSpec, values: dict, params: dict):
    """A new optimiser state for ``params``, on the host, made by the transformation's ``init``
    (compiled): for the solvers whose state ``solvers.fresh_state`` does not know."""
    return jax.device_get(_init_compiled(spec, values, params))
