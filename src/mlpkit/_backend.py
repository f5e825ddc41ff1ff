"""Whether JAX computes on an accelerator, answered without importing JAX where none can be there.

Importing JAX costs about as much as importing scikit-learn; a fit the numpy loop trains, or a
prediction in numpy, should not pay it just to learn that the machine has no GPU.
"""

from __future__ import annotations

import importlib.util
from functools import cache

#: Modules an accelerator needs: JAX's GPU plugins live in the ``jax_plugins`` namespace package, TPUs need
#: ``libtpu``. Without any of them JAX runs on the CPU.
ACCELERATOR_MODULES = ("jax_plugins", "libtpu")


@cache
def on_accelerator() -> bool:
    """Whether JAX's default backend is an accelerator (GPU, TPU); JAX is asked only where one's plugin
    is installed."""
    if not any(importlib.util.find_spec(name) is not None for name in ACCELERATOR_MODULES):
        return False
    import jax

    return jax.default_backend() != "cpu"
