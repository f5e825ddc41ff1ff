"""Weight initialisers: one table from names to ``jax.nn.initializers`` (made when first used: JAX is
imported then, not with this module).

``init=None`` keeps scikit-learn's scheme (``network.glorot_uniform_sklearn``:
uniform weights *and* biases drawn from the estimator's RandomState, so a seed
gives scikit-learn's initial network), except for ``selu`` networks, which need
LeCun-normal weights to self-normalise (Klambauer et al. 2017). Every named
initialiser sets the biases to zero.

Variance scaling: weights have variance ``scale / fan``, with
Glorot/Xavier ``fan = (fan_in + fan_out) / 2, scale = 1`` (Glorot & Bengio 2010),
He/Kaiming ``fan = fan_in, scale = 2`` (He et al. 2015),
LeCun ``fan = fan_in, scale = 1`` (LeCun et al. 1998);
"normal" draws from a normal truncated at two standard deviations, as JAX does.
"""

from __future__ import annotations

#: name -> the function of ``jax.nn.initializers`` that makes it (each is called with no arguments).
INITIALIZERS = {
    "glorot_uniform": "glorot_uniform",
    "glorot_normal": "glorot_normal",
    "he_uniform": "he_uniform",
    "he_normal": "he_normal",
    "lecun_uniform": "lecun_uniform",
    "lecun_normal": "lecun_normal",
}

ALIASES = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}

#: What ``init=`` accepts besides None (scikit-learn's scheme).
INITIALIZER_NAMES = (*INITIALIZERS, *ALIASES)

#: ``init=None`` for these hidden activations means this initialiser instead of scikit-learn's.
DEFAULT_FOR_ACTIVATION = {"selu": "lecun_normal"}


def resolve(init, activation):
    """Table name of the initialiser to use, or None for scikit-learn's scheme."""
    if init is None:
        return DEFAULT_FOR_ACTIVATION.get(activation)
    return ALIASES.get(init, init)


def initializer(name):
    """The ``jax.nn.initializers`` function of a name of ``INITIALIZERS``: ``(key, shape, dtype) -> array``."""
    import jax

    return getattr(jax.nn.initializers, INITIALIZERS[name])()
